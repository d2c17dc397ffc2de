"""Set commands (Redis's t_set.c). Values are engine.settype.SetValue: a Python
set of bytes with Redis's intset/hashtable encoding tracked beside it."""

from __future__ import annotations

from securekv.commands.table import KeyNum, KeySpec, Range, command
from securekv.commands.util import (check_random_draws, notify, parse_random_count,
                                    parse_scan_cursor, parse_scan_options, store_result)
from securekv.engine.settype import SetValue, new_set, scan_buckets, set_max_intset_entries
from securekv.errors import SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import RSet, _strict_int

EMPTY_SCAN = [b"0", []]


def _read_set(c, key):
    v = c.db.lookup_read(key)
    if v is None or type(v) is SetValue:
        return v
    raise CommandError(WRONGTYPE)


def _write_set(c, key):
    v = c.db.lookup(key)
    if v is None or type(v) is SetValue:
        return v
    raise CommandError(WRONGTYPE)


def _positive_long(arg: bytes, err: str = "ERR value is out of range, must be positive") -> int:
    """Redis's getPositiveLongFromObjectOrReply (a non-integer gets NOT_INTEGER)."""
    v = _strict_int(arg)
    if v is None or v < 0:
        raise CommandError(err)
    return v


def scan_matcher(argv):
    """SSCAN/ZSCAN options: (count, compiled MATCH pattern or None)."""
    count, pat, _typ = parse_scan_options(argv, 3)
    if pat is not None:
        from acl.glob import compile_glob
        pat = compile_glob(pat)
    return count, pat


# -- commands ----------------------------------------------------------------------

@command('sadd', -3, 'write denyoom fast', '@set',
         keys=[KeySpec('RW insert', 1)],
         group='set', since='1.0.0', summary='Add one or more members to a set')
def sadd(c, argv):
    key = argv[1]
    db = c.db
    s = _write_set(c, key)
    maxi = set_max_intset_entries(c.server)
    if s is None:
        s = SetValue()
        added = s.add_many(argv[2:], maxi)
        db.add(key, s, added)
    else:
        before = s.mem
        added = s.add_many(argv[2:], maxi)
        if added:
            db.grow(s.mem - before)
            db.touch(key, added)
    if added:
        notify(c, "s", b"sadd", key)
    return added


@command('srem', -3, 'write fast', '@set',
         keys=[KeySpec('RW delete', 1)],
         group='set', since='1.0.0', summary='Remove one or more members from a set')
def srem(c, argv):
    key = argv[1]
    s = _write_set(c, key)
    if s is None:
        return 0
    before = s.mem
    removed = 0
    for m in argv[2:]:
        if s.remove_one(m):
            removed += 1
            if not s:
                break
    if removed:
        after_removal(c, key, s, before, "s", b"srem", removed)
    return removed


@command('smove', 4, 'write fast', '@set',
         keys=[KeySpec('RW access delete', 1), KeySpec('RW insert', 2)],
         group='set', since='1.0.0', summary='Move a member from one set to another')
def smove(c, argv):
    src_key, dst_key, m = argv[1], argv[2], argv[3]
    db = c.db
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return 0
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise CommandError(WRONGTYPE)
    if src is dst:
        return 1 if m in src else 0
    before = src.mem
    if not src.remove_one(m):
        return 0
    after_removal(c, src_key, src, before, "s", b"srem")
    maxi = set_max_intset_entries(c.server)
    if dst is None:
        dst = SetValue()
        dst.add_one(m, maxi)
        db.add(dst_key, dst)
        notify(c, "s", b"sadd", dst_key)
    else:
        before = dst.mem
        if dst.add_one(m, maxi):
            db.grow(dst.mem - before)
            db.touch(dst_key)
            notify(c, "s", b"sadd", dst_key)
    return 1


@command('sismember', 3, 'readonly fast', '@set',
         keys=[KeySpec('RO', 1)],
         group='set', since='1.0.0', summary='Determine if a given value is a member of a set')
def sismember(c, argv):
    s = _read_set(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command('smismember', -3, 'readonly fast', '@set',
         keys=[KeySpec('RO access', 1)],
         group='set', since='6.2.0',
         summary='Returns the membership associated with the given elements for a set')
def smismember(c, argv):
    s = _read_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command('scard', 2, 'readonly fast', '@set',
         keys=[KeySpec('RO', 1)],
         group='set', since='1.0.0', summary='Get the number of members in a set')
def scard(c, argv):
    s = _read_set(c, argv[1])
    return 0 if s is None else len(s)


def after_removal(c, key, v, before: int, cls: str, event: bytes, n: int = 1) -> None:
    """After removing n elements from container v at key (its mem was `before`):
    report the memory delta, notify `event`, and delete the key when v is empty
    (with a `del` event) or signal the modification; n changes are counted."""
    db = c.db
    db.grow(v.mem - before)
    notify(c, cls, event, key)
    if not v:
        db.delete(key, n)
        notify(c, "g", b"del", key)
    else:
        db.touch(key, n)


@command('spop', -2, 'write fast', '@set',
         keys=[KeySpec('RW access delete', 1)],
         group='set', since='1.0.0',
         summary='Remove and return one or multiple random members from a set',
         tips=['nondeterministic_output'])
def spop(c, argv):
    if len(argv) == 3:
        return _spop_count(c, argv)
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    key = argv[1]
    s = _write_set(c, key)
    if s is None:
        return None
    before = s.mem
    m = s.random_member()
    s.remove_one(m)
    after_removal(c, key, s, before, "s", b"spop")
    c.propagate_argv = [[b"SREM", key, m]]
    return m


def _spop_count(c, argv):
    count = _positive_long(argv[2])
    key = argv[1]
    s = _write_set(c, key)
    if s is None or count == 0:
        return RSet()
    db = c.db
    notify(c, "s", b"spop", key)
    if count >= len(s):
        out = RSet(s.ordered())
        db.delete(key, len(out))
        notify(c, "g", b"del", key)
        c.propagate_argv = [[b"DEL", key]]
        return out
    before = s.mem
    out = RSet(s.random_sample(count))
    for m in out:
        s.remove_one(m)
    db.grow(s.mem - before)
    db.touch(key, count)
    # Redis 7.0 propagates one SREM per popped member (wrapped in MULTI/EXEC as
    # any command propagating several writes: dispatch.propagate_unit).
    c.propagate_argv = [[b"SREM", key, m] for m in out]
    return out


@command('srandmember', -2, 'readonly', '@set',
         keys=[KeySpec('RO access', 1)],
         group='set', since='1.0.0', summary='Get one or multiple random members from a set',
         tips=['nondeterministic_output'])
def srandmember(c, argv):
    if len(argv) == 3:
        v = parse_random_count(argv[2])
        s = _read_set(c, argv[1])
        if s is None or v == 0:
            return []
        if v >= len(s):
            return s.ordered()
        if v < 0:
            check_random_draws(c, -v)
        before = s.mem
        out = s.random_choices(-v) if v < 0 else s.random_sample(v)
        c.db.grow(s.mem - before)
        return out
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    s = _read_set(c, argv[1])
    if s is None:
        return None
    before = s.mem
    m = s.random_member()
    c.db.grow(s.mem - before)
    return m


# -- algebra -----------------------------------------------------------------------

def _lookup_sets(c, keys, write: bool = False):
    """The sets at keys (None for missing ones); WRONGTYPE for any other type."""
    out = []
    for k in keys:
        v = c.db.lookup(k) if write else c.db.lookup_read(k)
        if v is not None and type(v) is not SetValue:
            raise CommandError(WRONGTYPE)
        out.append(v)
    return out


def _result_order(members, maxi: int) -> list:
    """A result set's members in the order Redis replies with them (its dstset is
    an intset while it can be)."""
    if len(members) <= maxi:
        ints = [(int(m), m) for m in members if _strict_int(m) is not None]
        if len(ints) == len(members):
            ints.sort()
            return [m for _i, m in ints]
    return list(members)


def _store(c, dst: bytes, members, event: bytes) -> int:
    store_result(c, dst, new_set(members, set_max_intset_entries(c.server)) if members else None,
                 "s", event)
    return len(members)


def sinter_generic(c, keys, dst=None, card_only=False, limit=0):
    sets = _lookup_sets(c, keys, write=False)
    if any(s is None for s in sets):
        if dst is not None:
            return _store(c, dst, (), b"sinterstore")
        return 0 if card_only else RSet()
    sets.sort(key=len)
    first = sets[0]
    rest = sets[1:]
    if card_only:
        if not rest:
            n = len(first)
            return min(n, limit) if limit else n
        if not limit:
            return len(first.intersection(*rest))
        n = 0
        for m in first:
            for o in rest:
                if m not in o:
                    break
            else:
                n += 1
                if n >= limit:
                    break
        return n
    res = first.intersection(*rest) if rest else set(first)
    if dst is not None:
        return _store(c, dst, res, b"sinterstore")
    if first.intset:
        return RSet(sorted(res, key=int))
    if len(res) == len(first):
        return RSet(first)
    return RSet(m for m in first if m in res)


def sunion_diff_generic(c, keys, dst, diff: bool):
    sets = _lookup_sets(c, keys, write=False)
    if diff:
        first = sets[0]
        if first is None:
            res = set()
        else:
            others = [s for s in sets[1:] if s is not None]
            if any(s is first for s in others):
                res = set()
            else:
                res = first.difference(*others) if others else set(first)
    else:
        present = [s for s in sets if s is not None]
        res = set().union(*present) if present else set()
    maxi = set_max_intset_entries(c.server)
    if dst is not None:
        return _store(c, dst, res, b"sdiffstore" if diff else b"sunionstore")
    return RSet(_result_order(res, maxi))


@command('sinter', -2, 'readonly', '@set',
         keys=[KeySpec('RO access', 1, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Intersect multiple sets',
         tips=['nondeterministic_output_order'])
def sinter(c, argv):
    return sinter_generic(c, argv[1:])


@command('smembers', 2, 'readonly', '@set',
         keys=[KeySpec('RO access', 1)],
         group='set', since='1.0.0', summary='Get all the members in a set',
         tips=['nondeterministic_output_order'])
def smembers(c, argv):
    s = _read_set(c, argv[1])
    if s is None:
        return RSet()
    return RSet(s.ordered())


@command('sintercard', -3, 'readonly', '@set',
         keys=[KeySpec('RO access', 1, KeyNum(0, 1, 1))],
         group='set', since='7.0.0',
         summary='Intersect multiple sets and return the cardinality of the result')
def sintercard(c, argv):
    numkeys = _strict_int(argv[1])
    if numkeys is None or numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"limit" and j + 1 < n:
            j += 1
            limit = _strict_int(argv[j])
            if limit is None or limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
        else:
            raise CommandError(SYNTAX)
        j += 1
    return sinter_generic(c, argv[2:2 + numkeys], card_only=True, limit=limit)


@command('sinterstore', -3, 'write denyoom', '@set',
         keys=[KeySpec('RW update', 1), KeySpec('RO access', 2, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Intersect multiple sets and store the resulting set in a key')
def sinterstore(c, argv):
    return sinter_generic(c, argv[2:], dst=argv[1])


@command('sunion', -2, 'readonly', '@set',
         keys=[KeySpec('RO access', 1, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Add multiple sets',
         tips=['nondeterministic_output_order'])
def sunion(c, argv):
    return sunion_diff_generic(c, argv[1:], None, False)


@command('sunionstore', -3, 'write denyoom', '@set',
         keys=[KeySpec('OW update', 1), KeySpec('RO access', 2, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Add multiple sets and store the resulting set in a key')
def sunionstore(c, argv):
    return sunion_diff_generic(c, argv[2:], argv[1], False)


@command('sdiff', -2, 'readonly', '@set',
         keys=[KeySpec('RO access', 1, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Subtract multiple sets',
         tips=['nondeterministic_output_order'])
def sdiff(c, argv):
    return sunion_diff_generic(c, argv[1:], None, True)


@command('sdiffstore', -3, 'write denyoom', '@set',
         keys=[KeySpec('OW update', 1), KeySpec('RO access', 2, Range(-1, 1, 0))],
         group='set', since='1.0.0', summary='Subtract multiple sets and store the resulting set in a key')
def sdiffstore(c, argv):
    return sunion_diff_generic(c, argv[2:], argv[1], True)


@command('sscan', -3, 'readonly', '@set',
         keys=[KeySpec('RO access', 1)],
         group='set', since='2.8.0', summary='Incrementally iterate Set elements',
         tips=['nondeterministic_output'])
def sscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    s = _read_set(c, argv[1])
    if s is None:
        return EMPTY_SCAN
    count, pat = scan_matcher(argv)
    if s.intset:
        nxt, items = 0, s.ordered()
    else:
        nxt, items = scan_buckets(s, len(s), cursor, count)
    if pat is not None:
        items = [m for m in items if pat(m)]
    return [b"%d" % nxt, items]
