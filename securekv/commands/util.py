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
    """Redis's getDoubleFromObject (strtod, whole string): no surrounding spaces,
    no nan, no overflow to inf (ERANGE); 'inf' and 'infinity' accepted."""
    s = bytes(arg)
    if not s or s[:1].isspace() or s[-1:].isspace() or b"_" in s:
        raise CommandError(err)
    try:
        v = float(s)
    except ValueError:
        raise CommandError(err) from None
    if math.isnan(v):
        raise CommandError(err)
    if math.isinf(v) and b"inf" not in s.lower():
        raise CommandError(err)
    return v


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
