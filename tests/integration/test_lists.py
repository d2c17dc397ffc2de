"""List commands: what the compat script cannot show — notifications, WATCH,
memory accounting, big lists (both ends, indexing, trims), COPY-able values."""

from __future__ import annotations

import time

import pytest
import redis


def collect(ps, n, timeout=5.0):
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        m = ps.get_message(timeout=0.5)
        if m and m["type"] == "pmessage":
            out.append((m["channel"].split(b":", 1)[1], m["data"]))
    return out


@pytest.fixture
def events(server, r):
    r.config_set("notify-keyspace-events", "El")
    sub = server.client()
    ps = sub.pubsub()
    ps.psubscribe("__keyevent@0__:*")
    ps.get_message(timeout=5)
    yield ps
    ps.close()
    sub.close()
    r.config_set("notify-keyspace-events", "")


def test_list_notifications(r, events):
    r.rpush("l", "a", "b", "c")
    r.lpush("l", "z")
    r.lset("l", 0, "y")
    r.linsert("l", "BEFORE", "a", "x")
    r.lrem("l", 1, "x")
    r.ltrim("l", 0, 2)
    r.lpop("l")
    r.rpop("l")
    r.lmove("l", "m", "LEFT", "RIGHT")
    assert collect(events, 10) == [
        (b"rpush", b"l"), (b"lpush", b"l"), (b"lset", b"l"), (b"linsert", b"l"),
        (b"lrem", b"l"), (b"ltrim", b"l"), (b"lpop", b"l"), (b"rpop", b"l"),
        (b"rpush", b"m"), (b"lpop", b"l"),
    ]


def test_emptied_list_is_deleted_with_del_event(server, r):
    r.config_set("notify-keyspace-events", "Elg")
    sub = server.client()
    ps = sub.pubsub()
    ps.psubscribe("__keyevent@0__:*")
    ps.get_message(timeout=5)
    try:
        r.rpush("l", "a")
        r.lpop("l")
        assert r.exists("l") == 0
        assert collect(ps, 3) == [(b"rpush", b"l"), (b"lpop", b"l"), (b"del", b"l")]
    finally:
        ps.close()
        sub.close()
        r.config_set("notify-keyspace-events", "")


@pytest.mark.parametrize("mutation", [
    ("LPUSH", "l", "x"), ("RPUSHX", "l", "x"), ("LPOP", "l"), ("RPOP", "l", "2"),
    ("LSET", "l", "0", "x"), ("LINSERT", "l", "AFTER", "a", "x"), ("LREM", "l", "0", "a"),
    ("LTRIM", "l", "1", "-1"), ("LMOVE", "l", "other", "LEFT", "LEFT"),
    ("RPOPLPUSH", "other2", "l"), ("LMPOP", "1", "l", "LEFT"), ("BLPOP", "l", "0"),
])
def test_watch_invalidated_by_every_mutation(server, r, mutation):
    r.rpush("l", "a", "b", "c")
    r.rpush("other2", "q")
    w = server.client()
    try:
        p = w.pipeline()
        p.watch("l")
        r.execute_command(*mutation)
        p.multi()
        p.get("k")
        with pytest.raises(redis.WatchError):
            p.execute()
    finally:
        w.close()


def test_failed_lookups_do_not_touch(server, r):
    r.rpush("l", "a")
    w = server.client()
    try:
        p = w.pipeline()
        p.watch("l")
        r.lrem("l", 1, "nothere")
        r.linsert("l", "BEFORE", "nothere", "x")
        r.lpushx("nokey", "x")
        p.multi()
        p.get("k")
        assert p.execute() == [None]
    finally:
        w.close()


def test_big_list_both_ends_and_indexing(r):
    n = 200_000
    p = r.pipeline(transaction=False)
    for i in range(0, n, 1000):
        p.rpush("big", *[str(j) for j in range(i, i + 1000)])
    p.execute()
    assert r.llen("big") == n
    assert r.lindex("big", 0) == b"0"
    assert r.lindex("big", -1) == str(n - 1).encode()
    assert r.lindex("big", n // 2) == str(n // 2).encode()
    assert r.lrange("big", -3, -1) == [str(j).encode() for j in range(n - 3, n)]
    assert r.lrange("big", 5, 7) == [b"5", b"6", b"7"]
    r.lset("big", -2, "x")
    assert r.lindex("big", -2) == b"x"
    assert r.lpos("big", "x") == n - 2
    assert r.lpos("big", "x", rank=-1) == n - 2
    r.ltrim("big", 1, -2)
    assert r.llen("big") == n - 2
    assert r.lindex("big", 0) == b"1"
    r.ltrim("big", 100, 102)
    assert r.lrange("big", 0, -1) == [b"101", b"102", b"103"]


def test_lrem_many_from_big_list(r):
    r.rpush("l", *(["a", "b"] * 5000))
    assert r.lrem("l", 100, "a") == 100
    assert r.lrem("l", -100, "b") == 100
    assert r.llen("l") == 9800
    assert r.lrem("l", 0, "a") == 4900
    assert r.lrange("l", 0, 2) == [b"b", b"b", b"b"]
    assert r.llen("l") == 4900


def test_memory_estimate_tracks_pushes_and_pops(r):
    base = r.info("memory")["used_memory"] if "used_memory" in r.info("memory") else None
    if base is None:
        pytest.skip("INFO memory not available")
    r.rpush("l", *(["x" * 100] * 1000))
    grown = r.info("memory")["used_memory"]
    r.delete("l")
    after = r.info("memory")["used_memory"]
    assert grown > after


def test_resp3_pop_shapes(server, r):
    c = server.client(protocol=3)
    try:
        c.rpush("l", "a", "b")
        assert c.lpop("l", 1) == [b"a"]
        assert c.lpop("nokey", 1) is None
        assert c.lmpop(1, "l", direction="LEFT") == [b"l", [b"b"]]
        assert c.lmpop(1, "l", direction="LEFT") is None
    finally:
        c.close()


def test_type_and_encoding(r):
    r.rpush("l", "a")
    assert r.type("l") == b"list"
    assert r.object("encoding", "l") == b"quicklist"
