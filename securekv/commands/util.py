"""Helpers shared by command families: argument parsing with Redis's error
strings, typed lookups, keyspace notifications. Look here before writing a
twin in a family module."""

from __future__ import annotations

import math
import time

from securekv.errors import NOT_FLOAT, NOT_INTEGER, WRONGTYPE, CommandError
from securekv.net.resp import _strict_int

LLONG_MAX = 2 ** 63 - 1
LLONG_MIN = -(2 ** 63)

STRING_TYPES = (bytes, bytearray)


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_int(arg: bytes, err: str = NOT_INTEGER) -> int:
    """Redis's getLongLongFromObjectOrReply: a strict 64-bit integer."""
    v = _strict_int(arg)
    if v is None:
        raise CommandError(err)
    return v


def parse_int_range(arg: bytes, lo: int, hi: int, err: str = NOT_INTEGER) -> int:
    v = _strict_int(arg)
    if v is None or not lo <= v <= hi:
        raise CommandError(err)
    return v


def parse_float(arg: bytes, err: str = NOT_FLOAT) -> float:
    """Redis's string2d (strtod over the whole string): no leading space, no
    nan, and ERANGE is an error both for overflow to inf and for underflow to
    zero; hex floats (0x1p3) and 'inf'/'infinity' are accepted as C does."""
    if arg.isdigit() and len(arg) < 300:     # plain digits (ZADD's common case): exact
        return float(arg)
    v = strtod(bytes(arg))
    if v is None:
        raise CommandError(err)
    return v


_FLOAT_CHARS = frozenset(b"0123456789+-.eE")


def strtod(s: bytes) -> float | None:
    """C strtod on the whole of s with Redis's checks, or None if Redis refuses it."""
    if not s or s[:1].isspace() or s[-1:].isspace():
        return None
    low = s.lower()
    try:
        if b"x" in low:
            body = low.lstrip(b"+-")
            if not body.startswith(b"0x") or b"_" in low:
                return None
            v = float.fromhex(s.decode("ascii"))
            mantissa = body[2:].split(b"p", 1)[0]
            nonzero = any(ch not in b"0." for ch in mantissa)
        else:
            if not _FLOAT_CHARS.issuperset(low) and low.lstrip(b"+-") not in (b"inf", b"infinity"):
                return None
            v = float(s)
            nonzero = any(48 < ch <= 57 for ch in low.split(b"e", 1)[0])
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if v != v:
        return None
    if math.isinf(v) and b"inf" not in low:
        return None                 # overflow: ERANGE
    if v == 0.0 and nonzero:
        return None                 # underflow to zero: ERANGE
    return v


def parse_random_count(arg: bytes) -> int:
    """The count of SRANDMEMBER/HRANDFIELD/ZRANDMEMBER: Redis's
    getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX), checked before the
    key is looked up."""
    v = parse_int(arg)
    if v < -LLONG_MAX:
        raise CommandError("ERR value is out of range, value must between "
                           "-9223372036854775807 and 9223372036854775807")
    return v


def check_random_draws(c, count: int) -> None:
    """SRANDMEMBER/HRANDFIELD/ZRANDMEMBER with a negative count make `count` draws:
    refuse more than random-reply-max-count (a 40-byte request must not build a
    reply that exhausts memory, which Redis 7.0 lets it do)."""
    limit = c.server.config.values.get("random-reply-max-count", 1_000_000)
    if count > limit:
        raise CommandError(f"ERR count is out of range: at most {limit} random elements with "
                           f"repetitions (random-reply-max-count)")


def lookup_string(c, key: bytes, read: bool = True):
    """The string at key (bytes/bytearray) or None; WRONGTYPE for other types."""
    v = c.db.lookup_read(key) if read else c.db.lookup(key)
    if v is None or type(v) is bytes or type(v) is bytearray:
        return v
    raise CommandError(WRONGTYPE)


def lookup_typed(c, key: bytes, cls, read: bool = True):
    """The value at key if it is a `cls`, None if absent, else WRONGTYPE."""
    v = c.db.lookup_read(key) if read else c.db.lookup(key)
    if v is None or type(v) is cls:
        return v
    raise CommandError(WRONGTYPE)


def notify(c, cls: str, event: bytes, key: bytes) -> None:
    """Fire a keyspace notification of class `cls` for key in the client's db."""
    server = c.server
    if server.notify_flags:
        server.notify(c.keyspace, cls, event, key, c.db.id)


def store_result(c, dst: bytes, value, cls: str, event: bytes) -> None:
    """A *STORE command's end: set dst to value (non-empty) and notify event, or,
    when value is None (an empty result), delete dst with a `del` event."""
    db = c.db
    if value is not None:
        db.set(dst, value)
        notify(c, cls, event, dst)
    elif db.delete(dst):
        notify(c, "g", b"del", dst)


def to_str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def help_reply(argv, lines) -> list:
    """Redis's addReplyHelp: `<CMD> <subcommand> ...` header, the lines, the HELP footer,
    all as status replies."""
    from securekv.net.resp import Status
    name = bytes(argv[0]).upper()
    out = [Status(name + b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")]
    out.extend(Status(l) for l in lines)
    out.append(Status(b"HELP"))
    out.append(Status(b"    Prints this help."))
    return out


def subcommand_syntax_error(argv) -> CommandError:
    """Redis's addReplySubcommandSyntaxError."""
    sub = to_str(bytes(argv[1])[:128]) if len(argv) > 1 else ""
    return CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
                        % (sub, to_str(bytes(argv[0])).upper()))


_ULONG_MAX = 2 ** 64 - 1


def parse_scan_cursor(arg: bytes) -> int:
    """Redis's parseScanCursorOrReply: strtoul (base 10) over the C string: "" is 0,
    a sign is allowed ('-1' wraps), no leading space, no overflow."""
    s = bytes(arg).split(b"\0", 1)[0]
    if s[:1] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
        raise CommandError("ERR invalid cursor")
    if not s:
        return 0
    digits = s[1:] if s[:1] in (b"-", b"+") else s
    if not digits or not digits.isdigit() or not digits.isascii():
        raise CommandError("ERR invalid cursor")
    v = int(digits)
    if v > _ULONG_MAX:
        raise CommandError("ERR invalid cursor")
    return (-v) & _ULONG_MAX if s[:1] == b"-" else v


def parse_scan_options(argv, start: int, with_type: bool = False):
    """COUNT/MATCH (and TYPE for SCAN) of SCAN, SSCAN, HSCAN, ZSCAN, as Redis's
    scanGenericCommand: (count, pattern or None for none/"*", lower-case type or None)."""
    from securekv.errors import SYNTAX
    count = 10
    pat = typ = None
    n = len(argv)
    i = start
    while i < n:
        opt = argv[i].lower()
        if n - i < 2:
            raise CommandError(SYNTAX)
        if opt == b"count":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match":
            pat = argv[i + 1]
            if pat == b"*":
                pat = None
        elif opt == b"type" and with_type:
            typ = bytes(argv[i + 1]).lower()
        else:
            raise CommandError(SYNTAX)
        i += 2
    return count, pat, typ
