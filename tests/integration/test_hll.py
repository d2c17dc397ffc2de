"""HyperLogLog against a real redis-server: the same commands give the same
bytes (GET), the same estimates (PFCOUNT), and values move both ways."""

import random
import time

import pytest

from helpers import ServerProcess, redis_server_available

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")


@pytest.fixture(scope="module")
def ref():
    with ServerProcess(kind="redis") as s:
        yield s


@pytest.fixture
def rr(ref):
    c = ref.client()
    c.flushall()
    yield c
    c.close()


def _batches(n, seed, size=500):
    rnd = random.Random(seed)
    elems = [b"el:%d:%d" % (i, rnd.getrandbits(32)) for i in range(n)]
    return [elems[i:i + size] for i in range(0, n, size)]


@needs_redis
@pytest.mark.parametrize("n", [1, 10, 300, 1500, 20000])
def test_same_bytes_and_count_as_redis(r, rr, n):
    for batch in _batches(n, n):
        assert r.pfadd("h", *batch) == rr.pfadd("h", *batch)
        # A few re-adds (no change) and single adds, as clients do.
        assert r.pfadd("h", batch[0]) == rr.pfadd("h", batch[0])
    assert r.get("h") == rr.get("h")
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == \
        rr.execute_command("PFDEBUG", "ENCODING", "h")
    assert r.pfcount("h") == rr.pfcount("h")
    assert r.get("h") == rr.get("h")        # the cached cardinality in the header


@needs_redis
def test_values_move_between_servers(r, rr):
    for batch in _batches(3000, 1):
        rr.pfadd("from_redis", *batch)
    for batch in _batches(700, 2):
        r.pfadd("from_skv", *batch)
    r.set("from_redis", rr.get("from_redis"))
    rr.set("from_skv", r.get("from_skv"))
    assert r.pfcount("from_redis") == rr.pfcount("from_redis")
    assert r.pfcount("from_skv") == rr.pfcount("from_skv")
    assert r.pfcount("from_redis", "from_skv") == rr.pfcount("from_redis", "from_skv")
    r.pfmerge("m", "from_skv", "from_redis")
    rr.pfmerge("m", "from_skv", "from_redis")
    assert r.get("m") == rr.get("m")
    more = [b"x%d" % i for i in range(100)]
    assert r.pfadd("from_redis", *more) == rr.pfadd("from_redis", *more)
    assert r.get("from_redis") == rr.get("from_redis")


@needs_redis
def test_merge_sparse_and_dense_like_redis(r, rr):
    for c in (r, rr):
        c.pfadd("a", *[b"a%d" % i for i in range(50)])
        c.pfadd("b", *[b"b%d" % i for i in range(60)])
        c.pfadd("d", *[b"d%d" % i for i in range(5000)])
        c.pfmerge("s", "a", "b")
        c.pfmerge("t", "a", "d")
        c.execute_command("PFDEBUG", "TODENSE", "a")
    for k in ("s", "t", "a"):
        assert r.get(k) == rr.get(k)
    assert r.execute_command("PFDEBUG", "GETREG", "s") == \
        rr.execute_command("PFDEBUG", "GETREG", "s")
    assert r.get("s") == rr.get("s")


def test_pfadd_speed_is_reasonable(r):
    elems = [b"speed:%d" % i for i in range(20000)]
    t0 = time.perf_counter()
    for i in range(0, len(elems), 1000):
        r.pfadd("speed", *elems[i:i + 1000])
    per_elem_us = (time.perf_counter() - t0) / len(elems) * 1e6
    print(f"PFADD: {per_elem_us:.1f} us per element (20000 elements, batches of 1000)")
    assert r.pfcount("speed") > 19000


def test_wrongtype_and_keyspace_events(r):
    r.rpush("l", "x")
    with pytest.raises(Exception, match="WRONGTYPE Operation"):
        r.pfadd("l", "a")
    r.set("s", "not an hll")
    with pytest.raises(Exception, match="Key is not a valid HyperLogLog"):
        r.pfcount("s")
    r.config_set("notify-keyspace-events", "KE$")
    p = r.pubsub()
    p.subscribe("__keyevent@0__:pfadd")
    p.get_message(timeout=2)
    r.pfadd("h", "a")
    r.pfmerge("h2", "h")
    got = []
    while len(got) < 2:
        m = p.get_message(timeout=5)
        assert m is not None
        if m["type"] == "message":
            got.append(m["data"])
    assert got == [b"h", b"h2"]
    r.config_set("notify-keyspace-events", "")
    p.close()


def test_watch_sees_pfadd(server, r):
    c2 = server.client()
    r.pfadd("w", "a")
    with r.pipeline() as p:
        p.watch("w")
        c2.pfadd("w", "b")
        p.multi()
        p.pfcount("w")
        with pytest.raises(Exception):
            p.execute()
    c2.close()
