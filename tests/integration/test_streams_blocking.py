"""Blocking XREAD / XREADGROUP: wake-ups, timeouts, FIFO fairness, deleted
streams and groups, MULTI."""

import pytest

from helpers import RawConn, send


@pytest.fixture
def pair(server):
    a = RawConn(server.port)
    b = RawConn(server.port)
    b.cmd("FLUSHALL")
    yield a, b
    a.close()
    b.close()


def wait_blocked(b, n=1):
    """Poll INFO clients until n clients are blocked."""
    import time
    for _ in range(500):
        info = b.cmd("INFO", "clients")
        if b"blocked_clients:%d" % n in info:
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


def test_xread_block_wakes_on_xadd(pair):
    a, b = pair
    b.cmd("XADD", "s", "1-0", "a", "1")
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(b)
    b.cmd("XSETID", "s", "5-0")          # no new entry: still blocked
    assert b.cmd("PING") == b"+PONG\r\n"
    b.cmd("XADD", "s", "6-0", "f", "v")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"


def test_xread_block_on_missing_key_and_timeout(pair):
    a, b = pair
    assert a.cmd("XREAD", "BLOCK", "20", "STREAMS", "nokey", "$") == b"*-1\r\n"
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "k1", "k2", "$", "$")
    wait_blocked(b)
    b.cmd("XADD", "k2", "1-0", "x", "y")
    assert a.read_reply().startswith(b"*1\r\n*2\r\n$2\r\nk2\r\n")


def test_xread_block_in_multi_returns_null(pair):
    a, _ = pair
    a.cmd("MULTI")
    a.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert a.cmd("EXEC") == b"*1\r\n*-1\r\n"


def test_xreadgroup_block_delivers_and_creates_pel(pair):
    a, b = pair
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b)
    b.cmd("XADD", "s", "1-0", "f", "v")
    assert a.read_reply() == b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert b.cmd("XPENDING", "s", "g").startswith(b"*4\r\n:1\r\n$3\r\n1-0\r\n")


def test_xreadgroup_fifo_between_consumers(server, pair):
    a, b = pair
    c = RawConn(server.port)
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    send(a, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b, 1)
    send(c, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b, 2)
    b.cmd("XADD", "s", "1-0", "f", "v")
    assert b"1-0" in a.read_reply()
    wait_blocked(b, 1)                 # c2 waits on: the entry went to c1
    b.cmd("XADD", "s", "2-0", "f", "v")
    assert b"2-0" in c.read_reply()
    c.close()


def test_xreadgroup_noack_block(pair):
    a, b = pair
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    send(a, "XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b)
    b.cmd("XADD", "s", "1-0", "f", "v")
    assert b"1-0" in a.read_reply()
    assert b.cmd("XPENDING", "s", "g") == b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"


def test_xreadgroup_unblocked_by_deleted_stream_and_group(pair):
    a, b = pair
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b)
    b.cmd("DEL", "s")
    assert a.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b)
    b.cmd("XGROUP", "DESTROY", "s", "g")
    assert a.read_reply() == \
        b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    b.cmd("XGROUP", "CREATE", "s", "g", "$")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(b)
    b.cmd("SET", "s", "x")
    assert a.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"


@pytest.mark.parametrize("how", ["FLUSHALL", "FLUSHDB", "SWAPDB-missing", "SWAPDB-string",
                                 "SWAPDB-stream"])
def test_xreadgroup_unblocked_by_flush_and_swapdb(server, pair, how):
    """Redis's scanDatabaseForDeletedStreams: FLUSHALL, FLUSHDB and a SWAPDB that
    leaves no stream at the key unblock XREADGROUP with an error; XREAD clients
    and a SWAPDB that brings a stream in keep them waiting."""
    a, b = pair
    for conn in (a, b):
        conn.cmd("SELECT", "9")
    b.cmd("XADD", "s", "1-1", "f", "v")
    b.cmd("XGROUP", "CREATE", "s", "g", "$")
    b.cmd("SELECT", "4")
    b.cmd("FLUSHDB")
    if how == "SWAPDB-string":
        b.cmd("SET", "s", "x")
    elif how == "SWAPDB-stream":
        b.cmd("XADD", "s", "1-1", "f", "v")
        b.cmd("XGROUP", "CREATE", "s", "g", "$")
    b.cmd("SELECT", "9")
    send(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    r = RawConn(server.port)
    r.cmd("SELECT", "9")
    send(r, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(b, 2)
    b.cmd(*how.split("-")[0:1], *(["4", "9"] if how.startswith("SWAPDB") else []))
    if how == "SWAPDB-stream":
        wait_blocked(b, 2)
        b.cmd("XADD", "s", "2-1", "f", "w")
        assert b"2-1" in a.read_reply()
    else:
        assert a.read_reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
        wait_blocked(b, 1)              # the XREAD client still waits
        b.cmd("DEL", "s")
        b.cmd("XADD", "s", "5-1", "f", "v")
    assert b"f" in r.read_reply()
    r.close()


def test_xreadgroup_block_timeout(pair):
    a, b = pair
    b.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert a.cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", "30", "STREAMS", "s", ">") == b"*-1\r\n"
    # A timed-out XREADGROUP does not create its consumer.
    assert b.cmd("XINFO", "CONSUMERS", "s", "g") == b"*0\r\n"


def test_xread_block_resp3(pair):
    a, b = pair
    a.cmd("HELLO", "3")
    send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(b)
    b.cmd("XADD", "s", "1-0", "f", "v")
    assert a.read_reply() == b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert a.cmd("XREAD", "BLOCK", "10", "STREAMS", "s", "$") == b"_\r\n"
