"""Local Azure ARM emulator: ML computes, workspaces and AKS over HTTP.

The real Azure SDK clients run against it unmodified. Independent of the rest of
``reconciler`` on purpose: it plays Azure, so it must not share the product's rules.
Layout (moto-style): ``server`` (sockets) → ``dispatch`` (auth, faults, routing) →
``services/<provider>/handlers`` (thin) → ``services/<provider>/backend`` (rules) over
``store`` (state) and ``lro`` (long-running operations); bodies in ``services/*/shapes``.
"""

from .runner import serve
from .server import Emulator

__all__ = ["Emulator", "serve"]
