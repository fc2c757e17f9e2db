"""docs/architecture.md is the map of the code; these tests keep it from going stale.

Every module under `reconciler/` (the emulator's included) must be named there, by its path in
backquotes (a package's `__init__.py` may be covered by its folder, `reconciler/lock/`), and every
path the page names must exist, so that a module added, moved or deleted shows up here first.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PROJECT_FOLDERS = ("reconciler/", "tests/", "docs/", "bench/", "schemas/", "scripts/")


def _spans() -> list[str]:
    """Everything the page puts in backquotes."""
    return re.findall(r"`([^`\n]+)`", DOC.read_text(encoding="utf-8"))


def _named_paths() -> set[str]:
    return {span for span in _spans() if span.startswith(PROJECT_FOLDERS) and " " not in span}


def _modules() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "reconciler").rglob("*.py"))


def _exists(path: str) -> bool:
    if "<" in path:  # a placeholder such as `reconciler/emulator/services/<provider>/`
        path = path[: path.index("<")]
    if "*" in path:
        return any(ROOT.glob(path))
    target = ROOT / path
    return target.is_dir() if path.endswith("/") else target.is_file()


def test_every_module_of_the_product_and_the_emulator_is_on_the_map() -> None:
    named = _named_paths()
    missing = []
    for module in _modules():
        folder = module.rsplit("/", 1)[0] + "/"
        if module in named or (module.endswith("/__init__.py") and folder in named):
            continue
        missing.append(module)
    assert not missing, f"docs/architecture.md does not name these modules (give each its one job): {missing}"


def test_every_path_the_map_names_exists() -> None:
    stale = sorted(path for path in _named_paths() if not _exists(path))
    assert not stale, f"docs/architecture.md names paths that do not exist: {stale}"


def test_every_symbol_the_map_places_in_a_module_is_there() -> None:
    text = DOC.read_text(encoding="utf-8")
    pairs = re.findall(r"`(reconciler/[\w/]+\.py)` \(`(\w+)`", text)
    pairs += [(path, name) for name, path in re.findall(r"`(\w+)` in\s+`(reconciler/[\w/]+\.py)`", text)]
    assert pairs, "the map places no symbol in a module any more; this test would check nothing"
    absent = [
        f"{name} in {path}"
        for path, name in pairs
        if not (ROOT / path).is_file() or not re.search(rf"\b{name}\b", (ROOT / path).read_text(encoding="utf-8"))
    ]
    assert not absent, f"docs/architecture.md places symbols where they are not: {absent}"


def test_apply_happens_in_the_one_file_the_map_names() -> None:
    text = DOC.read_text(encoding="utf-8")
    answer = re.search(r"\*\*Where does apply happen\?\*\* In \*\*`([^`]+)`\*\*", text)
    assert answer is not None, "docs/architecture.md must answer 'where does apply happen?' with one file"
    assert answer.group(1) == "reconciler/workflow.py"
    assert re.search(r"^def apply\(", (ROOT / answer.group(1)).read_text(encoding="utf-8"), re.MULTILINE)
