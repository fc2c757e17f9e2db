"""What the CLI does to its own process: modules nobody uses are imported only when first used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _printed(code: str) -> str:
    """What `code` prints in a fresh interpreter (what is imported is decided once per process); it must not fail."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    return out.stdout


def test_the_cloud_clients_and_the_logs_never_load_asyncio() -> None:
    """azure-mgmt-core's policies and structlog import asyncio for async variants we never use (~10 ms)."""
    code = (
        "import sys\n"
        "from reconciler import logs, own_process\n"
        "own_process.prepare()\n"
        "from reconciler.cloud.arm import ComputesClient\n"
        "from reconciler.cloud.auth import connect\n"
        "ComputesClient(connect('http://127.0.0.1:9')).close()\n"
        "logs.configure('json')\nlogs.get().info('hello')\n"
        "print('azure.mgmt.core' in sys.modules, 'structlog' in sys.modules, 'asyncio.events' in sys.modules)\n"
    )
    assert _printed(code).split() == ["True", "True", "False"]


def test_a_deferred_module_works_as_usual_once_used() -> None:
    code = (
        "import sys\n"
        "from reconciler import own_process\n"
        "own_process.defer('asyncio')\n"
        "import asyncio\n"
        "async def answer():\n    await asyncio.sleep(0)\n    return 42\n"
        "print(asyncio.run(answer()), sys.modules['asyncio'].__name__, type(sys.modules['asyncio']).__name__)\n"
        "import asyncio.events\n"
        "from asyncio import Queue\n"
        "print(asyncio.Queue is Queue, asyncio.__spec__.name)\n"
    )
    assert _printed(code).splitlines() == ["42 asyncio module", "True asyncio"]


def test_threads_that_first_use_a_deferred_module_together_all_get_it_whole() -> None:
    """The first use imports the module; another thread using it meanwhile waits for all of it."""
    code = (
        "import threading\n"
        "from reconciler import own_process\n"
        "own_process.defer('asyncio')\n"
        "import asyncio\n"
        "start, seen = threading.Barrier(8), []\n"
        "def use():\n"
        "    start.wait()\n"
        "    seen.append((asyncio.iscoroutinefunction(use), asyncio.Queue.__name__, asyncio.TaskGroup.__name__))\n"
        "threads = [threading.Thread(target=use) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join(30) for t in threads]\n"
        "print(len(seen), set(seen))\n"
    )
    assert _printed(code).strip() == "8 {(False, 'Queue', 'TaskGroup')}"


def test_a_module_imported_already_or_missing_is_left_alone() -> None:
    code = (
        "import sys, json\n"
        "from reconciler import own_process\n"
        "before = sys.modules['json']\n"
        "own_process.defer('json'); own_process.defer('no_such_module_here')\n"
        "print(sys.modules['json'] is before, 'no_such_module_here' in sys.modules)\n"
    )
    assert _printed(code).split() == ["True", "False"]
