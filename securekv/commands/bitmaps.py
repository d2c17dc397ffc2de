"""Bitmap commands (bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
BITFIELD_RO. Bitmaps are strings; a write turns the value into a bytearray
(Redis's "raw" encoding: dbUnshareStringValue) and edits it in place. Bit 0 is
the most significant bit of byte 0. Whole-range work (popcount, bit search,
BITOP) goes through int.from_bytes / int.to_bytes so it runs in C."""

from __future__ import annotations

from securekv.commands.strings import clamp_range
from securekv.commands.table import KeySpec, Range, command
from securekv.commands.util import lookup_string, notify, parse_int
from securekv.errors import NOT_INTEGER, SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import _strict_int

BIT_OFFSET_ERR = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERR = "ERR bit is not an integer or out of range"
BITFIELD_TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. "
                     "Note that u64 is not supported but i64 is.")

_U64 = (1 << 64) - 1


def _wrap64(v: int) -> int:
    """v as a C int64_t after wrap-around."""
    v &= _U64
    return v - (1 << 64) if v >> 63 else v


def bit_offset(c, arg: bytes, hash_bits: int = 0) -> int:
    """Redis's getBitOffsetFromArgument; hash_bits > 0 accepts `#n` (n * bits)."""
    usehash = hash_bits > 0 and arg[:1] == b"#"
    v = _strict_int(arg[1:] if usehash else arg)
    if v is None:
        raise CommandError(BIT_OFFSET_ERR)
    if usehash:
        v = _wrap64(v * hash_bits)
    if v < 0 or ((v >> 3) >= c.server.proto_max_bulk_len and not c.must_obey):
        raise CommandError(BIT_OFFSET_ERR)
    return v


def string_for_bit_write(c, key: bytes, maxbit: int):
    """Redis's lookupStringForBitCommand: the bytearray at key, created or
    zero-padded so that bit `maxbit` exists. Returns (value, changed_size)."""
    db = c.db
    need = (maxbit >> 3) + 1
    v = db.lookup(key)
    if v is None:
        v = bytearray(need)
        db.add(key, v, 0)               # dbAdd: signalled; the caller counts the change
        return v, True
    t = type(v)
    if t is bytes:
        v = bytearray(v)
        db.data[key] = v                # dbUnshareStringValue: same size, no signal
    elif t is not bytearray:
        raise CommandError(WRONGTYPE)
    old = len(v)
    if need > old:
        v.extend(bytes(need - old))
        db.grow(need - old)
        return v, True
    return v, False


# -- SETBIT / GETBIT -------------------------------------------------------------

@command("setbit", 4, "write denyoom", "@bitmap",
         keys=[KeySpec("RW access update", 1)],
         group="bitmap", since="2.2.0",
         summary="Sets or clears the bit at offset in the string value stored at key")
def setbit(c, argv):
    offset = bit_offset(c, argv[2])
    on = _strict_int(argv[3])
    if on is None or on & ~1:
        raise CommandError(BIT_VALUE_ERR)
    key = argv[1]
    v, grown = string_for_bit_write(c, key, offset)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    byteval = v[byte]
    old = 1 if byteval & mask else 0
    if grown or old != on:
        v[byte] = (byteval | mask) if on else (byteval & ~mask)
        c.db.touch(key)
        notify(c, "$", b"setbit", key)
    return old


@command("getbit", 3, "readonly fast", "@bitmap",
         keys=[KeySpec("RO access", 1)],
         group="bitmap", since="2.2.0",
         summary="Returns the bit value at offset in the string value stored at key")
def getbit(c, argv):
    offset = bit_offset(c, argv[2])
    v = lookup_string(c, argv[1])
    if v is None:
        return 0
    byte = offset >> 3
    if byte >= len(v):
        return 0
    return 1 if v[byte] & (0x80 >> (offset & 7)) else 0


# -- BITCOUNT / BITPOS -----------------------------------------------------------

def _unit(arg: bytes) -> bool:
    """BIT|BYTE argument: True for BIT."""
    u = arg.lower()
    if u == b"bit":
        return True
    if u == b"byte":
        return False
    raise CommandError(SYNTAX)


def _bits(v, sbit: int, ebit: int) -> tuple[int, int]:
    """Bits sbit..ebit (inclusive) of v as an integer (MSB first) and their count."""
    sbyte, ebyte = sbit >> 3, ebit >> 3
    x = int.from_bytes(v[sbyte:ebyte + 1], "big")
    x >>= 7 - (ebit & 7)
    n = ebit - sbit + 1
    return x & ((1 << n) - 1), n


@command("bitcount", -2, "readonly", "@bitmap",
         keys=[KeySpec("RO access", 1)],
         group="bitmap", since="2.6.0", summary="Count set bits in a string")
def bitcount(c, argv):
    v = lookup_string(c, argv[1])
    if v is None:
        return 0
    n = len(argv)
    if n == 2:
        return int.from_bytes(v, "big").bit_count()
    if n not in (4, 5):
        raise CommandError(SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    isbit = n == 5 and _unit(argv[4])
    total = len(v) * 8 if isbit else len(v)
    start, end = clamp_range(start, end, total)
    if start > end:
        return 0
    if isbit:
        return _bits(v, start, end)[0].bit_count()
    return int.from_bytes(v[start:end + 1], "big").bit_count()


@command("bitpos", -3, "readonly", "@bitmap",
         keys=[KeySpec("RO access", 1)],
         group="bitmap", since="2.8.7", summary="Find first bit set or clear in a string")
def bitpos(c, argv):
    bit = parse_int(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError("ERR The bit argument must be 1 or 0.")
    v = lookup_string(c, argv[1])
    if v is None:
        return -1 if bit else 0
    n = len(argv)
    end_given = False
    isbit = False
    if n == 3:
        start, end = 0, len(v) - 1
    elif n in (4, 5, 6):
        start = parse_int(argv[3])
        if n == 6:
            isbit = _unit(argv[5])
        if n >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = len(v) - 1
        start, end = clamp_range(start, end, len(v) * 8 if isbit else len(v))
    else:
        raise CommandError(SYNTAX)
    if start > end:
        return -1
    if isbit:
        sbit, ebit = start, end
    else:
        sbit, ebit = start * 8, end * 8 + 7
    x, nbits = _bits(v, sbit, ebit)
    if not bit:
        x ^= (1 << nbits) - 1
    if x:
        return sbit + nbits - x.bit_length()
    if bit or end_given:
        return -1
    return ebit + 1


# -- BITOP -------------------------------------------------------------------------

@command("bitop", -4, "write denyoom", "@bitmap",
         keys=[KeySpec("OW update", 2), KeySpec("RO access", 3, Range(-1, 1, 0))],
         group="bitmap", since="2.6.0", summary="Perform bitwise operations between strings")
def bitop(c, argv):
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(SYNTAX)
    srcs = argv[3:]
    if op == b"not" and len(srcs) != 1:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    lookup = c.db.lookup_read
    values = []
    for key in srcs:
        v = lookup(key)
        if v is None:
            values.append(b"")
        elif type(v) is bytes or type(v) is bytearray:
            values.append(v)
        else:
            raise CommandError(WRONGTYPE)
    maxlen = max(len(v) for v in values)
    dest = argv[2]
    db = c.db
    if maxlen == 0:
        if db.delete(dest):
            notify(c, "g", b"del", dest)
        return 0
    nbits = maxlen * 8
    ints = [int.from_bytes(v, "big") << (8 * (maxlen - len(v))) for v in values]
    if op == b"not":
        res = ints[0] ^ ((1 << nbits) - 1)
    elif op == b"and":
        res = ints[0]
        for x in ints[1:]:
            res &= x
    elif op == b"or":
        res = ints[0]
        for x in ints[1:]:
            res |= x
    else:
        res = ints[0]
        for x in ints[1:]:
            res ^= x
    db.set(dest, bytearray(res.to_bytes(maxlen, "big")))
    notify(c, "$", b"set", dest)
    return maxlen


# -- BITFIELD ------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2


def _bitfield_type(arg: bytes):
    """Redis's getBitfieldTypeFromArgument: (signed, bits)."""
    sign = arg[:1]
    if sign == b"i":
        signed = True
    elif sign == b"u":
        signed = False
    else:
        raise CommandError(BITFIELD_TYPE_ERR)
    rest = arg[1:]
    nul = rest.find(b"\0")              # Redis reads the rest as a C string
    if nul >= 0:
        rest = rest[:nul]
    bits = _strict_int(rest)
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise CommandError(BITFIELD_TYPE_ERR)
    return signed, bits


def _get_field(v, offset: int, bits: int, signed: bool) -> int:
    """The `bits`-wide field at bit `offset` (zero past the end of v)."""
    sbyte = offset >> 3
    ebyte = (offset + bits - 1) >> 3
    chunk = v[sbyte:ebyte + 1]
    width = ebyte - sbyte + 1
    x = int.from_bytes(chunk, "big") << (8 * (width - len(chunk)))
    x = (x >> (7 - ((offset + bits - 1) & 7))) & ((1 << bits) - 1)
    if signed and x >> (bits - 1):
        x -= 1 << bits
    return x


def _set_field(v: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low `bits` bits of value at bit `offset` of v (long enough)."""
    sbyte = offset >> 3
    ebyte = (offset + bits - 1) >> 3
    shift = 7 - ((offset + bits - 1) & 7)
    width = ebyte - sbyte + 1
    mask = ((1 << bits) - 1) << shift
    x = int.from_bytes(v[sbyte:ebyte + 1], "big")
    x = (x & ~mask) | ((value << shift) & mask)
    v[sbyte:ebyte + 1] = x.to_bytes(width, "big")


def _overflow_signed(value: int, incr: int, bits: int, owtype: int):
    """Redis's checkSignedBitfieldOverflow, int64 wrap-arounds included (a SET of a
    value far below the minimum counts as an overflow upwards: SAT stores the
    maximum, as Redis). Returns (overflowed, value to store)."""
    hi = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    lo = -hi - 1
    maxincr = _wrap64(hi - value)
    minincr = _wrap64(lo - value)
    if value > hi or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        limit = hi
    elif value < lo or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        limit = lo
    else:
        return False, value + incr
    if owtype == _SAT:
        return True, limit
    c = (value + incr) & ((1 << bits) - 1)
    if c >> (bits - 1):
        c -= 1 << bits
    return True, c


def _overflow_unsigned(value: int, incr: int, bits: int, owtype: int):
    """Redis's checkUnsignedBitfieldOverflow (value is a uint64, incr an int64)."""
    hi = (1 << bits) - 1
    if value > hi or (incr > 0 and value + incr > hi):
        limit = hi
    elif incr < 0 and value + incr < 0:
        limit = 0
    else:
        return False, value + incr
    if owtype == _SAT:
        return True, limit
    return True, (value + incr) & hi


def _bitfield(c, argv, readonly_cmd: bool):
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    n = len(argv)
    j = 2
    while j < n:
        rem = n - j - 1
        sub = argv[j].lower()
        if sub == b"get" and rem >= 2:
            opcode = _GET
        elif sub == b"set" and rem >= 3:
            opcode = _SET
        elif sub == b"incrby" and rem >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and rem >= 1:
            name = argv[j + 1].lower()
            j += 2
            if name == b"wrap":
                owtype = _WRAP
            elif name == b"sat":
                owtype = _SAT
            elif name == b"fail":
                owtype = _FAIL
            else:
                raise CommandError("ERR Invalid OVERFLOW type specified")
            continue
        else:
            raise CommandError(SYNTAX)
        signed, bits = _bitfield_type(argv[j + 1])
        offset = bit_offset(c, argv[j + 2], bits)
        arg = 0
        if opcode != _GET:
            readonly = False
            if highest < offset + bits - 1:
                highest = offset + bits - 1
            arg = parse_int(argv[j + 3], NOT_INTEGER)
        ops.append((opcode, signed, bits, offset, arg, owtype))
        j += 3 if opcode == _GET else 4
    key = argv[1]
    if readonly:
        v = lookup_string(c, key)
    else:
        if readonly_cmd:
            raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
        v, grown = string_for_bit_write(c, key, highest)
    out = []
    changes = 0
    for opcode, signed, bits, offset, arg, ow in ops:
        if opcode == _GET:
            out.append(_get_field(v, offset, bits, signed) if v is not None else 0)
            continue
        old = _get_field(v, offset, bits, signed)
        check = _overflow_signed if signed else _overflow_unsigned
        if opcode == _INCRBY:
            overflowed, new = check(old, arg, bits, ow)
            ret = new
        else:
            # SET: the value itself is checked; an unsigned field sees it as uint64.
            overflowed, new = check(arg if signed else arg & _U64, 0, bits, ow)
            ret = old
        if overflowed and ow == _FAIL:
            out.append(None)
        else:
            out.append(ret)
            _set_field(v, offset, bits, new)
            if grown or old != new:     # Redis counts the writes that changed something
                changes += 1
    if changes:
        c.db.touch(key, changes)
        notify(c, "$", b"setbit", key)
    elif not readonly and grown:
        # Every write failed (OVERFLOW FAIL) but the string was created or
        # padded: Redis counts no change (nor propagates it); a data change
        # counts at least one here, so that it reaches the AOF.
        c.db.touch(key)
    return out


_BF_RO = KeySpec("RO access", 1)
_BF_RW = KeySpec("RW access update", 1)


def bitfield_getkeys(cmd, argv):
    """Redis's bitfieldGetKeys: read-only (RO) when only GET/OVERFLOW appear."""
    i, n = 2, len(argv)
    while i < n:
        rem = n - i - 1
        a = argv[i].lower()
        if a == b"get" and rem >= 2:
            i += 3
        elif a == b"overflow" and rem >= 1:
            i += 2
        else:
            return [(1, _BF_RW)]
    return [(1, _BF_RO)]


@command("bitfield", -2, "write denyoom", "@bitmap",
         keys=[KeySpec("RW access update variable_flags", 1, Range(0, 1, 0),
                       notes="This command allows both access and modification of the key")],
         group="bitmap", since="3.2.0",
         summary="Perform arbitrary bitfield integer operations on strings",
         getkeys=bitfield_getkeys)
def bitfield(c, argv):
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", "@bitmap",
         keys=[KeySpec("RO access", 1)],
         group="bitmap", since="6.0.0",
         summary="Perform arbitrary bitfield integer operations on strings. "
                 "Read-only variant of BITFIELD")
def bitfield_ro(c, argv):
    return _bitfield(c, argv, True)
