"""Local Azure ARM emulator: ML computes, workspaces and AKS over HTTP.

The real Azure SDK clients run against it unmodified. Independent of the rest of
``reconciler`` on purpose: it plays Azure, so it must not share the product's rules.
"""

from .server import Emulator, serve

__all__ = ["Emulator", "serve"]
