"""The set value (Redis's t_set.c object): a Python set of bytes members.

Encoding follows Redis 7.0: "intset" while every member is a canonical 64-bit
integer (string2ll) and there are at most set-max-intset-entries of them,
"hashtable" after that, for good (conversions are sticky, as in Redis). An
intset replies in ascending numeric order (Redis walks the sorted intset), so
SMEMBERS/SSCAN on small integer sets match Redis byte for byte.

`mem` is a running estimate kept in O(1) per mutation (callers report its
change with db.grow()): the members' bytes objects (MEMBER_OVERHEAD + length:
a bytes header is 33 bytes and pymalloc rounds to 16) plus the set object and
its hash table as `set.__sizeof__` reports them (O(1); the table is a power of
two kept at most 60% full, so per member it swings between ~27 and ~100 bytes
with the size: a fixed per-member constant cannot follow it). Calibrated
against RSS growth by bench/memory_calibration.py (README, Memory accounting).

Random access (SPOP, SRANDMEMBER) needs an index a Python set lacks: the first
random pick builds `_arr` (members in a list) and `_pos` (member -> index),
O(n) once; from then on the mutators keep both current in O(1) (swap-remove),
and a pick rebuilds them if they ever disagree with the set's size. Their cost
is counted in `mem` while they exist.
"""

from __future__ import annotations

import random

from securekv.net.resp import _strict_int

GC_HEADER = 16              # the set's garbage-collector header (not in __sizeof__)
MEMBER_OVERHEAD = 33 + 8    # bytes header + average pymalloc rounding (16-byte classes)
_sizeof = set.__sizeof__    # the object plus its hash table, O(1)
INDEX_OVERHEAD = 8 + 104    # a list slot + a dict entry of the random-access index


def set_max_intset_entries(server) -> int:
    """The set-max-intset-entries directive (512 until the config table has it)."""
    return server.config.values.get("set-max-intset-entries", 512)


class SetValue(set):
    __slots__ = ("intset", "width", "mem", "_arr", "_pos")
    type_name = b"set"

    def __init__(self, members=()) -> None:
        super().__init__()
        self.intset = True
        self.width = 2          # bytes per intset integer: it widens, never narrows (intset.c)
        self.mem = _sizeof(self) + GC_HEADER
        self._arr = None
        self._pos = None
        if members:
            self.add_many(members, 512)

    def encoding(self) -> bytes:
        return b"intset" if self.intset else b"hashtable"

    def add_many(self, members, max_intset: int) -> int:
        """Add members; returns how many were new. Keeps encoding and mem current."""
        n = len(self)
        grow = -_sizeof(self)
        intset = self.intset
        add = self.add
        arr = self._arr
        for m in members:
            if m in self:
                continue
            if type(m) is not bytes:
                m = bytes(m)
            if intset:
                v = _strict_int(m)
                if v is None:
                    intset = False
                elif len(m) > 4:
                    self._widen(v)
            add(m)
            grow += len(m) + MEMBER_OVERHEAD
            if arr is not None:
                self._pos[m] = len(arr)
                arr.append(m)
                grow += INDEX_OVERHEAD
        added = len(self) - n
        if intset and len(self) > max_intset:
            intset = False
        self.intset = intset
        self.mem += grow + _sizeof(self)
        return added

    def add_one(self, m: bytes, max_intset: int) -> bool:
        if m in self:
            return False
        table = _sizeof(self)
        self.add(m)
        self.mem += len(m) + MEMBER_OVERHEAD + _sizeof(self) - table
        arr = self._arr
        if arr is not None:
            self._pos[m] = len(arr)
            arr.append(m)
            self.mem += INDEX_OVERHEAD
        if self.intset:
            v = _strict_int(m)
            if v is None or len(self) > max_intset:
                self.intset = False
            elif len(m) > 4:
                self._widen(v)
        return True

    def _widen(self, v: int) -> None:
        """intsetUpgradeAndAdd: the encoding grows to hold v (never shrinks)."""
        w = 2 if -32768 <= v <= 32767 else 4 if -2147483648 <= v <= 2147483647 else 8
        if w > self.width:
            self.width = w

    def remove_one(self, m: bytes) -> bool:
        if m in self:
            self.discard(m)
            self.mem -= len(m) + MEMBER_OVERHEAD
            arr = self._arr
            if arr is not None:
                i = self._pos.pop(m, None)
                if i is not None:
                    last = arr.pop()
                    if i < len(arr):
                        arr[i] = last
                        self._pos[last] = i
                    self.mem -= INDEX_OVERHEAD
            return True
        return False

    def _index(self) -> list:
        arr = self._arr
        if arr is None or len(arr) != len(self):
            if arr is not None:
                self.mem -= INDEX_OVERHEAD * len(arr)
            arr = self._arr = list(self)
            self._pos = {m: i for i, m in enumerate(arr)}
            self.mem += INDEX_OVERHEAD * len(arr)
        return arr

    def random_member(self) -> bytes:
        """A uniformly random member (the set must not be empty)."""
        arr = self._index()
        return arr[random.randrange(len(arr))]

    def random_sample(self, count: int) -> list:
        """count distinct random members (count <= len)."""
        return random.sample(self._index(), count)

    def random_choices(self, count: int) -> list:
        """count random members, repetitions allowed."""
        return random.choices(self._index(), k=count)

    def ordered(self) -> list:
        """Members in the order Redis replies with them (numeric for an intset)."""
        if self.intset:
            return sorted(self, key=int)
        return list(self)

    def copy(self) -> "SetValue":
        new = SetValue()
        set.update(new, self)
        new.intset = self.intset
        new.width = self.width
        new.mem = self.mem - _sizeof(self) + _sizeof(new)
        if self._arr is not None:
            new.mem -= INDEX_OVERHEAD * len(self._arr)
        return new

    def __reduce__(self):
        return (SetValue, (list(self),))


def new_set(members, max_intset: int) -> SetValue:
    """A fresh set built the way Redis builds a result set (createIntsetObject,
    then setTypeAdd for each member)."""
    s = SetValue()
    s.add_many(members, max_intset)
    return s


# -- incremental iteration (SSCAN, ZSCAN) -----------------------------------------

_M64 = (1 << 64) - 1


def _rev64(v: int) -> int:
    return int(format(v, "064b")[::-1], 2)


def scan_buckets(members, n: int, cursor: int, count: int) -> tuple[int, list]:
    """One SCAN step over a hashed collection of n members, with Redis's dictScan
    guarantee (a member present from the first call to the last is returned at
    least once, even if the collection grows or shrinks in between).

    Members fall in 2**k buckets by hash (k chosen from n/count, at most 64
    buckets so a full iteration costs at most 64 passes); the cursor walks the
    buckets in reverse-binary order like Redis's. Returns (next cursor, members)."""
    buckets = 1
    target = n // max(count, 1)
    while buckets < target and buckets < 64:
        buckets <<= 1
    mask = buckets - 1
    if mask == 0:
        return 0, list(members)
    groups: dict = {}
    for m in members:
        b = hash(m) & mask
        g = groups.get(b)
        if g is None:
            groups[b] = [m]
        else:
            g.append(m)
    out: list = []
    v = cursor & _M64
    while True:
        g = groups.get(v & mask)
        if g:
            out.extend(g)
        v |= ~mask & _M64
        v = _rev64(v)
        v = (v + 1) & _M64
        v = _rev64(v)
        if v == 0 or len(out) >= count:
            return v, out
