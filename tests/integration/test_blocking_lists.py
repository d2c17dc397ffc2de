"""Blocking list commands with several real clients: FIFO serving, wake-ups,
timeouts, MULTI, propagation of the served form, RESP3 shapes.

Clients that block are raw sockets (RawConn): a test sends the blocking
command, polls INFO clients until the server reports the client blocked, acts,
then reads the reply. Nothing sleeps to wait for something it can poll."""

from __future__ import annotations

import time

from helpers import blocked_clients, encode_command, send, wait_blocked


def test_blpop_served_by_push(r, conns):
    a = conns()
    send(a, "BLPOP", "q", "0")
    wait_blocked(r, 1)
    assert r.rpush("q", "x", "y") == 2
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    wait_blocked(r, 0)
    assert r.lrange("q", 0, -1) == [b"y"]


def test_fifo_order_one_element_each(r, conns):
    clients = []
    for i in range(3):
        c = conns()
        send(c, "BRPOP", "q", "0")
        wait_blocked(r, i + 1)
        clients.append(c)
    r.rpush("q", "a", "b", "c")
    # the oldest waiter is served first: BRPOP takes from the tail
    assert [c.read_reply() for c in clients] == [
        b"*2\r\n$1\r\nq\r\n$1\r\nc\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\nb\r\n",
        b"*2\r\n$1\r\nq\r\n$1\r\na\r\n",
    ]
    assert r.exists("q") == 0


def test_push_wakes_only_oldest(r, conns):
    a, b = conns(), conns()
    send(a, "BLPOP", "q", "0")
    wait_blocked(r, 1)
    send(b, "BLPOP", "q", "0")
    wait_blocked(r, 2)
    r.lpush("q", "one")
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$3\r\none\r\n"
    wait_blocked(r, 1)
    r.lpush("q", "two")
    assert b.read_reply() == b"*2\r\n$1\r\nq\r\n$3\r\ntwo\r\n"


def test_served_from_the_key_pushed_to(r, conns):
    a = conns()
    send(a, "BLPOP", "k1", "k2", "0")
    wait_blocked(r, 1)
    r.rpush("k2", "v")
    assert a.read_reply() == b"*2\r\n$2\r\nk2\r\n$1\r\nv\r\n"


def test_multi_push_then_pop_leaves_waiter_blocked(r, conns):
    a = conns()
    send(a, "BLPOP", "q", "0")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.rpush("q", "x")
    p.lpop("q")
    assert p.execute() == [1, b"x"]
    assert blocked_clients(r) == 1
    r.rpush("q", "y")
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n"


def test_wrong_type_keeps_waiting(r, conns):
    a = conns()
    send(a, "BLPOP", "q", "0")
    wait_blocked(r, 1)
    r.set("q", "string")
    r.delete("q")
    assert blocked_clients(r) == 1
    r.rpush("q", "z")
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nz\r\n"


def test_timeout_replies(r, conns):
    a = conns()
    b3 = conns(resp3=True)
    for cmd, resp2, resp3 in [
        (("BLPOP", "nokey", "0.05"), b"*-1\r\n", b"_\r\n"),
        (("BRPOP", "nokey", "0.05"), b"*-1\r\n", b"_\r\n"),
        (("BLMPOP", "0.05", "1", "nokey", "LEFT"), b"*-1\r\n", b"_\r\n"),
        # a list timeout is a null array even for BLMOVE (replyToBlockedClientTimedOut)
        (("BLMOVE", "nokey", "d", "LEFT", "RIGHT", "0.05"), b"*-1\r\n", b"_\r\n"),
        (("BRPOPLPUSH", "nokey", "d", "0.05"), b"*-1\r\n", b"_\r\n"),
    ]:
        assert a.cmd(*cmd) == resp2
        assert b3.cmd(*cmd) == resp3
    assert blocked_clients(r) == 0


def test_pipelined_commands_wait_for_the_blocked_one(r, conns):
    a = conns()
    a.send(encode_command("BLPOP", "q", "0") + encode_command("PING"))
    wait_blocked(r, 1)
    r.rpush("q", "v")
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
    assert a.read_reply() == b"+PONG\r\n"


def test_blmove_served_later(r, conns):
    a = conns()
    send(a, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    wait_blocked(r, 1)
    r.rpush("src", "1", "2")
    assert a.read_reply() == b"$1\r\n2\r\n"
    assert r.lrange("dst", 0, -1) == [b"2"]
    assert r.lrange("src", 0, -1) == [b"1"]


def test_brpoplpush_chain(r, conns):
    # a waits on l1 -> l2, b waits on l2: the element flows through both.
    a, b = conns(), conns()
    send(a, "BRPOPLPUSH", "l1", "l2", "0")
    wait_blocked(r, 1)
    send(b, "BLPOP", "l2", "0")
    wait_blocked(r, 2)
    r.rpush("l1", "v")
    assert a.read_reply() == b"$1\r\nv\r\n"
    assert b.read_reply() == b"*2\r\n$2\r\nl2\r\n$1\r\nv\r\n"
    assert r.exists("l1", "l2") == 0


def test_blmove_wrong_destination_type(r, conns):
    a = conns()
    r.set("dst", "string")
    send(a, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    wait_blocked(r, 1)
    r.rpush("src", "v")
    assert a.read_reply().startswith(b"-WRONGTYPE")
    assert r.lrange("src", 0, -1) == [b"v"]
    assert blocked_clients(r) == 0


def test_blmpop_served_later_with_count(r, conns):
    a = conns(resp3=True)
    send(a, "BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "2")
    wait_blocked(r, 1)
    r.rpush("k2", "a", "b", "c")
    assert a.read_reply() == b"*2\r\n$2\r\nk2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    assert r.lrange("k2", 0, -1) == [b"a"]


def test_blpop_in_multi_does_not_block(r, conns):
    a = conns()
    assert a.cmd("MULTI") == b"+OK\r\n"
    assert a.cmd("BLPOP", "q", "0") == b"+QUEUED\r\n"
    assert a.cmd("EXEC") == b"*1\r\n*-1\r\n"


def test_disconnect_while_blocked(r, conns):
    a = conns()
    send(a, "BLPOP", "q", "0")
    wait_blocked(r, 1)
    a.close()
    wait_blocked(r, 0)
    r.rpush("q", "v")
    assert r.lrange("q", 0, -1) == [b"v"]


def test_served_later_propagates_as_pop(server, r, conns):
    """A replica or AOF sees LPOP/LMOVE, never the blocking form (checked with MONITOR
    unavailable here: the keyspace effect and the notification stream instead)."""
    r.config_set("notify-keyspace-events", "KEA")
    try:
        sub = server.client()
        ps = sub.pubsub()
        ps.psubscribe("__keyevent@0__:*")
        ps.get_message(timeout=5)
        a = conns()
        send(a, "BLPOP", "q", "0")
        wait_blocked(r, 1)
        r.rpush("q", "v")
        assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n"
        events = []
        deadline = time.monotonic() + 5
        while len(events) < 3 and time.monotonic() < deadline:
            m = ps.get_message(timeout=1)
            if m and m["type"] == "pmessage":
                events.append((m["channel"], m["data"]))
        assert events == [(b"__keyevent@0__:rpush", b"q"), (b"__keyevent@0__:lpop", b"q"),
                          (b"__keyevent@0__:del", b"q")]
        ps.close()
        sub.close()
    finally:
        r.config_set("notify-keyspace-events", "")
