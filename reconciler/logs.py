"""structlog set-up: human lines on a TTY, JSON lines otherwise, always on stderr.

structlog is imported on the first `get()`, not by `configure()`: `--help` and
`validate` never log, so they never pay for it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import structlog

INFO = 20  # logging.INFO, without importing logging for commands that never log

_settings: dict[str, Any] = {"fmt": None, "level": INFO, "color": None}
_configured = False


def configure(fmt: str | None = None, level: int = INFO, *, color: bool | None = None) -> None:
    """Record the format, level and colour; structlog is set up when the first logger is asked for.

    The Azure SDK's loggers are quietened where the SDK is first reached (`reconciler.cloud`)."""
    global _configured
    _settings.update(fmt=fmt, level=level, color=color)
    _configured = False


def _setup() -> None:
    import structlog

    fmt = _settings["fmt"] or ("console" if sys.stderr.isatty() else "json")
    colors = sys.stderr.isatty() if _settings["color"] is None else _settings["color"]
    renderer = structlog.dev.ConsoleRenderer(colors=colors) if fmt == "console" else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_settings["level"]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get(name: str = "reconciler") -> structlog.typing.FilteringBoundLogger:
    global _configured
    import structlog

    if not _configured:
        _setup()
        _configured = True
    # `_setup` makes every logger a filtering bound logger; structlog types get_logger() as Any.
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
