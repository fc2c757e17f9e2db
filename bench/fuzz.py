"""Run 10,000 hostile cases through `validate` and the offline plan pipeline; print counts.

Cases (tests/hostile.py, seeded): structural and text mutations of valid manifests,
nesting bombs in every style, special files (FIFOs, /dev/zero, symlink loops) as
manifests and as secret files. Two worker processes run the cases in-process under a
512 MiB address-space limit, set before anything is imported (an extension such as
deepdiff's cachebox sizes its reservation to the limit in force); a case that takes over 10 s is a hang (the worker is
killed and replaced), a worker that dies of a signal is a crash.

Prints counts of tracebacks, signals, hangs, bad exit codes, error findings without a
position, and the peak memory of a worker. Target: all 0, memory under 512 MiB.
Run: python bench/fuzz.py [--cases N] [--seed S] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE_SECONDS = 10.0
LIMIT_BYTES = 512 * 1024 * 1024


def worker(seed: int) -> None:
    """Read case numbers on stdin, answer one JSON line per case on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))  # before any import
    sys.path.insert(0, str(ROOT))
    from tests import hostile

    answer = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        index = int(line)
        case = hostile.generate(seed, index)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                outcome = hostile.run(case, Path(tmp))
                problems = outcome.problems
            except MemoryError:
                problems = ["traceback: MemoryError"]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        answer.write(json.dumps({"index": index, "name": case.name, "problems": problems, "rss": rss}) + "\n")


class Worker:
    def __init__(self, seed: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.index: int | None = None
        self.started = 0.0
        self.buffer = ""

    def send(self, index: int) -> None:
        self.index, self.started = index, time.monotonic()
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{index}\n")
        self.proc.stdin.flush()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed)
        return

    counts = {"cases": 0, "tracebacks": 0, "signals": 0, "hangs": 0, "bad exit codes": 0, "positionless errors": 0}
    examples: list[str] = []
    peak = 0
    todo = list(range(args.cases))[::-1]
    workers = [Worker(args.seed) for _ in range(args.workers)]
    start = time.monotonic()
    for w in workers:
        if todo:
            w.send(todo.pop())
    while any(w.index is not None for w in workers):
        busy = {w.proc.stdout.fileno(): w for w in workers if w.index is not None}  # type: ignore[union-attr]
        ready, _, _ = select.select(list(busy), [], [], 0.5)
        for fd in ready:
            w = busy[fd]
            line = w.proc.stdout.readline()  # type: ignore[union-attr]
            if line:
                result = json.loads(line)
                peak = max(peak, result["rss"])
                for problem in result["problems"]:
                    key = (
                        "tracebacks"
                        if "traceback" in problem
                        else "positionless errors"
                        if "position" in problem
                        else "bad exit codes"
                    )
                    counts[key] += 1
                    if len(examples) < 10:
                        examples.append(f"{result['name']}: {problem.splitlines()[0] if problem else problem}")
            else:  # the worker died: a signal (segfault, out of memory kill)
                code = w.stop()
                counts["signals" if code < 0 else "tracebacks"] += 1  # a worker only exits on an escaped error
                examples.append(f"case {w.index}: worker died with exit code {code}")
                workers[workers.index(w)] = w = Worker(args.seed)
            counts["cases"] += 1
            w.index = None
            if todo:
                w.send(todo.pop())
        now = time.monotonic()
        for i, w in enumerate(workers):
            if w.index is not None and now - w.started > CASE_SECONDS:
                counts["hangs"] += 1
                counts["cases"] += 1
                examples.append(f"case {w.index}: over {CASE_SECONDS:.0f} s")
                w.stop()
                workers[i] = Worker(args.seed)
                if todo:
                    workers[i].send(todo.pop())
    for w in workers:
        w.stop()
    elapsed = time.monotonic() - start
    for key, value in counts.items():
        print(f"{key + ':':22}{value:>8}")
    print(f"{'peak memory:':22}{peak / 2**20:>8.0f} MiB per worker (limit {LIMIT_BYTES // 2**20} MiB)")
    print(f"{'wall time:':22}{elapsed:>8.1f} s")
    for example in examples:
        print("  " + example)
    failed = any(counts[k] for k in counts if k != "cases")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
