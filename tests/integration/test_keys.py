"""Generic keyspace commands against a real server: what compat scripts can't
show (RESP3, SCAN's guarantee under concurrent changes, RANDOMKEY on big
databases, WATCH across FLUSH*/SWAPDB, notifications, containers)."""

import random

import pytest
import redis

from helpers import RawConn


def test_resp3_shapes(server):
    c = RawConn(server.port)
    c.cmd("FLUSHALL")
    c.cmd("HELLO", "3")
    assert c.cmd("OBJECT", "ENCODING", "nokey") == b"_\r\n"
    assert c.cmd("OBJECT", "REFCOUNT", "nokey") == b"_\r\n"
    assert c.cmd("RANDOMKEY") == b"_\r\n"
    assert c.cmd("TYPE", "nokey") == b"+none\r\n"
    c.cmd("SET", "k", "v")
    assert c.cmd("TYPE", "k") == b"+string\r\n"
    assert c.cmd("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    assert c.cmd("KEYS", "*") == b"*1\r\n$1\r\nk\r\n"
    assert c.cmd("OBJECT", "HELP").startswith(b"*15\r\n+OBJECT <subcommand>")
    c.close()


def _full_scan(r, **kw):
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        seen.extend(keys)
        calls += 1
        assert calls < 100000
        if cursor == 0:
            return seen, calls


def test_scan_returns_everything_once_when_unchanged(r):
    keys = {b"key:%d" % i for i in range(3000)}
    r.mset({k: b"v" for k in keys})
    seen, calls = _full_scan(r, count=100)
    assert sorted(seen) == sorted(keys)
    assert calls > 10


def test_scan_guarantee_under_changes(r):
    """A key present for the whole scan is returned at least once, while other
    keys are added and deleted between calls (incl. ones before the cursor)."""
    stable = [b"stable:%d" % i for i in range(2000)]
    volatile = [b"vol:%d" % i for i in range(2000)]
    r.mset({k: b"1" for k in stable + volatile})
    rnd = random.Random(7)
    seen = set()
    cursor = 0
    added = 0
    while True:
        cursor, keys = r.scan(cursor, count=50)
        seen.update(keys)
        # churn: delete some volatile keys (anywhere), add new ones
        for _ in range(20):
            if volatile:
                r.delete(volatile.pop(rnd.randrange(len(volatile))))
            r.set(b"new:%d" % added, b"x")
            added += 1
        if cursor == 0:
            break
    assert set(stable) <= seen
    # nothing that never existed is returned, and deleted keys may appear only
    # if they were there when returned
    assert all(k.startswith((b"stable:", b"vol:", b"new:")) for k in seen)


def test_scan_survives_rewrites_of_existing_keys(r):
    r.mset({b"k%d" % i: b"v" for i in range(500)})
    seen = set()
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, count=20)
        seen.update(keys)
        for k in keys:
            r.set(k, b"changed")        # overwrite in place
            r.expire(k, 1000)
        if cursor == 0:
            break
    assert len(seen) == 500


def test_scan_unknown_cursor_restarts_and_terminates(r):
    r.mset({b"k%d" % i: b"v" for i in range(100)})
    cursor, keys = r.scan(123456789, count=1000)
    assert cursor == 0 and len(keys) == 100
    # a cursor from another db restarts in this one
    cursor, _ = r.scan(0, count=10)
    assert cursor != 0
    r.execute_command("SELECT", 1)
    r.set(b"only-in-1", b"v")
    c2, keys = r.scan(cursor, count=10)
    assert c2 == 0 and keys == [b"only-in-1"]
    r.execute_command("SELECT", 0)


def test_scan_after_flushdb_midway(r):
    r.mset({b"k%d" % i: b"v" for i in range(100)})
    cursor, _ = r.scan(0, count=10)
    r.flushdb()
    r.set(b"after", b"v")
    cursor, keys = r.scan(cursor, count=10)
    assert cursor == 0 and keys == [b"after"]


def test_scan_match_type_and_count_limits(r):
    r.mset({b"user:%d" % i: b"v" for i in range(300)})
    r.mset({b"other:%d" % i: b"v" for i in range(300)})
    seen, _ = _full_scan(r, match=b"user:*", count=37)
    assert len(seen) == 300 and all(k.startswith(b"user:") for k in seen)
    cursor, keys = r.scan(0, count=10)
    assert len(keys) <= 10 and cursor != 0
    seen, _ = _full_scan(r, _type=b"string", count=1000)
    assert len(seen) == 600
    seen, _ = _full_scan(r, _type=b"list", count=1000)
    assert seen == []


def test_scan_many_concurrent_cursors_all_complete(server):
    c = server.client()
    c.flushall()
    c.mset({b"k%d" % i: b"v" for i in range(200)})
    cursors = [0] * 100          # more than scan-max-cursors (64) interleaved scans
    seen = [set() for _ in cursors]
    done = [False] * len(cursors)
    rounds = 0
    while not all(done):
        rounds += 1
        assert rounds < 1000
        for i in range(len(cursors)):
            if done[i]:
                continue
            cur, keys = c.scan(cursors[i], count=50)
            seen[i].update(keys)
            cursors[i] = cur
            if cur == 0:
                done[i] = True
    assert all(len(s) == 200 for s in seen)
    c.close()


def test_scan_skips_and_deletes_expired(r):
    r.set(b"live", b"v")
    r.set(b"dead", b"v", px=1)
    r.execute_command("DEBUG", "SLEEP", "0.01")
    _, keys = r.scan(0, count=100)
    assert keys == [b"live"]


def test_keys_skips_expired_without_deleting(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set(b"live", b"v")
        r.set(b"dead", b"v", px=1)
        r.execute_command("DEBUG", "SLEEP", "0.01")
        assert r.keys(b"*") == [b"live"]
        assert r.keys(b"d*") == []
        assert r.keys(b"dead") == []
        assert r.dbsize() == 2            # KEYS does not delete, like Redis
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_keys_binary_and_glob(r):
    r.set(b"\x00\xff*x", b"v")
    r.set(b"abc", b"v")
    assert r.keys(b"\x00\xff\\*x") == [b"\x00\xff*x"]
    assert r.keys(b"\x00?[*]?") == [b"\x00\xff*x"]
    assert sorted(r.keys(b"*")) == [b"\x00\xff*x", b"abc"]
    assert r.keys(b"[a-b]*") == [b"abc"]


def test_randomkey_big_db_and_expired(r):
    n = 5000
    r.mset({b"k%d" % i: b"v" for i in range(n)})
    got = {r.randomkey() for _ in range(300)}
    assert len(got) > 200                       # spread, not one key
    assert all(k.startswith(b"k") for k in got)
    # delete most keys: RANDOMKEY must only return existing ones
    r.delete(*[b"k%d" % i for i in range(n - 10)])
    left = {b"k%d" % i for i in range(n - 10, n)}
    for _ in range(100):
        assert r.randomkey() in left
    r.flushdb()
    assert r.randomkey() is None
    r.set(b"a", b"v", px=1)
    r.set(b"b", b"v")
    r.execute_command("DEBUG", "SLEEP", "0.01")
    for _ in range(20):
        assert r.randomkey() == b"b"


def test_randomkey_sees_new_keys_after_rebuild(r):
    r.mset({b"old%d" % i: b"v" for i in range(2000)})
    r.randomkey()
    r.flushdb()
    r.mset({b"new%d" % i: b"v" for i in range(2000)})
    for _ in range(50):
        assert r.randomkey().startswith(b"new")


def _watch_exec(server, db, watch_key, action):
    a = server.client()
    b = server.client()
    a.execute_command("SELECT", db)
    a.execute_command("WATCH", watch_key)
    action(b)
    a.execute_command("MULTI")
    a.execute_command("PING")
    res = a.execute_command("EXEC")
    a.close()
    b.close()
    return res


def test_watch_flushdb_touches_only_existing_keys(server, r):
    assert _watch_exec(server, 0, "absent", lambda b: b.flushdb()) == [b"PONG"]
    r.set(b"present", b"v")
    assert _watch_exec(server, 0, "present", lambda b: b.flushdb()) is None
    r.set(b"present", b"v")
    assert _watch_exec(server, 0, "present", lambda b: b.flushall()) is None
    # FLUSHDB of another db does not touch
    r.set(b"present", b"v")

    def flush_db1(b):
        b.execute_command("SELECT", 1)
        b.flushdb()
    assert _watch_exec(server, 0, "present", flush_db1) == [b"PONG"]


def test_watch_swapdb(server, r):
    assert _watch_exec(server, 0, "x", lambda b: b.execute_command("SWAPDB", 0, 1)) == [b"PONG"]
    r.execute_command("SELECT", 1)
    r.set(b"x", b"in-db1")
    r.execute_command("SELECT", 0)
    assert _watch_exec(server, 0, "x", lambda b: b.execute_command("SWAPDB", 0, 1)) is None
    r.flushall()
    r.set(b"y", b"in-db0")
    assert _watch_exec(server, 0, "y", lambda b: b.execute_command("SWAPDB", 1, 0)) is None
    assert _watch_exec(server, 0, "y", lambda b: b.execute_command("SWAPDB", 0, 0)) == [b"PONG"]


def test_watch_del_rename_move_copy(server, r):
    r.set(b"w", b"v")
    assert _watch_exec(server, 0, "w", lambda b: b.delete(b"w")) is None
    r.set(b"w", b"v")
    assert _watch_exec(server, 0, "w", lambda b: b.rename(b"w", b"w2")) is None
    assert _watch_exec(server, 0, "w", lambda b: b.rename(b"w2", b"w")) is None
    assert _watch_exec(server, 0, "w", lambda b: b.move(b"w", 1)) is None
    r.set(b"src", b"v")
    assert _watch_exec(server, 0, "dst", lambda b: b.copy(b"src", b"dst")) is None
    assert _watch_exec(server, 0, "dst", lambda b: b.delete(b"nothing")) == [b"PONG"]


def _events(server, actions, pattern="__key*__:*"):
    admin = server.client()
    admin.config_set("notify-keyspace-events", "KEA")
    sub = RawConn(server.port)
    sub.cmd("PSUBSCRIBE", pattern)
    c = server.client()
    actions(c)
    c.set(b"__end__", b"1")
    out = []
    while True:
        msg = sub.read_reply()
        out.append(msg)
        if b"__end__" in msg:
            break
    admin.config_set("notify-keyspace-events", "")
    sub.close()
    c.close()
    admin.close()
    evs = []
    for m in out:
        parts = m.split(b"\r\n")
        # *4 $8 pmessage $n pattern $n channel $n payload
        chan, payload = parts[6], parts[8]
        if chan.startswith(b"__keyevent@"):
            evs.append((chan.split(b"__:", 1)[1], payload, chan[11:chan.index(b"__:")]))
    return [e for e in evs if e[1] != b"__end__"]


def test_notifications(server, r):
    def actions(c):
        c.set(b"a", b"1")
        c.delete(b"a", b"nokey")
        c.set(b"b", b"1")
        c.rename(b"b", b"c")
        c.move(b"c", 2)
        c.execute_command("SELECT", 2)
        c.copy(b"c", b"d", destination_db=3)
        c.execute_command("SELECT", 0)
        c.set(b"e", b"1")
        c.expire(b"e", 100)
        c.persist(b"e")
        c.expire(b"e", -1)
        c.unlink(b"nokey")
    evs = _events(server, actions)
    assert evs == [
        (b"set", b"a", b"0"), (b"del", b"a", b"0"),
        (b"set", b"b", b"0"), (b"rename_from", b"b", b"0"), (b"rename_to", b"c", b"0"),
        (b"move_from", b"c", b"0"), (b"move_to", b"c", b"2"),
        (b"copy_to", b"d", b"3"),
        (b"set", b"e", b"0"), (b"expire", b"e", b"0"), (b"persist", b"e", b"0"),
        (b"del", b"e", b"0"),
    ]


def test_object_freq_idletime_by_policy(server, r):
    r.set(b"k", b"v")
    assert r.object("idletime", b"k") == 0
    with pytest.raises(redis.ResponseError, match="LFU maxmemory policy is not selected"):
        r.object("freq", b"k")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert r.object("freq", b"k") == 0
        with pytest.raises(redis.ResponseError, match="LFU maxmemory policy is selected"):
            r.object("idletime", b"k")
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_refcount_shared_integers_depend_on_policy(server, r):
    r.set(b"i", b"100")
    assert r.object("refcount", b"i") == 2147483647
    r.config_set("maxmemory", "1gb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    try:
        assert r.object("refcount", b"i") == 1
    finally:
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", "0")


def test_string_encodings(r):
    r.set(b"s", b"x" * 44)
    assert r.object("encoding", b"s") == b"embstr"
    try:
        r.append(b"s", b"y")
    except redis.ResponseError:
        pytest.skip("APPEND not available")
    assert r.object("encoding", b"s") == b"raw"
    r.set(b"n", b"123")
    r.copy(b"n", b"n2")
    assert r.object("encoding", b"n2") == b"int"


def test_containers_type_encoding_copy(r):
    try:
        r.rpush(b"l", b"a", b"b")
    except redis.ResponseError:
        pytest.skip("lists not available")
    assert r.type(b"l") == b"list"
    assert r.object("encoding", b"l") in (b"listpack", b"quicklist")
    assert r.copy(b"l", b"l2") is True
    r.rpush(b"l2", b"c")
    assert r.lrange(b"l", 0, -1) == [b"a", b"b"]      # a deep copy
    assert r.lrange(b"l2", 0, -1) == [b"a", b"b", b"c"]
    cursor, keys = r.scan(0, _type=b"list", count=100)
    assert sorted(keys) == [b"l", b"l2"]
    assert r.rename(b"l2", b"l3") is True
    assert r.type(b"l3") == b"list"


def test_dirty_counter_flush(server, r):
    def changes():
        info = r.info("persistence")
        return info["rdb_changes_since_last_save"]
    before = changes()
    r.flushall()
    assert changes() == before
    r.mset({b"a": b"1", b"b": b"2"})
    mid = changes()
    r.flushall()
    assert changes() == mid + 2
