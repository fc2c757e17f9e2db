"""The checks between a confirmed plan and its first step: every input a step needs, read and validated.

Apart from the workflow so that what is refused before anything changes is in one short place.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler import logs
from reconciler.desired import Desired
from reconciler.failure import fail
from reconciler.plan import Plan
from reconciler.planner_checks import missing_cluster
from reconciler.state import ObservedState


def preflight(desired: Desired, observed: ObservedState, plan: Plan, *, at: datetime | None = None) -> None:
    """Every input a step will need, read and checked before the first step runs.

    A chain whose later step cannot run must not start its first: a re-attach with an
    unreadable or invalid certificate would detach a working compute and then fail.
    """
    from reconciler import secrets
    from reconciler.plan import Op

    when = at or datetime.now(UTC)
    problems: list[str] = []
    for change in plan.actionable:
        dc = change.desired
        ops = {s.op for s in change.steps}
        if dc is None:
            continue
        tls = dc.spec.spec.tls
        if ops & {Op.CREATE, Op.ATTACH, Op.UPDATE} and tls.enabled and tls.cname:
            from reconciler.tlscheck import check  # cryptography (~30 ms) only when there is a certificate

            cert, key, unreadable = secrets.read_tls(tls.certificate, tls.key, dc.base_dir)
            problems += [f"{change.address}: {why}" for why in unreadable]
            for problem in check(cert, key, tls.cname, when):
                if problem.error:
                    problems.append(f"{change.address}: {problem.message}")
                else:
                    logs.get("reconciler.apply").warning(problem.message, address=change.address)
        if (
            Op.ATTACH in ops
            and dc.cluster_id
            and not (change.observed and change.observed.created)
            and observed.cluster(dc.cluster_id) is None
        ):
            problems.append(f"{change.address}: {missing_cluster(dc.cluster_id)}")
    if problems:
        fail("preflight failed, nothing was changed:\n  " + "\n  ".join(problems))
