"""`import`, `show`, `schema` and `version`: the commands that read (Azure, the manifest schema, the version).

None of them changes Azure; `import` and `schema --write` only write local files.
"""

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reconciler import __version__
from reconciler.commands.common import PathsArg, connection, load_desired
from reconciler.terminal import count, user_errors


def import_(
    workspace: Annotated[str, typer.Option("--workspace", help="SUBSCRIPTION/RESOURCE_GROUP/WORKSPACE to read")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the manifests into")] = Path("manifests"),
    alias: Annotated[
        str | None,
        typer.Option("--alias", help="metadata.name of the Workspace manifest (default: the workspace name)"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite manifest files that already exist")] = False,
    schema_dir: Annotated[
        Path | None,
        typer.Option(
            "--schema-dir",
            metavar="DIR",
            file_okay=False,
            help="Write the JSON Schema here; the manifests' modeline points at it (default: OUT/../schemas)",
        ),
    ] = None,
) -> None:
    """Write manifests for the AKS computes a workspace already has.

    One manifest per compute (attach form for attached clusters, create form for
    created ones), plus the Workspace manifest. TLS certificates and keys are never returned by Azure: they become references to fill
    in, listed at the end. Then `reconciler plan OUT` shows no changes.

    Examples:

      reconciler import --workspace 00000000-0000-0000-0000-000000000000/ml-rg/ml-prod --out manifests/
    """
    from reconciler import workflow

    with user_errors():
        written, notes = workflow.import_manifests(workspace, out, alias, force, connection, schema_dir)
    from reconciler.terminal import err_line

    for note in notes:
        err_line(f"note: {note}", level="warning")
    typer.echo(f"wrote {count(written, 'manifest')} to {out}")


class ShowFormat(str, Enum):
    table = "table"
    json = "json"


def show(
    paths: PathsArg = None,
    format: Annotated[
        ShowFormat, typer.Option("--format", help="table, or json (computes[] and missingWorkspaces[])")
    ] = ShowFormat.table,
) -> None:
    """Show what the declared workspaces hold now: AKS computes, their clusters, owners and states.

    Read-only; every AKS compute of each workspace is listed, declared in the manifests or not.

    Examples:

      reconciler show

      reconciler show manifests/ --format json | jq '.computes[] | select(.state != "Succeeded")'
    """
    from reconciler import show as shown
    from reconciler import workflow

    desired = load_desired(paths)
    with user_errors(), connection() as cloud:
        found, missing = workflow.show(desired, cloud)
    typer.echo(shown.to_json(found, missing) if format is ShowFormat.json else shown.to_text(found, missing), nl=False)


def version() -> None:
    """Print the version (the same as --version), to pin in pipelines.

    Examples:

      reconciler version
    """
    typer.echo(f"reconciler {__version__}")


def schema(
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            metavar="DIR",
            file_okay=False,
            help="Write DIR/manifest.schema.json instead of printing, and print the modeline for manifests next to it",
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the manifests (also committed as schemas/manifest.schema.json).

    Editors with yaml-language-server (VS Code's YAML extension, Neovim, ...) validate and
    complete a manifest whose first line is `# yaml-language-server: $schema=PATH`.

    Examples:

      reconciler schema --write schemas

      reconciler schema > schemas/manifest.schema.json
    """
    if write is None:
        from reconciler.manifest import json_schema

        typer.echo(json.dumps(json_schema(), indent=2))
        return
    from reconciler import workflow

    with user_errors():
        target = workflow.write_schema(write)
    typer.echo(f"wrote {target}")
    typer.echo(
        f"first line of manifests in a sibling folder: # yaml-language-server: $schema=../{write.name}/{target.name}"
    )
