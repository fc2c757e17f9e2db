"""What several command groups share: exit codes, the global options' state, the paths argument, the connection.

Kept apart from `reconciler.cli` so the command modules need not import the app that registers them.
"""

from __future__ import annotations

import contextlib
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from reconciler.desired import Desired
    from reconciler.workflow import Cloud as CloudClients

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 64, 130


class Cloud(str, Enum):
    azure = "azure"
    local = "local"


class GlobalOptions:
    cloud: Cloud = Cloud.azure
    endpoint: str | None = None


OPTIONS = GlobalOptions()

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Manifest files or folders (every *.yaml / *.yml below). Default: manifests/",
        show_default=False,
        metavar="PATH",
    ),
]
TlsBackupsOpt = Annotated[
    Path,
    typer.Option(
        "--tls-backups",
        envvar="RECONCILER_TLS_BACKUPS",
        help="Folder of `backup-tls` backups: a detach or re-attach of a leaf-label TLS compute needs one there",
    ),
]


def load_desired(paths: list[Path] | None) -> Desired:
    from reconciler import workflow
    from reconciler.terminal import report_finding, user_errors

    with user_errors():
        return workflow.load(paths, report_finding)


def connection() -> contextlib.AbstractContextManager[CloudClients]:
    """The clients for the cloud the global options chose (real Azure, an endpoint, or the local emulator)."""
    from reconciler import workflow

    return workflow.connect(OPTIONS.endpoint, local=OPTIONS.cloud is Cloud.local)
