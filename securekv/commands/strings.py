"""String commands (t_string.c). Values are bytes; a string grown in place by
APPEND/SETRANGE/SETBIT becomes a bytearray (Redis's "raw" encoding), which every
string command accepts. Shared bodies follow Redis's names: set_generic serves
SET, SETNX, SETEX, PSETEX and GETSET."""

from __future__ import annotations

from securekv.commands.table import KeySpec, Range, command
from securekv.commands.util import LLONG_MAX, lookup_string, notify, now_ms, parse_int
from securekv.errors import SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import OK

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


def set_generic(c, name: str, key: bytes, value: bytes, flags: int, when: int | None, reply=OK):
    """Redis's setGenericCommand."""
    db = c.db
    old = None
    if flags & GET:
        old = lookup_string(c, key)
        found = old is not None
    else:
        found = db.lookup(key) is not None
    if (flags & NX and found) or (flags & XX and not found):
        return old if flags & GET else None
    db.set(key, value, keepttl=bool(flags & KEEPTTL))
    if c.server.notify_flags:
        notify(c, "$", b"set", key)
    if when is not None:
        db.set_expire(key, when)
        if not flags & PXAT:
            c.propagate_argv = [[b"SET", key, value, b"PXAT", b"%d" % when]]
        notify(c, "g", b"expire", key)
    if flags & GET:
        return old
    return reply


@command("get", 2, "readonly fast", "@string", keys=[KeySpec("RO access", 1)],
         group="string", since="1.0.0", summary="Get the value of a key")
def get(c, argv):
    v = c.db.lookup_read(argv[1])
    if v is None:
        return None
    t = type(v)
    if t is bytes:
        return v
    if t is bytearray:
        return bytes(v)
    raise CommandError(WRONGTYPE)


@command("set", -3, "write denyoom", "@string",
         keys=[KeySpec("RW access update variable_flags", 1, Range(0, 1, 0),
                       notes="RW and ACCESS due to the optional `GET` argument")],
         group="string", since="1.0.0", summary="Set the string value of a key")
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
    return set_generic(c, "set", argv[1], argv[2], flags, when)
