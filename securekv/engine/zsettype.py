"""The sorted-set value (Redis's t_zset.c object).

ZSetValue is a dict member -> score plus `sl`, a ScoreList (engine/scorelist.py)
of (score, member) pairs in Redis's order (score, then member bytewise), so ranks,
rank ranges, score ranges and lex ranges are O(log n) bisections and slices.
Range queries answer parallel (scores, members) lists. Iterating a ZSetValue
yields its members in score order (SORT relies on it); use dict.keys(self) for
the unordered fast path. Score ranges (by_score) walk the ScoreList's sublists
directly.

Encoding follows Redis 7.0: "listpack" while at most zset-max-listpack-entries
members of at most zset-max-listpack-value bytes, "skiplist" after that, for
good. A listpack stores integral scores as integers, so -0 becomes 0 and ZSCAN
prints such scores as integers; both are reproduced.
"""

from __future__ import annotations

import math
from bisect import bisect_left as _bisect_left
from bisect import bisect_right as _bisect_right

from securekv.engine.scorelist import ScoreList

# `mem`, kept in O(1) per mutation: ZSET_BASE (the ScoreList and its lists, the
# GC header) + the dict object and its table as `dict.__sizeof__` reports them
# (O(1); the table grows by powers of two, so a per-member constant cannot follow
# it) + per member its bytes object, score float and two ScoreList slots:
# MEMBER_OVERHEAD + length. Calibrated against RSS growth by
# bench/memory_calibration.py (README, Memory accounting).
ZSET_BASE = 470
MEMBER_OVERHEAD = 41 + 55   # bytes (33 + rounding); float, two list slots, growth slack (measured)
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
        self.sl = ScoreList()
        self.listpack = True
        self.mem = ZSET_BASE + _sizeof(self)

    def __iter__(self):
        return self.sl.members()

    def encoding(self) -> bytes:
        return b"listpack" if self.listpack else b"skiplist"

    def copy(self) -> "ZSetValue":
        new = ZSetValue()
        dict.update(new, self)
        new.sl = self.sl.copy()
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
        self.sl.add(score, member)
        self.mem += len(member) + MEMBER_OVERHEAD + _sizeof(self) - table

    def update(self, member: bytes, old: float, score: float) -> None:
        """Change the score of an existing member."""
        if self.listpack and score == 0.0:
            score = 0.0
        if old == score:            # Redis compares with ==: 0 -> -0 keeps 0
            return
        sl = self.sl
        sl.remove(old, member)
        sl.add(score, member)
        dict.__setitem__(self, member, score)

    def delete(self, member: bytes) -> bool:
        score = dict.pop(self, member, None)
        if score is None:
            return False
        self.sl.remove(score, member)
        self.mem -= len(member) + MEMBER_OVERHEAD
        return True

    def delete_slice(self, start: int, stop: int) -> int:
        """Remove the members of ranks [start, stop); returns how many."""
        sl = self.sl
        if start >= stop:
            return 0
        _scores, members = sl.range(start, stop)
        pop = dict.pop
        mem = 0
        for m in members:
            pop(self, m)
            mem += len(m)
        sl.delete_range(start, stop)
        self.mem -= mem + MEMBER_OVERHEAD * len(members)
        return len(members)

    # -- queries -------------------------------------------------------------

    def rank(self, member: bytes):
        score = dict.get(self, member)
        if score is None:
            return None
        return self.sl.index(score, member)

    def score_range(self, lo: float, loex: bool, hi: float, hiex: bool) -> tuple[int, int]:
        """Ranks [start, stop) of the members with lo <(=) score <(=) hi."""
        sl = self.sl
        start = sl.bisect_score(lo, loex)
        stop = len(sl) if hi == INF and not hiex else sl.bisect_score(hi, not hiex)
        if stop < start:
            stop = start
        return start, stop

    def rank_slice(self, start: int, stop: int) -> tuple[list, list]:
        """(scores, members) of ranks [start, stop)."""
        return self.sl.range(start, stop)

    def by_score(self, lo: float, loex: bool, hi: float, hiex: bool, offset: int, limit: int,
                 rev: bool) -> tuple[list, list]:
        """(scores, members) of a score range in reply order, after LIMIT offset
        count (count < 0: no limit). Walks the ScoreList's sublists from the first
        pair in range, as zslFirstInRange/zslLastInRange and a walk do: two
        bisections and slices, no positional index (ZRANGEBYSCORE's common case,
        LIMIT 0 10, costs the same on a 10-member and a 10M-member set)."""
        outs: list = []
        outm: list = []
        if offset < 0 or (loex and lo == INF) or (hiex and hi == -INF):
            return outs, outm
        # Inclusive bounds: for floats, x > lo is x >= nextafter(lo, inf).
        if loex:
            lo = _nextafter(lo, INF)
        if hiex:
            hi = _nextafter(hi, -INF)
        if lo > hi:
            return outs, outm
        sl = self.sl
        S, M, maxs = sl._s, sl._m, sl._maxs
        nl = len(maxs)
        if not nl:
            return outs, outm
        need = limit if limit >= 0 else len(self)
        skip = offset
        if not rev:
            i = _bisect_left(maxs, lo)
            if i == nl:
                return outs, outm
            j = _bisect_left(S[i], lo)
            while need > 0 and i < nl:
                s = S[i]
                ends_here = maxs[i] > hi
                if skip:
                    if skip >= len(s) - j:
                        if ends_here:
                            break
                        skip -= len(s) - j
                        i += 1
                        j = 0
                        continue
                    j += skip
                    skip = 0
                e = j + need
                if ends_here:
                    stop = _bisect_right(s, hi, j)
                    if stop < e:
                        e = stop
                outs += s[j:e]
                outm += M[i][j:e]
                if ends_here:
                    break
                need -= len(s) - j if e > len(s) else e - j
                i += 1
                j = 0
            return outs, outm
        i = _bisect_right(maxs, hi)
        if i == nl:
            i = nl - 1
            j = len(S[i])
        else:
            j = _bisect_right(S[i], hi)         # pairs [0, j) of sublist i are <= hi
        while need > 0 and i >= 0:
            s = S[i]
            ends_here = s[0] < lo
            if skip:
                if skip >= j:
                    if ends_here:
                        break
                    skip -= j
                    i -= 1
                    if i >= 0:
                        j = len(S[i])
                    continue
                j -= skip
                skip = 0
            a = j - need if j > need else 0
            if ends_here and s[a] < lo:
                a = _bisect_left(s, lo, a, j)
            part = s[a:j]
            part.reverse()
            outs += part
            part = M[i][a:j]
            part.reverse()
            outm += part
            if ends_here:
                break
            need -= j - a
            i -= 1
            if i >= 0:
                j = len(S[i])
        return outs, outm

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
    z.sl = ScoreList.from_pairs(pairs)
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
    z.sl = ScoreList.from_pairs(items)
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
