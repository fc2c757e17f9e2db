"""Moving off legacy InferenceClusters: `backup-tls` saves a leaf-label certificate, `migrate` writes v2 manifests.

Apart from the workflow because these commands read Azure and write files for the user to review; they never apply.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.failure import EXIT_USAGE, fail
from reconciler.locking import _workspace_for_unlock
from reconciler.state import WorkspaceRef

if TYPE_CHECKING:
    from reconciler.connection import Cloud


def backup_tls(
    compute: str,
    workspace: str | None,
    paths: list[Path] | None,
    out: Path,
    timeout: float,
    connection: Callable[[], AbstractContextManager[Cloud]],
    report: Callable[[str], None],
) -> tuple[Path, list[str]]:
    """Save the certificate and key of a legacy TLS compute from `azuremlfessl` (AKS Run Command) as PEM files.

    Returns the folder written and the certificate's DNS names. The secret's content never reaches output or logs.
    """
    from reconciler import clusterside, tlsbackup

    ref = _workspace_ref(workspace, paths)
    if tlsbackup.has_backup(out, ref, compute) or (tlsbackup.backup_dir(out, ref, compute) / tlsbackup.CERT).exists():
        fail(f"{tlsbackup.backup_dir(out, ref, compute)} already holds a backup; backups are never overwritten")
    with connection() as cloud:
        current = cloud.computes.get(ref, compute)
        if current is None or current.is_kubernetes:
            fail(f"no legacy AKS compute {compute!r} in workspace {ref.workspace_name!r}")
        if not current.tls.enabled:
            fail(f"compute {compute!r} has TLS disabled: there is no certificate to save")
        if not current.cluster_id or cloud.kube is None:
            fail(f"compute {compute!r} has no AKS cluster to read the secret from")
        report(f"reading secret {clusterside.TLS_SECRET} of {compute!r} by AKS Run Command (timeout {timeout:.0f} s)")
        code, logs = cloud.kube.run_command(current.cluster_id, clusterside.READ_TLS_SECRET, timeout=timeout)
    if code != 0:
        fail(f"reading secret {clusterside.TLS_SECRET} failed (exit code {code}): {clusterside.redact(logs)}")
    try:
        pair = clusterside.parse_tls_secret(logs)
    except clusterside.SecretFormatError as exc:
        fail(str(exc))
    try:
        where = tlsbackup.write_backup(out, ref, compute, pair.certificate, pair.key)
    except tlsbackup.BackupExistsError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the backup in {out}: {exc.strerror or type(exc).__name__}")
    return where, clusterside.certificate_names(pair.certificate)


def _workspace_ref(name: str | None, paths: list[Path] | None) -> WorkspaceRef:
    """A workspace by alias from the manifests, SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE, or the manifests' only one."""
    if name is not None:
        return _workspace_for_unlock(name, paths)[0]
    from reconciler import loader

    result = loader.load(paths)
    found = [
        WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    ]
    if len(found) != 1:
        fail("name the workspace with --workspace ALIAS (or SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE)", EXIT_USAGE)
    return found[0]


# -- migrate ----------------------------------------------------------------------------------
def migrate(
    paths: list[Path] | None,
    strategy: str,
    target: str | None,
    out: Path,
    tls_backups: Path,
    connection: Callable[[], AbstractContextManager[Cloud]],
) -> tuple[list[str], list[str]]:
    """Write the v2 manifests and MIGRATION.md for the legacy InferenceClusters; returns the files written and notes."""
    from reconciler import loader, rules, tlsbackup
    from reconciler.clusterside import certificate_names
    from reconciler.ids import parse_cluster_id
    from reconciler.migration import Backup, MigrationError, Strategy, plan_migration

    chosen = Strategy(strategy)
    if chosen is Strategy.NEW_CLUSTER and not target:
        fail("--strategy new-cluster needs --target-cluster ID (the AKS cluster that gets the extension)", EXIT_USAGE)
    if target and parse_cluster_id(target) is None:
        fail(f"--target-cluster {target!r} is not an AKS managed cluster id", EXIT_USAGE)
    result = loader.load(paths)
    findings = result.findings + rules.check(result)
    errors = [f for f in findings if f.is_error]
    if errors:
        fail("\n".join(f.format() for f in errors) + f"\n{len(errors)} error(s) in the manifests; nothing was migrated")
    if not result.clusters:
        fail("no InferenceCluster in the manifests: nothing to migrate")
    refs = [
        WorkspaceRef(ws.spec.subscriptionId, ws.spec.resourceGroup, ws.spec.workspaceName)
        for _, ws in result.workspaces
    ]
    ids = sorted(
        {ic.spec.attach.clusterId for _, ic in result.clusters if ic.spec.attach} | ({target} if target else set())
    )
    with connection() as cloud:
        observed = cloud.read(refs, ids, [])
    if target and observed.cluster(target) is None:
        fail(f"--target-cluster {target} does not exist (or is not visible to you)")
    backups: dict[tuple[str, str], Backup] = {}
    by_alias = {ws.metadata.name: ref for (_, ws), ref in zip(result.workspaces, refs, strict=True)}
    for _, ic in result.clusters:
        ref = by_alias[ic.spec.workspace]
        if (
            ic.spec.tls.enabled
            and ic.spec.tls.leafDomainLabel
            and tlsbackup.has_backup(tls_backups, ref, ic.metadata.name)
        ):
            where = tlsbackup.backup_dir(tls_backups, ref, ic.metadata.name)
            cert = where / tlsbackup.CERT
            if cert.stat().st_size > 1 << 20:
                fail(f"{cert} is larger than 1 MiB: not a certificate backup")
            backups[(ref.key, ic.metadata.name)] = Backup(
                cert,
                where / tlsbackup.KEY,
                tuple(certificate_names(cert.read_text(encoding="ascii", errors="replace"))),
            )
    try:
        output = plan_migration(result, observed, chosen, target, out, backups)
    except MigrationError as exc:
        fail(str(exc))
    files = {**output.files, "MIGRATION.md": output.markdown}
    existing = sorted(name for name in files if (out / name).exists())
    if existing:
        fail(f"{', '.join(existing)} already exist in {out}; migrate into an empty folder (nothing is overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    import os

    from reconciler import safeio

    for name, text in files.items():
        try:
            fd = safeio.create_exclusive(out / name, 0o644)
        except OSError as exc:
            fail(f"cannot write {out / name}: {safeio.describe_error(exc)}; nothing is overwritten")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    return sorted(files), output.notes
