"""The rule catalogue is the one home of every rule id, and README.md lists exactly those rules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from reconciler import catalogue
from reconciler.findings import Severity

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\|\s*([A-Z]+\d{3})(?:\s*[–-]\s*([A-Z]+\d{3}))?\s*\|\s*(error|warning)\s*\|", re.M)


def readme_rules() -> dict[str, str]:
    """Rule id -> severity from the README's rule tables (a row may give a range: YAML001–YAML005)."""
    rows: dict[str, str] = {}
    for first, last, severity in ROW.findall((ROOT / "README.md").read_text()):
        prefix, start = re.match(r"([A-Z]+)(\d+)", first).groups()  # type: ignore[union-attr]
        end = int(last[len(prefix) :]) if last else int(start)
        for n in range(int(start), end + 1):
            rows[f"{prefix}{n:0{len(start)}d}"] = severity
    return rows


def test_readme_rule_tables_match_the_catalogue() -> None:
    documented = readme_rules()
    defined = {rule_id: rule.severity.value for rule_id, rule in catalogue.RULES.items()}
    assert documented == defined


def test_every_rule_has_an_id_severity_title_and_hint() -> None:
    for rule_id, rule in catalogue.RULES.items():
        assert rule.id == rule_id and isinstance(rule.severity, Severity) and rule.title and rule.hint


def test_every_rule_id_raised_in_the_product_is_in_the_catalogue() -> None:
    """Ids written as strings (the loader's) or as catalogue names (rules, planner) all resolve."""
    used: set[str] = set()
    for path in (ROOT / "reconciler").rglob("*.py"):
        if "emulator" in path.parts or path.name == "catalogue.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(IO|YAML|SCHEMA|WS|AKS)\d{3}", node.value)
            ):
                used.add(node.value)
            elif isinstance(node, ast.Name) and re.fullmatch(r"(IO|YAML|SCHEMA|WS|AKS)\d{3}", node.id):
                used.add(node.id)
    assert used and used <= set(catalogue.RULES)


def test_the_catalogue_imports_only_findings() -> None:
    """The catalogue package's modules import only `findings` and each other."""
    product: set[str] = set()
    for path in (ROOT / "reconciler" / "catalogue").glob("*.py"):
        tree = ast.parse(path.read_text())
        product |= {
            n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("reconciler")
        }
        product |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    outside = {m for m in product if m.startswith("reconciler") and not m.startswith("reconciler.catalogue.")}
    assert outside == {"reconciler.findings"}
