"""`reconciler validate`: the offline check, on its own because it must start fast and never touch the network."""

import json
from enum import Enum
from typing import Annotated

import typer

from reconciler.commands.common import EXIT_ERROR, EXIT_OK, PathsArg
from reconciler.terminal import count


class ValidateFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    azure_pipelines = "azure-pipelines"


def validate(
    paths: PathsArg = None,
    format: Annotated[
        ValidateFormat,
        typer.Option(
            "--format",
            help="text: findings on stderr, the count on stdout; json: one JSON document on stdout; github: GitHub Actions annotations (::error file=…,line=…,col=…::) on stdout; azure-pipelines: ##vso[task.logissue] commands on stdout",
        ),
    ] = ValidateFormat.text,
) -> None:
    """Check manifests offline: YAML, schema and every domain rule. No network.

    Prints one line per finding (`file:line:col: error|warning RULE: message`) and a
    hint, then a count. Exit 0 when there are no errors (warnings allowed), 1 otherwise.

    Examples:

      reconciler validate

      reconciler validate manifests/ --format github

      reconciler validate --format json | jq '.findings[] | select(.severity == "error")'
    """
    from datetime import UTC, datetime

    from reconciler import loader, rules, secrets
    from reconciler.terminal import report_finding

    result = loader.load(paths)
    findings = result.findings + rules.check(result) + secrets.pem_findings(result.clusters, datetime.now(UTC))
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    summary = (
        f"{count(errors, 'error')}, {count(warnings, 'warning')} in {count(len(result.files), 'file')} "
        f"({count(len(result.documents), 'document')})"
    )
    if format is ValidateFormat.json:
        doc = {
            "errors": errors,
            "warnings": warnings,
            "files": len(result.files),
            "documents": len(result.documents),
            "findings": [f.as_json() for f in findings],
        }
        typer.echo(json.dumps(doc, indent=2))
    elif format in (ValidateFormat.github, ValidateFormat.azure_pipelines):
        for finding in findings:
            typer.echo(
                finding.github_annotation() if format is ValidateFormat.github else finding.azure_pipelines_issue()
            )
        typer.echo(summary)
    else:
        for finding in findings:
            report_finding(finding)
        typer.echo(summary)
    raise typer.Exit(EXIT_ERROR if errors else EXIT_OK)
