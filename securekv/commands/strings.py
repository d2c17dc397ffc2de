"""String commands (t_string.c). Values are bytes; a string grown in place by
APPEND/SETRANGE/SETBIT becomes a bytearray (Redis's "raw" encoding), which every
string command accepts. Shared bodies follow Redis's names: set_generic serves
SET, SETNX, SETEX, PSETEX and GETSET."""

from __future__ import annotations

from securekv.commands.table import KeySpec, Range, command
from securekv.commands.util import (LLONG_MAX, LLONG_MIN, lookup_string, notify, now_ms,
                                    parse_int)
from securekv.errors import NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import OK, Raw, _strict_int

# Flags of parse_extended_args (Redis's OBJ_SET_* / OBJ_EX ...).
NX, XX, GET, KEEPTTL, PERSIST, EX, PX, EXAT, PXAT = (1 << i for i in range(9))
_EXPIRES = EX | PX | EXAT | PXAT


def parse_extended_args(argv, start: int, for_set: bool):
    """Redis's parseExtendedStringArgumentsOrReply for SET (for_set) and GETEX.
    Returns (flags, expire argument or None)."""
    flags = 0
    expire = None
    n = len(argv)
    j = start
    while j < n:
        opt = argv[j].lower()
        has_next = j + 1 < n
        if opt == b"nx" and not flags & XX and for_set:
            flags |= NX
        elif opt == b"xx" and not flags & NX and for_set:
            flags |= XX
        elif opt == b"get" and for_set:
            flags |= GET
        elif opt == b"keepttl" and not flags & (PERSIST | _EXPIRES) and for_set:
            flags |= KEEPTTL
        elif opt == b"persist" and not for_set and not flags & (_EXPIRES | KEEPTTL):
            flags |= PERSIST
        elif opt == b"ex" and not flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT) and has_next:
            flags |= EX
            expire = argv[j + 1]
            j += 1
        elif opt == b"px" and not flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT) and has_next:
            flags |= PX
            expire = argv[j + 1]
            j += 1
        elif opt == b"exat" and not flags & (KEEPTTL | PERSIST | EX | PX | PXAT) and has_next:
            flags |= EXAT
            expire = argv[j + 1]
            j += 1
        elif opt == b"pxat" and not flags & (KEEPTTL | PERSIST | EX | EXAT | PX) and has_next:
            flags |= PXAT
            expire = argv[j + 1]
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    return flags, expire


def expire_ms(name: str, arg: bytes, flags: int) -> int:
    """Redis's getExpireMillisecondsOrReply: the absolute expire time in ms."""
    ms = parse_int(arg)
    if ms <= 0 or (flags & (EX | EXAT) and ms > LLONG_MAX // 1000):
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    if flags & (EX | EXAT):
        ms *= 1000
    if flags & (EX | PX):
        ms += now_ms()
    if ms <= 0 or ms > LLONG_MAX:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    return ms


def set_generic(c, name: str, key: bytes, value: bytes, flags: int, when: int | None, reply=OK,
                abort=None, argv=None):
    """Redis's setGenericCommand: `reply` when set, `abort` when NX/XX refused.
    With GET, `argv` is the SET command, replayed without its GET arguments."""
    db = c.db
    old = None
    if flags & GET:
        old = _get_generic(c, key)
        found = old is not None
    else:
        found = db.lookup(key) is not None
    if (flags & NX and found) or (flags & XX and not found):
        return old if flags & GET else abort
    db.set(key, value, keepttl=bool(flags & KEEPTTL))
    if c.server.notify_flags:
        notify(c, "$", b"set", key)
    if when is not None:
        db.set_expire(key, when)
        c.propagate_argv = [[b"SET", key, value, b"PXAT", b"%d" % when]]
        notify(c, "g", b"expire", key)
    if flags & GET:
        if when is None and argv is not None:
            c.propagate_argv = [argv[:3] + [a for a in argv[3:] if a.lower() != b"get"]]
        return old
    return reply


@command("get", 2, "readonly fast", "@string", keys=[KeySpec("RO access", 1)],
         group="string", since="1.0.0", summary="Get the value of a key")
def get(c, argv):
    # db.lookup_read, inlined: GET is the hottest command (bench/micro_dispatch.py).
    db = c.db
    key = argv[1]
    v = db.data.get(key)
    if v is not None and db.expires:
        v = db.lookup(key)
    st = db.ks.stats
    if v is None:
        st.keyspace_misses += 1
        if c.server.notify_flags:
            db.notify_miss(key)
        return None
    st.keyspace_hits += 1
    t = type(v)
    if t is bytes:
        return v
    if t is bytearray:
        return bytes(v)
    raise CommandError(WRONGTYPE)


_SET_OW = KeySpec("OW update", 1)
_SET_RW = KeySpec("RW access update", 1)


def set_getkeys(cmd, argv):
    """Redis's setGetKeys: the key only written (OW), or read too with GET (RW)."""
    for a in argv[3:]:
        if a.lower() == b"get":
            return [(1, _SET_RW)]
    return [(1, _SET_OW)]


@command("set", -3, "write denyoom", "@string",
         keys=[KeySpec("RW access update variable_flags", 1, Range(0, 1, 0),
                       notes="RW and ACCESS due to the optional `GET` argument")],
         group="string", since="1.0.0", summary="Set the string value of a key",
         getkeys=set_getkeys)
def set_(c, argv):
    if len(argv) == 3:                       # the common case: SET key value
        key = argv[1]
        db = c.db
        data = db.data
        if key in data or db.expires:
            db.set(key, argv[2])
        else:
            db.add(key, argv[2])
        if c.server.notify_flags:
            notify(c, "$", b"set", key)
        return OK
    flags, expire = parse_extended_args(argv, 3, True)
    when = expire_ms("set", expire, flags) if expire is not None else None
    return set_generic(c, "set", argv[1], argv[2], flags, when, argv=argv)


# -- shared helpers ------------------------------------------------------------

STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def check_string_length(c, size: int) -> None:
    """Redis's checkStringLength: refuse strings longer than proto-max-bulk-len
    (except while replaying the AOF)."""
    if size > c.server.proto_max_bulk_len and not c.must_obey:
        raise CommandError(STRING_TOO_LONG)


def _get_generic(c, key: bytes):
    """Redis's getGenericCommand: the value as a bulk reply (copied if raw), or None."""
    v = c.db.lookup_read(key)
    if v is None:
        return None
    t = type(v)
    if t is bytes:
        return v
    if t is bytearray:
        return bytes(v)
    raise CommandError(WRONGTYPE)




# -- SET family ----------------------------------------------------------------

@command("setnx", 3, "write denyoom fast", "@string",
         keys=[KeySpec("OW insert", 1)],
         group="string", since="1.0.0",
         summary="Set the value of a key, only if the key does not exist")
def setnx(c, argv):
    return set_generic(c, "setnx", argv[1], argv[2], NX, None, 1, 0)


@command("setex", 4, "write denyoom", "@string",
         keys=[KeySpec("OW update", 1)],
         group="string", since="2.0.0", summary="Set the value and expiration of a key")
def setex(c, argv):
    when = expire_ms("setex", argv[2], EX)
    return set_generic(c, "setex", argv[1], argv[3], EX, when)


@command("psetex", 4, "write denyoom", "@string",
         keys=[KeySpec("OW update", 1)],
         group="string", since="2.6.0",
         summary="Set the value and expiration in milliseconds of a key")
def psetex(c, argv):
    when = expire_ms("psetex", argv[2], PX)
    return set_generic(c, "psetex", argv[1], argv[3], PX, when)


@command("getset", 3, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="1.0.0",
         summary="Set the string value of a key and return its old value")
def getset(c, argv):
    key = argv[1]
    old = _get_generic(c, key)
    c.db.set(key, argv[2])
    notify(c, "$", b"set", key)
    c.propagate_argv = [[b"SET", key, argv[2]]]
    return old


@command("getdel", 2, "write fast", "@string",
         keys=[KeySpec("RW access delete", 1)],
         group="string", since="6.2.0", summary="Get the value of a key and delete the key")
def getdel(c, argv):
    key = argv[1]
    v = _get_generic(c, key)
    if v is not None and c.db.delete(key):
        c.propagate_argv = [[b"UNLINK" if c.server.config["lazyfree-lazy-user-del"] else b"DEL",
                             key]]
        notify(c, "g", b"del", key)
    return v


@command("getex", -2, "write fast", "@string",
         keys=[KeySpec("RW access update", 1, Range(0, 1, 0),
                       notes="RW and UPDATE because it changes the TTL")],
         group="string", since="6.2.0",
         summary="Get the value of a key and optionally set its expiration")
def getex(c, argv):
    flags, expire = parse_extended_args(argv, 2, False)
    key = argv[1]
    v = _get_generic(c, key)
    if v is None:
        return None
    db = c.db
    if expire is not None:
        when = expire_ms("getex", expire, flags)
        if flags & (PXAT | EXAT) and when <= now_ms() and c.server.expiring_allowed():
            db.delete(key)
            c.propagate_argv = [[b"UNLINK" if c.server.config["lazyfree-lazy-expire"] else b"DEL",
                                 key]]
            notify(c, "g", b"del", key)
        else:
            db.set_expire(key, when)
            db.touch(key)
            c.propagate_argv = [[b"PEXPIREAT", key, b"%d" % when]]
            notify(c, "g", b"expire", key)
    elif flags & PERSIST:
        if db.persist(key):
            db.touch(key)
            c.propagate_argv = [[b"PERSIST", key]]
            notify(c, "g", b"persist", key)
    return v


# -- multiple keys -------------------------------------------------------------

@command("mget", -2, "readonly fast", "@string",
         keys=[KeySpec("RO access", 1, Range(-1, 1, 0))],
         group="string", since="1.0.0", summary="Get the values of all the given keys",
         tips=["request_policy:multi_shard"])
def mget(c, argv):
    # The hot multi-key read: the reply is encoded here in one pass, and hits and
    # misses are counted once (as lookup_read would, key by key).
    db = c.db
    quiet = not c.server.notify_flags
    if quiet:
        lookup = db.lookup if db.expires else db.data.get
    else:
        lookup = db.lookup_read         # key by key: a miss's keymiss event in order
    null = b"_\r\n" if c.resp3 else b"$-1\r\n"
    n = len(argv) - 1
    out = [b"*%d\r\n" % n]
    append = out.append
    found = 0
    for key in argv[1:]:
        v = lookup(key)
        if v is None:
            append(null)
            continue
        found += 1
        t = type(v)
        if t is bytes or t is bytearray:
            append(b"$%d\r\n%s\r\n" % (len(v), v))
        else:
            append(null)
    if quiet:
        st = db.ks.stats
        st.keyspace_hits += found
        st.keyspace_misses += n - found
    return Raw(b"".join(out))


@command("mset", -3, "write denyoom", "@string",
         keys=[KeySpec("OW update", 1, Range(-1, 2, 0))],
         group="string", since="1.0.1", summary="Set multiple keys to multiple values",
         tips=["request_policy:multi_shard", "response_policy:all_succeeded"])
def mset(c, argv):
    n = len(argv)
    if not n & 1:
        raise CommandError("ERR wrong number of arguments for 'mset' command")
    if c.server.notify_flags:
        dbset = c.db.set
        for i in range(1, n, 2):
            dbset(argv[i], argv[i + 1])
            notify(c, "$", b"set", argv[i])
    else:
        c.db.set_pairs(argv, 1)
    return OK


@command("msetnx", -3, "write denyoom", "@string",
         keys=[KeySpec("OW insert", 1, Range(-1, 2, 0))],
         group="string", since="1.0.1",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         tips=["request_policy:multi_shard", "response_policy:agg_min"])
def msetnx(c, argv):
    n = len(argv)
    if not n & 1:
        raise CommandError("ERR wrong number of arguments for 'msetnx' command")
    db = c.db
    for i in range(1, n, 2):
        if db.lookup(argv[i]) is not None:
            return 0
    for i in range(1, n, 2):
        db.set(argv[i], argv[i + 1])
        notify(c, "$", b"set", argv[i])
    return 1


# -- in-place edits ------------------------------------------------------------

@command("append", 3, "write denyoom fast", "@string",
         keys=[KeySpec("RW insert", 1)],
         group="string", since="2.0.0", summary="Append a value to a key")
def append(c, argv):
    key, extra = argv[1], argv[2]
    db = c.db
    v = db.lookup(key)
    if v is None:
        db.add(key, extra)
        total = len(extra)
    else:
        t = type(v)
        if t is bytearray:
            total = len(v) + len(extra)
            check_string_length(c, total)
            v += extra
            db.grow(len(extra))
            db.touch(key)
        elif t is bytes:
            total = len(v) + len(extra)
            check_string_length(c, total)
            db.replace_value(key, bytearray(v) + extra)
        else:
            raise CommandError(WRONGTYPE)
    notify(c, "$", b"append", key)
    return total


@command("strlen", 2, "readonly fast", "@string",
         keys=[KeySpec("RO", 1)],
         group="string", since="2.2.0", summary="Get the length of the value stored in a key")
def strlen(c, argv):
    v = lookup_string(c, argv[1])
    return 0 if v is None else len(v)


@command("setrange", 4, "write denyoom", "@string",
         keys=[KeySpec("RW update", 1)],
         group="string", since="2.2.0",
         summary="Overwrite part of a string at key starting at the specified offset")
def setrange(c, argv):
    key, value = argv[1], argv[3]
    offset = parse_int(argv[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    db = c.db
    v = db.lookup(key)
    n = len(value)
    end = offset + n
    if v is None:
        if not n:
            return 0
        check_string_length(c, end)
        s = bytearray(end)
        s[offset:] = value
        db.add(key, s)
    else:
        t = type(v)
        if t is not bytes and t is not bytearray:
            raise CommandError(WRONGTYPE)
        if not n:
            return len(v)
        check_string_length(c, end)
        if t is bytes:
            v = bytearray(v)
            db.data[key] = v            # dbUnshareStringValue: same size, no signal
        old = len(v)
        if end > old:
            v.extend(bytes(end - old))
            db.grow(end - old)
        v[offset:end] = value
        db.touch(key)
    notify(c, "$", b"setrange", key)
    return len(v) if v is not None else end


def clamp_range(start: int, end: int, total: int):
    """Redis's string index normalisation (GETRANGE, BITCOUNT, BITPOS): negative
    indexes count from the end, then both are clamped into [0, total-1]."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    return start, end


def _getrange(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = lookup_string(c, argv[1])
    if v is None:
        return b""
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    start, end = clamp_range(start, end, n)
    if start > end or n == 0:
        return b""
    return bytes(v[start:end + 1])


@command("getrange", 4, "readonly", "@string",
         keys=[KeySpec("RO access", 1)],
         group="string", since="2.4.0",
         summary="Get a substring of the string stored at a key")
def getrange(c, argv):
    return _getrange(c, argv)


@command("substr", 4, "readonly", "@string",
         keys=[KeySpec("RO access", 1)],
         group="string", since="1.0.0",
         summary="Get a substring of the string stored at a key")
def substr(c, argv):
    return _getrange(c, argv)


# -- counters ------------------------------------------------------------------

def _incr_by(c, key: bytes, delta: int) -> int:
    """Redis's incrDecrCommand."""
    db = c.db
    v = db.lookup(key) if db.expires else db.data.get(key)
    if v is None:
        db.add(key, b"%d" % delta)
        new = delta
    else:
        t = type(v)
        if t is bytes:
            # string2ll's common case inline: plain digits, no leading zero.
            if v.isdigit() and len(v) < 19 and (v[0] != 48 or len(v) == 1):
                cur = int(v)
            else:
                cur = _strict_int(v)
        elif t is bytearray:
            cur = _strict_int(v)
        else:
            raise CommandError(WRONGTYPE)
        if cur is None:
            raise CommandError(NOT_INTEGER)
        new = cur + delta
        if new > LLONG_MAX or new < LLONG_MIN:
            raise CommandError(OVERFLOW)
        db.set(key, b"%d" % new, True)          # setKey with KEEPTTL: dbOverwrite
    if c.server.notify_flags:
        notify(c, "$", b"incrby", key)
    return new


@command("incr", 2, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="1.0.0", summary="Increment the integer value of a key by one")
def incr(c, argv):
    return _incr_by(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="1.0.0", summary="Decrement the integer value of a key by one")
def decr(c, argv):
    return _incr_by(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="1.0.0",
         summary="Increment the integer value of a key by the given amount")
def incrby(c, argv):
    return _incr_by(c, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="1.0.0",
         summary="Decrement the integer value of a key by the given number")
def decrby(c, argv):
    delta = parse_int(argv[2])
    if delta == LLONG_MIN:
        raise CommandError("ERR decrement would overflow")
    return _incr_by(c, argv[1], -delta)


# -- INCRBYFLOAT: x87 long double arithmetic ------------------------------------
#
# Redis adds in C `long double` (x86-64: 64-bit mantissa, 15-bit exponent),
# parses with strtold and prints with ld2string(LD_STR_HUMAN): "%.17Lf", then
# trailing zeros (and a bare '.') trimmed, "-0" turned into "0". Python has no
# long double, so values are kept exact as (mantissa, exponent) pairs, value =
# m * 2**e, rounded to 64 significant bits (round-half-even) after every step.

_LD_BITS = 64
_LD_EMIN = -16445           # exponent of the least significant bit of a subnormal
_LD_INF = "inf"
MAX_LONG_DOUBLE_CHARS = 5 * 1024
_TEN_4000 = 10 ** 4000

_DEC_RE = None
_HEX_RE = None


def _ld_round(num: int, den: int):
    """num/den (den > 0) rounded to a long double: (m, e), or _LD_INF on overflow."""
    if num == 0:
        return (0, 0)
    neg = num < 0
    if neg:
        num = -num
    e = num.bit_length() - den.bit_length() - _LD_BITS
    # Make 2**63 <= num / (den * 2**e) < 2**64 (one correction step at most).
    while True:
        if e < _LD_EMIN:
            e = _LD_EMIN
        n, d = (num, den << e) if e >= 0 else (num << -e, den)
        m, r = divmod(n, d)
        if m >= 1 << _LD_BITS:
            e += 1
            continue
        if m < 1 << (_LD_BITS - 1) and e > _LD_EMIN:
            e -= 1
            continue
        break
    r2 = r * 2
    if r2 > d or (r2 == d and m & 1):
        m += 1
    if m == 0:
        return (0, 0)
    if m.bit_length() + e > 16384:
        return _LD_INF
    return (-m if neg else m, e)


def parse_long_double(arg: bytes, err: str = NOT_FLOAT):
    """Redis's string2ld (strtold over the whole argument): (m, e), or _LD_INF /
    ("-inf") for a literal infinity. Rejects nan, spaces, overflow and underflow
    to zero, as Redis."""
    global _DEC_RE, _HEX_RE
    if _DEC_RE is None:
        import re
        _DEC_RE = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\Z")
        _HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?"
                             rb"(?:[pP]([+-]?\d+))?\Z")
    s = bytes(arg)
    if not s or len(s) >= MAX_LONG_DOUBLE_CHARS:
        raise CommandError(err)
    m = _HEX_RE.match(s)
    base = 16
    if m is None:
        m = _DEC_RE.match(s)
        base = 10
        if m is None:
            low = s.lower().lstrip(b"+-")
            if low in (b"inf", b"infinity") and len(s) - len(low) <= 1:
                return "-inf" if s[:1] == b"-" else _LD_INF
            raise CommandError(err)
    sign, ip, fp, ex = m.groups()
    fp = fp or b""
    if not ip and not fp:
        raise CommandError(err)
    digits = ip + fp
    if base == 16:
        mant = int(digits, 16)
    elif len(digits) > 4000:    # beyond Python's str-to-int digit limit: two halves
        mant = int(digits[:-4000]) * _TEN_4000 + int(digits[-4000:])
    else:
        mant = int(digits)
    exp = 0
    if ex:
        mag_digits = ex.lstrip(b"+-").lstrip(b"0")
        exp = int(mag_digits or b"0") if len(mag_digits) <= 12 else 10 ** 12
        if ex[:1] == b"-":
            exp = -exp
    if mant == 0:
        return (0, 0)
    if base == 10:
        exp -= len(fp)
        mag = len(digits.lstrip(b"0")) + exp          # decimal magnitude
        if mag > 4934:
            raise CommandError(err)                    # ERANGE, HUGE_VAL
        if mag < -4952:
            raise CommandError(err)                    # ERANGE, underflow to zero
        num, den = (mant * 10 ** exp, 1) if exp >= 0 else (mant, 10 ** -exp)
    else:
        exp -= 4 * len(fp)
        mag = mant.bit_length() + exp
        if mag > 16390:
            raise CommandError(err)
        if mag < -16460:
            raise CommandError(err)
        num, den = (mant << exp, 1) if exp >= 0 else (mant, 1 << -exp)
    v = _ld_round(-num if sign == b"-" else num, den)
    if v is _LD_INF or v == (0, 0):
        raise CommandError(err)
    return v


def _ld_add(a, b):
    """a + b in long double; _LD_INF for an infinite or NaN result."""
    if type(a) is str or type(b) is str:
        return _LD_INF
    (ma, ea), (mb, eb) = a, b
    e = min(ea, eb)
    total = (ma << (ea - e)) + (mb << (eb - e))
    if e >= 0:
        return _ld_round(total << e, 1)
    return _ld_round(total, 1 << -e)


def format_long_double_human(v) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros trimmed."""
    m, e = v
    neg = m < 0
    if neg:
        m = -m
    if e >= 0:
        q = (m << e) * 10 ** 17
    else:
        n, d = m * 10 ** 17, 1 << -e
        q, r = divmod(n, d)
        r2 = 2 * r
        if r2 > d or (r2 == d and q & 1):
            q += 1
    if q >= _TEN_4000:      # beyond Python's int-to-str digit limit: two halves
        hi, lo = divmod(q, _TEN_4000)
        digits = b"%d%04000d" % (hi, lo)
    else:
        digits = b"%018d" % q
    s = digits[:-17] + b"." + digits[-17:]
    s = s.rstrip(b"0")
    if s.endswith(b"."):
        s = s[:-1]
    if neg and s != b"0":
        s = b"-" + s
    return s


@command("incrbyfloat", 3, "write denyoom fast", "@string",
         keys=[KeySpec("RW access update", 1)],
         group="string", since="2.6.0",
         summary="Increment the float value of a key by the given amount")
def incrbyfloat(c, argv):
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    if v is None:
        cur = (0, 0)
    else:
        t = type(v)
        if t is not bytes and t is not bytearray:
            raise CommandError(WRONGTYPE)
        cur = parse_long_double(v)
    new = _ld_add(cur, parse_long_double(argv[2]))
    if new is _LD_INF:
        raise CommandError("ERR increment would produce NaN or Infinity")
    s = format_long_double_human(new)
    if v is None:
        db.add(key, s)
    else:
        db.replace_value(key, s)
    notify(c, "$", b"incrbyfloat", key)
    c.propagate_argv = [[b"SET", key, s, b"KEEPTTL"]]
    return s


# -- LCS -------------------------------------------------------------------------
#
# Redis fills the (alen+1) x (blen+1) table LCS(i, j) and walks it back from the
# bottom-right corner. The same table is computed here bit-parallel (Hyyro's
# algorithm): row i is an integer V_i whose low j bits hold, as zeros, the
# increments of LCS(i, .) over b[0..j-1], so LCS(i, j) = j - popcount(V_i mod 2**j).
# The walk back then reads exactly the cells Redis reads and takes the same turns.

def _lcs_rows(a: bytes, b: bytes) -> list:
    blen = len(b)
    mask = (1 << blen) - 1
    pm: dict = {}
    for j, ch in enumerate(b):
        pm[ch] = pm.get(ch, 0) | (1 << j)
    rows = [mask]
    v = mask
    get = pm.get
    for ch in a:
        u = v & get(ch, 0)
        v = ((v + u) | (v - u)) & mask
        rows.append(v)
    return rows


@command("lcs", -3, "readonly", "@string",
         keys=[KeySpec("RO access", 1, Range(1, 1, 0))],
         group="string", since="7.0.0", summary="Find longest common substring")
def lcs(c, argv):
    db = c.db
    oa = db.lookup_read(argv[1])
    ob = db.lookup_read(argv[2])
    if (oa is not None and type(oa) is not bytes and type(oa) is not bytearray) or \
            (ob is not None and type(ob) is not bytes and type(ob) is not bytearray):
        raise CommandError("ERR The specified keys must contain string values")
    a = b"" if oa is None else bytes(oa)
    b = b"" if ob is None else bytes(ob)
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and j + 1 < n:
            minmatchlen = max(parse_int(argv[j + 1]), 0)
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    if getlen and getidx:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    alen, blen = len(a), len(b)
    if alen >= 0xFFFFFFFE or blen >= 0xFFFFFFFE:
        raise CommandError("ERR String too long for LCS")
    if (alen + 1) * (blen + 1) * 4 > c.server.proto_max_bulk_len:
        raise CommandError("ERR Insufficient memory, transient memory for LCS exceeds "
                           "proto-max-bulk-len")
    rows = _lcs_rows(a, b)
    total = blen - rows[alen].bit_count()
    if getlen:
        return total
    # Walk back as Redis does; L is LCS(i, j) for the current cell.
    result = bytearray(total)
    idx = total
    matches = []
    i, j = alen, blen
    L = total
    arange_start = alen
    arange_end = brange_start = brange_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if arange_start == alen:
                arange_start = arange_end = i - 1
                brange_start = brange_end = j - 1
            elif arange_start == i and brange_start == j:
                arange_start -= 1
                brange_start -= 1
            else:
                emit = True
            if arange_start == 0 or brange_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
            L -= 1
        else:
            up = (j - (rows[i - 1] & ((1 << j) - 1)).bit_count())        # LCS(i-1, j)
            left = L - (0 if (rows[i] >> (j - 1)) & 1 else 1)            # LCS(i, j-1)
            if up > left:
                i -= 1
                L = up
            else:
                j -= 1
                L = left
            if arange_start != alen:
                emit = True
        if emit:
            match_len = arange_end - arange_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                if withmatchlen:
                    matches.append([[arange_start, arange_end], [brange_start, brange_end],
                                    match_len])
                else:
                    matches.append([[arange_start, arange_end], [brange_start, brange_end]])
            arange_start = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
