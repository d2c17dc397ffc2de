"""Hash commands (t_hash.c). Values are HashValue (engine/hashtype.py): a dict
that knows its Redis encoding (listpack while small, hashtable for good once a
limit is crossed). HINCRBYFLOAT shares INCRBYFLOAT's long double arithmetic
(commands/strings.py) and is propagated as HSET with the final value."""

from __future__ import annotations

import random

from securekv.commands.keys import _parse_cursor
from securekv.commands.strings import _ld_add, format_long_double_human, parse_long_double
from securekv.commands.table import KeySpec, command
from securekv.commands.util import (LLONG_MAX, LLONG_MIN, check_random_draws, notify, parse_int,
                                    parse_random_count)
from securekv.engine.hashtype import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE, HashValue
from securekv.errors import OVERFLOW, SYNTAX, WRONGTYPE, CommandError, wrong_arity
from securekv.net.resp import OK, _strict_int

_EMPTY_SCAN = [b"0", []]


def hash_limits(server) -> tuple[int, int]:
    """(hash-max-listpack-entries, hash-max-listpack-value)."""
    v = server.config.values
    return (v.get("hash-max-listpack-entries", DEFAULT_MAX_ENTRIES),
            v.get("hash-max-listpack-value", DEFAULT_MAX_VALUE))


def _hash_for_write(c, key: bytes):
    v = c.db.lookup(key)
    if v is None or type(v) is HashValue:
        return v
    raise CommandError(WRONGTYPE)


def _hash_for_read(c, key: bytes):
    v = c.db.lookup_read(key)
    if v is None or type(v) is HashValue:
        return v
    raise CommandError(WRONGTYPE)


def _hash_or_create(c, key: bytes):
    """hashTypeLookupWriteOrCreate: (hash, created)."""
    v = _hash_for_write(c, key)
    if v is None:
        return HashValue(), True
    return v, False


def _store(c, key: bytes, h: HashValue, created: bool, delta: int) -> None:
    if created:
        c.db.add(key, h)
    else:
        c.db.grow(delta)
        c.db.touch(key)


# -- writes --------------------------------------------------------------------------

def _hset(c, argv, name: str):
    if len(argv) % 2:
        raise wrong_arity(name)
    key = argv[1]
    db = c.db
    h = db.lookup(key)
    if h is None:
        h = HashValue()
        created = True
    elif type(h) is HashValue:
        created = False
    else:
        raise CommandError(WRONGTYPE)
    cv = c.server.config.values
    maxe = cv.get("hash-max-listpack-entries", DEFAULT_MAX_ENTRIES)
    maxv = cv.get("hash-max-listpack-value", DEFAULT_MAX_VALUE)
    n = len(h)
    nargs = len(argv)
    if nargs == 4:
        delta = h.set_field(argv[2], argv[3], maxe, maxv)
    else:
        delta = 0
        setf = h.set_field
        for i in range(2, nargs, 2):
            delta += setf(argv[i], argv[i + 1], maxe, maxv)
    pairs = (nargs - 2) // 2                # Redis counts one change per pair
    if created:
        db.add(key, h, pairs)
    else:
        db.grow(delta)
        db.touch(key, pairs)
    notify(c, "h", b"hset", key)
    return len(h) - n


@command('hset', -4, 'write denyoom fast', '@hash',
         keys=[KeySpec('RW update', 1)],
         group='hash', since='2.0.0',
         summary='Set the string value of a hash field')
def hset(c, argv):
    return _hset(c, argv, "hset")


@command('hmset', -4, 'write denyoom fast', '@hash',
         keys=[KeySpec('RW update', 1)],
         group='hash', since='2.0.0',
         summary='Set multiple hash fields to multiple values')
def hmset(c, argv):
    _hset(c, argv, "hmset")
    return OK


@command('hsetnx', 4, 'write denyoom fast', '@hash',
         keys=[KeySpec('RW insert', 1)],
         group='hash', since='2.0.0',
         summary='Set the value of a hash field, only if the field does not exist')
def hsetnx(c, argv):
    key = argv[1]
    h, created = _hash_or_create(c, key)
    if argv[2] in h:
        return 0
    maxe, maxv = hash_limits(c.server)
    _store(c, key, h, created, h.set_field(argv[2], argv[3], maxe, maxv))
    notify(c, "h", b"hset", key)
    return 1


@command('hdel', -3, 'write fast', '@hash',
         keys=[KeySpec('RW delete', 1)],
         group='hash', since='2.0.0',
         summary='Delete one or more hash fields')
def hdel(c, argv):
    key = argv[1]
    h = _hash_for_write(c, key)
    if h is None:
        return 0
    deleted = 0
    delta = 0
    for f in argv[2:]:
        if f in h:
            delta += h.del_field(f)
            deleted += 1
            if not h:
                break
    if deleted:
        db = c.db
        db.grow(delta)
        notify(c, "h", b"hdel", key)
        if h:
            db.touch(key, deleted)
        else:
            db.delete(key, deleted)
            notify(c, "g", b"del", key)
    return deleted


@command('hincrby', 4, 'write denyoom fast', '@hash',
         keys=[KeySpec('RW access update', 1)],
         group='hash', since='2.0.0',
         summary='Increment the integer value of a hash field by the given number')
def hincrby(c, argv):
    incr = parse_int(argv[3])
    key = argv[1]
    h, created = _hash_or_create(c, key)
    cur = h.get(argv[2])
    if cur is None:
        value = 0
    else:
        value = _strict_int(cur)
        if value is None:
            raise CommandError("ERR hash value is not an integer")
    value += incr
    if not LLONG_MIN <= value <= LLONG_MAX:
        raise CommandError(OVERFLOW)
    maxe, maxv = hash_limits(c.server)
    _store(c, key, h, created, h.set_field(argv[2], b"%d" % value, maxe, maxv))
    notify(c, "h", b"hincrby", key)
    return value


@command('hincrbyfloat', 4, 'write denyoom fast', '@hash',
         keys=[KeySpec('RW access update', 1)],
         group='hash', since='2.6.0',
         summary='Increment the float value of a hash field by the given amount')
def hincrbyfloat(c, argv):
    incr = parse_long_double(argv[3])
    if type(incr) is str:
        raise CommandError("ERR value is NaN or Infinity")
    key = argv[1]
    h, created = _hash_or_create(c, key)
    cur = h.get(argv[2])
    value = (0, 0) if cur is None else parse_long_double(cur, "ERR hash value is not a float")
    new = _ld_add(value, incr)
    if type(new) is str:
        raise CommandError("ERR increment would produce NaN or Infinity")
    s = format_long_double_human(new)
    maxe, maxv = hash_limits(c.server)
    _store(c, key, h, created, h.set_field(argv[2], s, maxe, maxv))
    notify(c, "h", b"hincrbyfloat", key)
    c.propagate_argv = [[b"HSET", key, argv[2], s]]
    return s


# -- reads ---------------------------------------------------------------------------

@command('hget', 3, 'readonly fast', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.0.0',
         summary='Get the value of a hash field')
def hget(c, argv):
    h = _hash_for_read(c, argv[1])
    if h is None:
        return None
    return h.get(argv[2])


@command('hmget', -3, 'readonly fast', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.0.0',
         summary='Get the values of all the given hash fields')
def hmget(c, argv):
    h = _hash_for_read(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    g = h.get
    return [g(f) for f in argv[2:]]


@command('hlen', 2, 'readonly fast', '@hash',
         keys=[KeySpec('RO', 1)],
         group='hash', since='2.0.0',
         summary='Get the number of fields in a hash')
def hlen(c, argv):
    h = _hash_for_read(c, argv[1])
    return 0 if h is None else len(h)


@command('hexists', 3, 'readonly fast', '@hash',
         keys=[KeySpec('RO', 1)],
         group='hash', since='2.0.0',
         summary='Determine if a hash field exists')
def hexists(c, argv):
    h = _hash_for_read(c, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command('hstrlen', 3, 'readonly fast', '@hash',
         keys=[KeySpec('RO', 1)],
         group='hash', since='3.2.0',
         summary='Get the length of the value of a hash field')
def hstrlen(c, argv):
    h = _hash_for_read(c, argv[1])
    if h is None:
        return 0
    v = h.get(argv[2])
    return 0 if v is None else len(v)


@command('hkeys', 2, 'readonly', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.0.0',
         summary='Get all the fields in a hash',
         tips=['nondeterministic_output_order'])
def hkeys(c, argv):
    h = _hash_for_read(c, argv[1])
    return [] if h is None else list(h)


@command('hvals', 2, 'readonly', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.0.0',
         summary='Get all the values in a hash',
         tips=['nondeterministic_output_order'])
def hvals(c, argv):
    h = _hash_for_read(c, argv[1])
    return [] if h is None else list(h.values())


@command('hgetall', 2, 'readonly', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.0.0',
         summary='Get all the fields and values in a hash',
         tips=['nondeterministic_output_order'])
def hgetall(c, argv):
    h = _hash_for_read(c, argv[1])
    if h is None:
        return {}
    return dict(h)


@command('hrandfield', -2, 'readonly', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='6.2.0',
         summary='Get one or multiple random fields from a hash',
         tips=['nondeterministic_output'])
def hrandfield(c, argv):
    n = len(argv)
    if n == 2:
        h = _hash_for_read(c, argv[1])
        if h is None:
            return None
        return random.choice(h.field_list())
    lv = parse_random_count(argv[2])
    withvalues = False
    if n == 4 and argv[3].lower() == b"withvalues":
        withvalues = True
    elif n >= 4:
        raise CommandError(SYNTAX)
    if withvalues and not -(LLONG_MAX // 2) <= lv <= LLONG_MAX // 2:
        raise CommandError("ERR value is out of range")
    h = _hash_for_read(c, argv[1])
    if h is None or lv == 0:
        return []
    resp3 = c.resp3
    if lv < 0 or lv == 1:
        # With repetitions (or a single pick): independent draws.
        check_random_draws(c, -lv)
        fields = random.choices(h.field_list(), k=abs(lv))
    elif lv >= len(h):
        fields = list(h)                  # the whole hash, in its order
    else:
        fields = random.sample(h.field_list(), lv)
    if not withvalues:
        return fields
    if resp3:
        return [[f, h[f]] for f in fields]
    out = []
    for f in fields:
        out.append(f)
        out.append(h[f])
    return out


@command('hscan', -3, 'readonly', '@hash',
         keys=[KeySpec('RO access', 1)],
         group='hash', since='2.8.0',
         summary='Incrementally iterate hash fields and associated values',
         tips=['nondeterministic_output'])
def hscan(c, argv):
    cursor = _parse_cursor(argv[2])
    h = _hash_for_read(c, argv[1])
    if h is None:
        return _EMPTY_SCAN
    count = 10
    pat = None
    n = len(argv)
    i = 3
    while i < n:
        opt = argv[i].lower()
        if opt == b"count" and n - i >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
            i += 2
        elif opt == b"match" and n - i >= 2:
            pat = argv[i + 1]
            if pat == b"*":
                pat = None
            i += 2
        else:
            raise CommandError(SYNTAX)
    if not h.ht:
        nxt, fields = 0, list(h)          # listpack: everything in one call, as Redis
    else:
        nxt, fields = h.scan(cursor, count)
    if pat is not None:
        from acl.glob import compile_glob
        m = compile_glob(pat).match
        fields = [f for f in fields if m(f)]
    out = []
    for f in fields:
        out.append(f)
        out.append(h[f])
    return [b"%d" % nxt, out]

