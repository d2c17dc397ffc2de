"""RDB, format version 10, as Redis 7.0.15 writes and reads it (rdb.c).

Writing (`write_rdb`, `dump_payload`) produces what Redis 7.0 produces:
strings with the integer and LZF forms, lists as quicklists of listpacks,
hashes and sorted sets as listpacks while small (hashtable/skiplist forms
after), sets as intsets or hashtables, streams (RDB_TYPE_STREAM_LISTPACKS_2)
with consumer groups and PELs, expires in ms, aux fields, SELECTDB and
RESIZEDB, the CRC64 trailer.

Reading (`load_rdb`, `load_payload`) accepts every encoding a Redis 7.0
server loads, including the older ziplist/zipmap/quicklist-of-ziplists
forms. The whole file is parsed into fresh dicts before anything is
installed, so a corrupt or truncated file never leaves a half load: it
raises RDBError naming the offset of the problem.

Values are built with the engine's types (engine/*type.py) and take the
encoding Redis would give them after loading under the current limits.

Tenants (securekv/tenancy/__init__.py): after the default tenant's databases,
each other tenant is an AUX field `securekv-tenant` = `<name> <TENANT CREATE
option words>` followed by its own SELECTDB/RESIZEDB/key records; the loader
switches its target on that field (LoadResult.tenants). With only `default`
nothing of this is written: the file is byte for byte Redis's.
"""

from __future__ import annotations

import heapq
import math
import os
import struct
import time
from bisect import bisect_left

from securekv import REDIS_VERSION
from securekv.engine.hashtype import HashValue
from securekv.engine.listtype import ListValue
from securekv.engine.memory import estimate
from securekv.engine.settype import SetValue
from securekv.engine.streamtype import (ELEMENT_OVERHEAD, ENTRY_OVERHEAD, NACK, Consumer, Group,
                                        Stream, lp_size)
from securekv.engine.zsettype import ZSetValue, zset_from_pairs
from securekv.persistence import encoding as enc
from securekv.persistence.encoding import FormatError, crc64, put_len, put_string

RDB_VERSION = 10

# value types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_MODULE, T_MODULE_2 = 6, 7
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_STREAM_LISTPACKS, T_HASH_LISTPACK, T_ZSET_LISTPACK = 14, 15, 16, 17
T_LIST_QUICKLIST_2, T_STREAM_LISTPACKS_2 = 18, 19

# opcodes
OP_FUNCTION2, OP_FUNCTION, OP_MODULE_AUX, OP_IDLE, OP_FREQ = 245, 246, 247, 248, 249
OP_AUX, OP_RESIZEDB, OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 250, 251, 252, 253, 254, 255

QUICKLIST_NODE_PLAIN, QUICKLIST_NODE_PACKED = 1, 2
PACKED_THRESHOLD = 1 << 30

STREAM_ITEM_FLAG_DELETED = 1
STREAM_ITEM_FLAG_SAMEFIELDS = 2

_M64 = (1 << 64) - 1
_i64 = struct.Struct("<q")
_u64 = struct.Struct("<Q")
_u32 = struct.Struct("<I")
_dbl = struct.Struct("<d")
_be32 = struct.Struct(">I")
_be64 = struct.Struct(">Q")
_id_be = struct.Struct(">QQ")

FLUSH_AT = 1 << 20


class RDBError(Exception):
    """A corrupt, truncated or unsupported RDB: `msg` and the file offset."""

    def __init__(self, msg: str, offset: int, reason: str = "") -> None:
        super().__init__(f"{msg} (at offset {offset})")
        self.msg = msg
        self.offset = offset
        self.reason = reason        # rdbReportError's short reason ("RDB CRC error"), if any


class Limits:
    """The encoding thresholds values are loaded under (the config's, or Redis's
    defaults)."""

    def __init__(self, config=None) -> None:
        v = config.values if config is not None else {}
        self.hash_entries = v.get("hash-max-listpack-entries", 128)
        self.hash_value = v.get("hash-max-listpack-value", 64)
        self.zset = (v.get("zset-max-listpack-entries", 128), v.get("zset-max-listpack-value", 64))
        self.intset = v.get("set-max-intset-entries", 512)
        self.list_fill = v.get("list-max-listpack-size", -2)
        self.ndb = v.get("databases", 16)


DEFAULT_LIMITS = Limits()

# -- writing --------------------------------------------------------------------------------


def d2string(v: float) -> bytes:
    """Redis 7.0's d2string (zset scores inside listpacks)."""
    if v != v:
        return b"nan"
    if v == math.inf:
        return b"inf"
    if v == -math.inf:
        return b"-inf"
    if v == 0:
        return b"-0" if math.copysign(1.0, v) < 0 else b"0"
    if -4503599627370495 < v < 4503599627370496 and v == int(v):
        return b"%d" % int(v)
    return b"%.17g" % v


def _node_allows_insert(fill: int, node_sz: int, count: int, sz: int) -> bool:
    """quicklist.c's _quicklistNodeAllowInsert (7.0.15): may an element of sz
    bytes (its string length) join a node whose listpack is node_sz bytes long?
    The size estimate is node_sz + sz + SIZE_ESTIMATE_OVERHEAD (8)."""
    new_sz = node_sz + sz + 8
    if fill < 0:        # a size limit: 4 KiB .. 64 KiB (fill below -5 is -5)
        return new_sz <= 4096 << min(-fill - 1, 4)
    return new_sz <= 8192 and count + 1 <= max(fill, 1)


MIN_COMPRESS_BYTES = 48     # quicklist.c: nodes smaller are never compressed
MIN_COMPRESS_IMPROVE = 8    # ... nor those LZF would shrink by less than this


def _put_list(out: bytearray, v, compress: bool, fill: int, depth: int = 0) -> None:
    """A quicklist as Redis lays out one built by RPUSH: nodes filled front to
    back under list-max-listpack-size (fill). With list-compress-depth (depth),
    Redis keeps interior nodes LZF-compressed in memory and writes them so even
    when rdbcompression (compress) is off."""
    nodes = []              # (container, payload)
    body = None
    count = 0
    for item in v:
        n = len(item)
        if n >= PACKED_THRESHOLD:
            if body is not None:
                nodes.append((QUICKLIST_NODE_PACKED, enc.lp_finish(body, count)))
                body = None
            nodes.append((QUICKLIST_NODE_PLAIN, bytes(item)))
            continue
        # len(body) + 1: the listpack's size with its end byte (node->sz)
        if body is not None and not _node_allows_insert(fill, len(body) + 1, count, n):
            nodes.append((QUICKLIST_NODE_PACKED, enc.lp_finish(body, count)))
            body = None
        if body is None:
            body = bytearray(enc.LP_HDR)
            count = 0
        enc.lp_entry(body, item)
        count += 1
    if body is not None:
        nodes.append((QUICKLIST_NODE_PACKED, enc.lp_finish(body, count)))
    put_len(out, len(nodes))
    inner = range(depth, len(nodes) - depth) if depth > 0 and not compress \
        and len(nodes) > 2 * depth else range(0)
    for k, (container, payload) in enumerate(nodes):
        put_len(out, container)
        if k in inner and len(payload) >= MIN_COMPRESS_BYTES:
            # __quicklistCompressNode: an output buffer of node->sz bytes
            # (python-lzf allows max_len + 1), kept if it saves enough.
            c = enc.lzf.compress(payload, len(payload) - 1)
            if c is not None and len(c) + MIN_COMPRESS_IMPROVE < len(payload):
                enc.put_lzf_blob(out, c, len(payload))
                continue
        put_string(out, payload, compress)


def _put_stream(out: bytearray, s: Stream, compress: bool) -> None:
    ids, vals = s.ids, s.vals
    nf = s.node_first
    nodes = []
    if ids:
        # Node k holds the live entries with node_first[k] <= id < node_first[k+1].
        bounds = [bisect_left(ids, f) for f in nf] + [len(ids)]
        if not nf or bounds[0] != 0:
            bounds = [0] + bounds
            nf = [ids[0]] + list(nf)
        for k in range(len(nf)):
            a, b = bounds[k], bounds[k + 1]
            if a >= b:
                continue
            nodes.append((nf[k] if nf[k] <= ids[a] else ids[a], a, b))
    put_len(out, len(nodes))
    for master, a, b in nodes:
        mms, mseq = master >> 64, master & _M64
        first = vals[a]
        mfields = first[0::2]
        nfields = len(mfields)
        body = bytearray(enc.LP_HDR)
        lp = enc.lp_entry
        lp(body, b - a)             # count
        lp(body, 0)                 # deleted
        lp(body, nfields)
        for f in mfields:
            lp(body, f)
        lp(body, 0)                 # master terminator
        n = 4 + nfields
        for k in range(a, b):
            i = ids[k]
            flat = vals[k]
            dms = ((i >> 64) - mms) & _M64
            dseq = ((i & _M64) - mseq) & _M64
            if dms >= 1 << 63:
                dms -= 1 << 64
            if dseq >= 1 << 63:
                dseq -= 1 << 64
            fields = flat[0::2]
            if len(fields) == nfields and fields == mfields:
                lp(body, STREAM_ITEM_FLAG_SAMEFIELDS)
                lp(body, dms)
                lp(body, dseq)
                for x in flat[1::2]:
                    lp(body, x)
                lp(body, nfields + 3)
                n += nfields + 4
            else:
                nf_ = len(fields)
                lp(body, 0)
                lp(body, dms)
                lp(body, dseq)
                lp(body, nf_)
                for x in flat:
                    lp(body, x)
                lp(body, 2 * nf_ + 4)
                n += 2 * nf_ + 5
        put_string(out, master.to_bytes(16, "big"), False)
        put_string(out, enc.lp_finish(body, n), compress)
    put_len(out, len(ids))
    last = s.last_id
    put_len(out, last >> 64)
    put_len(out, last & _M64)
    first = s.first_id
    put_len(out, first >> 64)
    put_len(out, first & _M64)
    md = s.max_deleted
    put_len(out, md >> 64)
    put_len(out, md & _M64)
    put_len(out, s.entries_added)
    groups = s.sorted_groups()
    put_len(out, len(groups))
    for name, g in groups:
        put_string(out, name, False)
        put_len(out, g.last_id >> 64)
        put_len(out, g.last_id & _M64)
        put_len(out, g.entries_read & _M64)
        put_len(out, len(g.pel))
        for i, nack in g.pel.items():
            out += i.to_bytes(16, "big")
            out += _i64.pack(nack.delivery_time)
            put_len(out, nack.delivery_count)
        cons = g.sorted_consumers()
        put_len(out, len(cons))
        for cn in cons:
            put_string(out, cn.name, False)
            out += _i64.pack(cn.seen_time)
            put_len(out, len(cn.pel))
            for i in cn.pel:
                out += i.to_bytes(16, "big")


def put_value(out: bytearray, v, compress: bool, fill: int = -2, depth: int = 0) -> None:
    """The type byte and the serialized object (rdbSaveObjectType + rdbSaveObject)."""
    t = type(v)
    if t is bytes or t is bytearray:
        out.append(T_STRING)
        put_string(out, v, compress)
    elif t is ListValue:
        out.append(T_LIST_QUICKLIST_2)
        _put_list(out, v, compress, fill, depth)
    elif t is HashValue:
        if v.ht:
            out.append(T_HASH)
            put_len(out, len(v))
            for f, x in v.items():
                put_string(out, f, compress)
                put_string(out, x, compress)
        else:
            out.append(T_HASH_LISTPACK)
            body = bytearray(enc.LP_HDR)
            for f, x in v.items():
                enc.lp_entry(body, f)
                enc.lp_entry(body, x)
            put_string(out, enc.lp_finish(body, 2 * len(v)), compress)
    elif t is SetValue:
        if v.intset:
            out.append(T_SET_INTSET)
            put_string(out, enc.intset_build([int(m) for m in v], v.width), compress)
        else:
            out.append(T_SET)
            put_len(out, len(v))
            for m in v:
                put_string(out, m, compress)
    elif t is ZSetValue:
        if v.listpack:
            out.append(T_ZSET_LISTPACK)
            body = bytearray(enc.LP_HDR)
            for score, m in v.sl:
                enc.lp_entry(body, m)
                enc.lp_entry(body, d2string(score))
            put_string(out, enc.lp_finish(body, 2 * len(v)), compress)
        else:
            out.append(T_ZSET_2)
            put_len(out, len(v))
            pack = _dbl.pack
            for score, m in reversed(v.sl):     # greatest first, as Redis
                put_string(out, m, compress)
                out += pack(score)
    elif t is Stream:
        out.append(T_STREAM_LISTPACKS_2)
        _put_stream(out, v, compress)
    else:
        raise TypeError(f"cannot serialize a {t.__name__}")


def dump_payload(v, compress: bool = True, fill: int = -2, depth: int = 0) -> bytes:
    """DUMP's payload: the object, the RDB version (2 bytes LE), CRC64 (8 bytes LE).
    fill, depth: list-max-listpack-size and list-compress-depth (quicklist nodes)."""
    out = bytearray()
    put_value(out, v, compress, fill, depth)
    out += bytes((RDB_VERSION, 0))
    out += _u64.pack(crc64(bytes(out)))
    return bytes(out)


def _aux(out: bytearray, key: bytes, val: bytes) -> None:
    out.append(OP_AUX)
    put_string(out, key, False)
    put_string(out, val, False)


TENANT_AUX = b"securekv-tenant"


def write_rdb(f, dbs, *, compress: bool = True, checksum: bool = True, aof_base: bool = False,
              used_mem: int = 0, functions=(), fill: int = -2, aux=(), tenants=(),
              depth: int = 0, key_delay: int = 0) -> int:
    """Write a whole RDB file to the binary file object f; returns the bytes
    written. `dbs` is a sequence of Database (or objects with `data`/`expires`).
    `tenants`: (name, option words, dbs) of each tenant other than `default`,
    written after the default databases, each behind a `securekv-tenant` AUX
    field (securekv/tenancy/__init__.py); empty: the file is exactly Redis's.
    key_delay: rdb-key-save-delay, microseconds slept after each key (Redis's
    testing knob to make a save last)."""
    out = bytearray(b"REDIS%04d" % RDB_VERSION)
    _aux(out, b"redis-ver", REDIS_VERSION.encode())
    _aux(out, b"redis-bits", b"64")
    _aux(out, b"ctime", b"%d" % int(time.time()))
    _aux(out, b"used-mem", b"%d" % used_mem)
    for k, val in aux:
        _aux(out, k, val)
    _aux(out, b"aof-base", b"1" if aof_base else b"0")
    for code in functions:
        out.append(OP_FUNCTION2)
        put_string(out, code, compress)
    state = [0, 0]              # crc, bytes written
    write = f.write
    pack_ms = _i64.pack

    def spill() -> None:
        chunk = bytes(out)
        if checksum:
            state[0] = crc64(chunk, state[0])
        write(chunk)
        state[1] += len(chunk)
        out.clear()

    def put_dbs(dbs) -> None:
        for dbid, db in enumerate(dbs):
            data = db.data
            if not data:
                continue
            expires = db.expires
            out.append(OP_SELECTDB)
            put_len(out, dbid)
            out.append(OP_RESIZEDB)
            put_len(out, len(data))
            put_len(out, len(expires))
            for key, v in data.items():
                if expires:
                    when = expires.get(key)
                    if when is not None:
                        out.append(OP_EXPIRETIME_MS)
                        out.extend(pack_ms(when))
                t = type(v)
                if t is bytes:
                    out.append(T_STRING)
                    put_string(out, key, compress)
                    put_string(out, v, compress)
                else:
                    # put_value writes the type byte first: the key goes between.
                    tmp = bytearray()
                    put_value(tmp, v, compress, fill, depth)
                    out.append(tmp[0])
                    put_string(out, key, compress)
                    out.extend(memoryview(tmp)[1:])
                if key_delay > 0:
                    time.sleep(key_delay / 1e6)
                if len(out) >= FLUSH_AT:
                    spill()

    put_dbs(dbs)
    for name, words, tdbs in tenants:
        _aux(out, TENANT_AUX, b" ".join([name] + list(words)))
        put_dbs(tdbs)
    out.append(OP_EOF)
    chunk = bytes(out)
    crc = crc64(chunk, state[0]) if checksum else 0
    write(chunk + _u64.pack(crc))
    return state[1] + len(chunk) + 8


def save_file(path: str, dbs, **kw) -> int:
    """Write an RDB to path safely: a temp file in the same directory, fsync,
    rename over path, fsync the directory. Returns the bytes written."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, "temp-%d.rdb" % os.getpid())
    try:
        with open(tmp, "wb", buffering=1 << 20) as f:
            n = write_rdb(f, dbs, **kw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(d)
    return n


def fsync_dir(d: str) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading ---------------------------------------------------------------------------------

class Reader:
    """A cursor over an in-memory RDB (or DUMP payload)."""

    __slots__ = ("buf", "pos", "end", "base")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None, base: int = 0) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.base = base            # added to offsets in errors

    def fail(self, msg: str, pos: int | None = None):
        raise RDBError(msg, self.base + (self.pos if pos is None else pos))

    def need(self, n: int) -> int:
        p = self.pos
        if p + n > self.end:
            self.fail("Unexpected EOF reading RDB file")
        self.pos = p + n
        return p

    def byte(self) -> int:
        p = self.need(1)
        return self.buf[p]

    def raw(self, n: int) -> bytes:
        p = self.need(n)
        return self.buf[p:p + n]

    def len_enc(self) -> tuple[int, bool]:
        """(length, is_encoded): rdbLoadLenByRef."""
        b = self.byte()
        t = b >> 6
        if t == 0:
            return b & 0x3F, False
        if t == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if t == 3:
            return b & 0x3F, True
        if b == 0x80:
            p = self.need(4)
            return _be32.unpack_from(self.buf, p)[0], False
        if b == 0x81:
            p = self.need(8)
            return _be64.unpack_from(self.buf, p)[0], False
        self.fail("Unknown length encoding %d in rdbLoadLen()" % b, self.pos - 1)

    def length(self) -> int:
        start = self.pos
        n, encoded = self.len_enc()
        if encoded:
            self.fail("Unexpected encoded length", start)
        return n

    def string(self) -> bytes:
        """rdbGenericLoadStringObject: raw, integer or LZF forms."""
        start = self.pos
        n, encoded = self.len_enc()
        if not encoded:
            p = self.need(n)
            return self.buf[p:p + n]
        buf = self.buf
        if n == enc.ENC_INT8:
            p = self.need(1)
            v = buf[p]
            return b"%d" % (v - 256 if v > 127 else v)
        if n == enc.ENC_INT16:
            p = self.need(2)
            return b"%d" % int.from_bytes(buf[p:p + 2], "little", signed=True)
        if n == enc.ENC_INT32:
            p = self.need(4)
            return b"%d" % int.from_bytes(buf[p:p + 4], "little", signed=True)
        if n == enc.ENC_LZF:
            clen = self.length()
            ulen = self.length()
            p = self.need(clen)
            if ulen == 0:
                self.fail("Invalid LZF compressed string", start)
            try:
                out = enc.lzf.decompress(bytes(buf[p:p + clen]), ulen)
            except ValueError:
                out = None
            if out is None or len(out) != ulen:
                self.fail("Invalid LZF compressed string", start)
            return out
        self.fail("Unknown RDB string encoding type %d" % n, start)

    def ms(self) -> int:
        p = self.need(8)
        return _i64.unpack_from(self.buf, p)[0]

    def binary_double(self) -> float:
        p = self.need(8)
        return _dbl.unpack_from(self.buf, p)[0]

    def string_double(self) -> float:
        """The old text score form (RDB_TYPE_ZSET)."""
        n = self.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        s = self.raw(n)
        try:
            return float(s)
        except ValueError:
            self.fail("Invalid double value", self.pos - n)

    def blob(self, decode, what: str) -> list:
        """A string holding an encoded container, decoded by `decode`."""
        start = self.pos
        data = self.string()
        try:
            return decode(data)
        except FormatError as e:
            self.fail(f"Corrupt {what}: {e.msg} (blob offset {e.offset})", start)


def _pairs(items: list, r: Reader, start: int, what: str) -> list:
    if len(items) % 2:
        r.fail(f"Odd number of elements in {what}", start)
    return list(zip(items[0::2], items[1::2]))


def _make_hash(pairs, r: Reader, start: int, lim: Limits):
    h = HashValue(pairs)
    if len(h) != len(pairs):
        r.fail("Duplicate hash fields detected", start)
    h.check_encoding(lim.hash_entries, lim.hash_value)
    return h


def _intset_blob(blob: bytes) -> tuple[int, list]:
    return enc.intset_width(blob), enc.intset_decode(blob)


def _make_set(members, r: Reader, start: int, lim: Limits):
    s = SetValue()
    if s.add_many(members, lim.intset) != len(members):
        r.fail("Duplicate set members detected", start)
    return s


def _make_zset(pairs, r: Reader, start: int, lim: Limits):
    seen = set()
    for m, sc in pairs:
        if sc != sc:
            r.fail("Zset with NAN score detected", start)
        seen.add(m)
    if len(seen) != len(pairs):
        r.fail("Duplicate zset fields detected", start)
    return zset_from_pairs(pairs, lim.zset)


def load_object(r: Reader, t: int, lim: Limits = DEFAULT_LIMITS):
    """rdbLoadObject: one value of RDB type t. Returns the value, or None for an
    empty collection (Redis skips those keys)."""
    start = r.pos
    if t == T_STRING:
        return r.string()
    if t == T_LIST:
        n = r.length()
        items = [r.string() for _ in range(n)]
        return ListValue(items) if items else None
    if t == T_LIST_QUICKLIST_2 or t == T_LIST_QUICKLIST:
        nodes = r.length()
        items = []
        for _ in range(nodes):
            if t == T_LIST_QUICKLIST_2:
                cpos = r.pos
                container = r.length()
                if container == QUICKLIST_NODE_PLAIN:
                    items.append(r.string())
                    continue
                if container != QUICKLIST_NODE_PACKED:
                    r.fail("Quicklist integrity check failed", cpos)
                items.extend(r.blob(enc.lp_decode, "listpack"))
            else:
                items.extend(r.blob(enc.ziplist_decode, "ziplist"))
        return ListValue(items) if items else None
    if t == T_LIST_ZIPLIST:
        items = r.blob(enc.ziplist_decode, "ziplist")
        return ListValue(items) if items else None
    if t == T_SET:
        n = r.length()
        members = [r.string() for _ in range(n)]
        return _make_set(members, r, start, lim) if members else None
    if t == T_SET_INTSET:
        width, members = r.blob(_intset_blob, "intset")
        if not members:
            return None
        s = _make_set(members, r, start, lim)
        if s.intset and width > s.width:
            s.width = width             # the payload's width: an intset never narrows
        return s
    if t == T_HASH:
        n = r.length()
        pairs = [(r.string(), r.string()) for _ in range(n)]
        return _make_hash(pairs, r, start, lim) if pairs else None
    if t in (T_HASH_LISTPACK, T_HASH_ZIPLIST, T_HASH_ZIPMAP):
        dec = {T_HASH_LISTPACK: enc.lp_decode, T_HASH_ZIPLIST: enc.ziplist_decode,
               T_HASH_ZIPMAP: enc.zipmap_decode}[t]
        items = r.blob(dec, "hash encoding")
        pairs = _pairs(items, r, start, "hash")
        return _make_hash(pairs, r, start, lim) if pairs else None
    if t == T_ZSET or t == T_ZSET_2:
        n = r.length()
        pairs = []
        for _ in range(n):
            m = r.string()
            sc = r.binary_double() if t == T_ZSET_2 else r.string_double()
            pairs.append((m, sc))
        return _make_zset(pairs, r, start, lim) if pairs else None
    if t == T_ZSET_LISTPACK or t == T_ZSET_ZIPLIST:
        dec = enc.lp_decode if t == T_ZSET_LISTPACK else enc.ziplist_decode
        items = r.blob(dec, "zset encoding")
        raw = _pairs(items, r, start, "zset")
        try:
            pairs = [(m, float(s)) for m, s in raw]
        except ValueError:
            r.fail("Invalid zset score", start)
        return _make_zset(pairs, r, start, lim) if pairs else None
    if t == T_STREAM_LISTPACKS or t == T_STREAM_LISTPACKS_2:
        return _load_stream(r, t, start)
    if t in (T_MODULE, T_MODULE_2):
        r.fail("Module data types are not supported", start)
    r.fail("Unknown RDB encoding type %d" % t, start - 1)


def _load_stream(r: Reader, t: int, start: int) -> Stream:
    s = Stream()
    ids, vals = s.ids, s.vals
    nodes = r.length()
    prev = -1
    for _ in range(nodes):
        kpos = r.pos
        key = r.string()
        if len(key) != 16:
            r.fail("Stream node key entry is not the size of a stream ID", kpos)
        master = int.from_bytes(key, "big")
        lpos = r.pos
        items = r.blob(lambda b: enc.lp_decode(b, as_int=True), "stream listpack")
        if not items:
            r.fail("Empty listpack inside stream", lpos)
        try:
            mms, mseq = master >> 64, master & _M64
            count, deleted, nfields = items[0], items[1], items[2]
            mfields = [x if type(x) is bytes else b"%d" % x for x in items[3:3 + nfields]]
            p = 3 + nfields
            if items[p] != 0:
                raise ValueError
            p += 1
            live = 0
            last = master
            n = len(items)
            while p < n:
                flags = items[p]
                i = ((((mms + items[p + 1]) & _M64) << 64) | ((mseq + items[p + 2]) & _M64))
                p += 3
                if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
                    values = items[p:p + nfields]
                    p += nfields
                    flat = [None] * (2 * nfields)
                    flat[0::2] = mfields
                    flat[1::2] = values
                else:
                    k = items[p]
                    flat = items[p + 1:p + 1 + 2 * k]
                    if len(flat) != 2 * k:
                        raise ValueError
                    p += 1 + 2 * k
                p += 1              # lp-count
                if p > n:
                    raise ValueError
                if not flags & STREAM_ITEM_FLAG_DELETED:
                    if i <= prev:
                        r.fail("Stream entries out of order", lpos)
                    prev = i
                    ids.append(i)
                    vals.append([x if type(x) is bytes else b"%d" % x for x in flat])
                    live += 1
                last = i
            if live != count:
                raise ValueError
        except (ValueError, IndexError, TypeError):
            r.fail("Corrupt stream listpack", lpos)
        if live:
            s.node_first.append(master)
            s.node_live.append(live)
            s.node_total.append(live + deleted)
            s.node_last.append(last)
            s.node_bytes.append(sum(map(lp_size, items[2:])))
            s.tail_fields = tuple(mfields)
    length = r.length()
    if length != len(ids):
        r.fail("Stream length inconsistent with its entries", start)
    s.last_id = (r.length() << 64) | r.length()
    if t == T_STREAM_LISTPACKS_2:
        r.length()
        r.length()          # first id: derived from the entries
        s.max_deleted = (r.length() << 64) | r.length()
        s.entries_added = r.length()
    else:
        s.max_deleted = 0
        s.entries_added = length
    if ids and ids[-1] > s.last_id:
        r.fail("Stream last ID smaller than its entries", start)
    s.mem += sum(ENTRY_OVERHEAD + sum(map(len, f)) + ELEMENT_OVERHEAD * len(f) for f in vals)
    ngroups = r.length()
    for _ in range(ngroups):
        gpos = r.pos
        name = r.string()
        last_id = (r.length() << 64) | r.length()
        if t == T_STREAM_LISTPACKS_2:
            er = r.length()
            if er >= 1 << 63:
                er -= 1 << 64
        else:
            er = None
        g = Group(last_id, 0)
        if name in s.groups:
            r.fail("Duplicated consumer group name", gpos)
        s.groups[name] = g
        if er is None:
            er = s.estimate_entries_read(last_id)
        g.entries_read = er
        npel = r.length()
        for _ in range(npel):
            i = int.from_bytes(r.raw(16), "big")
            nack = NACK(None, r.ms())
            nack.delivery_count = r.length()
            if i in g.pel:
                r.fail("Duplicated global PEL entry loading stream consumer group", gpos)
            g.pel[i] = nack
        ncons = r.length()
        for _ in range(ncons):
            cname = r.string()
            cons = Consumer(cname, r.ms())
            if cname in g.consumers:
                r.fail("Duplicate stream consumer detected", gpos)
            g.consumers[cname] = cons
            n = r.length()
            for _ in range(n):
                ppos = r.pos
                i = int.from_bytes(r.raw(16), "big")
                nack = g.pel.get(i)
                if nack is None:
                    r.fail("Consumer entry not found in group global PEL", ppos)
                if nack.consumer is not None:
                    r.fail("Duplicated consumer PEL entry loading a stream consumer group", ppos)
                nack.consumer = cons
                cons.pel[i] = nack
        for i, nack in g.pel.items():
            if nack.consumer is None:
                r.fail("Stream CG PEL entry without consumer", gpos)
    return s


class LoadResult:
    """A parsed RDB: per db id, (data dict, expires dict); aux fields; function
    libraries; keys skipped as expired; where the RDB ended."""

    def __init__(self) -> None:
        self.dbs: dict[int, tuple[dict, dict]] = {}
        # tenants other than default: name -> (option words, {db id: (data, expires)})
        self.tenants: dict[bytes, tuple[list, dict]] = {}
        self.aux: dict[bytes, bytes] = {}
        self.functions: list[bytes] = []
        self.expired = 0
        self.loaded = 0
        self.empty_skipped = 0
        self.end = 0
        self.version = RDB_VERSION


def load_rdb(buf: bytes, limits: Limits = DEFAULT_LIMITS, *, pos: int = 0,
             check_crc: bool = True, skip_expired: bool = True, now: int | None = None,
             base: int = 0) -> LoadResult:
    """Parse a whole RDB held in buf (from `pos`), or raise RDBError."""
    res = LoadResult()
    if len(buf) - pos < 9:
        raise RDBError("Short read or OOM loading DB. Unrecoverable error, aborting now.",
                       base + len(buf))
    if buf[pos:pos + 5] != b"REDIS":
        raise RDBError("Wrong signature trying to load DB from file", base + pos)
    try:
        ver = int(buf[pos + 5:pos + 9])
    except ValueError:
        ver = -1
    if ver < 1 or ver > RDB_VERSION:
        raise RDBError("Can't handle RDB format version %d" % ver, base + pos + 5)
    res.version = ver
    r = Reader(buf, pos + 9, base=base)
    if now is None:
        now = int(time.time() * 1000)
    cur_data, cur_exp = {}, {}
    res.dbs[0] = (cur_data, cur_exp)
    target = res.dbs            # the databases of the current tenant
    expire = -1
    while True:
        opos = r.pos
        t = r.byte()
        if t == OP_EXPIRETIME_MS:
            expire = r.ms()
            continue
        if t == OP_EXPIRETIME:
            p = r.need(4)
            expire = _u32.unpack_from(buf, p)[0] * 1000
            continue
        if t == OP_FREQ:
            r.byte()
            continue
        if t == OP_IDLE:
            r.length()
            continue
        if t == OP_EOF:
            break
        if t == OP_SELECTDB:
            dbid = r.length()
            if dbid >= limits.ndb:
                r.fail("FATAL: Data file was created with a Redis server configured to handle "
                       "more than %d databases. Exiting" % limits.ndb, opos)
            if dbid not in target:
                target[dbid] = ({}, {})
            cur_data, cur_exp = target[dbid]
            continue
        if t == OP_RESIZEDB:
            r.length()
            r.length()
            continue
        if t == OP_AUX:
            k = r.string()
            v = r.string()
            if k == TENANT_AUX:
                words = v.split()
                if not words or words[0] in res.tenants or words[0] == b"default":
                    r.fail("Invalid or duplicated securekv-tenant section", opos)
                target = {0: ({}, {})}
                res.tenants[words[0]] = (words[1:], target)
                cur_data, cur_exp = target[0]
                continue
            res.aux[k] = v
            continue
        if t == OP_FUNCTION2:
            res.functions.append(r.string())
            continue
        if t == OP_FUNCTION:
            r.fail("Pre-release function format not supported", opos)
        if t == OP_MODULE_AUX:
            r.fail("The RDB file contains AUX module data I can't load: no matching module",
                   opos)
        kpos = r.pos
        key = r.string()
        val = load_object(r, t, limits)
        when = expire
        expire = -1
        if val is None:
            res.empty_skipped += 1
            continue
        if when != -1 and skip_expired and when < now:
            res.expired += 1
            continue
        if key in cur_data:
            r.fail("RDB has duplicated key '%s'" % key.decode("utf-8", "replace"), kpos)
        cur_data[key] = val
        if when != -1:
            cur_exp[key] = when
        res.loaded += 1
    if ver >= 5:
        cpos = r.pos
        p = r.need(8)
        expected = _u64.unpack_from(buf, p)[0]
        if check_crc and expected != 0:
            got = crc64(bytes(buf[pos:cpos]))
            if got != expected:
                raise RDBError("Wrong RDB checksum expected: (%016x) but got (%016x). Aborting now."
                               % (got, expected), base + cpos, "RDB CRC error")
    res.end = r.pos
    return res


def load_payload(payload: bytes, limits: Limits = DEFAULT_LIMITS):
    """RESTORE: check version and CRC (verifyDumpPayload) and load the object.
    Raises ValueError with Redis's error text."""
    n = len(payload)
    if n < 10:
        raise ValueError("ERR DUMP payload version or checksum are wrong")
    ver = payload[n - 10] | (payload[n - 9] << 8)
    if ver > RDB_VERSION:
        raise ValueError("ERR DUMP payload version or checksum are wrong")
    if _u64.unpack_from(payload, n - 8)[0] != crc64(payload[:n - 8]):
        raise ValueError("ERR DUMP payload version or checksum are wrong")
    r = Reader(payload, 0, n - 10)
    try:
        t = r.byte()
        if t > T_STREAM_LISTPACKS_2 or t in (8,):
            raise RDBError("bad type", 0)
        v = load_object(r, t, limits)
    except RDBError:
        raise ValueError("ERR Bad data format") from None
    if v is None or r.pos != r.end:
        raise ValueError("ERR Bad data format")
    return v


def install(keyspace, res: LoadResult, flush: bool = True) -> None:
    """Put a parsed RDB into the keyspace's databases (replacing their contents)."""
    for idx, db in enumerate(keyspace.dbs):
        got = res.dbs.get(idx)
        if flush:
            db.flush()
        if not got:
            continue
        data, exp = got
        if not data:
            continue
        if not flush and db.data:
            db.data.update(data)
            db.expires.update(exp)
        else:
            db.data = data
            db.expires = exp
        heap = [(w, k) for k, w in db.expires.items()]
        heapq.heapify(heap)
        db.heap = heap
        db.mem = sum(estimate(k, v) for k, v in db.data.items())


def read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
