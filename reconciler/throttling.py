"""Azure Resource Manager's request limits, and the default `apply --parallelism` derived from them.

ARM throttles with token buckets per subscription, per security principal and per
operation type (Microsoft Learn, "Understand how Azure Resource Manager throttles
requests", the regional token-bucket limits in force since 2024): a bucket of 250 reads
refilled at 25 per second, 200 writes at 10 per second, 200 deletes at 10 per second.
A 429 carries `Retry-After`, which azure-core's retry policy honours.

An apply starts each operation with one write (PUT) or delete and then polls it with
reads until it ends. So the operations running at once are bounded by
- the write (and delete) bucket: all of them may start in the same second;
- the read refill: each running operation polls about once per polling interval.
"""

from __future__ import annotations

READ_BUCKET, READ_REFILL_PER_S = 250, 25.0
WRITE_BUCKET, WRITE_REFILL_PER_S = 200, 10.0
DELETE_BUCKET, DELETE_REFILL_PER_S = 200, 10.0
POLL_INTERVAL_S = 5.0  # azure-core's ARM polling interval when the service sends no Retry-After
HEADROOM = 0.8  # leave a fifth of every bucket to other tools and people in the same subscription
MAX_PARALLELISM = 200  # the most `--parallelism` accepts: the write bucket


def default_parallelism(poll_interval_s: float = POLL_INTERVAL_S) -> int:
    """Operations at once that neither empty the write/delete bucket at the start nor poll faster
    than the read bucket refills, with headroom: min(200, 200, 25/s x 5 s) x 0.8 = 100."""
    polls_sustained = READ_REFILL_PER_S * poll_interval_s
    return max(1, int(min(WRITE_BUCKET, DELETE_BUCKET, polls_sustained) * HEADROOM))


DEFAULT_PARALLELISM = default_parallelism()
