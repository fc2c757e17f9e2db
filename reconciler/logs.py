"""structlog set-up: human lines on a TTY, JSON lines otherwise, always on stderr."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(fmt: str | None = None, level: int = logging.INFO, *, color: bool | None = None) -> None:
    fmt = fmt or ("console" if sys.stderr.isatty() else "json")
    colors = sys.stderr.isatty() if color is None else color
    renderer = structlog.dev.ConsoleRenderer(colors=colors) if fmt == "console" else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Azure SDK loggers are chatty and may print request bodies: keep them quiet; the
    # errors that matter reach the user as one line through the CLI.
    logging.getLogger("azure").setLevel(logging.ERROR)


def get(name: str = "reconciler") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
