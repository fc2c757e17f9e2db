"""structlog set-up: human lines on a TTY, JSON lines otherwise, always on stderr.

structlog is imported on the first `get()`, not by `configure()`: `--help` and
`validate` never log, so they never pay for it. It is imported without its optional
extras (see `_OPTIONAL`), which would cost more than structlog itself.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec

    import structlog

# structlog imports these only if they are installed: rich and better_exceptions to pretty-print
# exception tracebacks (reconciler never logs one: a user mistake is one line, a crash is Python's
# own), colorama to colour a Windows console (elsewhere structlog writes the ANSI codes itself).
# rich is installed for the progress table, and through its console, traceback and pretty modules
# (pygments, attrs) it made structlog's import cost ~45 ms of CPU instead of ~7: time that landed
# on the first operations of every apply, whose first log line is written as they start.
_OPTIONAL = ("rich", "better_exceptions", *(() if sys.platform == "win32" else ("colorama",)))

INFO = 20  # logging.INFO, without importing logging for commands that never log

_settings: dict[str, Any] = {"fmt": None, "level": INFO, "color": None}
_configured = False
_structlog: ModuleType | None = None  # once imported (see _import_structlog)


def configure(fmt: str | None = None, level: int = INFO, *, color: bool | None = None) -> None:
    """Record the format, level and colour; structlog is set up when the first logger is asked for.

    The Azure SDK's loggers are quietened where the SDK is first reached (`reconciler.cloud`)."""
    global _configured
    _settings.update(fmt=fmt, level=level, color=color)
    _configured = False


class _Unavailable:
    """A meta path finder that tells one thread, the one importing structlog, that `packages` are not installed.

    Only that thread, and only for modules not imported yet: another thread importing rich meanwhile (the
    progress table) imports it as usual, which hiding them in `sys.modules` could not promise."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        import threading

        self.packages = packages
        self._ident = threading.get_ident
        self.thread = self._ident()

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in self.packages and self._ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None  # not ours to say: the next finder looks


def _import_structlog() -> ModuleType:
    global _structlog
    if _structlog is None:
        # Not a look in sys.modules: a module another thread is still importing is there already,
        # half made, where `import` waits for it.
        finder = _Unavailable(_OPTIONAL)
        sys.meta_path.insert(0, finder)
        try:
            import structlog
        finally:
            sys.meta_path.remove(finder)
        _structlog = structlog
    return _structlog


def _setup() -> None:
    structlog: Any = _import_structlog()
    fmt = _settings["fmt"] or ("console" if sys.stderr.isatty() else "json")
    colors = sys.stderr.isatty() if _settings["color"] is None else _settings["color"]
    renderer = (
        # The plain formatter whether or not another module imported rich first: the same lines either way.
        structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            _unless_dated(structlog.processors.TimeStamper(fmt="iso", utc=True)),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_settings["level"]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def dated(when: float) -> str:
    """The `timestamp` of a line written after its event, which happened at `when` (`time.time()`): the
    form structlog's TimeStamper gives a line written at once. Progress lines wait for the operations
    that are starting (see `progress.LogProgress`), and must still say when each step began."""
    return datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")


def _unless_dated(stamper: Callable[[Any, str, Any], Any]) -> Callable[[Any, str, Any], Any]:
    """The stamper, for lines that do not already carry their `timestamp` (see `dated`)."""

    def stamp(logger: Any, name: str, event_dict: Any) -> Any:
        return event_dict if "timestamp" in event_dict else stamper(logger, name, event_dict)

    return stamp


def get(name: str = "reconciler") -> structlog.typing.FilteringBoundLogger:
    global _configured
    if not _configured:
        _setup()
        _configured = True
    # `_setup` makes every logger a filtering bound logger; structlog types get_logger() as Any.
    logger: structlog.typing.FilteringBoundLogger = _import_structlog().get_logger(name)
    return logger
