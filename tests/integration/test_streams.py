"""Streams: RESP3 shapes, auto IDs, notifications, WATCH, propagation shapes
(through MONITOR-free checks) and what compat scripts can't show."""

import pytest

from helpers import ServerProcess, redis_server_available

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")


def test_auto_ids_are_monotonic(r):
    ids = [r.xadd("s", {"a": i}) for i in range(50)]
    assert ids == sorted(ids, key=lambda x: tuple(map(int, x.split(b"-"))))
    ms = int(ids[-1].split(b"-")[0])
    nxt = r.xadd("s", {"a": 1}, id=b"%d-*" % ms)
    assert nxt.split(b"-")[0] == b"%d" % ms
    assert r.xlen("s") == 51


def test_resp3_shapes(server):
    c = server.raw()
    c.cmd("FLUSHALL")
    c.cmd("HELLO", "3")
    c.cmd("XADD", "s", "1-1", "f", "v")
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    got = c.cmd("XREAD", "STREAMS", "s", "0")
    assert got == b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    got = c.cmd("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert got.startswith(b"%1\r\n$1\r\ns\r\n")
    info = c.cmd("XINFO", "STREAM", "s")
    assert info.startswith(b"%10\r\n$6\r\nlength\r\n:1\r\n")
    assert c.cmd("XINFO", "GROUPS", "s").startswith(b"*1\r\n%6\r\n$4\r\nname\r\n")
    assert c.cmd("XINFO", "CONSUMERS", "s", "g").startswith(b"*1\r\n%3\r\n")
    full = c.cmd("XINFO", "STREAM", "s", "FULL")
    assert full.startswith(b"%9\r\n")
    assert c.cmd("XPENDING", "s", "nog") == b"-NOGROUP No such key 's' or consumer group 'nog'\r\n"
    assert c.cmd("XREAD", "STREAMS", "s", "9-9") == b"_\r\n"
    assert c.cmd("XADD", "nos", "NOMKSTREAM", "*", "a", "1") == b"_\r\n"
    c.close()


@needs_redis
def test_resp3_replies_match_redis(server):
    with ServerProcess(kind="redis") as ref:
        script = [
            ("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "g", "w"),
            ("XGROUP", "CREATE", "s", "g", "0"),
            ("XREAD", "STREAMS", "s", "s", "0", "1-1"),
            ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"),
            ("XINFO", "GROUPS", "s"), ("XPENDING", "s", "g"),
            ("XAUTOCLAIM", "s", "g", "d", "0", "0", "JUSTID"),
            ("XINFO", "STREAM", "s"), ("XRANGE", "s", "-", "+", "COUNT", "0"),
            ("XADD", "nos", "NOMKSTREAM", "*", "a", "1"),
        ]
        out = []
        for port in (ref.port, server.port):
            from helpers import RawConn
            c = RawConn(port)
            c.cmd("FLUSHALL")
            c.cmd("HELLO", "3")
            out.append([c.cmd(*cmd) for cmd in script])
            c.close()
        assert out[0] == out[1]


def test_keyspace_notifications(r):
    r.config_set("notify-keyspace-events", "KEt")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=2)
    r.xadd("s", {"a": 1}, id="1-0")
    r.xadd("s", {"a": 1}, id="2-0", maxlen=1, approximate=False)
    r.xdel("s", "2-0")
    r.xgroup_create("s", "g", "0")
    r.xgroup_createconsumer("s", "g", "c")
    r.xgroup_setid("s", "g", "0")
    r.xgroup_delconsumer("s", "g", "c")
    r.xgroup_destroy("s", "g")
    r.execute_command("XSETID", "s", "5-0")
    r.xadd("s", {"a": 1}, id="6-0")
    r.xtrim("s", maxlen=0)
    events = []
    while True:
        m = p.get_message(timeout=1)
        if m is None:
            break
        if m["type"] == "pmessage":
            events.append(m["channel"].split(b":", 1)[1])
    assert events == [b"xadd", b"xadd", b"xtrim", b"xdel", b"xgroup-create",
                      b"xgroup-createconsumer", b"xgroup-setid", b"xgroup-delconsumer",
                      b"xgroup-destroy", b"xsetid", b"xadd", b"xtrim"]
    r.config_set("notify-keyspace-events", "")
    p.close()


def test_watch_is_invalidated_by_stream_writes_only(server, r):
    """As Redis: XADD/XDEL/XTRIM/XSETID signal the key; group bookkeeping does not."""
    c2 = server.client()
    r.xadd("s", {"a": 1}, id="1-0")
    r.xgroup_create("s", "g", "0")

    def run(op):
        with r.pipeline() as p:
            p.watch("s")
            op()
            p.multi()
            p.ping()
            try:
                p.execute()
                return True
            except Exception:
                return False

    assert run(lambda: c2.xreadgroup("g", "c", {"s": ">"})) is True
    assert run(lambda: c2.xack("s", "g", "1-0")) is True
    assert run(lambda: c2.xadd("s", {"a": 1}, id="2-0")) is False
    assert run(lambda: c2.xdel("s", "2-0")) is False
    c2.close()


def test_copy_and_type(r):
    r.xadd("s", {"a": 1}, id="1-0")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"
    assert r.copy("s", "s2")
    r.xack("s2", "g", "1-0")
    assert r.xpending("s", "g")["pending"] == 1
    assert r.xpending("s2", "g")["pending"] == 0


def test_large_stream_ranges(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1, 5001):
        pipe.xadd("big", {"f": i}, id=f"{i}-0")
    pipe.execute()
    assert r.xlen("big") == 5000
    assert [e[0] for e in r.xrange("big", "2500", "2502")] == [b"2500-0", b"2501-0", b"2502-0"]
    assert r.xrevrange("big", count=1)[0][0] == b"5000-0"
    assert r.xtrim("big", minid="4001") == 4000
    assert r.xrange("big", count=1)[0][0] == b"4001-0"
    info = r.xinfo_stream("big")
    assert info["length"] == 1000 and info["entries-added"] == 5000
