"""`migrate` and `backup-tls`: moving legacy AKS computes to Kubernetes computes, and saving their TLS first."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.commands.common import PathsArg, TlsBackupsOpt, connection
from reconciler.terminal import count, user_errors


def backup_tls(
    compute: Annotated[str, typer.Argument(help="Name of a legacy AKS compute with TLS enabled")],
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            help="Workspace alias from the manifests, or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE (default: the manifests' only workspace)",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Backup folder (files land in OUT/WORKSPACE/COMPUTE/)")] = Path(
        "tls-backups"
    ),
    paths: Annotated[
        list[Path] | None,
        typer.Option("--manifests", help="Manifests that declare the workspace (default: manifests/)"),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds the Run Command may take")] = 300.0,
) -> None:
    """Save the TLS certificate and key of a legacy AKS compute (secret azuremlfessl) as PEM files.

    Read through AKS Run Command (no kubeconfig needed); files are created with mode 0600 and
    never overwritten; their content is never printed. A re-attach (or the Kubernetes compute's
    extension) can then use them as a custom certificate with the same cname, keeping the FQDN.
    """
    from reconciler import workflow

    with user_errors():
        where, names = workflow.backup_tls(
            compute, workspace, paths, out, timeout, connection, lambda line: typer.echo(line, err=True)
        )
    typer.echo(f"saved {where}/cert.pem and {where}/key.pem (mode 0600)")
    if names:
        typer.echo(f"certificate for: {', '.join(names)} (use it as tls.cname to keep this name)")


class MigrationStrategy(str, Enum):
    new_cluster = "new-cluster"
    same_cluster = "same-cluster"


def migrate(
    paths: PathsArg = None,
    strategy: Annotated[
        MigrationStrategy,
        typer.Option(
            "--strategy",
            help="new-cluster: blue/green on another cluster, no downtime; same-cluster: detach, clean up, install, attach (downtime)",
        ),
    ] = MigrationStrategy.new_cluster,
    target_cluster: Annotated[
        str | None,
        typer.Option("--target-cluster", help="ARM id of the AKS cluster that gets the extension (new-cluster)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Empty folder for the new manifests and MIGRATION.md")] = Path(
        "migrated"
    ),
    tls_backups: TlsBackupsOpt = Path("tls-backups"),
) -> None:
    """Write Kubernetes-compute manifests replacing the legacy InferenceClusters, and OUT/MIGRATION.md.

    Reads the manifests and what Azure holds; writes a ClusterExtension per cluster and a
    KubernetesCompute per legacy compute (namespace named after it, `replaces` naming it), the
    other documents carried over, and MIGRATION.md: what changes per compute (scoring URL, keys,
    TLS, cluster-wide settings and their conflicts), the phases, the downtime and the commands.
    Then `plan OUT` / `apply OUT` do the migration. Nothing is overwritten.
    """
    from reconciler import workflow

    with user_errors():
        written, notes = workflow.migrate(paths, strategy.value, target_cluster, out, tls_backups, connection)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {count(len(written), 'file')} to {out}: {', '.join(written)}")
    typer.echo(f"next: read {out}/MIGRATION.md, then `reconciler plan {out}`")
