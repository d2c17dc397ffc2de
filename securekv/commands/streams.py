"""Stream commands (t_stream.c): XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM,
XREAD, consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
XAUTOCLAIM), XINFO and XSETID, with Redis 7.0's replies, errors and
propagation (XREADGROUP replays as XCLAIM / XGROUP SETID / XGROUP
CREATECONSUMER, XADD with `*` or `~` as the ID / exact trim it produced).

Consumer-group bookkeeping (XREADGROUP, XACK, XCLAIM, SETID ...) does not
invalidate WATCH, exactly as Redis (which does not call signalModifiedKey
there): it counts a change (server.dirty) so the write is propagated.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from securekv.commands.table import Keyword, KeySpec, Range, command, container, subcommand
from securekv.commands.util import help_reply, notify, now_ms, parse_int, subcommand_syntax_error
from securekv.engine.blocking import NOT_READY, block
from securekv.engine.streamtype import (INVALID_ENTRIES_READ, MAX_ID, NACK, SEQ_MASK, Consumer,
                                        Group, Stream, decr_id, fmt_id, incr_id, rax_nodes)
from securekv.errors import NO_SUCH_KEY, SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import NULL_ARRAY, OK, FlatMap, Raw, _strict_int, bulk_array, encode_one

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
XREAD_BLOCKED_DEFAULT_COUNT = 1000
_SPACES = b" \t\n\x0b\x0c\r"


# -- IDs ---------------------------------------------------------------------------

def _string2ull(s: bytes):
    """Redis's string2ull: string2ll, else strtoull over the whole string."""
    v = _strict_int(s)
    if v is not None:
        return v if v >= 0 else None
    i, n = 0, len(s)
    while i < n and s[i] in _SPACES:
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == 45
        i += 1
    digits = s[i:]
    if not digits or not digits.isdigit():
        return None
    v = int(digits)
    if v > SEQ_MASK:
        return None
    return (-v) & SEQ_MASK if neg else v


def parse_id(arg: bytes, strict: bool = False, missing_seq: int = 0, partial: bool = False):
    """streamGenericParseIDOrReply: the ID as an int. With `partial` (XADD) returns
    (id, seq_given) and accepts `<ms>-*`."""
    s = bytes(arg)
    if len(s) > 127:
        raise CommandError(INVALID_ID)
    z = s.find(b"\0")
    if z >= 0:
        s = s[:z]
    if s == b"-" or s == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        v = 0 if s == b"-" else MAX_ID
        return (v, True) if partial else v
    ms_part, dash, seq_part = s.partition(b"-")
    ms = _string2ull(ms_part)
    if ms is None:
        raise CommandError(INVALID_ID)
    seq_given = True
    if dash:
        if partial and seq_part == b"*":
            seq = 0
            seq_given = False
        else:
            seq = _string2ull(seq_part)
            if seq is None:
                raise CommandError(INVALID_ID)
    else:
        seq = missing_seq
    v = ms << 64 | seq
    return (v, seq_given) if partial else v


def parse_interval_id(arg: bytes, missing_seq: int):
    """streamParseIntervalIDOrReply: (id, exclusive)."""
    if len(arg) > 1 and arg[:1] == b"(":
        return parse_id(arg[1:], True, missing_seq), True
    return parse_id(arg, False, missing_seq), False


def _range_start(arg: bytes) -> int:
    i, ex = parse_interval_id(arg, 0)
    if ex:
        i = incr_id(i)
        if i is None:
            raise CommandError("ERR invalid start ID for the interval")
    return i


def _range_end(arg: bytes) -> int:
    i, ex = parse_interval_id(arg, SEQ_MASK)
    if ex:
        i = decr_id(i)
        if i is None:
            raise CommandError("ERR invalid end ID for the interval")
    return i


# -- lookups and signals --------------------------------------------------------------

def _stream(c, key: bytes, read: bool = False):
    v = c.db.lookup_read(key) if read else c.db.lookup(key)
    if v is None or type(v) is Stream:
        return v
    raise CommandError(WRONGTYPE)


def _cfg(c, name: str, default: int) -> int:
    try:
        return c.server.config[name]
    except KeyError:
        return default


def _dirty(c, n: int = 1) -> None:
    """A change Redis propagates without signalling the key (no WATCH invalidation)."""
    c.server.dirty += n


def _signal_ready(c, key: bytes) -> None:
    """signalKeyAsReady without signalModifiedKey: wake blocked clients only."""
    db = c.db
    if db.blocking and key in db.blocking:
        c.server.ready_keys[(db, key)] = None


def _entry(i: int, flat) -> list:
    return [fmt_id(i), flat]


def _entry_reply(i: int, fields) -> Raw:
    """One entry as XRANGE/XREAD reply with it, [id, [field, value, ...]], encoded
    here (it is the same in RESP2 and RESP3): a nested list per entry costs the
    generic encoder two recursive calls per entry."""
    idb = b"%d-%d" % (i >> 64, i & SEQ_MASK)
    if len(fields) == 2:                 # one field/value pair: one format
        f, v = fields
        return Raw(b"*2\r\n$%d\r\n%s\r\n*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                   % (len(idb), idb, len(f), f, len(v), v))
    try:
        body = bulk_array(fields)
    except IndexError:                   # a field or value of 4096 bytes or more
        body = encode_one(list(fields))
    return Raw(b"*2\r\n$%d\r\n%s\r\n%s" % (len(idb), idb, body))


def _range(s: Stream, start: int, end: int, count: int, rev: bool) -> list:
    """Entries with start <= id <= end (count 0: all), as encoded [id, fields]
    replies (_entry_reply)."""
    if start > end:
        return []
    ids, vals = s.ids, s.vals
    if not ids:
        return []
    lo = 0 if start <= ids[0] else bisect_left(ids, start)
    hi = len(ids) if end >= ids[-1] else bisect_right(ids, end)      # `+`: no search
    if lo >= hi:
        return []
    if rev:
        if count and hi - lo > count:
            lo = hi - count
        return [_entry_reply(ids[k], vals[k]) for k in range(hi - 1, lo - 1, -1)]
    if count and hi - lo > count:
        hi = lo + count
    return [_entry_reply(ids[k], vals[k]) for k in range(lo, hi)]


# -- XADD / XTRIM -------------------------------------------------------------------

class TrimArgs:
    __slots__ = ("maxlen", "minid", "approx", "limit", "arg_idx", "id", "id_given",
                 "seq_given", "nomkstream")

    def __init__(self) -> None:
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.arg_idx = 0
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.nomkstream = False


_PLAIN_ADD = TrimArgs()      # XADD key * field value ...: read only, never changed


def _trim_strategy(a, argv, i: int, more: int, strategy: bool) -> int:
    """The part MAXLEN and MINID share: only one of them, then an optional `~`
    (approximate) or `=`. Returns the index just before the threshold argument."""
    if strategy:
        raise CommandError("ERR syntax error, MAXLEN and MINID options at the same "
                           "time are not compatible")
    a.approx = False
    if more >= 2 and argv[i + 1] == b"~":
        a.approx = True
        i += 1
    elif more >= 2 and argv[i + 1] == b"=":
        i += 1
    return i


def _parse_add_trim(c, argv, xadd: bool):
    """streamParseAddOrTrimArgsOrReply: (TrimArgs, index of the ID for XADD).
    XADD key * ... (no option) does not come here: it is _PLAIN_ADD."""
    a = TrimArgs()
    limit_given = False
    strategy = False
    n = len(argv)
    i = 2
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        lo = opt.lower()
        if xadd and opt == b"*":
            break
        if lo == b"maxlen" and more:
            i = _trim_strategy(a, argv, i, more, strategy)
            ml = parse_int(argv[i + 1])
            if ml < 0:
                raise CommandError("ERR The MAXLEN argument must be >= 0.")
            a.maxlen = ml
            i += 1
            strategy = True
            a.arg_idx = i
        elif lo == b"minid" and more:
            i = _trim_strategy(a, argv, i, more, strategy)
            a.minid = parse_id(argv[i + 1], True)
            i += 1
            strategy = True
            a.arg_idx = i
        elif lo == b"limit" and more:
            a.limit = parse_int(argv[i + 1])
            if a.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and lo == b"nomkstream":
            a.nomkstream = True
        elif xadd:
            a.id, a.seq_given = parse_id(opt, True, 0, partial=True)
            a.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    if a.limit and not strategy:
        raise CommandError("ERR syntax error, LIMIT cannot be used without specifying a "
                           "trimming strategy")
    if not xadd and not strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.must_obey:
        # Redis's mustObeyClient (the master link, AOF loading): the trim
        # argument was rewritten to the exact result, LIMIT does not apply.
        a.limit = 0
    elif limit_given:
        if not a.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special "
                               "~ option")
    elif a.approx:
        a.limit = 100 * _cfg(c, "stream-node-max-entries", 100)
        if a.limit <= 0 or a.limit > 1000000:
            a.limit = 10000
    else:
        a.limit = 0
    return a, i


def _do_trim(c, s: Stream, a: TrimArgs) -> int:
    deleted, delta = s.trim(a.maxlen, a.minid, a.approx, a.limit)
    if delta:
        c.db.grow(delta)
    return deleted


def _rewrite_trim(c, argv, s: Stream, a: TrimArgs) -> list:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument (for `~`)."""
    argv = list(argv)
    argv[a.arg_idx - 1] = b"="
    if a.maxlen is not None:
        argv[a.arg_idx] = b"%d" % len(s)
    else:
        argv[a.arg_idx] = fmt_id(s.first_id)
    return argv


@command('xadd', -5, 'write denyoom fast', '@stream',
         keys=[KeySpec('RW update', 1, Range(0, 1, 0),
                       notes='UPDATE instead of INSERT because of the optional trimming feature')],
         group='stream', since='5.0.0', summary='Appends a new entry to a stream',
         tips=['nondeterministic_output'])
def xadd(c, argv):
    if argv[2] == b"*":                  # the common XADD key * ...: nothing to parse
        a, idpos = _PLAIN_ADD, 2
    else:
        a, idpos = _parse_add_trim(c, argv, True)
    field_pos = idpos + 1
    nf = len(argv) - field_pos
    if nf < 2 or nf % 2 == 1:
        raise CommandError("ERR wrong number of arguments for 'xadd' command")
    if a.id_given and a.seq_given and a.id == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    key = argv[1]
    db = c.db
    s = db.lookup(key) if db.expires else db.data.get(key)     # _stream, inlined
    created = False
    if s is None:
        if a.nomkstream:
            return None
        s = Stream()
        created = True
    elif type(s) is not Stream:
        raise CommandError(WRONGTYPE)
    last = s.last_id
    if last == MAX_ID:
        raise CommandError("ERR The stream has exhausted the last possible ID, unable to add "
                           "more items")
    if a.id_given:
        if a.seq_given:
            new = a.id
        elif last >> 64 == a.id >> 64:
            if last & SEQ_MASK == SEQ_MASK:
                raise CommandError("ERR The ID specified in XADD is equal or smaller than the "
                                   "target stream top item")
            new = last + 1
        else:
            new = a.id
        if new <= last:
            raise CommandError("ERR The ID specified in XADD is equal or smaller than the "
                               "target stream top item")
    else:
        ms = now_ms()
        new = last + 1 if last >> 64 >= ms else ms << 64
    # The entry keeps the argument objects themselves (argv holds bytes: SET and
    # LPUSH store theirs as they are too); one pair, the usual entry, is summed inline.
    flat = tuple(argv[field_pos:])
    size = len(flat[0]) + len(flat[1]) if nf == 2 else sum(map(len, flat))
    if size > 0xFFFFFFFF:
        raise CommandError("ERR Elements are too large to be stored")
    if created:
        db.add(key, s)                  # the one change and the signal (no touch below)
    server = c.server
    cv = server.config.values
    max_bytes = cv.get("stream-node-max-bytes", 4096)
    if not max_bytes or max_bytes > 2 ** 30:
        max_bytes = 2 ** 30
    db.grow(s.append(new, flat, cv.get("stream-node-max-entries", 100), max_bytes, size))
    if not created:
        db.touch(key)
    if server.notify_flags:
        notify(c, "t", b"xadd", key)
    rewritten = None
    if a.maxlen is not None or a.minid is not None:
        if _do_trim(c, s, a):
            notify(c, "t", b"xtrim", key)
        if a.approx:
            rewritten = _rewrite_trim(c, argv, s, a)
    new_id = b"%d-%d" % (new >> 64, new & SEQ_MASK)          # fmt_id, inlined
    if not a.id_given or not a.seq_given:
        if rewritten is None:
            rewritten = list(argv)
        rewritten[idpos] = new_id
    if rewritten is not None:
        c.propagate_argv = [rewritten]
    return new_id


@command('xtrim', -4, 'write', '@stream', keys=[KeySpec('RW delete', 1)],
         group='stream', since='5.0.0',
         summary="Trims the stream to (approximately if '~' is passed) a certain size",
         tips=['nondeterministic_output'])
def xtrim(c, argv):
    key = argv[1]
    a, _ = _parse_add_trim(c, argv, False)     # Redis parses before the lookup
    s = _stream(c, key)
    if s is None:
        return 0
    deleted = _do_trim(c, s, a)
    if deleted:
        notify(c, "t", b"xtrim", key)
        if a.approx:
            c.propagate_argv = [_rewrite_trim(c, argv, s, a)]
        c.db.touch(key, deleted)
    return deleted


@command('xlen', 2, 'readonly fast', '@stream', keys=[KeySpec('RO', 1)],
         group='stream', since='5.0.0', summary='Return the number of entries in a stream')
def xlen(c, argv):
    s = _stream(c, argv[1], True)
    return 0 if s is None else len(s)


def _xrange(c, argv, rev: bool):
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start = _range_start(start_arg)
    end = _range_end(end_arg)
    count = -1
    n = len(argv)
    j = 4
    while j < n:
        if argv[j].lower() == b"count" and n - j - 1 >= 1:
            count = parse_int(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise CommandError(SYNTAX)
    s = _stream(c, argv[1], True)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _range(s, start, end, 0 if count == -1 else count, rev)


@command('xrange', -4, 'readonly', '@stream', keys=[KeySpec('RO access', 1)],
         group='stream', since='5.0.0',
         summary='Return a range of elements in a stream, with IDs matching the specified IDs '
                 'interval')
def xrange_(c, argv):
    return _xrange(c, argv, False)


@command('xrevrange', -4, 'readonly', '@stream', keys=[KeySpec('RO access', 1)],
         group='stream', since='5.0.0',
         summary='Return a range of elements in a stream, with IDs matching the specified IDs '
                 'interval, in reverse order (from greater to smaller IDs) compared to XRANGE')
def xrevrange(c, argv):
    return _xrange(c, argv, True)


@command('xdel', -3, 'write fast', '@stream', keys=[KeySpec('RW delete', 1)],
         group='stream', since='5.0.0',
         summary='Removes the specified entries from the stream. Returns the number of items '
                 'actually deleted, that may be different from the number of IDs passed in case '
                 'certain IDs do not exist.')
def xdel(c, argv):
    key = argv[1]
    s = _stream(c, key)
    if s is None:
        return 0
    ids = [parse_id(a, True) for a in argv[2:]]
    deleted = 0
    delta = 0
    for i in ids:
        if s.has(i):
            delta += s.delete(i)
            if i > s.max_deleted:
                s.max_deleted = i
            deleted += 1
    if deleted:
        c.db.grow(delta)
        c.db.touch(key, deleted)
        notify(c, "t", b"xdel", key)
    return deleted


@command('xsetid', -3, 'write denyoom fast', '@stream', keys=[KeySpec('RW update', 1)],
         group='stream', since='5.0.0', summary='An internal command for replicating stream values')
def xsetid(c, argv):
    new = parse_id(argv[2], True)
    entries_added = -1
    max_xdel = 0
    n = len(argv)
    i = 3
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_xdel = parse_id(argv[i + 1], True)
            if new < max_xdel:
                raise CommandError("ERR The ID specified in XSETID is smaller than the provided "
                                   "max_deleted_entry_id")
            i += 2
        else:
            raise CommandError(SYNTAX)
    key = argv[1]
    s = _stream(c, key)
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    if len(s):
        if new < s.top_id():
            raise CommandError("ERR The ID specified in XSETID is smaller than the target "
                               "stream top item")
        if entries_added != -1 and len(s) > entries_added:
            raise CommandError("ERR The entries_added specified in XSETID is smaller than the "
                               "target stream length")
    if new < s.max_deleted:
        raise CommandError("ERR The ID specified in XSETID is smaller than current "
                           "max_deleted_entry_id")
    s.last_id = new
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted = max_xdel
    c.db.touch(key)
    notify(c, "t", b"xsetid", key)
    return OK


# -- consumer groups: helpers ------------------------------------------------------------

def _create_consumer(c, g: Group, name: bytes, key: bytes) -> Consumer:
    """streamCreateConsumer (SCC_DEFAULT): counts a change and notifies."""
    cons = Consumer(name, now_ms())
    g.consumers[name] = cons
    c.db.grow(64 + len(name))
    _dirty(c)
    notify(c, "t", b"xgroup-createconsumer", key)
    return cons


def _lookup_consumer(g: Group, name: bytes, refresh: bool = True):
    cons = g.consumers.get(name)
    if cons is not None and refresh:
        cons.seen_time = now_ms()
    return cons


def _xclaim_argv(key, gname, g: Group, id_arg: bytes, nack: NACK) -> list:
    """streamPropagateXCLAIM."""
    return [b"XCLAIM", key, gname, nack.consumer.name, b"0", id_arg, b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", fmt_id(g.last_id)]


def _setid_argv(key, gname, g: Group) -> list:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, gname, fmt_id(g.last_id), b"ENTRIESREAD",
            b"%d" % g.entries_read]


def _serve_group(c, s: Stream, key: bytes, gname: bytes, g: Group, cons: Consumer,
                 start: int, count: int, noack: bool, prop: list) -> list:
    """streamReplyWithRange for a group reading new entries (`>`): deliver, update
    the group's last ID and entries_read, create NACKs; appends the propagation."""
    ids, vals = s.ids, s.vals
    k = bisect_left(ids, start)
    end = len(ids) if not count else min(len(ids), k + count)
    out = []
    now = now_ms()
    propagate_last_id = False
    pel = g.pel
    grow = 0
    for j in range(k, end):
        i = ids[j]
        if i > g.last_id:
            if g.entries_read != INVALID_ENTRIES_READ and not s.range_has_tombstones(i):
                g.entries_read += 1
            elif s.entries_added:
                g.entries_read = s.estimate_entries_read(i)
            g.last_id = i
            if noack:
                propagate_last_id = True
        out.append([fmt_id(i), vals[j]])
        if not noack:
            nack = pel.get(i)
            if nack is None:
                nack = NACK(cons, now)
                pel[i] = nack
                cons.pel[i] = nack
                grow += 120
            else:
                del nack.consumer.pel[i]
                nack.consumer = cons
                nack.delivery_time = now
                nack.delivery_count = 1
                cons.pel[i] = nack
            prop.append(_xclaim_argv(key, gname, g, fmt_id(i), nack))
    if grow:
        c.db.grow(grow)
    if propagate_last_id:
        prop.append(_setid_argv(key, gname, g))
    return out


def _serve_history(c, s: Stream, cons: Consumer, start: int, count: int) -> list:
    """streamReplyWithRangeFromConsumerPEL."""
    out = []
    now = now_ms()
    for i in cons.pel.irange(start):
        if count and len(out) >= count:
            break
        flat = s.get(i)
        if flat is None:
            out.append([fmt_id(i), NULL_ARRAY])
        else:
            nack = cons.pel[i]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([fmt_id(i), flat])
    return out


# -- XREAD / XREADGROUP -----------------------------------------------------------------

def _parse_block_ms(arg: bytes) -> int:
    v = _strict_int(arg)
    if v is None:
        raise CommandError("ERR timeout is not an integer or out of range")
    if v < 0:
        raise CommandError("ERR timeout is negative")
    if v > 0 and v + now_ms() > 2 ** 63 - 1:
        raise CommandError("ERR timeout is out of range")
    return v


def _xread(c, argv, xreadgroup: bool):
    timeout = -1
    count = 0
    streams_arg = 0
    streams_count = 0
    noack = False
    gname = cname = None
    n = len(argv)
    i = 1
    while i < n:
        more = n - i - 1
        o = argv[i].lower()
        if o == b"block" and more:
            i += 1
            timeout = _parse_block_ms(argv[i])
        elif o == b"count" and more:
            i += 1
            count = parse_int(argv[i])
            if count < 0:
                count = 0
        elif o == b"streams" and more:
            streams_arg = i + 1
            streams_count = n - streams_arg
            if streams_count % 2:
                raise CommandError("ERR Unbalanced XREAD list of streams: for each stream "
                                   "key an ID or '$' must be specified.")
            streams_count //= 2
            break
        elif o == b"group" and more >= 2:
            if not xreadgroup:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. You "
                                   "called XREAD instead.")
            gname, cname = argv[i + 1], argv[i + 2]
            i += 2
        elif o == b"noack":
            if not xreadgroup:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. You "
                                   "called XREAD instead.")
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if not streams_arg:
        raise CommandError(SYNTAX)
    if xreadgroup and gname is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    keys = argv[streams_arg:streams_arg + streams_count]
    ids: list = []
    groups: list = []
    db = c.db
    for k in range(streams_count):
        key = keys[k]
        arg = argv[streams_arg + streams_count + k]
        o = db.lookup_read(key)
        if o is not None and type(o) is not Stream:
            raise CommandError(WRONGTYPE)
        if gname is not None:
            g = o.groups.get(gname) if o is not None else None
            if g is None:
                raise CommandError("NOGROUP No such key '%s' or consumer group '%s' in "
                                   "XREADGROUP with GROUP option"
                                   % (_s(key), _s(gname)))
            groups.append(g)
        if arg == b"$":
            if xreadgroup:
                raise CommandError("ERR The $ ID is meaningless in the context of XREADGROUP: "
                                   "you want to read the history of this consumer by specifying "
                                   "a proper ID, or use the > ID to get new messages. The $ ID "
                                   "would just return an empty result set.")
            ids.append(o.last_id if o is not None else 0)
            continue
        if arg == b">":
            if not xreadgroup:
                raise CommandError("ERR The > ID can be specified only when calling XREADGROUP "
                                   "using the GROUP <group> <consumer> option.")
            ids.append(None)
            continue
        ids.append(parse_id(arg, True))
    results = []
    prop: list = []
    dirty0 = c.server.dirty
    for k in range(streams_count):
        key = keys[k]
        s = db.lookup_read(key)     # xreadCommand looks every key up twice (hits/misses)
        if s is None:
            continue
        gt = ids[k]
        history = False
        serve = False
        if groups:
            if gt is not None:
                serve = history = True
            elif len(s) and s.top_id() > groups[k].last_id:
                serve = True
                gt = groups[k].last_id
        elif len(s) and s.top_id() > gt:
            serve = True
        if not serve:
            continue
        start = incr_id(gt)
        if start is None:
            start = MAX_ID
        if groups:
            g = groups[k]
            cons = _lookup_consumer(g, cname)
            created = cons is None
            if created:
                cons = _create_consumer(c, g, cname, key)
            mark = len(prop)
            if history:
                entries = _serve_history(c, s, cons, start, count)
            else:
                entries = _serve_group(c, s, key, gname, g, cons, start, count, noack, prop)
            if created and not any(p[0] == b"XCLAIM" for p in prop[mark:]):
                prop.insert(mark, [b"XGROUP", b"CREATECONSUMER", key, gname, cname])
            _dirty(c)
        else:
            entries = _range(s, start, MAX_ID, count, False)
        results.append((key, entries))
    if groups and c.server.dirty != dirty0:
        c.propagate_argv = prop     # never the XREADGROUP itself (preventCommandPropagation)
    if results:
        return _read_reply(c, results)
    if timeout != -1:
        if c.in_exec:
            return NULL_ARRAY
        bcount = count or XREAD_BLOCKED_DEFAULT_COUNT
        retry = _make_retry(list(keys), ids, gname, cname, noack, bcount)
        return block(c, keys, timeout / 1000.0, retry, NULL_ARRAY)
    return NULL_ARRAY


def _s(b: bytes) -> str:
    return bytes(b).decode("utf-8", "surrogateescape")


def _read_reply(c, results):
    if c.resp3:
        out = FlatMap()
        for key, entries in results:
            out.append(key)
            out.append(entries)
        return out
    return [[key, entries] for key, entries in results]


def _make_retry(keys, ids, gname, cname, noack, count):
    def retry(c):
        db = c.db
        for k, key in enumerate(keys):
            s = db.lookup(key)
            if s is None or type(s) is not Stream:
                if gname is not None:
                    return CommandError("UNBLOCKED the stream key no longer exists")
                continue
            gt = ids[k]
            if gname is not None:
                g = s.groups.get(gname)
                if g is None:
                    return CommandError("NOGROUP the consumer group this client was blocked on "
                                        "no longer exists")
                gt = g.last_id
            # Redis wakes readers only on XADD-like signals and compares the
            # stream's last ID; every touch wakes here, so require an entry.
            if not (s.ids and s.ids[-1] > gt):
                continue
            start = incr_id(gt)
            if gname is not None:
                prop: list = []
                cons = _lookup_consumer(g, cname)
                created = cons is None
                if created:
                    cons = _create_consumer(c, g, cname, key)
                entries = _serve_group(c, s, key, gname, g, cons, start, count, noack, prop)
                if created and not any(p[0] == b"XCLAIM" for p in prop):
                    prop.insert(0, [b"XGROUP", b"CREATECONSUMER", key, gname, cname])
                c.propagate_argv = prop
                if not created:
                    # Redis counts only the consumer's creation here, but the
                    # serving loop propagates a served client only when dirty moved.
                    _dirty(c)
            else:
                entries = _range(s, start, MAX_ID, count, False)
            return _read_reply(c, [(key, entries)])
        return NOT_READY
    return retry


@command('xread', -4, 'readonly blocking', '@stream',
         keys=[KeySpec('RO access', Keyword('STREAMS', 1), Range(-1, 1, 2))],
         group='stream', since='5.0.0',
         summary='Return never seen elements in multiple streams, with IDs greater than the ones '
                 'reported by the caller for each stream. Can block.')
def xread(c, argv):
    return _xread(c, argv, False)


@command('xreadgroup', -7, 'write blocking', '@stream',
         keys=[KeySpec('RO access', Keyword('STREAMS', 4), Range(-1, 1, 2))],
         group='stream', since='5.0.0',
         summary='Return new entries from a stream using a consumer group, or access the history '
                 'of the pending entries for a given consumer. Can block.')
def xreadgroup(c, argv):
    return _xread(c, argv, True)


# -- XGROUP ---------------------------------------------------------------------------

container('xgroup', -2, '', '', group='stream', since='5.0.0',
          summary='A container for consumer groups commands')

XGROUP_HELP = (
    b"CREATE <key> <groupname> <id|$> [option]",
    b"    Create a new consumer group. Options are:",
    b"    * MKSTREAM",
    b"      Create the empty stream if it does not exist.",
    b"    * ENTRIESREAD entries_read",
    b"      Set the group's entries_read counter (internal use).",
    b"CREATECONSUMER <key> <groupname> <consumer>",
    b"    Create a new consumer in the specified group.",
    b"DELCONSUMER <key> <groupname> <consumer>",
    b"    Remove the specified consumer.",
    b"DESTROY <key> <groupname>",
    b"    Remove the specified group.",
    b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    b"    Set the current group ID and entries_read counter.",
)


def _xgroup_prelude(c, argv, mkstream: bool = False):
    """The common checks of xgroupCommand: (stream or None, group or None)."""
    s = _stream(c, argv[2])
    gname = argv[3]
    g = None
    if not mkstream:
        if s is None:
            raise CommandError("ERR The XGROUP subcommand requires the key to exist. Note that "
                               "for CREATE you may want to use the MKSTREAM option to create an "
                               "empty stream automatically.")
        g = s.groups.get(gname)
        sub = argv[1].lower()
        if g is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            raise CommandError("NOGROUP No such consumer group '%s' for key name '%s'"
                               % (_s(gname), _s(argv[2])))
    return s, g


@subcommand('xgroup', 'create', -5, 'write denyoom', '@stream', keys=[KeySpec('RW insert', 2)],
            since='5.0.0', summary='Create a consumer group.')
def xgroup_create(c, argv):
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    n = len(argv)
    i = 5
    while i < n:
        o = argv[i].lower()
        if o == b"mkstream":
            mkstream = True
            i += 1
        elif o == b"entriesread" and i + 1 < n:
            entries_read = parse_int(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise subcommand_syntax_error(argv)
    s, _ = _xgroup_prelude(c, argv, mkstream)
    if n > 8:
        raise subcommand_syntax_error(argv)
    key, gname = argv[2], argv[3]
    if argv[4] == b"$":
        gid = s.last_id if s is not None else 0
    else:
        gid = parse_id(argv[4], True)
    if s is None:
        s = Stream()
        c.db.add(key, s, 0)             # MKSTREAM: signalled; the one change is the group's
    if gname in s.groups:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    s.groups[gname] = Group(gid, entries_read)
    c.db.grow(200 + len(gname))
    _dirty(c)
    notify(c, "t", b"xgroup-create", key)
    return OK


@subcommand('xgroup', 'setid', -5, 'write', '@stream', keys=[KeySpec('RW update', 2)],
            since='5.0.0', summary='Set a consumer group to an arbitrary last delivered ID value.')
def xgroup_setid(c, argv):
    s, g = _xgroup_prelude(c, argv)
    n = len(argv)
    if n not in (5, 7):
        raise subcommand_syntax_error(argv)
    if argv[4] == b"$":
        gid = s.last_id
    else:
        gid = parse_id(argv[4])
    entries_read = INVALID_ENTRIES_READ
    if n == 7:
        if argv[5].lower() != b"entriesread":
            raise subcommand_syntax_error(argv)
        entries_read = parse_int(argv[6])
        if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
            raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
    g.last_id = gid
    g.entries_read = entries_read
    _dirty(c)
    notify(c, "t", b"xgroup-setid", argv[2])
    return OK


@subcommand('xgroup', 'destroy', 4, 'write', '@stream', keys=[KeySpec('RW delete', 2)],
            since='5.0.0', summary='Destroy a consumer group.')
def xgroup_destroy(c, argv):
    s, g = _xgroup_prelude(c, argv)
    if g is None:
        return 0
    del s.groups[argv[3]]
    c.db.grow(-(200 + len(argv[3]) + 120 * len(g.pel)))
    _dirty(c)
    notify(c, "t", b"xgroup-destroy", argv[2])
    _signal_ready(c, argv[2])
    return 1


@subcommand('xgroup', 'createconsumer', 5, 'write denyoom', '@stream',
            keys=[KeySpec('RW insert', 2)], since='6.2.0',
            summary='Create a consumer in a consumer group.')
def xgroup_createconsumer(c, argv):
    s, g = _xgroup_prelude(c, argv)
    if argv[4] in g.consumers:
        return 0
    _create_consumer(c, g, argv[4], argv[2])
    return 1


@subcommand('xgroup', 'delconsumer', 5, 'write', '@stream', keys=[KeySpec('RW delete', 2)],
            since='5.0.0', summary='Delete a consumer from a consumer group.')
def xgroup_delconsumer(c, argv):
    s, g = _xgroup_prelude(c, argv)
    cons = g.consumers.get(argv[4])
    if cons is None:
        return 0
    pending = len(cons.pel)
    for i in cons.pel:
        del g.pel[i]
    del g.consumers[argv[4]]
    c.db.grow(-(64 + len(argv[4]) + 120 * pending))
    _dirty(c)
    notify(c, "t", b"xgroup-delconsumer", argv[2])
    return pending


@subcommand('xgroup', 'help', 2, 'loading stale', '@stream', since='5.0.0',
            summary='Show helpful text about the different subcommands')
def xgroup_help(c, argv):
    return help_reply(argv, XGROUP_HELP)


# -- XACK / XPENDING / XCLAIM / XAUTOCLAIM ------------------------------------------------

def _nogroup(key: bytes, gname: bytes) -> CommandError:
    return CommandError("NOGROUP No such key '%s' or consumer group '%s'" % (_s(key), _s(gname)))


def _stream_group(c, key: bytes, gname: bytes, read: bool = True):
    s = _stream(c, key, read)
    g = s.groups.get(gname) if s is not None else None
    return s, g


@command('xack', -4, 'write fast', '@stream', keys=[KeySpec('RW update', 1)],
         group='stream', since='5.0.0',
         summary='Marks a pending message as correctly processed, effectively removing it from the '
                 'pending entries list of the consumer group. Return value of the command is the '
                 'number of messages successfully acknowledged, that is, the IDs we were actually '
                 'able to resolve in the PEL.')
def xack(c, argv):
    s, g = _stream_group(c, argv[1], argv[2])
    if g is None:
        return 0
    ids = [parse_id(a, True) for a in argv[3:]]
    acked = 0
    pel = g.pel
    for i in ids:
        nack = pel.pop(i, None)
        if nack is not None:
            del nack.consumer.pel[i]
            acked += 1
    if acked:
        c.db.grow(-120 * acked)
        _dirty(c, acked)
    return acked


@command('xpending', -3, 'readonly', '@stream', keys=[KeySpec('RO access', 1)],
         group='stream', since='5.0.0',
         summary='Return information and entries from a stream consumer group pending entries '
                 'list, that are messages fetched but never acknowledged.',
         tips=['nondeterministic_output'])
def xpending(c, argv):
    n = len(argv)
    justinfo = n == 3
    if n != 3 and (n < 6 or n > 9):
        raise CommandError(SYNTAX)
    minidle = 0
    count = 0
    cname = None
    if n >= 6:
        sidx = 3
        if argv[3].lower() == b"idle":
            minidle = parse_int(argv[4])
            if n < 8:
                raise CommandError(SYNTAX)
            sidx += 2
        count = parse_int(argv[sidx + 2])
        if count < 0:
            count = 0
        start = _range_start(argv[sidx])
        end = _range_end(argv[sidx + 1])
        if sidx + 3 < n:
            cname = argv[sidx + 3]
    s, g = _stream_group(c, argv[1], argv[2])
    if g is None:
        raise _nogroup(argv[1], argv[2])
    pel = g.pel
    if justinfo:
        if not pel:
            return [0, None, None, NULL_ARRAY]
        cons = [[x.name, b"%d" % len(x.pel)] for x in g.sorted_consumers() if x.pel]
        return [len(pel), fmt_id(pel.peekitem(0)[0]), fmt_id(pel.peekitem(-1)[0]), cons]
    if cname is not None:
        cons = g.consumers.get(cname)
        if cons is None:
            return []
        pel = cons.pel
    now = now_ms()
    out = []
    if count and start <= end:
        for i in pel.irange(start, end):
            nack = pel[i]
            if minidle and now - nack.delivery_time < minidle:
                continue
            out.append([fmt_id(i), nack.consumer.name, max(0, now - nack.delivery_time),
                        nack.delivery_count])
            count -= 1
            if not count:
                break
    return out


@command('xclaim', -6, 'write fast', '@stream', keys=[KeySpec('RW update', 1)],
         group='stream', since='5.0.0',
         summary='Changes (or acquires) ownership of a message in a consumer group, as if the '
                 'message was delivered to the specified consumer.',
         tips=['nondeterministic_output'])
def xclaim(c, argv):
    key, gname = argv[1], argv[2]
    s, g = _stream_group(c, key, gname)
    if g is None:
        raise _nogroup(key, gname)
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XCLAIM")
    if minidle < 0:
        minidle = 0
    n = len(argv)
    ids = []
    j = 5
    while j < n:
        try:
            ids.append((parse_id(argv[j], True), argv[j]))
        except CommandError:
            break
        j += 1
    now = now_ms()
    deliverytime = -1
    retrycount = -1
    force = justid = False
    last_id = 0
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - parse_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            deliverytime = parse_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = parse_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], True)
        else:
            raise CommandError("ERR Unrecognized XCLAIM option '%s'" % _s(argv[j]))
        j += 1
    prop: list = []
    dirty0 = c.server.dirty
    propagate_last_id = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last_id = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    cons = None
    out = []
    pel = g.pel
    for i, arg in ids:
        nack = pel.get(i)
        if not s.has(i):
            if nack is not None:
                prop.append(_xclaim_argv(key, gname, g, arg, nack))
                propagate_last_id = False
                _dirty(c)
                del pel[i]
                del nack.consumer.pel[i]
                c.db.grow(-120)
            continue
        if force and nack is None:
            nack = NACK(None, now)
            pel[i] = nack
            c.db.grow(120)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if cons is None:
            cons = _lookup_consumer(g, argv[3])
            if cons is None:
                cons = _create_consumer(c, g, argv[3], key)
        if nack.consumer is not cons and nack.consumer is not None:
            del nack.consumer.pel[i]
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not cons:
            cons.pel[i] = nack
            nack.consumer = cons
        out.append(fmt_id(i) if justid else _entry(i, s.get(i)))
        prop.append(_xclaim_argv(key, gname, g, arg, nack))
        propagate_last_id = False
        _dirty(c)
    if propagate_last_id:
        prop.append(_setid_argv(key, gname, g))
        _dirty(c)
    if c.server.dirty != dirty0:
        c.propagate_argv = prop
    return out


@command('xautoclaim', -6, 'write fast', '@stream', keys=[KeySpec('RW delete', 1)],
         group='stream', since='6.2.0',
         summary='Changes (or acquires) ownership of messages in a consumer group, as if the '
                 'messages were delivered to the specified consumer.',
         tips=['nondeterministic_output'])
def xautoclaim(c, argv):
    key, gname = argv[1], argv[2]
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    if minidle < 0:
        minidle = 0
    start = _range_start(argv[5])
    count = 100
    justid = False
    n = len(argv)
    j = 6
    max_count = (2 ** 63 - 1) // 16
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            v = _strict_int(argv[j + 1])
            if v is None or not 1 <= v <= max_count:
                raise CommandError("ERR COUNT must be > 0")
            count = v
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    s, g = _stream_group(c, key, gname)
    if g is None:
        raise _nogroup(key, gname)
    attempts = count * 10
    dirty0 = c.server.dirty
    now = now_ms()
    pel = g.pel
    keys = list(pel.irange(start))
    deleted = []
    out = []
    prop: list = []
    cons = None
    pos = 0
    nkeys = len(keys)
    while attempts and count and pos < nkeys:
        attempts -= 1
        i = keys[pos]
        pos += 1
        nack = pel[i]
        if not s.has(i):
            prop.append(_xclaim_argv(key, gname, g, fmt_id(i), nack))
            _dirty(c)
            del pel[i]
            del nack.consumer.pel[i]
            c.db.grow(-120)
            deleted.append(fmt_id(i))
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        if cons is None:
            cons = _lookup_consumer(g, argv[3])
            if cons is None:
                cons = _create_consumer(c, g, argv[3], key)
        if nack.consumer is not cons:
            del nack.consumer.pel[i]
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not cons:
            cons.pel[i] = nack
            nack.consumer = cons
        out.append(fmt_id(i) if justid else _entry(i, s.get(i)))
        count -= 1
        prop.append(_xclaim_argv(key, gname, g, fmt_id(i), nack))
        _dirty(c)
    cursor = fmt_id(keys[pos]) if pos < nkeys else b"0-0"
    if c.server.dirty != dirty0:
        c.propagate_argv = prop
    return [cursor, out, deleted]


# -- XINFO ------------------------------------------------------------------------------

container('xinfo', -2, '', '', group='stream', since='5.0.0',
          summary='A container for stream introspection commands')

XINFO_HELP = (
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
)


def _xinfo_stream(c, argv, s: Stream):
    n = len(argv)
    full = False
    count = 10
    if n > 3:
        if n not in (4, 6) or argv[3].lower() != b"full":
            raise subcommand_syntax_error(argv)
        full = True
        if n == 6:
            if argv[4].lower() != b"count":
                raise subcommand_syntax_error(argv)
            count = parse_int(argv[5])
            if count < 0:
                count = 0
    head = [
        (b"length", len(s)),
        (b"radix-tree-keys", len(s.node_first)),
        (b"radix-tree-nodes", rax_nodes(s.node_first)),
        (b"last-generated-id", fmt_id(s.last_id)),
        (b"max-deleted-entry-id", fmt_id(s.max_deleted)),
        (b"entries-added", s.entries_added),
        (b"recorded-first-entry-id", fmt_id(s.first_id)),
    ]
    out = FlatMap()
    for k, v in head:
        out.append(k)
        out.append(v)
    if not full:
        out += [b"groups", len(s.groups)]
        first = _range(s, 0, MAX_ID, 1, False)
        last = _range(s, 0, MAX_ID, 1, True)
        out += [b"first-entry", first[0] if first else None]
        out += [b"last-entry", last[0] if last else None]
        return out
    out += [b"entries", _range(s, 0, MAX_ID, count, False)]
    groups = []
    for gname, g in s.sorted_groups():
        pending = []
        for i, nack in g.pel.items():
            if count and len(pending) >= count:
                break
            pending.append([fmt_id(i), nack.consumer.name, nack.delivery_time,
                            nack.delivery_count])
        consumers = []
        for cons in g.sorted_consumers():
            cp = []
            for i, nack in cons.pel.items():
                if count and len(cp) >= count:
                    break
                cp.append([fmt_id(i), nack.delivery_time, nack.delivery_count])
            consumers.append(FlatMap([b"name", cons.name, b"seen-time", cons.seen_time,
                                      b"pel-count", len(cons.pel), b"pending", cp]))
        er = g.entries_read
        groups.append(FlatMap([b"name", gname, b"last-delivered-id", fmt_id(g.last_id),
                               b"entries-read", None if er == INVALID_ENTRIES_READ else er,
                               b"lag", s.group_lag(g), b"pel-count", len(g.pel),
                               b"pending", pending, b"consumers", consumers]))
    out += [b"groups", groups]
    return out


def _xinfo_key(c, argv) -> Stream:
    s = _stream(c, argv[2], True)
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    return s


@subcommand('xinfo', 'stream', -3, 'readonly', '@stream', keys=[KeySpec('RO access', 2)],
            since='5.0.0', summary='Get information about a stream')
def xinfo_stream(c, argv):
    return _xinfo_stream(c, argv, _xinfo_key(c, argv))


@subcommand('xinfo', 'groups', 3, 'readonly', '@stream', keys=[KeySpec('RO access', 2)],
            since='5.0.0', summary='List the consumer groups of a stream')
def xinfo_groups(c, argv):
    s = _xinfo_key(c, argv)
    out = []
    for gname, g in s.sorted_groups():
        er = g.entries_read
        out.append(FlatMap([b"name", gname, b"consumers", len(g.consumers),
                            b"pending", len(g.pel), b"last-delivered-id", fmt_id(g.last_id),
                            b"entries-read", None if er == INVALID_ENTRIES_READ else er,
                            b"lag", s.group_lag(g)]))
    return out


@subcommand('xinfo', 'consumers', 4, 'readonly', '@stream', keys=[KeySpec('RO access', 2)],
            since='5.0.0', summary='List the consumers in a consumer group',
            tips=['nondeterministic_output'])
def xinfo_consumers(c, argv):
    s = _xinfo_key(c, argv)
    g = s.groups.get(argv[3])
    if g is None:
        raise CommandError("NOGROUP No such consumer group '%s' for key name '%s'"
                           % (_s(argv[3]), _s(argv[2])))
    now = now_ms()
    return [FlatMap([b"name", cons.name, b"pending", len(cons.pel),
                     b"idle", max(0, now - cons.seen_time)])
            for cons in g.sorted_consumers()]


@subcommand('xinfo', 'help', 2, 'loading stale', '@stream', since='5.0.0',
            summary='Show helpful text about the different subcommands')
def xinfo_help(c, argv):
    return help_reply(argv, XINFO_HELP)
