"""Redis's compact binary encodings, as RDB files and DUMP payloads carry them.

- RDB lengths and strings (rdb.c: rdbSaveLen, rdbSaveRawString with the
  integer and LZF forms);
- listpack (listpack.c), written exactly as Redis 7.0 writes it (strings that
  look like integers are stored as integers) and read in every form;
- intset (intset.c), written and read;
- ziplist (ziplist.c) and zipmap (zipmap.c): read only (older RDB files).

Decoders raise FormatError (a message and the offset inside the blob);
rdb.py turns it into an error naming the file offset. CRC64 (Jones, as
Redis's crc64.c) comes from crcmod's C extension and LZF from python-lzf,
never from a Python loop over bytes.
"""

from __future__ import annotations

import struct

import crcmod
import lzf

from securekv.net.resp import _strict_int

# Redis's crc64 (Jones polynomial, reflected, init 0, no final xor);
# crc64(data, previous) continues a running checksum.
import crcmod._crcfunext  # noqa: E402,F401  (fail loudly without the C extension)

crc64 = crcmod.mkCrcFun(0x1AD93D23594C935A9, initCrc=0, rev=True, xorOut=0)


class FormatError(ValueError):
    """A malformed encoding: `msg` and the offset inside the decoded buffer."""

    def __init__(self, msg: str, offset: int = 0) -> None:
        super().__init__(msg)
        self.msg = msg
        self.offset = offset


_u16 = struct.Struct("<H")
_u32 = struct.Struct("<I")
_i16 = struct.Struct("<h")
_i32 = struct.Struct("<i")
_i64 = struct.Struct("<q")
_be32 = struct.Struct(">I")
_be64 = struct.Struct(">Q")

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

# -- RDB lengths and strings ---------------------------------------------------------

ENC_INT8, ENC_INT16, ENC_INT32, ENC_LZF = 0, 1, 2, 3


def put_len(out: bytearray, n: int) -> None:
    """rdbSaveLen."""
    if n < 64:
        out.append(n)
    elif n < 16384:
        out += bytes(((n >> 8) | 0x40, n & 0xFF))
    elif n <= 0xFFFFFFFF:
        out.append(0x80)
        out += _be32.pack(n)
    else:
        out.append(0x81)
        out += _be64.pack(n)


def put_int_string(out: bytearray, v: int) -> bool:
    """rdbEncodeInteger: v in the 8/16/32-bit integer forms (False: too big)."""
    if -128 <= v <= 127:
        out.append(0xC0)
        out.append(v & 0xFF)
    elif -32768 <= v <= 32767:
        out.append(0xC1)
        out += _i16.pack(v)
    elif INT32_MIN <= v <= INT32_MAX:
        out.append(0xC2)
        out += _i32.pack(v)
    else:
        return False
    return True


def put_string(out: bytearray, s, compress: bool) -> None:
    """rdbSaveRawString: integer form for short canonical integers, LZF for
    strings over 20 bytes that shrink, else length + bytes."""
    n = len(s)
    if n <= 11 and n:
        v = _strict_int(s)
        if v is not None and put_int_string(out, v):
            return
    if compress and n > 20:
        # Redis calls lzf_compress with an n - 4 byte output buffer; python-lzf
        # accepts one byte more than max_len, so n - 5 gives Redis's choice
        # (checked against redis-server 7.0.15: tests/integration/test_dump_parity.py).
        c = lzf.compress(bytes(s), n - 5)
        if c is not None:
            out.append(0xC3)
            put_len(out, len(c))
            put_len(out, n)
            out += c
            return
    put_len(out, n)
    out += s


def put_lzf_blob(out: bytearray, comp: bytes, orig_len: int) -> None:
    """rdbSaveLzfBlob: an already-compressed blob."""
    out.append(0xC3)
    put_len(out, len(comp))
    put_len(out, orig_len)
    out += comp


# -- listpack ---------------------------------------------------------------------------

LP_HDR = 6
LP_EOF = 0xFF


def _backlen(n: int) -> bytes:
    """lpEncodeBacklen: the entry length written right to left, 7 bits a byte."""
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128,
                      (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


_BACKLEN1 = [bytes((i,)) for i in range(128)]


def lp_entry_int(out: bytearray, v: int) -> None:
    """One listpack integer entry (with its backlen), smallest encoding first."""
    if 0 <= v <= 127:
        out.append(v)
        out.append(1)
    elif -4096 <= v <= 4095:
        if v < 0:
            v += 1 << 13
        out.append(0xC0 | (v >> 8))
        out.append(v & 0xFF)
        out.append(2)
    elif -32768 <= v <= 32767:
        out.append(0xF1)
        out += _i16.pack(v)
        out.append(3)
    elif -8388608 <= v <= 8388607:
        out.append(0xF2)
        out += (v & 0xFFFFFF).to_bytes(3, "little")
        out.append(4)
    elif INT32_MIN <= v <= INT32_MAX:
        out.append(0xF3)
        out += _i32.pack(v)
        out.append(5)
    else:
        out.append(0xF4)
        out += _i64.pack(v)
        out.append(9)


def lp_entry(out: bytearray, s) -> None:
    """One listpack entry for element s (bytes, or an int), as lpAppend encodes
    it: strings that are canonical 64-bit integers become integers."""
    if type(s) is int:
        lp_entry_int(out, s)
        return
    n = len(s)
    if n <= 20 and n:
        v = _strict_int(s)
        if v is not None:
            lp_entry_int(out, v)
            return
    if n < 64:
        out.append(0x80 | n)
        out += s
        out += _BACKLEN1[n + 1]
    elif n < 4096:
        out.append(0xE0 | (n >> 8))
        out.append(n & 0xFF)
        out += s
        out += _backlen(n + 2)
    else:
        out.append(0xF0)
        out += _u32.pack(n)
        out += s
        out += _backlen(n + 5)


def lp_build(items) -> bytes:
    """A whole listpack holding items (bytes or ints), in order."""
    body = bytearray(LP_HDR)
    count = 0
    for s in items:
        lp_entry(body, s)
        count += 1
    body.append(LP_EOF)
    _u32.pack_into(body, 0, len(body))
    _u16.pack_into(body, 4, count if count < 65535 else 65535)
    return bytes(body)


def lp_finish(body: bytearray, count: int) -> bytes:
    """Complete a listpack whose entries were appended after LP_HDR reserved bytes."""
    body.append(LP_EOF)
    _u32.pack_into(body, 0, len(body))
    _u16.pack_into(body, 4, count if count < 65535 else 65535)
    return bytes(body)


def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def lp_decode(blob: bytes, as_int: bool = False) -> list:
    """Every element of a listpack: bytes for strings, and for integers their
    decimal bytes (or ints with as_int). Validates the header, the bounds of every
    entry and the terminator."""
    n = len(blob)
    if n < LP_HDR + 1:
        raise FormatError("listpack too short", 0)
    total = _u32.unpack_from(blob, 0)[0]
    if total != n:
        raise FormatError("listpack header size mismatch", 0)
    declared = _u16.unpack_from(blob, 4)[0]
    out = []
    append = out.append
    p = LP_HDR
    end = n - 1
    while p < end:
        b = blob[p]
        if b < 0x80:
            v = b
            elen = 1
        elif b < 0xC0:
            ln = b & 0x3F
            elen = 1 + ln
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            append(blob[p + 1:p + elen])
            p += elen + _backlen_size(elen)
            continue
        elif b < 0xE0:
            if p + 2 > end:
                raise FormatError("listpack entry out of range", p)
            v = ((b & 0x1F) << 8) | blob[p + 1]
            if v >= 4096:
                v -= 8192
            elen = 2
        elif b < 0xF0:
            if p + 2 > end:
                raise FormatError("listpack entry out of range", p)
            ln = ((b & 0x0F) << 8) | blob[p + 1]
            elen = 2 + ln
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            append(blob[p + 2:p + elen])
            p += elen + _backlen_size(elen)
            continue
        elif b == 0xF0:
            if p + 5 > end:
                raise FormatError("listpack entry out of range", p)
            ln = _u32.unpack_from(blob, p + 1)[0]
            elen = 5 + ln
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            append(blob[p + 5:p + elen])
            p += elen + _backlen_size(elen)
            continue
        elif b == 0xF1:
            elen = 3
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            v = _i16.unpack_from(blob, p + 1)[0]
        elif b == 0xF2:
            elen = 4
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            v = int.from_bytes(blob[p + 1:p + 4], "little", signed=True)
        elif b == 0xF3:
            elen = 5
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            v = _i32.unpack_from(blob, p + 1)[0]
        elif b == 0xF4:
            elen = 9
            if p + elen > end:
                raise FormatError("listpack entry out of range", p)
            v = _i64.unpack_from(blob, p + 1)[0]
        else:
            raise FormatError("invalid listpack entry encoding", p)
        append(v if as_int else b"%d" % v)
        p += elen + _backlen_size(elen)
    if p != end or blob[end] != LP_EOF:
        raise FormatError("listpack not terminated", min(p, end))
    if declared != 65535 and declared != len(out):
        raise FormatError("listpack count mismatch", 4)
    return out


# -- intset ---------------------------------------------------------------------------------

def intset_build(values, min_width: int = 2) -> bytes:
    """An intset of the given ints (sorted here), in the smallest width that holds
    them and is at least min_width (an intset never narrows after removals)."""
    vs = sorted(values)
    if min_width <= 2 and (not vs or (vs[0] >= -32768 and vs[-1] <= 32767)):
        width, fmt = 2, "h"
    elif min_width <= 4 and (not vs or (vs[0] >= INT32_MIN and vs[-1] <= INT32_MAX)):
        width, fmt = 4, "i"
    else:
        width, fmt = 8, "q"
    return _u32.pack(width) + _u32.pack(len(vs)) + struct.pack("<%d%s" % (len(vs), fmt), *vs)


def intset_width(blob: bytes) -> int:
    """The integer width of an intset blob (intset_decode checks it)."""
    return _u32.unpack_from(blob, 0)[0] if len(blob) >= 4 else 2


def intset_decode(blob: bytes) -> list:
    """The members of an intset as decimal bytes (checked sorted and unique)."""
    if len(blob) < 8:
        raise FormatError("intset too short", 0)
    width, count = struct.unpack_from("<II", blob, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(width)
    if fmt is None:
        raise FormatError("invalid intset encoding", 0)
    if len(blob) != 8 + width * count:
        raise FormatError("intset size mismatch", 4)
    vals = struct.unpack_from("<%d%s" % (count, fmt), blob, 8)
    prev = None
    for v in vals:
        if prev is not None and v <= prev:
            raise FormatError("intset not sorted", 8)
        prev = v
    return [b"%d" % v for v in vals]


# -- ziplist (read only) --------------------------------------------------------------------

def ziplist_decode(blob: bytes) -> list:
    """The elements of a ziplist (integers as decimal bytes)."""
    n = len(blob)
    if n < 11:
        raise FormatError("ziplist too short", 0)
    zlbytes, _tail, zllen = struct.unpack_from("<IIH", blob, 0)
    if zlbytes != n:
        raise FormatError("ziplist header size mismatch", 0)
    out = []
    p = 10
    end = n - 1
    while p < end:
        # prevlen
        if blob[p] < 254:
            p += 1
        else:
            p += 5
        if p >= end:
            raise FormatError("ziplist entry out of range", p)
        b = blob[p]
        t = b >> 6
        if t == 0:
            ln = b & 0x3F
            p += 1
        elif t == 1:
            if p + 2 > end:
                raise FormatError("ziplist entry out of range", p)
            ln = ((b & 0x3F) << 8) | blob[p + 1]
            p += 2
        elif t == 2:
            if p + 5 > end:
                raise FormatError("ziplist entry out of range", p)
            ln = _be32.unpack_from(blob, p + 1)[0]
            p += 5
        else:
            if b == 0xC0:
                w, v = 2, None
            elif b == 0xD0:
                w, v = 4, None
            elif b == 0xE0:
                w, v = 8, None
            elif b == 0xF0:
                w, v = 3, None
            elif b == 0xFE:
                w, v = 1, None
            elif 0xF1 <= b <= 0xFD:
                w, v = 0, (b & 0x0F) - 1
            else:
                raise FormatError("invalid ziplist entry encoding", p)
            p += 1
            if p + w > end:
                raise FormatError("ziplist entry out of range", p)
            if v is None:
                v = int.from_bytes(blob[p:p + w], "little", signed=True)
            out.append(b"%d" % v)
            p += w
            continue
        if p + ln > end:
            raise FormatError("ziplist entry out of range", p)
        out.append(blob[p:p + ln])
        p += ln
    if p != end or blob[end] != 0xFF:
        raise FormatError("ziplist not terminated", min(p, end))
    if zllen != 65535 and zllen != len(out):
        raise FormatError("ziplist count mismatch", 8)
    return out


# -- zipmap (read only) ---------------------------------------------------------------------

def zipmap_decode(blob: bytes) -> list:
    """The field, value, field, value ... of a zipmap."""
    n = len(blob)
    if n < 2:
        raise FormatError("zipmap too short", 0)
    out = []
    p = 1
    while True:
        if p >= n:
            raise FormatError("zipmap not terminated", p)
        if blob[p] == 0xFF:
            break
        for is_value in (False, True):
            if p >= n:
                raise FormatError("zipmap entry out of range", p)
            b = blob[p]
            if b < 254:
                ln = b
                p += 1
            elif b == 254:
                if p + 5 > n:
                    raise FormatError("zipmap entry out of range", p)
                ln = _u32.unpack_from(blob, p + 1)[0]
                p += 5
            else:
                raise FormatError("invalid zipmap length", p)
            free = 0
            if is_value:
                if p >= n:
                    raise FormatError("zipmap entry out of range", p)
                free = blob[p]
                p += 1
            if p + ln + free > n:
                raise FormatError("zipmap entry out of range", p)
            out.append(blob[p:p + ln])
            p += ln + free
    if p != n - 1:
        raise FormatError("zipmap trailing bytes", p)
    return out
