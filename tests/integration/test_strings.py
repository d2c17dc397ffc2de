"""String commands across real connections: keyspace notifications, expiry,
WATCH, RESP3 shapes, propagation (in-process, through the propagation seam)
and the LCS walk against a straightforward DP."""

import random
import time

import pytest

from helpers import RawConn


# -- keyspace notifications ---------------------------------------------------------

def events_of(server, *commands):
    """Run commands on one connection; return the (event, key) pairs published on
    __keyevent@0__ in order (a PUBLISH sentinel marks the end)."""
    sub = RawConn(server.port)
    c = RawConn(server.port)
    c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
    for cmd in commands:
        c.cmd(*cmd)
    c.cmd("PUBLISH", "__keyevent@0__:zz-end", "end")
    out = []
    while True:
        msg = sub.read_reply()
        parts = msg.split(b"\r\n")
        # *4 $8 pmessage $n pattern $n channel $n payload
        channel, payload = parts[6], parts[8]
        event = channel.split(b":", 1)[1]
        if event == b"zz-end":
            break
        out.append((event.decode(), payload.decode()))
    c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
    sub.close()
    c.close()
    return out


def test_notifications_set_family(server):
    assert events_of(server, ("SET", "n:a", "1"), ("SET", "n:a", "1", "EX", "100"),
                     ("SET", "n:a", "2", "NX"), ("SETNX", "n:b", "1"), ("SETNX", "n:b", "1"),
                     ("SETEX", "n:c", "100", "v"), ("PSETEX", "n:c", "100000", "v"),
                     ("GETSET", "n:c", "w"), ("GETDEL", "n:c"), ("GETDEL", "n:c")) == [
        ("set", "n:a"), ("set", "n:a"), ("expire", "n:a"), ("set", "n:b"),
        ("set", "n:c"), ("expire", "n:c"), ("set", "n:c"), ("expire", "n:c"),
        ("set", "n:c"), ("del", "n:c")]


def test_notifications_getex(server):
    assert events_of(server, ("SET", "n:g", "v"), ("GETEX", "n:g"), ("GETEX", "n:g", "PERSIST"),
                     ("GETEX", "n:g", "EX", "100"), ("GETEX", "n:g", "PERSIST"),
                     ("GETEX", "n:g", "PXAT", "1")) == [
        ("set", "n:g"), ("expire", "n:g"), ("persist", "n:g"), ("del", "n:g")]


def test_notifications_multi_and_counters(server):
    assert events_of(server, ("MSET", "n:x", "1", "n:y", "2"), ("MSETNX", "n:x", "1", "n:z", "1"),
                     ("MSETNX", "n:z", "1", "n:w", "1"), ("APPEND", "n:x", "0"),
                     ("SETRANGE", "n:x", "0", "5"), ("SETRANGE", "n:x", "0", ""),
                     ("INCR", "n:x"), ("DECRBY", "n:x", "3"), ("INCRBYFLOAT", "n:x", "0.5"),
                     ("INCR", "n:x")) == [
        ("set", "n:x"), ("set", "n:y"), ("set", "n:z"), ("set", "n:w"), ("append", "n:x"),
        ("setrange", "n:x"), ("incrby", "n:x"), ("incrby", "n:x"), ("incrbyfloat", "n:x")]


def test_notifications_bitmaps(server):
    assert events_of(server, ("SETBIT", "n:bm", "3", "1"), ("SETBIT", "n:bm", "3", "1"),
                     ("SETBIT", "n:bm", "3", "0"), ("BITFIELD", "n:bm", "GET", "u8", "0"),
                     ("BITFIELD", "n:bm", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "1"),
                     ("BITOP", "NOT", "n:bd", "n:bm"), ("BITOP", "AND", "n:bd", "n:none"),
                     ("BITOP", "AND", "n:bd", "n:none")) == [
        ("setbit", "n:bm"), ("setbit", "n:bm"), ("setbit", "n:bm"), ("set", "n:bd"),
        ("del", "n:bd")]


# -- expiry, WATCH, RESP3 -----------------------------------------------------------------

def wait_gone(r, key, timeout=5.0):
    deadline = time.monotonic() + timeout
    while r.get(key) is not None:
        assert time.monotonic() < deadline, f"{key!r} did not expire"
        time.sleep(0.01)


def test_set_px_and_keepttl_expire(r):
    r.set("e:a", "v", px=50)
    r.set("e:a", "w", keepttl=True)
    assert r.get("e:a") == b"w"
    wait_gone(r, "e:a")
    r.psetex("e:b", 50, "v")
    wait_gone(r, "e:b")
    r.set("e:c", "v")
    assert r.getex("e:c", px=50) == b"v"
    wait_gone(r, "e:c")
    r.set("e:d", "1", px=50)
    r.incr("e:d")                          # INCR keeps the TTL
    r.append("e:d", "x")                   # so does APPEND
    wait_gone(r, "e:d")


def test_in_place_writes_invalidate_watch(server):
    for cmd in (("APPEND", "w:k", "x"), ("SETRANGE", "w:k", "1", "y"), ("SETBIT", "w:k", "0", "1"),
                ("BITFIELD", "w:k", "INCRBY", "u8", "0", "1"), ("INCRBYFLOAT", "w:n", "1"),
                ("INCR", "w:i")):
        a = RawConn(server.port)
        b = RawConn(server.port)
        a.cmd("SET", "w:k", "abc")
        a.cmd("SET", "w:n", "1")
        a.cmd("SET", "w:i", "1")
        a.cmd("WATCH", cmd[1])
        b.cmd(*cmd)
        a.cmd("MULTI")
        a.cmd("GET", cmd[1])
        assert a.cmd("EXEC") == b"*-1\r\n", cmd
        a.close()
        b.close()


def test_resp3_shapes(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("MSET", "r:a", "ohmytext", "r:b", "mynewtext")
    assert raw.cmd("LCS", "r:a", "r:b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        b"%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        b"$3\r\nlen\r\n:6\r\n")
    assert raw.cmd("GET", "r:none") == b"_\r\n"
    assert raw.cmd("MGET", "r:a", "r:none") == b"*2\r\n$8\r\nohmytext\r\n_\r\n"
    assert raw.cmd("BITFIELD", "r:f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9") == b"*1\r\n_\r\n"
    assert raw.cmd("INCRBYFLOAT", "r:x", "1.5") == b"$3\r\n1.5\r\n"


def test_values_are_binary_safe(r):
    blob = bytes(range(256)) * 4
    r.set("bin:a", blob)
    assert r.get("bin:a") == blob
    assert r.append("bin:a", b"\x00\r\n") == len(blob) + 3
    assert r.getrange("bin:a", -3, -1) == b"\x00\r\n"
    r.setrange("bin:a", 0, b"\xff\x00")
    assert r.get("bin:a")[:2] == b"\xff\x00"
    assert r.mget("bin:a")[0] == r.get("bin:a")


def test_raw_values_are_copied_in_replies(r):
    """A reply must not alias a bytearray that a later command edits in place."""
    r.setbit("cp:a", 7, 1)
    p = r.pipeline(transaction=False)
    p.get("cp:a")
    p.setbit("cp:a", 6, 1)
    p.get("cp:a")
    p.getdel("cp:a")
    assert p.execute() == [b"\x01", 0, b"\x03", b"\x03"]
    r.setrange("cp:b", 0, "ab")
    p = r.pipeline(transaction=False)
    p.set("cp:b", "zz", get=True)
    p.getset("cp:b", "yy")
    assert p.execute() == [b"ab", b"zz"]


def test_incr_counter_sequence(r):
    p = r.pipeline(transaction=False)
    for _ in range(1000):
        p.incr("cnt")
    assert p.execute()[-1] == 1000
    assert r.get("cnt") == b"1000"


def test_mset_mget_many_keys(r):
    kv = {f"m:{i}": str(i) for i in range(500)}
    assert r.mset(kv) is True
    assert r.mget(list(kv)) == [v.encode() for v in kv.values()]


# -- LCS against a plain DP walk ------------------------------------------------------------

def lcs_reference(a: bytes, b: bytes, minmatchlen=0, withmatchlen=False):
    """Redis's lcsCommand, literally: the table, then the walk back."""
    alen, blen = len(a), len(b)
    T = [[0] * (blen + 1) for _ in range(alen + 1)]
    for i in range(1, alen + 1):
        for j in range(1, blen + 1):
            T[i][j] = T[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(T[i - 1][j], T[i][j - 1])
    idx = T[alen][blen]
    res = bytearray(idx)
    matches = []
    i, j = alen, blen
    ast, aen, bst, ben = alen, 0, 0, 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            res[idx - 1] = a[i - 1]
            if ast == alen:
                ast = aen = i - 1
                bst = ben = j - 1
            elif ast == i and bst == j:
                ast -= 1
                bst -= 1
            else:
                emit = True
            if ast == 0 or bst == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if T[i - 1][j] > T[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if ast != alen:
                emit = True
        if emit:
            ml = aen - ast + 1
            if minmatchlen == 0 or ml >= minmatchlen:
                m = [[ast, aen], [bst, ben]]
                if withmatchlen:
                    m.append(ml)
                matches.append(m)
            ast = alen
    return bytes(res), matches, T[alen][blen]


def test_lcs_matches_reference_dp(r):
    rnd = random.Random(7)
    for _ in range(150):
        a = bytes(rnd.choice(b"acgt") for _ in range(rnd.randint(0, 40)))
        b = bytes(rnd.choice(b"acgt") for _ in range(rnd.randint(0, 40)))
        r.mset({"l:a": a, "l:b": b})
        s, matches, n = lcs_reference(a, b, 2, True)
        assert r.execute_command("LCS", "l:a", "l:b") == s
        assert r.execute_command("LCS", "l:a", "l:b", "LEN") == n
        got = r.execute_command("LCS", "l:a", "l:b", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN")
        assert got == [b"matches", matches, b"len", n]


def test_lcs_long_strings(r):
    rnd = random.Random(3)
    a = bytes(rnd.choice(b"ab") for _ in range(2000))
    b = bytes(rnd.choice(b"ab") for _ in range(2000))
    r.mset({"l:la": a, "l:lb": b})
    s = r.execute_command("LCS", "l:la", "l:lb")
    n = r.execute_command("LCS", "l:la", "l:lb", "LEN")
    assert len(s) == n and n > 1000
    it = iter(a)
    assert all(ch in it for ch in s)       # a subsequence of a
    it = iter(b)
    assert all(ch in it for ch in s)       # and of b


def test_lcs_transient_memory_limit(server):
    c = RawConn(server.port)
    c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    c.cmd("SET", "l:x", "a" * 600)
    c.cmd("SET", "l:y", "a" * 600)
    assert c.cmd("LCS", "l:x", "l:y", "LEN") == (
        b"-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
    assert c.cmd("SETRANGE", "l:x", "1048576", "x") == (
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
    assert c.cmd("APPEND", "l:x", "a" * 1048000) == (
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
    c.cmd("CONFIG", "SET", "proto-max-bulk-len", "536870912")
    c.close()


# -- propagation (in-process, through the seam AOF and replicas subscribe to) ---------------

@pytest.fixture
def seam():
    import securekv.commands  # noqa: F401  (registers the command table)
    from securekv.config import Config
    from securekv.net.connection import Client
    from securekv.server import Server
    srv = Server(Config())
    c = Client(srv)
    log = []
    srv.propagation_subscribers.append(lambda cl, db, items, *ks: log.extend(items))

    def run(*args):
        c.out.clear()
        srv.execute(c, [a.encode() if isinstance(a, str) else a for a in args])
        return b"".join(c.out)
    return run, log


def test_propagation_rewrites(seam):
    run, log = seam
    run("SET", "k", "v", "EX", "100")
    assert log[-1][:4] == [b"SET", b"k", b"v", b"PXAT"] and len(log[-1]) == 5
    at = int(log[-1][4])
    assert abs(at - (time.time() * 1000 + 100000)) < 5000
    run("SET", "k", "v", "PXAT", "99999999999999", "GET", "XX")
    assert log[-1] == [b"SET", b"k", b"v", b"PXAT", b"99999999999999"]
    run("SET", "k", "w", "get", "KEEPTTL", "GET")
    assert log[-1] == [b"SET", b"k", b"w", b"KEEPTTL"]
    n = len(log)
    run("SET", "k", "w", "NX", "GET")                  # refused: nothing to replay
    run("SETNX", "k", "x")
    run("GET", "k")
    assert len(log) == n
    run("SETEX", "s", "100", "v")
    assert log[-1][:4] == [b"SET", b"s", b"v", b"PXAT"]
    run("GETSET", "s", "z")
    assert log[-1] == [b"SET", b"s", b"z"]
    run("GETEX", "s", "PX", "100000")
    assert log[-1][:2] == [b"PEXPIREAT", b"s"]
    run("GETEX", "s", "PERSIST")
    assert log[-1] == [b"PERSIST", b"s"]
    n = len(log)
    run("GETEX", "s", "PERSIST")                        # no TTL left: nothing changes
    assert len(log) == n
    run("GETEX", "s", "EXAT", "1")
    assert log[-1] == [b"DEL", b"s"]
    run("SET", "s", "1")
    run("GETDEL", "s")
    assert log[-1] == [b"DEL", b"s"]
    run("CONFIG", "SET", "lazyfree-lazy-user-del", "yes")
    run("SET", "s", "1")
    run("GETDEL", "s")
    assert log[-1] == [b"UNLINK", b"s"]
    run("INCRBYFLOAT", "f", "10.5")
    run("INCRBYFLOAT", "f", "0.1")
    assert log[-1] == [b"SET", b"f", b"10.6", b"KEEPTTL"]
    n = len(log)
    run("SETBIT", "b", "1", "1")
    run("SETBIT", "b", "1", "1")                        # unchanged: not replayed
    run("BITFIELD", "b", "GET", "u8", "0")
    assert len(log) == n + 1 and log[-1] == [b"SETBIT", b"b", b"1", b"1"]
    assert run("INCRBYFLOAT", "f", "x") == b"-ERR value is not a valid float\r\n"
    run("INCR", "i")
    assert log[-1] == [b"INCR", b"i"]
