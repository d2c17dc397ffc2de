"""Memory estimates, O(1) per call.

`estimate(key, value)` approximates the bytes a key and its value hold in this
process (the object headers of the key, the value and the dict slot, plus the
payload). Strings are measured exactly from their length; container types keep
their own running estimate in a `mem` attribute, updated by their mutators, so
no estimate ever walks a collection.
"""

from __future__ import annotations

# CPython object overheads (64-bit): bytes header 33, dict slot ~ 3 words plus
# the sparse index; rounded to what sys.getsizeof reports for small keys.
KEY_OVERHEAD = 33 + 40
STRING_OVERHEAD = 33


def estimate(key: bytes, value) -> int:
    t = type(value)
    if t is bytes or t is bytearray:
        return KEY_OVERHEAD + len(key) + STRING_OVERHEAD + len(value)
    mem = getattr(value, "mem", None)
    if mem is not None:
        return KEY_OVERHEAD + len(key) + mem
    return KEY_OVERHEAD + len(key) + 64
