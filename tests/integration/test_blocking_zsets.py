"""BZPOPMIN/BZPOPMAX/BZMPOP with several real clients: wake-ups, FIFO serving,
timeouts, RESP3 shapes, MULTI, the served key, wrong types while waiting."""

from __future__ import annotations

import time

import pytest

from helpers import RawConn, encode_command


def blocked_clients(r) -> int:
    return int(r.info("clients")["blocked_clients"])


def wait_blocked(r, n: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while blocked_clients(r) != n:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {n} blocked clients, have {blocked_clients(r)}")
        time.sleep(0.002)


@pytest.fixture
def conns(server):
    made = []

    def make(resp3: bool = False):
        c = RawConn(server.port)
        if resp3:
            c.cmd("HELLO", "3")
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def send(c, *args):
    c.send(encode_command(*args))


def test_bzpopmin_served_by_zadd(r, conns):
    a = conns()
    send(a, "BZPOPMIN", "z", "0")
    wait_blocked(r, 1)
    r.zadd("z", {"b": 2, "a": 1})
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    wait_blocked(r, 0)
    assert r.zrange("z", 0, -1) == [b"b"]


def test_bzpopmax_resp3_and_fifo(r, conns):
    a, b = conns(resp3=True), conns()
    send(a, "BZPOPMAX", "z", "0")
    wait_blocked(r, 1)
    send(b, "BZPOPMAX", "z", "0")
    wait_blocked(r, 2)
    r.zadd("z", {"x": 1, "y": 2})
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\ny\r\n,2\r\n"
    assert b.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nx\r\n$1\r\n1\r\n"
    assert r.exists("z") == 0


def test_bzmpop_count_and_served_key(r, conns):
    a = conns()
    send(a, "BZMPOP", "0", "2", "k1", "k2", "MIN", "COUNT", "2")
    wait_blocked(r, 1)
    r.zadd("k2", {"a": 1, "b": 2, "c": 3})
    assert a.read_reply() == (b"*2\r\n$2\r\nk2\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
                              b"*2\r\n$1\r\nb\r\n$1\r\n2\r\n")
    assert r.zrange("k2", 0, -1) == [b"c"]


def test_timeout_replies_null_array(r, conns):
    a, b = conns(), conns(resp3=True)
    send(a, "BZPOPMIN", "nokey", "0.05")
    assert a.read_reply() == b"*-1\r\n"
    send(b, "BZMPOP", "0.05", "1", "nokey", "MAX")
    assert b.read_reply() == b"_\r\n"


def test_multi_never_blocks(r, conns):
    a = conns()
    a.cmd("MULTI")
    a.cmd("BZPOPMIN", "nokey", "0")
    assert a.cmd("EXEC") == b"*1\r\n*-1\r\n"


def test_wrong_type_keeps_waiting(r, conns):
    a = conns()
    send(a, "BZPOPMIN", "k", "0")
    wait_blocked(r, 1)
    r.set("k", "str")
    time.sleep(0)           # nothing to poll: the client must simply still be blocked
    assert blocked_clients(r) == 1
    r.delete("k")
    r.zadd("k", {"m": 5})
    assert a.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n5\r\n"


def test_served_when_zadd_in_multi(r, conns):
    a = conns()
    send(a, "BZPOPMIN", "z", "0")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.zadd("z", {"a": 1})
    p.zadd("z", {"b": 0})
    p.execute()
    assert a.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n0\r\n"
