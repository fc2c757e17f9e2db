"""Rules of the loader: manifest files that cannot be read, unsafe or invalid YAML, schema mismatches."""

from __future__ import annotations

from reconciler.catalogue.rule import E, rule

__all__ = ["IO001", "IO002", "SCHEMA001", "YAML001", "YAML002", "YAML003", "YAML004", "YAML005", "YAML006", "YAML007"]

# -- the loader: files, YAML, schema --
IO001 = rule("IO001", E, "manifest path cannot be read", "give a manifest file or a folder of them")
IO002 = rule(
    "IO002",
    E,
    "a path under a manifests folder cannot be read",
    "fix or remove it (dangling symlink, unreadable folder, FIFO, device, symlink loop); nothing is pruned while it is unread",
)
YAML001 = rule("YAML001", E, "invalid YAML", "fix the YAML syntax at this position")
YAML002 = rule("YAML002", E, "YAML anchors and aliases are not allowed", "write the value out in full")
YAML003 = rule("YAML003", E, "custom YAML tags are not allowed", "remove the tag; manifests hold plain data only")
YAML004 = rule("YAML004", E, "duplicate or non-string mapping keys", "keep one entry per key")
YAML005 = rule("YAML005", E, "file too large or nested too deeply", "split or flatten the manifests")
YAML006 = rule(
    "YAML006",
    E,
    "a scalar its tag cannot hold, or an integer beyond 63 bits",
    "write a plain value of the right type, or quote the text",
)
YAML007 = rule("YAML007", E, "control character in a string", "remove it; manifests hold printable text only")
SCHEMA001 = rule("SCHEMA001", E, "document does not match the manifest schema", "see schemas/manifest.schema.json")
