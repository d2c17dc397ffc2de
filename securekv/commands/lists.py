"""List commands (t_list.c) and the blocking list commands (BLPOP, BRPOP,
BLMOVE, BRPOPLPUSH, BLMPOP) on engine/blocking.py.

Values are ListValue (engine/listtype.py). Every mutation reports its memory
delta with db.grow() and signals the key with db.touch() (or set/delete); an
emptied list is deleted, with a `del` notification after the command's own.
"""

from __future__ import annotations

from itertools import islice

from securekv.commands.popping import parse_mpop, serving_first
from securekv.commands.table import KeyNum, KeySpec, Range, command
from securekv.commands.util import LLONG_MAX, notify, parse_int, parse_int_range
from securekv.engine.blocking import NOT_READY, block, parse_timeout
from securekv.engine.listtype import ELEM_OVERHEAD, ListValue
from securekv.errors import (INDEX_OUT_OF_RANGE, NO_SUCH_KEY, NOT_POSITIVE, SYNTAX, WRONGTYPE,
                             CommandError, wrong_arity)
from securekv.net.resp import NULL_ARRAY, OK


def _list_for_write(c, key: bytes):
    """lookupKeyWrite + checkType(OBJ_LIST): the ListValue or None."""
    v = c.db.lookup(key)
    if v is None or type(v) is ListValue:
        return v
    raise CommandError(WRONGTYPE)


def _list_for_read(c, key: bytes):
    v = c.db.lookup_read(key)
    if v is None or type(v) is ListValue:
        return v
    raise CommandError(WRONGTYPE)


def _side(arg: bytes) -> bool:
    """getListPositionFromObjectOrReply: True for LEFT (head), False for RIGHT."""
    a = arg.lower()
    if a == b"left":
        return True
    if a == b"right":
        return False
    raise CommandError(SYNTAX)


def _popped(c, key: bytes, v: ListValue, left: bool, n: int = 1) -> None:
    """Notifications and signal after n elements were popped from the list at
    key (Redis counts one change per element; LMOVE counts its one at the push)."""
    notify(c, "l", b"lpop" if left else b"rpop", key)
    if v:
        c.db.touch(key, n)
    else:
        c.db.delete(key, n)
        notify(c, "g", b"del", key)


def _pushed_to(c, key: bytes, dv, value: bytes, left: bool) -> None:
    """lmoveHandlePush: push value to the list dv at key (None: create it)."""
    db = c.db
    if dv is None:
        dv = ListValue()
        dv.push(value, left)
        db.add(key, dv)
    else:
        db.grow(dv.push(value, left))
        db.touch(key)
    notify(c, "l", b"lpush" if left else b"rpush", key)


# -- pushes ------------------------------------------------------------------------

def _push(c, argv, left: bool, xx: bool):
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    nitems = len(argv) - 2
    if v is None:
        if xx:
            return 0
        v = ListValue()
        if nitems == 1:
            v.push(argv[2], left)
        else:
            v.push_many(argv[2:], left)
        db.add(key, v, nitems)                # Redis counts one change per element
    elif type(v) is not ListValue:
        raise CommandError(WRONGTYPE)
    else:
        db.grow(v.push(argv[2], left) if nitems == 1 else v.push_many(argv[2:], left))
        db.touch(key, nitems)
    notify(c, "l", b"lpush" if left else b"rpush", key)
    return len(v)


@command('lpush', -3, 'write denyoom fast', '@list',
         keys=[KeySpec('RW insert', 1)],
         group='list', since='1.0.0',
         summary='Prepend one or multiple elements to a list')
def lpush(c, argv):
    return _push(c, argv, True, False)


@command('rpush', -3, 'write denyoom fast', '@list',
         keys=[KeySpec('RW insert', 1)],
         group='list', since='1.0.0',
         summary='Append one or multiple elements to a list')
def rpush(c, argv):
    return _push(c, argv, False, False)


@command('lpushx', -3, 'write denyoom fast', '@list',
         keys=[KeySpec('RW insert', 1)],
         group='list', since='2.2.0',
         summary='Prepend an element to a list, only if the list exists')
def lpushx(c, argv):
    return _push(c, argv, True, True)


@command('rpushx', -3, 'write denyoom fast', '@list',
         keys=[KeySpec('RW insert', 1)],
         group='list', since='2.2.0',
         summary='Append an element to a list, only if the list exists')
def rpushx(c, argv):
    return _push(c, argv, False, True)


# -- pops --------------------------------------------------------------------------

def _pop(c, argv, left: bool):
    """popGenericCommand: LPOP/RPOP key [count]."""
    n = len(argv)
    if n > 3:
        raise wrong_arity("lpop" if left else "rpop")
    key = argv[1]
    if n == 3:
        count = parse_int_range(argv[2], 0, LLONG_MAX, NOT_POSITIVE)
        v = _list_for_write(c, key)
        if v is None:
            return NULL_ARRAY
        if not count:
            return []
        m0 = v.mem
        out = v.pop_many(count, left)
        c.db.grow(v.mem - m0)
        _popped(c, key, v, left, len(out))
        return out
    v = _list_for_write(c, key)
    if v is None:
        return None
    m0 = v.mem
    out = v.pop_one(left)
    c.db.grow(v.mem - m0)
    _popped(c, key, v, left)
    return out


@command('lpop', -2, 'write fast', '@list',
         keys=[KeySpec('RW access delete', 1)],
         group='list', since='1.0.0',
         summary='Remove and get the first elements in a list')
def lpop(c, argv):
    return _pop(c, argv, True)


@command('rpop', -2, 'write fast', '@list',
         keys=[KeySpec('RW access delete', 1)],
         group='list', since='1.0.0',
         summary='Remove and get the last elements in a list')
def rpop(c, argv):
    return _pop(c, argv, False)


# -- reads -------------------------------------------------------------------------

@command('llen', 2, 'readonly fast', '@list',
         keys=[KeySpec('RO', 1)],
         group='list', since='1.0.0',
         summary='Get the length of a list')
def llen(c, argv):
    v = _list_for_read(c, argv[1])
    return 0 if v is None else len(v)


def _norm_range(start: int, end: int, n: int):
    """Redis's range normalization: (start, end) inclusive, or None when empty."""
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
    return start, end


@command('lrange', 4, 'readonly', '@list',
         keys=[KeySpec('RO access', 1)],
         group='list', since='1.0.0',
         summary='Get a range of elements from a list')
def lrange(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = _list_for_read(c, argv[1])
    if v is None:
        return []
    r = _norm_range(start, end, len(v))
    if r is None:
        return []
    return v.range(*r)


@command('lindex', 3, 'readonly', '@list',
         keys=[KeySpec('RO access', 1)],
         group='list', since='1.0.0',
         summary='Get an element from a list by its index')
def lindex(c, argv):
    v = _list_for_read(c, argv[1])
    if v is None:
        return None
    i = parse_int(argv[2])
    n = len(v)
    if i < 0:
        i += n
    if 0 <= i < n:
        return v[i]
    return None


@command('lpos', -3, 'readonly', '@list',
         keys=[KeySpec('RO access', 1)],
         group='list', since='6.0.6',
         summary='Return the index of matching elements on a list')
def lpos(c, argv):
    ele = argv[2]
    rank, count, maxlen = 1, -1, 0
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        more = n - 1 - j
        if opt == b"rank" and more:
            j += 1
            rank = parse_int(argv[j])
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, "
                    "2 from the second ... or use negative to start from the end of the list")
        elif opt == b"count" and more:
            j += 1
            count = parse_int_range(argv[j], 0, LLONG_MAX, "ERR COUNT can't be negative")
        elif opt == b"maxlen" and more:
            j += 1
            maxlen = parse_int_range(argv[j], 0, LLONG_MAX, "ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        j += 1
    reverse = rank < 0
    unbounded = False
    if reverse:
        if rank == -(2 ** 63):
            # C's -LONG_MIN overflows: every match qualifies, COUNT never stops it.
            rank, unbounded = 1, True
        else:
            rank = -rank
    v = _list_for_read(c, argv[1])
    if v is None:
        return [] if count != -1 else None
    llen = len(v)
    it = reversed(v) if reverse else iter(v)
    if maxlen:
        it = islice(it, maxlen)
    out = []
    matches = 0
    index = 0
    for x in it:
        if x == ele:
            matches += 1
            if matches >= rank:
                mi = llen - index - 1 if reverse else index
                if count == -1:
                    return mi
                out.append(mi)
                if count and not unbounded and matches - rank + 1 >= count:
                    break
        index += 1
    return out if count != -1 else None


# -- in-place edits ------------------------------------------------------------------

@command('lset', 4, 'write denyoom', '@list',
         keys=[KeySpec('RW update', 1)],
         group='list', since='1.0.0',
         summary='Set the value of an element in a list by its index')
def lset(c, argv):
    key = argv[1]
    v = _list_for_write(c, key)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    i = parse_int(argv[2])
    n = len(v)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise CommandError(INDEX_OUT_OF_RANGE)
    c.db.grow(v.set_at(i, argv[3]))
    c.db.touch(key)
    notify(c, "l", b"lset", key)
    return OK


@command('linsert', 5, 'write denyoom', '@list',
         keys=[KeySpec('RW insert', 1)],
         group='list', since='2.2.0',
         summary='Insert an element before or after another element in a list')
def linsert(c, argv):
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(SYNTAX)
    key = argv[1]
    v = _list_for_write(c, key)
    if v is None:
        return 0
    pivot = argv[3]
    if pivot not in v:
        return -1
    i = v.index(pivot)
    c.db.grow(v.insert_at(i + 1 if after else i, argv[4]))
    c.db.touch(key)
    notify(c, "l", b"linsert", key)
    return len(v)


@command('lrem', 4, 'write', '@list',
         keys=[KeySpec('RW delete', 1)],
         group='list', since='1.0.0',
         summary='Remove elements from a list')
def lrem(c, argv):
    count = parse_int(argv[2])
    key = argv[1]
    v = _list_for_write(c, key)
    if v is None:
        return 0
    ele = argv[3]
    n = len(v)
    db = c.db
    m0 = v.mem
    if count == 0:
        kept = [x for x in v if x != ele]
        removed = n - len(kept)
        if removed:
            v.replace_all(kept)
    else:
        limit = abs(count)
        found = []
        if count > 0:
            for i, x in enumerate(v):
                if x == ele:
                    found.append(i)
                    if len(found) >= limit:
                        break
        else:
            for i, x in enumerate(reversed(v)):
                if x == ele:
                    found.append(n - 1 - i)
                    if len(found) >= limit:
                        break
        removed = len(found)
        if removed:
            if removed <= 32:
                found.sort(reverse=True)
                for i in found:
                    x = v[i]
                    del v[i]
                    v.mem -= len(x)
                v.mem -= ELEM_OVERHEAD * removed
            else:
                drop = set(found)
                v.replace_all([x for i, x in enumerate(v) if i not in drop])
    if removed:
        db.grow(v.mem - m0)
        notify(c, "l", b"lrem", key)
        if v:
            db.touch(key, removed)
        else:
            db.delete(key, removed)
            notify(c, "g", b"del", key)
    return removed


@command('ltrim', 4, 'write', '@list',
         keys=[KeySpec('RW delete', 1)],
         group='list', since='1.0.0',
         summary='Trim a list to the specified range')
def ltrim(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    key = argv[1]
    v = _list_for_write(c, key)
    if v is None:
        return OK
    n = len(v)
    r = _norm_range(start, end, n)
    db = c.db
    if r is None:
        db.grow(v.trim(1, 0))
    elif r != (0, n - 1):
        db.grow(v.trim(*r))
    notify(c, "l", b"ltrim", key)
    removed = n - len(v)                # Redis: signalled even when nothing was removed
    if v:
        db.touch(key, removed)
    else:
        db.delete(key, removed)
        notify(c, "g", b"del", key)
    return OK


# -- moves ---------------------------------------------------------------------------

def _lmove(c, src: bytes, dst: bytes, from_left: bool, to_left: bool):
    """lmoveGenericCommand: the moved element, or None when src is missing."""
    sv = _list_for_write(c, src)
    if sv is None:
        return None
    dv = _list_for_write(c, dst)
    db = c.db
    m0 = sv.mem
    value = sv.pop_one(from_left)
    db.grow(sv.mem - m0)
    if dst == src:
        dv = sv
    _pushed_to(c, dst, dv, value, to_left)
    _popped(c, src, sv, from_left, 0)       # one change in all, counted by the push
    return value


@command('lmove', 5, 'write denyoom', '@list',
         keys=[KeySpec('RW access delete', 1), KeySpec('RW insert', 2)],
         group='list', since='6.2.0',
         summary='Pop an element from a list, push it to another list and return it')
def lmove(c, argv):
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    return _lmove(c, argv[1], argv[2], from_left, to_left)


@command('rpoplpush', 3, 'write denyoom', '@list',
         keys=[KeySpec('RW access delete', 1), KeySpec('RW insert', 2)],
         group='list', since='1.2.0',
         summary='Remove the last element in a list, prepend it to another list and return it')
def rpoplpush(c, argv):
    return _lmove(c, argv[1], argv[2], False, True)


def _mpop_from(c, key: bytes, v: ListValue, left: bool, count: int):
    """Pop up to count from v: [key, elements], propagated as [LR]POP key n."""
    m0 = v.mem
    out = v.pop_many(count, left)
    c.db.grow(v.mem - m0)
    _popped(c, key, v, left, len(out))
    c.propagate_argv = [[b"LPOP" if left else b"RPOP", key, b"%d" % len(out)]]
    return [key, out]


def _mpop(c, keys, left: bool, count: int):
    """mpopGenericCommand: serve from the first non-empty list, or NOT_READY."""
    for key in keys:
        v = _list_for_write(c, key)
        if v:
            return _mpop_from(c, key, v, left, count)
    return NOT_READY


@command('lmpop', -4, 'write', '@list',
         keys=[KeySpec('RW access delete', 1, KeyNum(0, 1, 1))],
         group='list', since='7.0.0',
         summary='Pop elements from a list')
def lmpop(c, argv):
    keys, left, count = parse_mpop(argv, 1, _side)
    r = _mpop(c, keys, left, count)
    return NULL_ARRAY if r is NOT_READY else r


# -- blocking ------------------------------------------------------------------------

def _bpop_now(c, keys, left: bool):
    """The non-blocking attempt of BLPOP/BRPOP: WRONGTYPE stops the scan, as Redis."""
    for key in keys:
        v = _list_for_write(c, key)
        if v:
            m0 = v.mem
            val = v.pop_one(left)
            c.db.grow(v.mem - m0)
            _popped(c, key, v, left)
            c.propagate_argv = [[b"LPOP" if left else b"RPOP", key]]
            return [key, val]
    return NOT_READY


def _bpop_retry(keys, left: bool):
    def retry(c):
        for key in serving_first(c, keys):
            v = c.db.lookup(key)
            if type(v) is ListValue and v:
                return _bpop_now(c, (key,), left)
        return NOT_READY
    return retry


def _bpop(c, argv, left: bool):
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    r = _bpop_now(c, keys, left)
    if r is not NOT_READY:
        return r
    return block(c, keys, timeout, _bpop_retry(keys, left), NULL_ARRAY)


@command('blpop', -3, 'write noscript blocking', '@list',
         keys=[KeySpec('RW access delete', 1, Range(-2, 1, 0))],
         group='list', since='2.0.0',
         summary='Remove and get the first element in a list, or block until one is available')
def blpop(c, argv):
    return _bpop(c, argv, True)


@command('brpop', -3, 'write noscript blocking', '@list',
         keys=[KeySpec('RW access delete', 1, Range(-2, 1, 0))],
         group='list', since='2.0.0',
         summary='Remove and get the last element in a list, or block until one is available')
def brpop(c, argv):
    return _bpop(c, argv, False)


def _blmove(c, src: bytes, dst: bytes, from_left: bool, to_left: bool, timeout: float,
            name: bytes, argv=None):
    """blmoveGenericCommand; served now it propagates as LMOVE with the client's
    direction arguments (rewriteClientCommandVector), served later as LMOVE with
    lowercase `left`/`right` (serveClientBlockedOnList's shared.left/right), or
    as RPOPLPUSH."""
    sv = _list_for_write(c, src)
    if sv is not None:
        r = _lmove(c, src, dst, from_left, to_left)
        if name == b"LMOVE" and argv is not None:
            c.propagate_argv = [[b"LMOVE", src, dst, argv[3], argv[4]]]
        else:
            c.propagate_argv = [_lmove_argv(name, src, dst, from_left, to_left)]
        return r

    def retry(c):
        v = c.db.lookup(src)
        if type(v) is not ListValue or not v:
            return NOT_READY
        r = _lmove(c, src, dst, from_left, to_left)     # WRONGTYPE dst: the client gets it
        if name == b"LMOVE":
            c.propagate_argv = [[b"LMOVE", src, dst, b"left" if from_left else b"right",
                                 b"left" if to_left else b"right"]]
        else:
            c.propagate_argv = [[b"RPOPLPUSH", src, dst]]
        return r
    if c.in_exec:
        return None     # never blocks in MULTI: a null bulk (a timeout replies *-1)
    return block(c, (src,), timeout, retry, NULL_ARRAY)


def _lmove_argv(name: bytes, src, dst, from_left: bool, to_left: bool):
    if name == b"RPOPLPUSH":
        return [b"RPOPLPUSH", src, dst]
    return [b"LMOVE", src, dst, b"LEFT" if from_left else b"RIGHT",
            b"LEFT" if to_left else b"RIGHT"]


@command('blmove', 6, 'write denyoom noscript blocking', '@list',
         keys=[KeySpec('RW access delete', 1), KeySpec('RW insert', 2)],
         group='list', since='6.2.0',
         summary='Pop an element from a list, push it to another list and return it; '
                 'or block until one is available')
def blmove(c, argv):
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    timeout = parse_timeout(argv[5])
    return _blmove(c, argv[1], argv[2], from_left, to_left, timeout, b"LMOVE", argv)


@command('brpoplpush', 4, 'write denyoom noscript blocking', '@list',
         keys=[KeySpec('RW access delete', 1), KeySpec('RW insert', 2)],
         group='list', since='2.2.0',
         summary='Pop an element from a list, push it to another list and return it; '
                 'or block until one is available')
def brpoplpush(c, argv):
    timeout = parse_timeout(argv[3])
    return _blmove(c, argv[1], argv[2], False, True, timeout, b"RPOPLPUSH")


@command('blmpop', -5, 'write blocking', '@list',
         keys=[KeySpec('RW access delete', 2, KeyNum(0, 1, 1))],
         group='list', since='7.0.0',
         summary='Pop elements from a list, or block until one is available')
def blmpop(c, argv):
    keys, left, count = parse_mpop(argv, 2, _side)
    timeout = parse_timeout(argv[1])
    r = _mpop(c, keys, left, count)
    if r is not NOT_READY:
        return r

    def retry(c):
        for key in serving_first(c, keys):
            v = c.db.lookup(key)
            if type(v) is ListValue and v:
                return _mpop_from(c, key, v, left, count)
        return NOT_READY
    return block(c, keys, timeout, retry, NULL_ARRAY)
