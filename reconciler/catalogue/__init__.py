"""Every rule the tool reports, in one place: stable id, severity, title and fix hint.

The loader (YAML and schema), `rules` (offline domain rules) and the planner (rules that
need Azure) all take their rules from here; README.md lists the same ids (a test checks).
One module per family of rules (files/YAML, workspaces and legacy AKS, Kubernetes, migration), so that
each stays a short list; this package re-exports every rule and builds `RULES`.
To add a rule: define it in its family's module and name it in that module's `__all__` (this package
re-exports it and puts it in `RULES`), list it in README.md, and raise it where it is checked.
"""

from __future__ import annotations

import reconciler.catalogue.aks as aks
import reconciler.catalogue.files as files
import reconciler.catalogue.kubernetes as kubernetes
import reconciler.catalogue.migration as migration
from reconciler.catalogue.aks import *  # noqa: F403 - every rule the family names in its __all__
from reconciler.catalogue.files import *  # noqa: F403
from reconciler.catalogue.kubernetes import *  # noqa: F403
from reconciler.catalogue.migration import *  # noqa: F403
from reconciler.catalogue.rule import E, Located, Rule, W
from reconciler.findings import Finding, Position, Severity

FAMILIES = (files, aks, kubernetes, migration)

__all__ = [
    *files.__all__,
    *aks.__all__,
    *kubernetes.__all__,
    *migration.__all__,
    "E",
    "Finding",
    "Located",
    "Position",
    "Rule",
    "Severity",
    "W",
]

RULES: dict[str, Rule] = {
    rule.id: rule for family in FAMILIES for rule in (getattr(family, name) for name in family.__all__)
}
