"""Bitmap commands on a real server: large bitmaps, BITOP over long strings, and
BITCOUNT/BITPOS/BITFIELD against per-bit reference implementations."""

import random

from helpers import RawConn


def bit(s: bytes, i: int) -> int:
    return (s[i >> 3] >> (7 - (i & 7))) & 1 if (i >> 3) < len(s) else 0


def norm(start, end, total):
    if start < 0:
        start += total
    if end < 0:
        end += total
    start, end = max(start, 0), max(end, 0)
    return start, min(end, total - 1)


def ref_bitcount(s, start, end, isbit):
    if start < 0 and end < 0 and start > end:
        return 0
    total = len(s) * 8 if isbit else len(s)
    start, end = norm(start, end, total)
    if start > end:
        return 0
    if not isbit:
        start, end = start * 8, end * 8 + 7
    return sum(bit(s, i) for i in range(start, end + 1))


def ref_bitpos(s, b, start=None, end=None, isbit=False):
    if start is None:
        lo, hi, end_given = 0, len(s) * 8 - 1, False
    else:
        end_given = end is not None
        total = len(s) * 8 if isbit else len(s)
        start, end = norm(start, len(s) - 1 if end is None else end, total)
        if start > end:
            return -1
        lo, hi = (start, end) if isbit else (start * 8, end * 8 + 7)
    if lo > hi:
        return -1
    for i in range(lo, hi + 1):
        if bit(s, i) == b:
            return i
    if b == 1 or end_given:
        return -1
    return hi + 1


def test_bitcount_bitpos_against_reference(r):
    rnd = random.Random(11)
    for _ in range(60):
        s = bytes(rnd.choice([0, 255, 1, 128, 0x0F, rnd.randrange(256)]) for _ in range(rnd.randint(1, 9)))
        r.set("bm:s", s)
        for _ in range(10):
            a, b = rnd.randint(-80, 80), rnd.randint(-80, 80)
            isbit = rnd.random() < 0.5
            unit = "BIT" if isbit else "BYTE"
            assert r.execute_command("BITCOUNT", "bm:s", a, b, unit) == ref_bitcount(s, a, b, isbit)
            want = rnd.choice([0, 1])
            assert r.execute_command("BITPOS", "bm:s", want) == ref_bitpos(s, want)
            assert r.execute_command("BITPOS", "bm:s", want, a) == ref_bitpos(s, want, a)
            assert r.execute_command("BITPOS", "bm:s", want, a, b, unit) == \
                ref_bitpos(s, want, a, b, isbit)


def test_large_bitmap(r):
    off = 8 * 1024 * 1024 * 4 + 3          # a 4 MiB bitmap
    assert r.setbit("bm:big", off, 1) == 0
    assert r.strlen("bm:big") == (off >> 3) + 1
    assert r.getbit("bm:big", off) == 1
    assert r.bitcount("bm:big") == 1
    assert r.bitpos("bm:big", 1) == off
    assert r.bitpos("bm:big", 0) == 0
    r.setbit("bm:big", 5, 1)
    assert r.bitcount("bm:big") == 2
    assert r.execute_command("BITCOUNT", "bm:big", 1, -1) == 1
    assert r.execute_command("BITPOS", "bm:big", 1, 6, -1, "BIT") == off
    assert r.bitop("NOT", "bm:inv", "bm:big") == (off >> 3) + 1
    assert r.bitcount("bm:inv") == ((off >> 3) + 1) * 8 - 2
    assert r.bitop("AND", "bm:and", "bm:big", "bm:inv") == (off >> 3) + 1
    assert r.bitcount("bm:and") == 0
    assert r.bitpos("bm:and", 1) == -1
    assert r.bitop("OR", "bm:or", "bm:big", "bm:inv", "bm:missing") == (off >> 3) + 1
    assert r.bitpos("bm:or", 0) == ((off >> 3) + 1) * 8


def test_bitop_against_reference(r):
    rnd = random.Random(5)
    for _ in range(40):
        vals = [bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 20)))
                for _ in range(rnd.randint(1, 4))]
        keys = []
        for i, v in enumerate(vals):
            keys.append(f"bm:src{i}")
            r.set(keys[-1], v)
        n = max(len(v) for v in vals)
        padded = [v + bytes(n - len(v)) for v in vals]
        for op in ("AND", "OR", "XOR"):
            out = bytearray(padded[0])
            for v in padded[1:]:
                for j in range(n):
                    out[j] = out[j] & v[j] if op == "AND" else out[j] | v[j] if op == "OR" \
                        else out[j] ^ v[j]
            assert r.bitop(op, "bm:dst", *keys) == n
            assert r.get("bm:dst") == (bytes(out) if n else None)
        assert r.bitop("NOT", "bm:dst", keys[0]) == len(vals[0])
        assert r.get("bm:dst") == (bytes(255 - x for x in vals[0]) if vals[0] else None)


def test_bitfield_against_reference(r):
    rnd = random.Random(9)
    model = bytearray()

    def get(off, bits, signed):
        v = 0
        for i in range(off, off + bits):
            v = (v << 1) | bit(bytes(model), i)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        return v

    def put(off, bits, value):
        need = (off + bits - 1) // 8 + 1
        if len(model) < need:
            model.extend(bytes(need - len(model)))
        for k in range(bits):
            i = off + k
            b_ = (value >> (bits - 1 - k)) & 1
            if b_:
                model[i >> 3] |= 0x80 >> (i & 7)
            else:
                model[i >> 3] &= ~(0x80 >> (i & 7)) & 0xFF

    for _ in range(300):
        signed = rnd.random() < 0.5
        bits = rnd.randint(1, 64 if signed else 63)
        off = rnd.randint(0, 100)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        t = ("i" if signed else "u") + str(bits)
        mode = rnd.choice(["WRAP", "SAT", "FAIL"])
        incr = rnd.randint(-(1 << min(bits, 62)), 1 << min(bits, 62))
        old = get(off, bits, signed)
        got = r.execute_command("BITFIELD", "bm:f", "OVERFLOW", mode, "INCRBY", t, off, incr,
                                "GET", t, off)
        exact = old + incr
        if lo <= exact <= hi:
            new = exact
        elif mode == "SAT":
            new = hi if exact > hi else lo
        elif mode == "WRAP":
            new = exact & ((1 << bits) - 1)
            if signed and new >> (bits - 1):
                new -= 1 << bits
        else:
            new = None
        if new is None:
            # FAIL still sizes the string for the write it refused, as Redis.
            need = (off + bits - 1) // 8 + 1
            if len(model) < need:
                model.extend(bytes(need - len(model)))
            assert got == [None, old]
        else:
            put(off, bits, new)
            assert got == [new, new]
        assert r.get("bm:f") == bytes(model)


def test_bitfield_ro_and_offsets(raw):
    assert raw.cmd("SETBIT", "bm:o", "4294967295", "1") == b":0\r\n"
    assert raw.cmd("BITFIELD_RO", "bm:o", "GET", "u1", "4294967295", "GET", "u8", "#536870911") == \
        b"*2\r\n:1\r\n:1\r\n"
    assert raw.cmd("BITFIELD_RO", "bm:o", "INCRBY", "u1", "0", "1") == \
        b"-ERR BITFIELD_RO only supports the GET subcommand\r\n"
    assert raw.cmd("SETBIT", "bm:o", "4294967296", "1") == \
        b"-ERR bit offset is not an integer or out of range\r\n"
    raw.cmd("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    assert raw.cmd("SETBIT", "bm:o2", str(8 * 1048576), "1") == \
        b"-ERR bit offset is not an integer or out of range\r\n"
    assert raw.cmd("SETBIT", "bm:o2", str(8 * 1048576 - 1), "1") == b":0\r\n"
    raw.cmd("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def test_setbit_grows_string_and_invalidates_watch(server):
    a = RawConn(server.port)
    b = RawConn(server.port)
    a.cmd("SET", "bm:t", "x", "EX", "1000")
    a.cmd("WATCH", "bm:t")
    assert b.cmd("SETBIT", "bm:t", "100", "1") == b":0\r\n"
    a.cmd("MULTI")
    a.cmd("GET", "bm:t")
    assert a.cmd("EXEC") == b"*-1\r\n"
    assert a.cmd("STRLEN", "bm:t") == b":13\r\n"
    a.close()
    b.close()
