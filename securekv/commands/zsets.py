"""Sorted-set commands (Redis's t_zset.c). Values are engine.zsettype.ZSetValue
(dict member -> score plus a ScoreList of (score, member) pairs), so every rank,
score and lex range is a bisection plus a slice. Ranges travel as parallel
(scores, members) lists up to the reply."""

from __future__ import annotations

import math
import random

from securekv.commands.popping import blocking_pop, first_existing, parse_mpop
from securekv.commands.sets import EMPTY_SCAN, after_removal, scan_matcher
from securekv.commands.table import KeyNum, KeySpec, Range, command
from securekv.commands.util import (check_random_draws, notify, parse_float, parse_random_count,
                                    parse_scan_cursor, store_result)
from securekv.engine.blocking import parse_timeout
from securekv.engine.settype import SetValue, scan_buckets
from securekv.engine.zsettype import (ZSetValue, score_to_scan_bytes, zset_from_pairs,
                                      zset_limits)
from securekv.errors import NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import NULL_ARRAY, _strict_int

NAN_ERR = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
INF = math.inf
_WS = b" \t\n\v\f\r"


# -- lookups and parsing ------------------------------------------------------------

def read_zset(c, key):
    v = c.db.lookup_read(key)
    if v is None or type(v) is ZSetValue:
        return v
    raise CommandError(WRONGTYPE)


def write_zset(c, key):
    v = c.db.lookup(key)
    if v is None or type(v) is ZSetValue:
        return v
    raise CommandError(WRONGTYPE)


def _long(arg: bytes) -> int:
    v = _strict_int(arg)
    if v is None:
        raise CommandError(NOT_INTEGER)
    return v


def strtod_full(s: bytes):
    """C strtod over the whole string (leading blanks allowed, hex accepted, ERANGE
    ignored), as zslParseRange uses it: the value, or None."""
    t = bytes(s).lstrip(_WS)
    if not t:
        return None if s else 0.0
    if not t.isascii() or b"_" in t or t[-1:] in _WS:
        return None
    try:
        v = float(t)
    except ValueError:
        body = t[1:] if t[:1] in b"+-" else t
        if body[:2].lower() != b"0x":
            return None
        try:
            v = float.fromhex(t.decode())
        except (ValueError, OverflowError):
            return None
    if v != v:
        return None
    return v


_INF_BOUNDS = {b"+inf": (INF, False), b"-inf": (-INF, False), b"inf": (INF, False),
               b"(+inf": (INF, True), b"(-inf": (-INF, True), b"(inf": (INF, True)}


def parse_score_bound(arg: bytes):
    """One side of a score range: (value, exclusive), or None when invalid."""
    if arg.isdigit() and len(arg) < 300:     # plain digits: float() is strtod here
        return float(arg), False
    b = _INF_BOUNDS.get(arg)
    if b is not None:
        return b
    if arg[:1] == b"(":
        v = strtod_full(arg[1:])
        return None if v is None else (v, True)
    v = strtod_full(arg)
    return None if v is None else (v, False)


def parse_score_range(lo: bytes, hi: bytes):
    a = parse_score_bound(lo)
    b = parse_score_bound(hi)
    if a is None or b is None:
        raise CommandError(NOT_FLOAT_RANGE)
    return a[0], a[1], b[0], b[1]


MINUS, PLUS = 0, 2


def parse_lex_bound(arg: bytes):
    """Redis's zslParseLexRangeItem: MINUS, PLUS or (value, exclusive); None if invalid."""
    c0 = arg[:1]
    if c0 == b"+" or c0 == b"-":
        if len(arg) > 1 and arg[1] != 0:
            return None
        return PLUS if c0 == b"+" else MINUS
    if c0 == b"(":
        return (bytes(arg[1:]), True)
    if c0 == b"[":
        return (bytes(arg[1:]), False)
    return None


def parse_lex_range(lo: bytes, hi: bytes):
    a = parse_lex_bound(lo)
    b = parse_lex_bound(hi)
    if a is None or b is None:
        raise CommandError(NOT_LEX_RANGE)
    return a, b


def lex_indices(z: ZSetValue, lo, hi) -> tuple[int, int]:
    """Ranks [start, stop) of a lex range, forward (ZLEXCOUNT, ZREMRANGEBYLEX,
    ZRANGEBYLEX)."""
    n = len(z)
    if lo == PLUS or hi == MINUS:
        return 0, 0
    if _lex_walk(z):
        i = _lex_walk_start(z, lo, hi, False)
        if i is None:
            return 0, 0
        sl, k = z.sl, i
        while k < n and _lte_max(sl[k][1], hi):
            k += 1
        return i, k
    start, stop = z.lex_range(None if lo == MINUS else lo, None if hi == PLUS else hi)
    if start > n:
        start = n
    return start, max(start, stop)


# Lex ranges assume every member has the same score (Redis's documented use); a
# bisection answers them. With different scores the answer depends on how Redis
# walks: a listpack (small zset) is walked element by element from one end, which
# is reproduced below exactly (zzlIsInLexRange, zzlFirstInLexRange,
# zzlLastInLexRange and the walks that use them); a skiplist is searched through
# its random levels, which cannot be reproduced, so the bisection stands there.

def _lex_walk(z: ZSetValue) -> bool:
    sl = z.sl
    return z.listpack and len(sl) > 1 and sl[0][0] != sl[-1][0]


def _gte_min(m: bytes, lo) -> bool:
    if lo == MINUS:
        return True
    if lo == PLUS:
        return False
    return m > lo[0] if lo[1] else m >= lo[0]


def _lte_max(m: bytes, hi) -> bool:
    if hi == PLUS:
        return True
    if hi == MINUS:
        return False
    return m < hi[0] if hi[1] else m <= hi[0]


def _lex_walk_start(z: ZSetValue, lo, hi, rev: bool):
    """zzlFirstInLexRange (zzlLastInLexRange when rev): the index the walk starts
    at, or None."""
    if type(lo) is tuple and type(hi) is tuple and (
            lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1]))):
        return None                         # a range that is always empty
    sl = z.sl
    if not _gte_min(sl[-1][1], lo) or not _lte_max(sl[0][1], hi):
        return None                         # zzlIsInLexRange: last >= min, first <= max
    if rev:
        for i in range(len(sl) - 1, -1, -1):
            if _lte_max(sl[i][1], hi):
                return i if _gte_min(sl[i][1], lo) else None
    else:
        for i in range(len(sl)):
            if _gte_min(sl[i][1], lo):
                return i if _lte_max(sl[i][1], hi) else None
    return None


def _lex_walk_items(z: ZSetValue, lo, hi, offset: int, limit: int, rev: bool):
    """genericZrangebylexCommand on a listpack: from the start, skip `offset`
    elements unchecked, then take up to `limit` while still inside the range.
    (scores, members)."""
    scores: list = []
    members: list = []
    if lo == PLUS or hi == MINUS or offset < 0:
        return scores, members
    i = _lex_walk_start(z, lo, hi, rev)
    if i is None:
        return scores, members
    sl, n = z.sl, len(z)
    step = -1 if rev else 1
    i += step * offset
    while 0 <= i < n and limit != 0:
        s, m = sl[i]
        if not (_gte_min(m, lo) if rev else _lte_max(m, hi)):
            break
        scores.append(s)
        members.append(m)
        i += step
        limit -= 1
    return scores, members


def rank_indices(n: int, start: int, end: int):
    """Redis's rank sanitising: [start, stop) or None when empty."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end + 1


def _limited(start: int, stop: int, offset: int, limit: int, rev: bool):
    """Apply LIMIT offset count to ranks [start, stop): (a, b) slice bounds."""
    if offset < 0:
        return start, start
    if rev:
        b = stop - offset
        a = start if limit < 0 else max(start, b - limit)
        return min(a, max(b, start)), max(b, start)
    a = start + offset
    b = stop if limit < 0 else min(stop, a + limit)
    return min(a, stop), max(min(a, stop), b)


def split_pairs(items) -> tuple[list, list]:
    """(score, member) pairs -> parallel (scores, members) lists."""
    return [p[0] for p in items], [p[1] for p in items]


def score_pairs(scores: list, members: list, nested: bool) -> list:
    """Parallel scores and members in reply order -> [[member, score], ...] when
    nested, else member, score, member, score, ... flat."""
    if nested:
        return list(map(list, zip(members, scores)))
    out = [None] * (2 * len(members))
    out[::2] = members
    out[1::2] = scores
    return out


def reply_pairs(c, items: tuple[list, list], withscores: bool):
    """items: (scores, members) in reply order -> members, or member/score pairs
    (flat in RESP2, nested in RESP3)."""
    if not withscores:
        return items[1]
    return score_pairs(items[0], items[1], c.resp3)


# -- ZADD / ZINCRBY ------------------------------------------------------------------

def zadd_generic(c, argv, incr: bool, scoreidx: int):
    nx = xx = gt = lt = ch = False
    n = len(argv)
    while scoreidx < n:
        o = argv[scoreidx].lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o == b"ch":
            ch = True
        elif o == b"incr":
            incr = True
        elif o == b"gt":
            gt = True
        elif o == b"lt":
            lt = True
        else:
            break
        scoreidx += 1
    elements = n - scoreidx
    if elements % 2 or not elements:
        raise CommandError(SYNTAX)
    elements //= 2
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    scores = [parse_float(argv[scoreidx + 2 * j]) for j in range(elements)]
    key = argv[1]
    db = c.db
    z = write_zset(c, key)
    added = updated = processed = 0
    score = None
    if z is None:
        if xx:
            return None if incr else 0
        z = ZSetValue()
        created = True
    else:
        created = False
    limits = zset_limits(c.server)
    before = z.mem
    err = None
    for j in range(elements):
        score = scores[j]
        m = argv[scoreidx + 1 + 2 * j]
        cur = dict.get(z, m)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if score != score:
                    err = NAN_ERR
                    break
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                z.update(m, cur, score)
                updated += 1
        elif not xx:
            z.insert(m, score, limits)
            added += 1
            processed += 1
    if created:
        if z:
            db.add(key, z, added)
    elif added or updated:
        db.grow(z.mem - before)
        db.touch(key, added + updated)
    if added or updated:
        notify(c, "z", b"zincr" if incr else b"zadd", key)
    if err:
        raise CommandError(err)
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command('zadd', -4, 'write denyoom fast', '@sortedset',
         keys=[KeySpec('RW update', 1)],
         group='sorted-set', since='1.2.0',
         summary='Add one or more members to a sorted set, or update its score if it already exists')
def zadd(c, argv):
    return zadd_generic(c, argv, False, 2)


@command('zincrby', 4, 'write denyoom fast', '@sortedset',
         keys=[KeySpec('RW access update', 1)],
         group='sorted-set', since='1.2.0', summary='Increment the score of a member in a sorted set')
def zincrby(c, argv):
    return zadd_generic(c, argv, True, 2)


# -- simple reads -----------------------------------------------------------------------

@command('zcard', 2, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO', 1)],
         group='sorted-set', since='1.2.0', summary='Get the number of members in a sorted set')
def zcard(c, argv):
    z = read_zset(c, argv[1])
    return 0 if z is None else len(z)


@command('zscore', 3, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='1.2.0', summary='Get the score associated with the given member in a sorted set')
def zscore(c, argv):
    z = read_zset(c, argv[1])
    if z is None:
        return None
    return dict.get(z, argv[2])


@command('zmscore', -3, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='6.2.0',
         summary='Get the score associated with the given members in a sorted set')
def zmscore(c, argv):
    z = read_zset(c, argv[1])
    if z is None:
        return [None] * (len(argv) - 2)
    get = dict.get
    return [get(z, m) for m in argv[2:]]


def _zrank(c, argv, rev: bool):
    z = read_zset(c, argv[1])
    if z is None:
        return None
    r = z.rank(argv[2])
    if r is None:
        return None
    return len(z) - 1 - r if rev else r


@command('zrank', 3, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.0.0', summary='Determine the index of a member in a sorted set')
def zrank(c, argv):
    return _zrank(c, argv, False)


@command('zrevrank', 3, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.0.0',
         summary='Determine the index of a member in a sorted set, with scores ordered from high to low')
def zrevrank(c, argv):
    return _zrank(c, argv, True)


@command('zcount', 4, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.0.0', summary='Count the members in a sorted set with scores within the given values')
def zcount(c, argv):
    lo, loex, hi, hiex = parse_score_range(argv[2], argv[3])
    z = read_zset(c, argv[1])
    if z is None:
        return 0
    a, b = z.score_range(lo, loex, hi, hiex)
    return b - a


@command('zlexcount', 4, 'readonly fast', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.8.9',
         summary='Count the number of members in a sorted set between a given lexicographical range')
def zlexcount(c, argv):
    lo, hi = parse_lex_range(argv[2], argv[3])
    z = read_zset(c, argv[1])
    if z is None:
        return 0
    a, b = lex_indices(z, lo, hi)
    return b - a


# -- ZRANGE and friends -----------------------------------------------------------------

RANK, SCORE, LEX = 0, 1, 2


def zrange_generic(c, argv, start: int, store: bytes | None, rtype, rev):
    """Redis's zrangeGenericCommand; rtype/rev None mean "from the arguments"."""
    key = argv[start]
    minidx, maxidx = start + 1, start + 2
    withscores = False
    offset, limit = 0, -1
    n = len(argv)
    j = start + 3
    while j < n:
        o = argv[j].lower()
        left = n - j - 1
        if store is None and o == b"withscores":
            withscores = True
        elif o == b"limit" and left >= 2:
            offset = _long(argv[j + 1])
            limit = _long(argv[j + 2])
            j += 2
        elif rev is None and o == b"rev":
            rev = True
        elif rtype is None and o == b"bylex":
            rtype = LEX
        elif rtype is None and o == b"byscore":
            rtype = SCORE
        else:
            raise CommandError(SYNTAX)
        j += 1
    rev = bool(rev)
    if rtype is None:
        rtype = RANK
    if limit != -1 and rtype == RANK:
        raise CommandError("ERR syntax error, LIMIT is only supported in combination "
                               "with either BYSCORE or BYLEX")
    if withscores and rtype == LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    if rev and rtype != RANK:
        minidx, maxidx = maxidx, minidx
    if rtype == RANK:
        r0 = _long(argv[minidx])
        r1 = _long(argv[maxidx])
    elif rtype == SCORE:
        srange = parse_score_range(argv[minidx], argv[maxidx])
    else:
        lrange = parse_lex_range(argv[minidx], argv[maxidx])
    z = read_zset(c, key)
    if z is None:
        return _range_store(c, store, ([], [])) if store is not None else []
    if rtype == RANK:
        r = rank_indices(len(z), r0, r1)
        if r is None:
            items = [], []
        elif rev:
            ln = len(z)
            items = z.rank_slice(ln - r[1], ln - r[0])
            items[0].reverse()
            items[1].reverse()
        else:
            items = z.rank_slice(r[0], r[1])
    elif rtype == SCORE:
        items = z.by_score(*srange, offset, limit, rev)
    elif _lex_walk(z):
        items = _lex_walk_items(z, *lrange, offset, limit, rev)
    else:
        a, b = lex_indices(z, *lrange)
        if offset > 0 and offset >= len(z):
            a = b
        a, b = _limited(a, b, offset, limit, rev)
        items = z.rank_slice(a, b)
        if rev:
            items[0].reverse()
            items[1].reverse()
    if store is not None:
        return _range_store(c, store, items, rtype == RANK)
    return reply_pairs(c, items, withscores)


def _range_store(c, dst: bytes, items: tuple[list, list], by_rank: bool = False) -> int:
    """ZRANGESTORE (zrangeResultBeginStore): the destination starts as a skiplist
    when its size is known (a rank range) and above the listpack limit, else as
    a listpack that turns into a skiplist at the first member past the limits;
    members added through the listpack had their -0 scores stored as 0."""
    scores, members = items
    limits = zset_limits(c.server)
    k = 0
    if not (by_rank and len(members) > limits[0]):
        for m in members:
            if k >= limits[0] or len(m) > limits[1]:
                break
            k += 1
    if 0 < k < len(members):
        scores = [s if s else 0.0 for s in scores[:k]] + scores[k:]
    store_result(c, dst, zset_from_pairs(list(zip(members, scores)), limits)
                 if members else None, "z", b"zrangestore")
    return len(members)


@command('zrange', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='1.2.0', summary='Return a range of members in a sorted set')
def zrange(c, argv):
    if len(argv) == 4:      # ZRANGE key start stop: a rank range, no options
        r0 = _strict_int(argv[2])
        r1 = _strict_int(argv[3])
        if r0 is not None and r1 is not None:
            z = read_zset(c, argv[1])
            if z is None:
                return []
            r = rank_indices(len(z), r0, r1)
            return [] if r is None else z.sl.range(r[0], r[1])[1]
    return zrange_generic(c, argv, 1, None, None, None)


@command('zrangestore', -5, 'write denyoom', '@sortedset',
         keys=[KeySpec('OW update', 1), KeySpec('RO access', 2)],
         group='sorted-set', since='6.2.0', summary='Store a range of members from sorted set into another key')
def zrangestore(c, argv):
    return zrange_generic(c, argv, 2, argv[1], None, None)


@command('zrevrange', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='1.2.0',
         summary='Return a range of members in a sorted set, by index, with scores ordered from high to low')
def zrevrange(c, argv):
    return zrange_generic(c, argv, 1, None, RANK, True)


@command('zrangebyscore', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='1.0.5', summary='Return a range of members in a sorted set, by score')
def zrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, None, SCORE, False)


@command('zrevrangebyscore', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.2.0',
         summary='Return a range of members in a sorted set, by score, with scores ordered from high to low')
def zrevrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, None, SCORE, True)


@command('zrangebylex', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.8.9',
         summary='Return a range of members in a sorted set, by lexicographical range')
def zrangebylex(c, argv):
    return zrange_generic(c, argv, 1, None, LEX, False)


@command('zrevrangebylex', -4, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.8.9',
         summary='Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.')
def zrevrangebylex(c, argv):
    return zrange_generic(c, argv, 1, None, LEX, True)


# -- removal ----------------------------------------------------------------------------

def _after_removal(c, key, z, before: int, event: bytes, n: int) -> None:
    after_removal(c, key, z, before, "z", event, n)


@command('zrem', -3, 'write fast', '@sortedset',
         keys=[KeySpec('RW delete', 1)],
         group='sorted-set', since='1.2.0', summary='Remove one or more members from a sorted set')
def zrem(c, argv):
    key = argv[1]
    z = write_zset(c, key)
    if z is None:
        return 0
    before = z.mem
    deleted = 0
    for m in argv[2:]:
        if z.delete(m):
            deleted += 1
            if not z:
                break
    if deleted:
        _after_removal(c, key, z, before, b"zrem", deleted)
    return deleted


def _zremrange(c, argv, rtype):
    key = argv[1]
    if rtype == RANK:
        r0, r1 = _long(argv[2]), _long(argv[3])
    elif rtype == SCORE:
        srange = parse_score_range(argv[2], argv[3])
    else:
        lrange = parse_lex_range(argv[2], argv[3])
    z = write_zset(c, key)
    if z is None:
        return 0
    if rtype == RANK:
        r = rank_indices(len(z), r0, r1)
        if r is None:
            return 0
        a, b = r
    elif rtype == SCORE:
        a, b = z.score_range(*srange)
    else:
        a, b = lex_indices(z, *lrange)
    before = z.mem
    n = z.delete_slice(a, b)
    if n:
        _after_removal(c, key, z, before, (b"zremrangebyrank", b"zremrangebyscore",
                                           b"zremrangebylex")[rtype], n)
    return n


@command('zremrangebyrank', 4, 'write', '@sortedset',
         keys=[KeySpec('RW delete', 1)],
         group='sorted-set', since='2.0.0', summary='Remove all members in a sorted set within the given indexes')
def zremrangebyrank(c, argv):
    return _zremrange(c, argv, RANK)


@command('zremrangebyscore', 4, 'write', '@sortedset',
         keys=[KeySpec('RW delete', 1)],
         group='sorted-set', since='1.2.0', summary='Remove all members in a sorted set within the given scores')
def zremrangebyscore(c, argv):
    return _zremrange(c, argv, SCORE)


@command('zremrangebylex', 4, 'write', '@sortedset',
         keys=[KeySpec('RW delete', 1)],
         group='sorted-set', since='2.8.9',
         summary='Remove all members in a sorted set between the given lexicographical range')
def zremrangebylex(c, argv):
    return _zremrange(c, argv, LEX)


# -- popping ----------------------------------------------------------------------------

MIN, MAX = 0, 1


def zpop_generic(c, keys, where: int, emitkey: bool, count: int, nested: bool,
                 nil_when_empty: bool):
    """Redis's genericZpopCommand. count -1: a single pop without COUNT."""
    key, z = first_existing(c, keys, ZSetValue)
    if z is None:
        return NULL_ARRAY if nil_when_empty else []
    if count == 0:
        return []
    if count == -1:
        count = 1
    n = len(z)
    k = min(count, n)
    before = z.mem
    if where == MIN:
        scores, members = z.sl.range(0, k)
        z.delete_slice(0, k)
    else:
        scores, members = z.sl.range(n - k, n)
        scores.reverse()
        members.reverse()
        z.delete_slice(n - k, n)
    _after_removal(c, key, z, before, b"zpopmin" if where == MIN else b"zpopmax", k)
    pairs = score_pairs(scores, members, nested)
    if not emitkey:
        return pairs
    return [key, pairs] if nested else [key, *pairs]


def _zpop_cmd(c, argv, where):
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = -1
    if len(argv) == 3:
        count = _strict_int(argv[2])
        if count is None or count < 0:
            raise CommandError("ERR value is out of range, must be positive")
    return zpop_generic(c, argv[1:2], where, False, count, c.resp3 and count != -1, False)


@command('zpopmin', -2, 'write fast', '@sortedset',
         keys=[KeySpec('RW access delete', 1)],
         group='sorted-set', since='5.0.0',
         summary='Remove and return members with the lowest scores in a sorted set')
def zpopmin(c, argv):
    return _zpop_cmd(c, argv, MIN)


@command('zpopmax', -2, 'write fast', '@sortedset',
         keys=[KeySpec('RW access delete', 1)],
         group='sorted-set', since='5.0.0',
         summary='Remove and return members with the highest scores in a sorted set')
def zpopmax(c, argv):
    return _zpop_cmd(c, argv, MAX)


def _where(arg: bytes) -> int:
    w = arg.lower()
    if w == b"min":
        return MIN
    if w == b"max":
        return MAX
    raise CommandError(SYNTAX)


def _zmpop_args(argv, numkeys_idx: int):
    return parse_mpop(argv, numkeys_idx, _where)


def _propagate_pop(c, key, where, count):
    name = b"ZPOPMIN" if where == MIN else b"ZPOPMAX"
    c.propagate_argv = [[name, key]] if count == -1 else [[name, key, b"%d" % count]]


@command('zmpop', -4, 'write', '@sortedset',
         keys=[KeySpec('RW access delete', 1, KeyNum(0, 1, 1))],
         group='sorted-set', since='7.0.0',
         summary='Remove and return members with scores in a sorted set')
def zmpop(c, argv):
    keys, where, count = _zmpop_args(argv, 1)
    r = zpop_generic(c, keys, where, True, count, True, True)
    if r is not NULL_ARRAY:
        _propagate_pop(c, r[0], where, len(r[1]))
    return r


def _blocking_pop(c, keys, where, count, timeout_arg, nested):
    timeout = parse_timeout(timeout_arg)

    def serve(cl, key, z):
        n = len(z)
        r = zpop_generic(cl, [key], where, True, count, nested, True)
        _propagate_pop(cl, key, where, count if count == -1 else min(count, n))
        return r
    return blocking_pop(c, keys, timeout, ZSetValue, serve)


@command('bzpopmin', -3, 'write noscript blocking fast', '@sortedset',
         keys=[KeySpec('RW access delete', 1, Range(-2, 1, 0))],
         group='sorted-set', since='5.0.0',
         summary='Remove and return the member with the lowest score from one or more sorted sets, or block until one is available')
def bzpopmin(c, argv):
    return _blocking_pop(c, argv[1:-1], MIN, -1, argv[-1], False)


@command('bzpopmax', -3, 'write noscript blocking fast', '@sortedset',
         keys=[KeySpec('RW access delete', 1, Range(-2, 1, 0))],
         group='sorted-set', since='5.0.0',
         summary='Remove and return the member with the highest score from one or more sorted sets, or block until one is available')
def bzpopmax(c, argv):
    return _blocking_pop(c, argv[1:-1], MAX, -1, argv[-1], False)


@command('bzmpop', -5, 'write blocking', '@sortedset',
         keys=[KeySpec('RW access delete', 2, KeyNum(0, 1, 1))],
         group='sorted-set', since='7.0.0',
         summary='Remove and return members with scores in a sorted set or block until one is available')
def bzmpop(c, argv):
    keys, where, count = _zmpop_args(argv, 2)
    return _blocking_pop(c, keys, where, count, argv[1], True)


# -- ZRANDMEMBER ------------------------------------------------------------------------

@command('zrandmember', -2, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='6.2.0', summary='Get one or multiple random elements from a sorted set',
         tips=['nondeterministic_output'])
def zrandmember(c, argv):
    n = len(argv)
    if n >= 3:
        v = parse_random_count(argv[2])
        withscores = False
        if n > 4 or (n == 4 and argv[3].lower() != b"withscores"):
            raise CommandError(SYNTAX)
        if n == 4:
            withscores = True
            if v < -((2 ** 63 - 1) // 2) or v > (2 ** 63 - 1) // 2:
                raise CommandError("ERR value is out of range")
        z = read_zset(c, argv[1])
        if z is None or v == 0:
            return []
        sl = z.sl
        size = len(sl)
        if v < 0 or v == 1:
            count = -v if v < 0 else 1
            check_random_draws(c, count)
            idx = [random.randrange(size) for _ in range(count)]
            items = [sl[i] for i in idx]
        elif v >= size:
            items = list(reversed(sl))      # Redis's zui iterator walks from the tail
        else:
            idx = sorted(random.sample(range(size), v))
            items = [sl[i] for i in idx]
        return reply_pairs(c, split_pairs(items), withscores)
    z = read_zset(c, argv[1])
    if z is None:
        return None
    return z.sl[random.randrange(len(z))][1]


# -- ZUNION / ZINTER / ZDIFF ----------------------------------------------------------------

UNION, INTER, DIFF = 0, 1, 2
_AGG = {b"sum": 0, b"min": 1, b"max": 2}


def _source_items(v):
    """(member -> score) view of a zset or set input."""
    if type(v) is ZSetValue:
        return v
    return dict.fromkeys(v, 1.0)


def zsetop_generic(c, argv, numkeys_idx: int, dst, op: int, card_only: bool = False):
    name = c.cur_cmd.name if c.cur_cmd is not None else argv[0].decode().lower()
    setnum = _long(argv[numkeys_idx])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    n = len(argv)
    if setnum > n - (numkeys_idx + 1):
        raise CommandError(SYNTAX)
    db = c.db
    srcs = []
    j = numkeys_idx + 1
    for i in range(setnum):
        v = db.lookup_read(argv[j])     # lookupKeyRead, STORE or not (Redis 7.0)
        if v is not None and type(v) is not ZSetValue and type(v) is not SetValue:
            raise CommandError(WRONGTYPE)
        srcs.append(v)
        j += 1
    weights = [1.0] * setnum
    agg = 0
    withscores = False
    limit = 0
    while j < n:
        rem = n - j
        o = argv[j].lower()
        if op != DIFF and not card_only and rem >= setnum + 1 and o == b"weights":
            j += 1
            for i in range(setnum):
                weights[i] = parse_float(argv[j], "ERR weight value is not a float")
                j += 1
        elif op != DIFF and not card_only and rem >= 2 and o == b"aggregate":
            a = _AGG.get(argv[j + 1].lower())
            if a is None:
                raise CommandError(SYNTAX)
            agg = a
            j += 2
        elif rem >= 1 and dst is None and not card_only and o == b"withscores":
            withscores = True
            j += 1
        elif card_only and rem >= 2 and o == b"limit":
            limit = _strict_int(argv[j + 1])
            if limit is None or limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            j += 2
        else:
            raise CommandError(SYNTAX)
    result: dict = {}
    if op == INTER:
        pairs = sorted(zip(srcs, weights), key=lambda p: 0 if p[0] is None else len(p[0]))
        if pairs[0][0] is not None and len(pairs[0][0]):
            first, w0 = pairs[0]
            rest = [(_source_items(s), w) for s, w in pairs[1:]]
            card = 0
            for m, sc in _source_items(first).items():
                score = w0 * sc
                if score != score:
                    score = 0.0
                for d, w in rest:
                    val = d.get(m)
                    if val is None:
                        break
                    score = _aggregate(score, val * w, agg)
                else:
                    if card_only:
                        card += 1
                        if limit and card >= limit:
                            break
                    else:
                        result[m] = score
            if card_only:
                return card
        elif card_only:
            return 0
    elif op == UNION:
        for s, w in zip(srcs, weights):
            if s is None:
                continue
            for m, sc in _source_items(s).items():
                score = w * sc
                if score != score:
                    score = 0.0
                cur = result.get(m)
                result[m] = score if cur is None else _aggregate(cur, score, agg)
    else:
        first = srcs[0]
        if first is not None:
            others = [_source_items(s) for s in srcs[1:] if s is not None]
            for m, sc in _source_items(first).items():
                for d in others:
                    if m in d:
                        break
                else:
                    result[m] = sc
    if dst is not None:
        store_result(c, dst, zset_from_pairs(list(result.items()), zset_limits(c.server))
                     if result else None, "z", (b"zunionstore", b"zinterstore", b"zdiffstore")[op])
        return len(result)
    items = sorted((s, m) for m, s in result.items())
    return reply_pairs(c, split_pairs(items), withscores)


def _aggregate(a: float, b: float, agg: int) -> float:
    if agg == 0:
        r = a + b
        return 0.0 if r != r else r
    if agg == 1:
        return b if b < a else a
    return b if b > a else a


_SETOP_KEYS = [KeySpec('RO access', 1, KeyNum(0, 1, 1))]
_STORE_KEYS = [KeySpec('OW update', 1), KeySpec('RO access', 2, KeyNum(0, 1, 1))]


@command('zunion', -3, 'readonly', '@sortedset', keys=_SETOP_KEYS,
         group='sorted-set', since='6.2.0', summary='Add multiple sorted sets')
def zunion(c, argv):
    return zsetop_generic(c, argv, 1, None, UNION)


@command('zinter', -3, 'readonly', '@sortedset', keys=_SETOP_KEYS,
         group='sorted-set', since='6.2.0', summary='Intersect multiple sorted sets')
def zinter(c, argv):
    return zsetop_generic(c, argv, 1, None, INTER)


@command('zdiff', -3, 'readonly', '@sortedset', keys=_SETOP_KEYS,
         group='sorted-set', since='6.2.0', summary='Subtract multiple sorted sets')
def zdiff(c, argv):
    return zsetop_generic(c, argv, 1, None, DIFF)


@command('zintercard', -3, 'readonly', '@sortedset', keys=_SETOP_KEYS,
         group='sorted-set', since='7.0.0',
         summary='Intersect multiple sorted sets and return the cardinality of the result')
def zintercard(c, argv):
    return zsetop_generic(c, argv, 1, None, INTER, card_only=True)


@command('zunionstore', -4, 'write denyoom', '@sortedset', keys=_STORE_KEYS,
         group='sorted-set', since='2.0.0', summary='Add multiple sorted sets and store the resulting sorted set in a new key')
def zunionstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], UNION)


@command('zinterstore', -4, 'write denyoom', '@sortedset', keys=_STORE_KEYS,
         group='sorted-set', since='2.0.0', summary='Intersect multiple sorted sets and store the resulting sorted set in a new key')
def zinterstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], INTER)


@command('zdiffstore', -4, 'write denyoom', '@sortedset', keys=_STORE_KEYS,
         group='sorted-set', since='6.2.0', summary='Subtract multiple sorted sets and store the resulting sorted set in a new key')
def zdiffstore(c, argv):
    return zsetop_generic(c, argv, 2, argv[1], DIFF)


# -- ZSCAN ------------------------------------------------------------------------------

@command('zscan', -3, 'readonly', '@sortedset',
         keys=[KeySpec('RO access', 1)],
         group='sorted-set', since='2.8.0', summary='Incrementally iterate sorted sets elements and associated scores',
         tips=['nondeterministic_output'])
def zscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    z = read_zset(c, argv[1])
    if z is None:
        return EMPTY_SCAN
    count, pat = scan_matcher(argv)
    lp = z.listpack
    if lp:
        nxt = 0
        members = list(z.sl.members())
    else:
        nxt, members = scan_buckets(dict.keys(z), len(z), cursor, count)
    out = []
    get = dict.get
    for m in members:
        if pat is not None and not pat(m):
            continue
        out.append(m)
        out.append(score_to_scan_bytes(get(z, m), lp))
    return [b"%d" % nxt, out]
