"""Log set-up: structlog without the optional extras it would import for tracebacks we never log."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler import logs

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter: structlog's import happens once per process."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_the_first_log_line_imports_structlog_without_rich_or_colorama(fmt: str) -> None:
    """rich (and through it pygments and attrs) made the first log line of an apply cost ~45 ms of CPU."""
    code = (
        "import sys\nfrom reconciler import logs\n"
        f"logs.configure({fmt!r}, color=True)\nlogs.get().warning('hello', answer=42)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'structlog', 'rich', 'pygments', 'attr', 'colorama'}))"
    )
    out = _python(code)
    assert out.stdout.strip() == "['structlog']", out.stderr
    assert "hello" in out.stderr and "answer" in out.stderr and "Traceback" not in out.stderr


def test_rich_imports_as_usual_after_structlog() -> None:
    code = (
        "from reconciler import logs\nlogs.configure('json')\nlogs.get().info('x')\n"
        "import rich.console, rich.traceback\nimport sys\nprint(sys.meta_path[0].__class__.__name__)"
    )
    out = _python(code)
    assert out.returncode == 0 and out.stdout.strip() != "_Unavailable", out.stderr


def test_the_extras_are_unavailable_to_the_importing_thread_alone() -> None:
    """Another thread importing rich meanwhile (the progress table on a TTY) must still get it."""
    finder = logs._Unavailable(("rich",))
    with pytest.raises(ModuleNotFoundError):
        finder.find_spec("rich.console")
    assert finder.find_spec("json") is None  # any other module: the next finder looks

    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(finder.find_spec("rich.console")))
    thread.start()
    thread.join(10)
    assert elsewhere == [None]


def test_threads_that_log_first_together_all_get_a_working_logger() -> None:
    """A thread must wait for structlog that another is importing, never take it half made."""
    code = (
        "import threading\nfrom reconciler import logs\nlogs.configure('json')\n"
        "threads = [threading.Thread(target=lambda i=i: logs.get().info('line', n=i)) for i in range(8)]\n"
        "[t.start() for t in threads]\n[t.join(30) for t in threads]\n"
    )
    out = _python(code)
    assert "Traceback" not in out.stderr and "Exception" not in out.stderr, out.stderr
    assert out.stderr.count('"event": "line"') == 8, out.stderr


def test_a_line_written_after_its_event_keeps_the_time_of_the_event() -> None:
    """Progress lines wait for the operations that are starting; their timestamps must not."""
    code = (
        "import json, time\nfrom reconciler import logs\nlogs.configure('json')\n"
        "logs.get().info('late', timestamp=logs.dated(0.25))\nlogs.get().info('now')\n"
    )
    out = _python(code)
    assert out.returncode == 0, out.stderr
    late, now = (json.loads(line) for line in out.stderr.splitlines())
    assert late["timestamp"] == "1970-01-01T00:00:00.250000Z"
    assert now["timestamp"].endswith("Z") and now["timestamp"][:4] >= "2026"
