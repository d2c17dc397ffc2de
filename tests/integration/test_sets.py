"""Sets beyond the compat script: RESP3 shapes compared with redis-server, big
sets, SSCAN under mutation, SPOP/SRANDMEMBER semantics, encodings,
notifications, WATCH, COPY."""

from __future__ import annotations

import pytest

from helpers import both, keyevents


def test_resp3_shapes_match_redis(server, ref):
    a, b = both(server, ref, resp3=True)
    try:
        for cmd in [("SADD", "s", "3", "1", "2"), ("SMEMBERS", "s"), ("SMEMBERS", "nokey"),
                    ("SISMEMBER", "s", "1"), ("SMISMEMBER", "s", "1", "9"),
                    ("SINTER", "s", "s"), ("SUNION", "s", "nokey"), ("SDIFF", "s", "nokey"),
                    ("SINTER", "s", "nokey"), ("SRANDMEMBER", "s", "5"),
                    ("SRANDMEMBER", "nokey", "5"), ("SPOP", "nokey", "2"),
                    ("SPOP", "s", "0"), ("SSCAN", "s", "0"), ("SPOP", "s", "5"),
                    ("SPOP", "s"), ("SRANDMEMBER", "s")]:
            ra, rb = a.cmd(*cmd), b.cmd(*cmd)
            assert ra == rb, (cmd, ra, rb)
    finally:
        a.close()
        b.close()


def test_big_sets_and_algebra(r):
    a = {b"a%d" % i for i in range(20000)}
    b = {b"a%d" % i for i in range(10000, 30000)}
    r.sadd("a", *a)
    r.sadd("b", *b)
    assert r.object("encoding", "a") == b"hashtable"
    assert r.scard("a") == 20000
    assert set(r.sinter("a", "b")) == a & b
    assert set(r.sunion("a", "b")) == a | b
    assert set(r.sdiff("a", "b")) == a - b
    assert r.sinterstore("i", "a", "b") == 10000
    assert r.sintercard(2, ["a", "b"], limit=10) == 10
    assert set(r.smembers("i")) == a & b
    popped = r.spop("a", 15000)
    assert len(set(popped)) == 15000 and set(popped) <= a
    assert r.scard("a") == 5000
    assert not set(r.smembers("a")) & set(popped)


def test_intset_limits_and_order(r):
    r.sadd("i", *range(512))
    assert r.object("encoding", "i") == b"intset"
    r.sadd("i", 512)
    assert r.object("encoding", "i") == b"hashtable"
    r.srem("i", 512)
    assert r.object("encoding", "i") == b"hashtable"
    r.sadd("j", 10, -3, 7)
    assert r.smembers("j") == {b"-3", b"7", b"10"}
    assert r.execute_command("SMEMBERS", "j") in ([b"-3", b"7", b"10"], {b"-3", b"7", b"10"})


def test_sscan_covers_everything_under_mutation(r):
    r.sadd("s", *[b"k%d" % i for i in range(5000)])
    seen = set()
    cursor, n = 0, 0
    while True:
        cursor, items = r.sscan("s", cursor, count=50)
        seen.update(items)
        r.sadd("s", b"new%d" % n)
        n += 1
        if cursor == 0:
            break
    assert {b"k%d" % i for i in range(5000)} <= seen
    assert set(r.sscan("s", 0, match="k49*", count=100000)[1]) == \
        {b"k49"} | {b"k49%d" % i for i in range(10)} | {b"k49%d%d" % (i, j) for i in range(10) for j in range(10)}


def test_srandmember_semantics(r):
    r.sadd("s", *range(10))
    rep = r.srandmember("s", -1000)
    assert len(rep) == 1000 and set(rep) == {b"%d" % i for i in range(10)}
    assert len(set(r.srandmember("s", 7))) == 7
    assert r.scard("s") == 10


def test_notifications_watch_copy(server, r):
    with keyevents(server, r) as collect:
        r.sadd("s", "a", "b")
        r.sadd("s", "a")
        r.srem("s", "a")
        r.smove("s", "t", "b")
        r.sadd("x", 1)
        r.sunionstore("u", ["x"])
        r.spop("x")
        expected = [(b"sadd", b"s"), (b"srem", b"s"), (b"srem", b"s"), (b"del", b"s"),
                    (b"sadd", b"t"), (b"sadd", b"x"), (b"sunionstore", b"u"),
                    (b"spop", b"x"), (b"del", b"x")]
        assert collect(len(expected)) == expected
    r.sadd("w", "a")
    w = server.client()
    p = w.pipeline()
    p.watch("w")
    r.sadd("w", "b")
    p.multi()
    p.scard("w")
    with pytest.raises(Exception):
        p.execute()
    w.close()
    r.copy("w", "w2")
    r.sadd("w2", "c")
    assert r.smembers("w") == {b"a", b"b"}
    assert r.object("encoding", "w2") == b"hashtable"


def test_random_index_stays_consistent(r):
    r.sadd("s", *[b"m%d" % i for i in range(3000)])
    r.srandmember("s")                    # builds the random-access index
    r.srem("s", *[b"m%d" % i for i in range(0, 3000, 3)])
    r.sadd("s", *[b"n%d" % i for i in range(500)])
    r.smove("s", "t", b"m1")
    expected = set(r.smembers("s"))
    popped = [r.spop("s") for _ in range(len(expected))]
    assert len(popped) == len(set(popped)) and set(popped) == expected
    assert r.exists("s") == 0
    assert r.spop("s") is None


def test_random_draws_are_bounded(r):
    """A negative count makes that many draws: Redis 7.0 builds any such reply
    (and runs out of memory on -9223372036854775807); securekv refuses counts
    past random-reply-max-count and stays up."""
    import redis
    r.sadd("s", "a", "b")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})
    huge = -9223372036854775807
    for cmd in (("SRANDMEMBER", "s", huge), ("HRANDFIELD", "h", huge),
                ("ZRANDMEMBER", "z", huge), ("HRANDFIELD", "h", -1000001, "WITHVALUES"),
                ("ZRANDMEMBER", "z", -1000001, "WITHSCORES")):
        with pytest.raises(redis.ResponseError, match="random-reply-max-count"):
            r.execute_command(*cmd)
    assert len(r.srandmember("s", -1000000)) == 1000000       # at the limit: served
    assert r.srandmember("nokey", huge) == []                 # no key: nothing to draw
    r.config_set("random-reply-max-count", "10")
    try:
        assert len(r.hrandfield("h", -10)) == 10
        with pytest.raises(redis.ResponseError, match="at most 10 random"):
            r.hrandfield("h", -11)
        assert len(r.srandmember("s", 5)) == 2                 # positive counts: the set bounds them
    finally:
        r.config_set("random-reply-max-count", "1000000")
    assert r.ping()
