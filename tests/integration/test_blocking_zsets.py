"""BZPOPMIN/BZPOPMAX/BZMPOP with several real clients: wake-ups, FIFO serving,
timeouts, RESP3 shapes, MULTI, the served key, wrong types while waiting."""

from __future__ import annotations

import time

from helpers import blocked_clients, send, wait_blocked


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


def test_served_only_from_the_ready_key(r, conns):
    """Redis serves a woken client from the key that became ready, never from
    another of its keys: a is not served from z2 while z1 (deleted again) is
    the ready key, so b, first in z2's queue, gets z2."""
    b = conns()
    send(b, "BZPOPMIN", "z2", "0")
    wait_blocked(r, 1)
    a = conns()
    send(a, "BZPOPMIN", "z1", "z2", "0")
    wait_blocked(r, 2)
    p = r.pipeline(transaction=True)
    p.zadd("z1", {"a": 1})
    p.zadd("z2", {"b": 1})
    p.delete("z1")
    p.execute()
    assert b.read_reply() == b"*3\r\n$2\r\nz2\r\n$1\r\nb\r\n$1\r\n1\r\n"
    wait_blocked(r, 1)
    r.zadd("z1", {"c": 3})
    assert a.read_reply() == b"*3\r\n$2\r\nz1\r\n$1\r\nc\r\n$1\r\n3\r\n"
