"""The hash value: a dict of bytes field -> bytes value.

Encoding follows Redis 7.0: "listpack" while small (at most
hash-max-listpack-entries fields, every field and value at most
hash-max-listpack-value bytes), "hashtable" once either limit is crossed,
and it stays "hashtable" (Redis never converts back). A listpack-encoded hash
keeps insertion order, which a dict does too, so HGETALL/HKEYS/HSCAN of small
hashes answer in Redis's order.

`mem` is a running estimate of the bytes held, updated in O(1) per mutation;
the mutators return the delta for db.grow().

Two auxiliary structures, built only on demand and never for small hashes'
hot paths:
- `_keys`: a list of the fields for random picks (HRANDFIELD), dropped on
  any insertion or deletion;
- `_scan`: a SortedList of (scan_hash(field), field) giving HSCAN a cursor
  that is a position in a fixed hash order: fields present for the whole
  iteration are returned, whatever else is added or deleted meanwhile.
  Once built it is maintained in O(log n) per insertion/deletion.
"""

from __future__ import annotations

ENTRY_OVERHEAD = 2 * 33 + 40      # two bytes headers and the dict slot
HASH_OVERHEAD = 232

DEFAULT_MAX_ENTRIES = 512         # hash-max-listpack-entries (Redis 7.0.15 default)
DEFAULT_MAX_VALUE = 64            # hash-max-listpack-value


def scan_hash(field: bytes) -> int:
    """A field's position in the HSCAN order: 1 .. 2**62 (0 is the start/end cursor)."""
    return (hash(field) & 0x3FFFFFFFFFFFFFFF) + 1


class HashValue(dict):
    __slots__ = ("mem", "ht", "_keys", "_scan")

    type_name = b"hash"

    def __init__(self, pairs=()) -> None:
        super().__init__(pairs)
        self.ht = False
        self._keys = None
        self._scan = None
        self.mem = HASH_OVERHEAD + ENTRY_OVERHEAD * len(self) + \
            sum(len(f) + len(v) for f, v in self.items())

    def encoding(self) -> bytes:
        return b"hashtable" if self.ht else b"listpack"

    def copy(self) -> "HashValue":
        h = HashValue(self)
        h.ht = self.ht
        return h

    __copy__ = copy

    def check_encoding(self, max_entries: int = DEFAULT_MAX_ENTRIES,
                       max_value: int = DEFAULT_MAX_VALUE) -> None:
        """Convert to hashtable when a limit is crossed (after a bulk load)."""
        if not self.ht and (len(self) > max_entries or any(
                len(f) > max_value or len(v) > max_value for f, v in self.items())):
            self.ht = True

    # -- mutators: each returns the change of `mem` --------------------------------

    def set_field(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> int:
        """hashTypeSet: store field=value, converting the encoding as Redis does."""
        old = self.get(field)
        if old is None:
            self[field] = value
            d = ENTRY_OVERHEAD + len(field) + len(value)
            if self._keys is not None:
                self._keys = None
            if self._scan is not None:
                self._scan.add((scan_hash(field), field))
        else:
            self[field] = value
            d = len(value) - len(old)
        if not self.ht and (len(field) > max_value or len(value) > max_value
                            or len(self) > max_entries):
            self.ht = True
        self.mem += d
        return d

    def del_field(self, field: bytes) -> int:
        """Remove field (known present); returns the (negative) delta."""
        v = self.pop(field)
        if self._keys is not None:
            self._keys = None
        if self._scan is not None:
            self._scan.discard((scan_hash(field), field))
        d = -(ENTRY_OVERHEAD + len(field) + len(v))
        self.mem += d
        return d

    # -- reads --------------------------------------------------------------------

    def field_list(self) -> list:
        """The fields as a list (cached until the next insertion or deletion)."""
        k = self._keys
        if k is None:
            k = self._keys = list(self)
        return k

    def scan(self, cursor: int, count: int):
        """One HSCAN step over a hashtable-encoded hash: (next cursor, fields)."""
        idx = self._scan
        if idx is None:
            from sortedcontainers import SortedList
            idx = self._scan = SortedList((scan_hash(f), f) for f in self)
        i = idx.bisect_left((cursor,))
        n = len(idx)
        if i >= n:
            return 0, []
        j = min(i + count, n)
        last = idx[j - 1][0]
        while j < n and idx[j][0] == last:     # never split equal positions
            j += 1
        out = [f for _, f in idx.islice(i, j)]
        return (0 if j >= n else last + 1), out
