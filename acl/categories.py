"""Redis 7.0's ACL command categories, in its order (ACLCommandCategories in acl.c).

The order matters: ACL CAT lists them so, COMMAND INFO prints a command's
categories so, and the canonical rendering of command rules tries them in
this order (ACLDescribeSelectorCommandRules).
"""

CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
    "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
    "blocking", "dangerous", "connection", "transaction", "scripting",
)

_BY_NAME = {name: name for name in CATEGORIES}


def category_by_name(name) -> str | None:
    """The category called `name` (bytes or str, any case), or None."""
    if isinstance(name, (bytes, bytearray)):
        try:
            name = bytes(name).decode("ascii")
        except UnicodeDecodeError:
            return None
    return _BY_NAME.get(name.lower())
