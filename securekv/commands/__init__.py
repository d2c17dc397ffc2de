"""Command families. Importing this package registers every command in the
table (commands/table.py); each module declares its commands beside their
implementations."""

import importlib

FAMILIES = (
    "connection", "strings", "bitmaps", "keys", "server", "client", "config",
    "introspection", "lists", "hashes", "sets", "zsets", "sort", "streams", "hyperloglog",
    "geo", "pubsub", "transactions", "scripting", "acl", "tenant", "memory", "replication",
    "persistence", "audit",
)

for _name in FAMILIES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as e:     # a family not written yet
        if e.name != f"{__name__}.{_name}":
            raise
