"""The sorted-set value (Redis's t_zset.c object).

ZSetValue is a dict member -> score plus `sl`, a sortedcontainers.SortedList of
(score, member) tuples: tuple order is Redis's order (score, then member
bytewise), so ranks, rank ranges, score ranges and lex ranges are O(log n)
bisections and slices. Iterating a ZSetValue yields its members in score order
(SORT relies on it); use dict.keys(self) for the unordered fast path.
Score ranges and top/bottom-N ranks (by_score, rank_slice) read the SortedList's
sublists (`_lists`, `_maxes`) directly; pyproject pins sortedcontainers below 3.

Encoding follows Redis 7.0: "listpack" while at most zset-max-listpack-entries
members of at most zset-max-listpack-value bytes, "skiplist" after that, for
good. A listpack stores integral scores as integers, so -0 becomes 0 and ZSCAN
prints such scores as integers; both are reproduced.
"""

from __future__ import annotations

import math
from bisect import bisect_left as _bisect_left

from sortedcontainers import SortedList

# `mem`, kept in O(1) per mutation: ZSET_BASE (the SortedList and its lists, the
# GC header) + the dict object and its table as `dict.__sizeof__` reports them
# (O(1); the table grows by powers of two, so a per-member constant cannot follow
# it) + per member its bytes object, score float, (score, member) tuple and
# SortedList slot: MEMBER_OVERHEAD + length. Calibrated against RSS growth by
# bench/memory_calibration.py (README, Memory accounting).
ZSET_BASE = 470
MEMBER_OVERHEAD = 41 + 81   # bytes (33 + rounding); float, 2-tuple and list slot (measured)
_sizeof = dict.__sizeof__
LLONG_HALF = (2 ** 63 - 1) // 2
INF = math.inf
_nextafter = math.nextafter


def zset_limits(server) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value), Redis's defaults until
    the config table has them."""
    v = server.config.values
    return v.get("zset-max-listpack-entries", 128), v.get("zset-max-listpack-value", 64)


class ZSetValue(dict):
    __slots__ = ("sl", "listpack", "mem")
    type_name = b"zset"

    def __init__(self) -> None:
        super().__init__()
        self.sl = SortedList()
        self.listpack = True
        self.mem = ZSET_BASE + _sizeof(self)

    def __iter__(self):
        for _s, m in self.sl:
            yield m

    def encoding(self) -> bytes:
        return b"listpack" if self.listpack else b"skiplist"

    def copy(self) -> "ZSetValue":
        new = ZSetValue()
        dict.update(new, self)
        new.sl = SortedList(self.sl)
        new.listpack = self.listpack
        new.mem = self.mem - _sizeof(self) + _sizeof(new)
        return new

    def __reduce__(self):
        return (_rebuild, (list(self.sl), self.listpack))

    # -- mutation ------------------------------------------------------------

    def insert(self, member: bytes, score: float, limits) -> None:
        """Add a member known to be absent (Redis's zsetAdd insert path)."""
        if self.listpack:
            if len(self) + 1 > limits[0] or len(member) > limits[1]:
                self.listpack = False
            elif score == 0.0:
                score = 0.0         # a listpack stores 0 for -0
        if type(member) is not bytes:
            member = bytes(member)
        table = _sizeof(self)
        dict.__setitem__(self, member, score)
        self.sl.add((score, member))
        self.mem += len(member) + MEMBER_OVERHEAD + _sizeof(self) - table

    def update(self, member: bytes, old: float, score: float) -> None:
        """Change the score of an existing member."""
        if self.listpack and score == 0.0:
            score = 0.0
        if old == score:            # Redis compares with ==: 0 -> -0 keeps 0
            return
        sl = self.sl
        sl.remove((old, member))
        sl.add((score, member))
        dict.__setitem__(self, member, score)

    def delete(self, member: bytes) -> bool:
        score = dict.pop(self, member, None)
        if score is None:
            return False
        self.sl.remove((score, member))
        self.mem -= len(member) + MEMBER_OVERHEAD
        return True

    def delete_slice(self, start: int, stop: int) -> int:
        """Remove the members of ranks [start, stop); returns how many."""
        sl = self.sl
        items = sl[start:stop]
        if not items:
            return 0
        pop = dict.pop
        mem = 0
        for _s, m in items:
            pop(self, m)
            mem += len(m) + MEMBER_OVERHEAD
        if len(items) == len(sl):
            sl.clear()
        else:
            del sl[start:stop]
        self.mem -= mem
        return len(items)

    # -- queries -------------------------------------------------------------

    def rank(self, member: bytes):
        score = dict.get(self, member)
        if score is None:
            return None
        return self.sl.index((score, member))

    def score_range(self, lo: float, loex: bool, hi: float, hiex: bool) -> tuple[int, int]:
        """Ranks [start, stop) of the members with lo <(=) score <(=) hi."""
        sl = self.sl
        if loex:
            if lo == INF:
                return 0, 0
            start = sl.bisect_left((_nextafter(lo, INF), b""))
        else:
            start = sl.bisect_left((lo, b""))
        if hiex:
            stop = sl.bisect_left((hi, b""))
        elif hi == INF:
            stop = len(sl)
        else:
            stop = sl.bisect_left((_nextafter(hi, INF), b""))
        if stop < start:
            stop = start
        return start, stop

    def rank_slice(self, start: int, stop: int) -> list:
        """The (score, member) items of ranks [start, stop) (0 <= start < stop <=
        len). Ranges inside the first or the last sublist (the top or bottom N of
        a leaderboard) are sliced from it directly, without the positional index."""
        lists = self.sl._lists
        first = lists[0]
        if stop <= len(first):
            return first[start:stop]
        last = lists[-1]
        base = len(self.sl) - len(last)
        if start >= base:
            return last[start - base:stop - base]
        return self.sl[start:stop]

    def by_score(self, lo: float, loex: bool, hi: float, hiex: bool, offset: int, limit: int,
                 rev: bool) -> list:
        """The (score, member) items of a score range in reply order, after LIMIT
        offset count (count < 0: no limit). Walks the SortedList's sublists from
        the first item in range, as zslFirstInRange/zslLastInRange and a walk do:
        two bisections and slices, no positional index (ZRANGEBYSCORE's common
        case, LIMIT 0 10, costs the same on a 10-member and a 10M-member set)."""
        if offset < 0 or (loex and lo == INF):
            return []
        lo_key = (_nextafter(lo, INF) if loex else lo, b"")       # first item >= lo_key
        if hiex:
            hi_key = (hi, b"")                                    # items < hi_key
        elif hi == INF:
            hi_key = None
        else:
            hi_key = (_nextafter(hi, INF), b"")
        sl = self.sl
        lists, maxes = sl._lists, sl._maxes
        nl = len(maxes)
        if not nl:
            return []
        need = limit if limit >= 0 else len(self)
        skip = offset
        out: list = []
        if not rev:
            i = _bisect_left(maxes, lo_key)
            if i == nl:
                return out
            j = _bisect_left(lists[i], lo_key)
            while need > 0 and i < nl:
                chunk = lists[i]
                ends_here = hi_key is not None and not maxes[i] < hi_key
                if skip:
                    if skip >= len(chunk) - j:
                        if ends_here:
                            return out
                        skip -= len(chunk) - j
                        i += 1
                        j = 0
                        continue
                    j += skip
                    skip = 0
                part = chunk[j:j + need]
                if ends_here and part and not part[-1] < hi_key:
                    out += part[:_bisect_left(part, hi_key)]
                    return out
                out += part
                need -= len(part)
                i += 1
                j = 0
            return out
        if hi_key is None:
            i = nl - 1
            j = len(lists[i])
        else:
            i = _bisect_left(maxes, hi_key)
            if i == nl:
                i = nl - 1
                j = len(lists[i])
            else:
                j = _bisect_left(lists[i], hi_key)      # items [0, j) of chunk i are < hi_key
        while need > 0 and i >= 0:
            chunk = lists[i]
            ends_here = not chunk[0] >= lo_key
            if skip:
                if skip >= j:
                    if ends_here:
                        return out
                    skip -= j
                    i -= 1
                    if i >= 0:
                        j = len(lists[i])
                    continue
                j -= skip
                skip = 0
            a = j - need if j > need else 0
            if ends_here and not chunk[a] >= lo_key:
                a = _bisect_left(chunk, lo_key, a, j)
                part = chunk[a:j]
                part.reverse()
                out += part
                return out
            part = chunk[a:j]
            part.reverse()
            out += part
            need -= len(part)
            i -= 1
            if i >= 0:
                j = len(lists[i])
        return out

    def lex_range(self, lo, hi) -> tuple[int, int]:
        """Ranks [start, stop) of the members inside lex bounds lo..hi (see
        parse_lex: None for '-'/'+', else (value, exclusive)). Members are assumed
        ordered bytewise, as Redis assumes (all scores equal)."""
        sl = self.sl
        n = len(sl)
        if lo is None:
            start = 0
        else:
            v, ex = lo
            a, b = 0, n
            while a < b:
                mid = (a + b) // 2
                m = sl[mid][1]
                if (m > v) if ex else (m >= v):
                    b = mid
                else:
                    a = mid + 1
            start = a
        if hi is None:
            stop = n
        else:
            v, ex = hi
            a, b = start, n
            while a < b:
                mid = (a + b) // 2
                m = sl[mid][1]
                if (m < v) if ex else (m <= v):
                    a = mid + 1
                else:
                    b = mid
            stop = a
        return start, stop


def _rebuild(pairs, listpack):
    z = ZSetValue()
    table = _sizeof(z)
    for s, m in pairs:
        dict.__setitem__(z, m, s)
        z.mem += len(m) + MEMBER_OVERHEAD
    z.mem += _sizeof(z) - table
    z.sl = SortedList(pairs)
    z.listpack = listpack
    return z


def zset_from_pairs(pairs, limits) -> ZSetValue:
    """A result zset (ZUNIONSTORE, GEORADIUS STORE ...) from unique (member, score)
    pairs: built as a skiplist, converted to a listpack when small enough, as
    Redis's zsetConvertToListpackIfNeeded."""
    z = ZSetValue()
    small = len(pairs) <= limits[0] and all(len(m) <= limits[1] for m, _s in pairs) \
        if len(pairs) <= limits[0] else False
    items = []
    mem = -_sizeof(z)
    for m, s in pairs:
        if small and s == 0.0:
            s = 0.0
        dict.__setitem__(z, m, s)
        items.append((s, m))
        mem += len(m) + MEMBER_OVERHEAD
    z.sl = SortedList(items)
    z.listpack = small
    z.mem += mem + _sizeof(z)
    return z


def score_to_scan_bytes(score: float, listpack: bool) -> bytes:
    """A score as ZSCAN prints it: a listpack keeps integral scores (|v| <= LLONG_MAX/2)
    as integers; otherwise Redis's d2string (%.17g)."""
    if listpack and -LLONG_HALF <= score <= LLONG_HALF and score == int(score):
        return b"%d" % int(score)
    if score == INF:
        return b"inf"
    if score == -INF:
        return b"-inf"
    return b"%.17g" % score
