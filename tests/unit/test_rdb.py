"""RDB encodings: listpack/intset round trips, the old ziplist/zipmap forms on
load (built here by small test encoders), lengths and strings, truncation and
bit flips always raising RDBError with an offset (never a partial load)."""

from __future__ import annotations

import random
import struct

import pytest

from securekv.engine.hashtype import HashValue
from securekv.engine.listtype import ListValue
from securekv.engine.settype import SetValue
from securekv.engine.streamtype import Stream
from securekv.engine.zsettype import zset_from_pairs
from securekv.persistence import encoding as enc
from securekv.persistence import rdb


class FakeDB:
    def __init__(self, data, expires=None):
        self.data = data
        self.expires = expires or {}


def write(dbs, **kw) -> bytes:
    import io
    f = io.BytesIO()
    rdb.write_rdb(f, dbs, **kw)
    return f.getvalue()


# -- test-only encoders for the old forms Redis 7.0 still loads ---------------------------

def ziplist(items) -> bytes:
    body = bytearray()
    prevlen = 0
    for it in items:
        e = bytearray()
        e += bytes((prevlen,)) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
        if isinstance(it, int):
            if 0 <= it <= 12:
                e.append(0xF1 + it)
            elif -128 <= it <= 127:
                e += b"\xfe" + struct.pack("<b", it)
            elif -32768 <= it <= 32767:
                e += b"\xc0" + struct.pack("<h", it)
            elif -(1 << 23) <= it < (1 << 23):
                e += b"\xf0" + (it & 0xFFFFFF).to_bytes(3, "little")
            elif -(1 << 31) <= it < (1 << 31):
                e += b"\xd0" + struct.pack("<i", it)
            else:
                e += b"\xe0" + struct.pack("<q", it)
        else:
            n = len(it)
            if n < 64:
                e.append(n)
            elif n < 16384:
                e += bytes((0x40 | (n >> 8), n & 0xFF))
            else:
                e += b"\x80" + struct.pack(">I", n)
            e += it
        body += e
        prevlen = len(e)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, 0, len(items)) + bytes(body) + b"\xff"


def zipmap(pairs) -> bytes:
    out = bytearray((len(pairs),))
    for k, v in pairs:
        out += bytes((len(k),)) + k
        out += bytes((len(v),)) + b"\x02" + v + b"\0\0"
    return bytes(out) + b"\xff"


def rdb_with(t: int, key: bytes, payload: bytes, ver: int = 10) -> bytes:
    body = b"REDIS%04d" % ver + bytes((t,))
    out = bytearray()
    enc.put_string(out, key, False)
    body += bytes(out) + payload + b"\xff"
    return body + enc.crc64(body).to_bytes(8, "little")


def str_enc(s: bytes) -> bytes:
    out = bytearray()
    enc.put_string(out, s, False)
    return bytes(out)


# -- tests ----------------------------------------------------------------------------

def test_crc64_jones_check_value():
    assert enc.crc64(b"123456789") == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize("n", [0, 1, 63, 64, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 63])
def test_lengths_round_trip(n):
    out = bytearray()
    enc.put_len(out, n)
    r = rdb.Reader(bytes(out))
    assert r.length() == n and r.pos == len(out)


@pytest.mark.parametrize("s", [b"", b"0", b"-1", b"127", b"-128", b"32767", b"2147483647",
                               b"-2147483648", b"2147483648", b"007", b"a" * 21, b"ab" * 500,
                               bytes(range(256))])
def test_strings_round_trip(s):
    out = bytearray()
    enc.put_string(out, s, True)
    assert rdb.Reader(bytes(out)).string() == s


def test_listpack_every_encoding():
    items = [b"0", b"127", b"128", b"-1", b"4095", b"-4096", b"32767", b"-32768", b"8388607",
             b"-8388608", b"2147483647", b"-2147483649", b"9223372036854775807",
             b"-9223372036854775808", b"9223372036854775808", b"01", b"", b"a" * 63,
             b"b" * 64, b"c" * 4095, b"d" * 4096, b"x" * 20000]
    assert enc.lp_decode(enc.lp_build(items)) == items


def test_intset_widths():
    for vals in ([1, 2, 3], [70000, -5], [2 ** 40, -(2 ** 62), 0]):
        assert enc.intset_decode(enc.intset_build(vals)) == [b"%d" % v for v in sorted(vals)]


def test_ziplist_and_zipmap_decode():
    items = [0, 12, 13, -128, 1000, -70000, 1 << 30, 1 << 40, b"abc", b"z" * 300]
    assert enc.ziplist_decode(ziplist(items)) == [
        x if isinstance(x, bytes) else b"%d" % x for x in items]
    assert enc.zipmap_decode(zipmap([(b"a", b"1"), (b"bb", b"22")])) == [b"a", b"1", b"bb", b"22"]


def test_old_forms_load():
    cases = [
        (rdb.T_LIST_ZIPLIST, str_enc(ziplist([b"a", 1, b"b"])), [b"a", b"1", b"b"]),
        (rdb.T_LIST_QUICKLIST, b"\x02" + str_enc(ziplist([b"a"])) + str_enc(ziplist([5])),
         [b"a", b"5"]),
        (rdb.T_LIST, b"\x02" + str_enc(b"x") + str_enc(b"y"), [b"x", b"y"]),
    ]
    for t, payload, expected in cases:
        res = rdb.load_rdb(rdb_with(t, b"k", payload))
        v = res.dbs[0][0][b"k"]
        assert isinstance(v, ListValue) and list(v) == expected
    h = rdb.load_rdb(rdb_with(rdb.T_HASH_ZIPMAP, b"h", str_enc(zipmap([(b"f", b"v")]))))
    assert dict(h.dbs[0][0][b"h"]) == {b"f": b"v"}
    h = rdb.load_rdb(rdb_with(rdb.T_HASH_ZIPLIST, b"h", str_enc(ziplist([b"f", 7]))))
    assert dict(h.dbs[0][0][b"h"]) == {b"f": b"7"}
    z = rdb.load_rdb(rdb_with(rdb.T_ZSET_ZIPLIST, b"z", str_enc(ziplist([b"m", 3, b"n",
                                                                        b"1.5"]))))
    assert dict(z.dbs[0][0][b"z"]) == {b"m": 3.0, b"n": 1.5}
    z = rdb.load_rdb(rdb_with(rdb.T_ZSET, b"z", b"\x02" + str_enc(b"a") + b"\x031.5"
                              + str_enc(b"b") + b"\xfe"))
    assert dict(z.dbs[0][0][b"z"]) == {b"a": 1.5, b"b": float("inf")}
    # Seconds expire (old opcode) and an RDB version 9 file.
    body = b"REDIS0009\xfd" + struct.pack("<I", 4_000_000_000) + b"\x00" + str_enc(b"k") + \
        str_enc(b"v") + b"\xff"
    res = rdb.load_rdb(body + enc.crc64(body).to_bytes(8, "little"))
    assert res.dbs[0][1][b"k"] == 4_000_000_000_000


def sample_dbs():
    z = zset_from_pairs([(b"a", 1.0), (b"b", 2.5)], (128, 64))
    big = zset_from_pairs([(b"m%d" % i, float(i)) for i in range(300)], (128, 64))
    s = SetValue()
    s.add_many([b"1", b"2"], 512)
    s2 = SetValue()
    s2.add_many([b"x", b"y"], 512)
    h = HashValue([(b"f", b"v"), (b"n", b"1")])
    st = Stream()
    for i in range(1, 300):
        st.append((i << 64) | 1, [b"f", b"%d" % i, b"g", b"x"], 100, 4096)
    st.append((400 << 64), [b"other", b"1"], 100, 4096)
    return [FakeDB({b"s": b"str", b"n": b"12", b"l": ListValue([b"a", b"1"] * 3000), b"z": z,
                    b"bz": big, b"set": s, b"set2": s2, b"h": h, b"st": st},
                   {b"s": 99_999_999_999_999}), FakeDB({}), FakeDB({b"other": b"db2"})]


def test_write_then_load_round_trip():
    data = write(sample_dbs())
    res = rdb.load_rdb(data)
    d0, e0 = res.dbs[0]
    assert d0[b"s"] == b"str" and e0 == {b"s": 99_999_999_999_999}
    assert list(d0[b"l"]) == [b"a", b"1"] * 3000
    assert dict(d0[b"z"]) == {b"a": 1.0, b"b": 2.5} and d0[b"z"].listpack
    assert not d0[b"bz"].listpack and len(d0[b"bz"]) == 300
    assert set(d0[b"set"]) == {b"1", b"2"} and d0[b"set"].intset
    assert set(d0[b"set2"]) == {b"x", b"y"} and not d0[b"set2"].intset
    st = d0[b"st"]
    assert len(st) == 300 and st.vals[-1] == [b"other", b"1"] and st.last_id == 400 << 64
    assert res.dbs[2][0] == {b"other": b"db2"}
    assert res.aux[b"redis-ver"] == b"7.0.15"


def test_every_truncation_fails_with_an_offset():
    data = write(sample_dbs()[:1][:1], compress=True)
    rnd = random.Random(7)
    cuts = sorted(set(rnd.randrange(0, len(data)) for _ in range(300)))
    for cut in cuts:
        with pytest.raises(rdb.RDBError) as ei:
            rdb.load_rdb(data[:cut])
        assert ei.value.offset <= len(data)


def test_bit_flips_never_load_silently():
    data = bytearray(write(sample_dbs()[:1]))
    rnd = random.Random(3)
    for _ in range(300):
        i = rnd.randrange(9, len(data))
        bad = bytearray(data)
        bad[i] ^= 1 << rnd.randrange(8)
        with pytest.raises(rdb.RDBError):
            rdb.load_rdb(bytes(bad))


def test_dump_payload_checks():
    p = rdb.dump_payload(b"hello")
    assert rdb.load_payload(p) == b"hello"
    for bad in (b"", p[:-1], p[:-10] + b"\x0b\x00" + p[-8:], b"x" + p[1:]):
        with pytest.raises(ValueError):
            rdb.load_payload(bad)


def test_d2string_matches_redis():
    assert rdb.d2string(1.0) == b"1"
    assert rdb.d2string(-0.0) == b"-0"
    assert rdb.d2string(0.1) == b"0.10000000000000001"
    assert rdb.d2string(1e20) == b"1e+20"
    assert rdb.d2string(float("inf")) == b"inf"
