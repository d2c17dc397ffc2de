"""Hash commands: encodings, HSCAN guarantees on hashtable-encoded hashes under
mutation, HRANDFIELD properties, notifications, WATCH, RESP3 shapes."""

from __future__ import annotations

import time

import pytest
import redis


def test_encoding_conversion_is_sticky(r):
    r.hset("h", mapping={f"f{i}": i for i in range(512)})
    assert r.object("encoding", "h") == b"listpack"
    r.hset("h", "one-more", 1)
    assert r.object("encoding", "h") == b"hashtable"
    r.hdel("h", *[f"f{i}" for i in range(512)])
    assert r.hlen("h") == 1
    assert r.object("encoding", "h") == b"hashtable"


def test_encoding_respects_config(r):
    old = r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"]
    r.config_set("hash-max-listpack-entries", 2)
    try:
        r.hset("h", mapping={"a": 1, "b": 2})
        assert r.object("encoding", "h") == b"listpack"
        r.hset("h", "c", 3)
        assert r.object("encoding", "h") == b"hashtable"
    finally:
        r.config_set("hash-max-listpack-entries", old)


def full_scan(r, key, count=10, during=None):
    cursor = 0
    seen = {}
    calls = 0
    while True:
        cursor, page = r.hscan(key, cursor, count=count)
        seen.update(page)
        calls += 1
        if during:
            during(calls)
        if cursor == 0:
            return seen, calls


def test_hscan_small_returns_everything_at_once(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    cursor, page = r.hscan("h", 0, count=1)
    assert cursor == 0 and page == {b"a": b"1", b"b": b"2", b"c": b"3"}


def test_hscan_big_hash_returns_every_field(r):
    n = 5000
    r.hset("h", mapping={f"f{i}": i for i in range(n)})
    seen, calls = full_scan(r, "h", count=100)
    assert len(seen) == n
    assert calls > 10          # really incremental


def test_hscan_with_concurrent_mutation(r):
    n = 3000
    r.hset("h", mapping={f"keep{i}": i for i in range(n)})

    def mutate(call):
        # add and remove other fields between calls
        r.hset("h", f"new{call}", 1)
        if call > 1:
            r.hdel("h", f"new{call - 1}")
    seen, _ = full_scan(r, "h", count=50, during=mutate)
    keep = {k for k in seen if k.startswith(b"keep")}
    assert len(keep) == n


def test_hscan_match_and_count(r):
    r.hset("h", mapping={f"f{i}": i for i in range(1000)})
    cursor = 0
    found = set()
    while True:
        cursor, page = r.hscan("h", cursor, match="f1*", count=37)
        found.update(page)
        if cursor == 0:
            break
    assert found == {f"f{i}".encode() for i in range(1000) if str(i).startswith("1")}


def test_hrandfield_properties(r):
    fields = {f"f{i}": i for i in range(300)}
    r.hset("h", mapping=fields)
    got = r.hrandfield("h", 50)
    assert len(got) == 50 and len(set(got)) == 50
    got = r.hrandfield("h", -500)
    assert len(got) == 500 and set(got) <= {k.encode() for k in fields}
    pairs = r.hrandfield("h", 5, withvalues=True)
    assert len(pairs) == 10
    for f, v in zip(pairs[::2], pairs[1::2]):
        assert fields[f.decode()] == int(v)
    assert len(r.hrandfield("h", 1000)) == 300
    assert r.hrandfield("h") in {k.encode() for k in fields}


def test_hrandfield_resp3_pairs(server, r):
    c = server.client(protocol=3)
    try:
        c.hset("h", mapping={"a": 1, "b": 2})
        raw = c.execute_command("HRANDFIELD", "h", "-3", "WITHVALUES")
        assert len(raw) == 3 and all(len(p) == 2 for p in raw)
        assert c.execute_command("HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    finally:
        c.close()


def test_hash_notifications(server, r):
    r.config_set("notify-keyspace-events", "Ehg")
    sub = server.client()
    ps = sub.pubsub()
    ps.psubscribe("__keyevent@0__:*")
    ps.get_message(timeout=5)
    try:
        r.hset("h", "a", 1)
        r.hsetnx("h", "b", 2)
        r.hsetnx("h", "b", 3)          # no event
        r.hincrby("h", "a", 1)
        r.hincrbyfloat("h", "a", 1.5)
        r.hdel("h", "a", "b")
        out = []
        deadline = time.monotonic() + 5
        while len(out) < 6 and time.monotonic() < deadline:
            m = ps.get_message(timeout=0.5)
            if m and m["type"] == "pmessage":
                out.append(m["channel"].split(b":", 1)[1])
        assert out == [b"hset", b"hset", b"hincrby", b"hincrbyfloat", b"hdel", b"del"]
    finally:
        ps.close()
        sub.close()
        r.config_set("notify-keyspace-events", "")


@pytest.mark.parametrize("mutation", [
    ("HSET", "h", "x", "1"), ("HMSET", "h", "a", "9"), ("HSETNX", "h", "new", "1"),
    ("HDEL", "h", "a"), ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "n", "0.5"),
])
def test_watch_invalidated(server, r, mutation):
    r.hset("h", mapping={"a": 1, "n": 1})
    w = server.client()
    try:
        p = w.pipeline()
        p.watch("h")
        r.execute_command(*mutation)
        p.multi()
        p.get("k")
        with pytest.raises(redis.WatchError):
            p.execute()
    finally:
        w.close()


def test_hsetnx_existing_does_not_touch(server, r):
    r.hset("h", "a", 1)
    w = server.client()
    try:
        p = w.pipeline()
        p.watch("h")
        r.hsetnx("h", "a", 2)
        r.hdel("h", "nothere")
        p.multi()
        p.get("k")
        assert p.execute() == [None]
    finally:
        w.close()


def test_big_hash(r):
    n = 50_000
    p = r.pipeline(transaction=False)
    for i in range(0, n, 1000):
        p.hset("h", mapping={f"f{j}": j for j in range(i, i + 1000)})
    p.execute()
    assert r.hlen("h") == n
    assert r.hget("h", "f12345") == b"12345"
    assert len(r.hkeys("h")) == n
    assert r.hincrby("h", "f1", 10) == 11
