"""`reconciler import` and `reconciler schema`: manifests written from what a workspace has, and their JSON Schema.

Apart from the workflow because importing reads Azure and writes files but never plans or applies.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.failure import EXIT_USAGE, fail
from reconciler.state import WorkspaceRef

if TYPE_CHECKING:
    from reconciler.connection import Cloud

SCHEMA_FILE = "manifest.schema.json"


def write_schema(folder: Path) -> Path:
    """The manifests' JSON Schema as FOLDER/manifest.schema.json, for editors in a repository of manifests."""
    import json

    from reconciler.manifest import json_schema

    target = folder / SCHEMA_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(json_schema(), indent=2) + "\n")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    return target


def import_manifests(
    workspace: str,
    out: Path,
    alias: str | None,
    force: bool,
    connection: Callable[[], AbstractContextManager[Cloud]],
    schema_dir: Path | None = None,
) -> tuple[int, list[str]]:
    """Write manifests for the AKS computes a workspace has, and the schema their modeline points at
    (SCHEMA_DIR, default OUT/../schemas); returns how many files and the notes to show."""
    import os
    import re

    from reconciler.importer import import_kubernetes, import_workspace

    parts = workspace.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        fail("--workspace takes SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE", EXIT_USAGE)
    ref = WorkspaceRef(*parts)
    name = alias or re.sub(r"[^a-z0-9-]", "-", ref.workspace_name.lower())
    from reconciler.importer import ImportWriteError, out_problem, write_files

    problem = out_problem(name, out)  # an alias is a file name; --out must be a folder
    if problem:
        fail(problem, EXIT_USAGE)
    with connection() as cloud:
        observed = cloud.read([ref], [], [])
        kube_ids = sorted({c.cluster_id for c in observed.workspace(ref).kubernetes.values() if c.cluster_id})
        if kube_ids and cloud.read_kubernetes is not None:
            observed = cloud.read([ref], kube_ids, [])
            cloud.read_kubernetes(observed, kube_ids, [], [])
    ows = observed.workspace(ref)
    if not ows.exists:
        fail(f"workspace {ref.workspace_name!r} not found in resource group {ref.resource_group!r}")
    schema_dir = schema_dir if schema_dir is not None else out.absolute().parent / "schemas"
    schema_ref = Path(os.path.relpath(schema_dir.absolute() / SCHEMA_FILE, out.absolute())).as_posix()
    imported = import_workspace(name, ows, observed.clusters, schema_ref)
    import_kubernetes(name, ows, observed.extensions, imported, schema_ref)
    existing = [f for f in imported.files if (out / f).exists()]
    if existing and not force:
        fail(f"{', '.join(existing)} already exist in {out}; use --force to overwrite or --out another folder")
    try:
        write_files(imported, out)
    except ImportWriteError as exc:
        fail(str(exc))
    write_schema(schema_dir)
    return len(imported.files), list(imported.notes)
