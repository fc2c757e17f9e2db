"""What the CLI does to the process when it is the process (the console script, `python -m reconciler`).

Each setting here trades something a long-lived caller would need (garbage collected, every
core, every module loaded as imported) for start-up and CPU of a command that lives for
seconds. So `cli.main` applies them only when it owns the process, never when called
in-process (tests, the fuzz harness), and they live apart from the command line itself.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
import threading
import types
from typing import Any

# Imported by libraries for their async variants, never used by this synchronous program:
# asyncio by azure-mgmt-core's policies and by structlog (~10 ms of every command that connects).
UNUSED_IMPORTS = ("asyncio",)


def prepare() -> None:
    """Set the process up for one short command."""
    # The garbage collector need not revisit what is alive now (the imported modules), and the
    # process ends without a last collection (`leave`): that collection of every object (the
    # manifests, the observed state) cost 0.1-0.2 s for 1,000 computes.
    gc.freeze()
    # What a command allocates mostly lives to its end (modules imported on the way, models,
    # manifests, the observed state); at the default threshold of 700 the collector scanned it
    # again and again: ~40 ms before an apply's first request, ~10 ms of `validate` of one
    # file. Garbage cycles wait a little longer to be collected, in a process that is short.
    gc.set_threshold(50_000, 10, 10)
    keep_to_one_core()
    for name in UNUSED_IMPORTS:
        defer(name)


def keep_to_one_core() -> None:
    """Keep this process, and the threads it starts from now on, on the core it runs on (Linux).

    Python runs one thread at a time. On several cores, the threads of a fan-out (observe's
    lists, apply's operations) hand that lock from core to core at every socket call, which
    costs CPU and wall time and gains nothing: ~35 ms of a 1,000-compute `plan` on 2 cores,
    and as much before an apply's first operation. The core is the one the scheduler has just
    chosen for us. Nothing happens where affinity cannot be set (macOS, Windows, a sandbox)."""
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return
        with open("/proc/self/stat", "rb") as stat:  # field 39: the CPU this process last ran on
            cpu = int(stat.read().rsplit(b")", 1)[1].split()[36])
        if cpu in allowed:
            os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError, ValueError, IndexError):
        return


class _Deferred(types.ModuleType):
    """Stands in `sys.modules` for a module nobody has used yet. `import` of it is free; the first
    attribute anyone reads imports the real module, which then answers every later read.

    Not `importlib.util.LazyLoader`: on Python 3.11 every later `import` statement of a lazy module
    loads it (the import system reads `__spec__`), and two threads loading it at once may see it half
    made. Here the spec is the real one, and the first use is a plain import: another thread using the
    module meanwhile waits on the import system's own lock for the whole of it."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self), attr)


_removing = threading.Lock()


def _load(stand_in: _Deferred) -> types.ModuleType:
    # Only taking the stand-in out is ours to lock: held during the import, this lock could wait on a
    # module lock that a thread waiting here holds.
    with _removing:
        if sys.modules.get(stand_in.__name__) is stand_in:
            del sys.modules[stand_in.__name__]
    return importlib.import_module(stand_in.__name__)


def defer(name: str) -> None:
    """Put a stand-in for `name` in `sys.modules`, unless it is imported already or cannot be found."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    stand_in.__loader__ = spec.loader
    sys.modules[name] = stand_in


def leave(code: int) -> None:
    """End the process now that the command is done: every lock, file and connection was closed by the
    command's own `with` blocks, so only the standard streams hold anything. Tearing down the
    interpreter (every module, every object) would add 10-20 ms to each command for nothing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`) or a stream closed above
            stream.flush()
    os._exit(code)
