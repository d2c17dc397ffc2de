"""Property tests: random operation sequences on each data type give the same
raw replies from securekv as from redis-server 7.0.15.

One redis-server and one securekv are started for the module, twice: once
speaking RESP2 and once after HELLO 3 (RESP3 reply types: maps, sets, doubles,
nulls, nested WITHSCORES pairs). For each type a
hypothesis strategy generates command sequences over a small key/member
alphabet, mixed with wrong-type keys (a string key `s`, and every type's
commands may hit a key another command made) and edge arguments (negative and
huge counts, non-numbers, empty strings, out-of-range indexes). Each sequence
runs on both servers after FLUSHALL; the raw reply bytes of every command are
compared.

Replies Redis itself gives in no defined order are compared differently
(`MODES` below):
- as multisets (parsed, sorted): SMEMBERS, SINTER, SUNION, SDIFF (hashtable
  sets), HGETALL/HKEYS/HVALS (a hash may convert to hashtable encoding; HGETALL
  compared as a multiset of field/value pairs);
- by shape only (reply type and element count; errors compared exactly):
  SRANDMEMBER, HRANDFIELD, ZRANDMEMBER with and without count;
- never generated: SPOP (it changes the data by chance, the next replies would
  differ), RANDOMKEY, the SCAN family (cursors), XADD/XAUTOCLAIM with `*` IDs
  and times (the tests use explicit IDs), XINFO and the extended XPENDING form
  (idle times), OBJECT FREQ/IDLETIME, TTL-exact checks;
- accepted as known differences (`KNOWN`): OBJECT ENCODING `int` where Redis
  says `embstr` for an integer-looking INCRBYFLOAT result.

The default run is bounded (MAX_EXAMPLES per type, about a second or two
each); `-m slow` runs the same properties with many more examples
(SECUREKV_SLOW_EXAMPLES, 1000 by default).
"""

from __future__ import annotations

import os
import sys

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import RawConn, ServerProcess, encode_command, redis_server_available  # noqa: E402

MAX_EXAMPLES = 50
SLOW_EXAMPLES = int(os.environ.get("SECUREKV_SLOW_EXAMPLES", "1000"))

pytestmark = pytest.mark.skipif(not redis_server_available(),
                                reason="redis-server not installed (apt-get install redis-server)")


# -- servers ---------------------------------------------------------------------

@pytest.fixture(scope="module", params=[2, 3], ids=["resp2", "resp3"])
def conns(request):
    """Both servers, one connection each, speaking RESP2 or (HELLO 3) RESP3."""
    redis = ServerProcess(kind="redis").start()
    skv = ServerProcess().start()
    rc, sc = RawConn(redis.port), RawConn(skv.port)
    if request.param == 3:
        for c in (rc, sc):
            c.send(encode_command(b"HELLO", b"3"))
            assert c.read_reply()[:1] == b"%"
    yield rc, sc
    rc.close()
    sc.close()
    redis.stop()
    alive = skv.alive()
    out = skv.output()
    skv.stop()
    assert alive, "securekv died:\n" + out[-3000:]


# -- argument alphabets ----------------------------------------------------------

KEY = st.sampled_from([b"k1", b"k1", b"k1", b"k2", b"k2", b"k3", b"s"])
MEMBER = st.sampled_from([b"a", b"b", b"c", b"d", b"", b"1", b"2", b"-3", b"10", b"01",
                          b"9223372036854775807", b"x" * 70])
SMALL_MEMBER = st.sampled_from([b"a", b"b", b"c", b"d", b"1", b"2", b"10"])
INT = st.one_of(st.integers(-4, 6).map(lambda i: b"%d" % i),
                st.sampled_from([b"9223372036854775807", b"-9223372036854775808",
                                 b"9223372036854775808", b"abc", b"1.5", b"", b" 1", b"+1",
                                 b"-0", b"0x10"]))
SMALL_INT = st.integers(-4, 6).map(lambda i: b"%d" % i)
COUNT = st.one_of(st.integers(0, 6).map(lambda i: b"%d" % i),
                  st.sampled_from([b"-1", b"-5", b"abc", b"9223372036854775807"]))
FLOAT = st.one_of(st.integers(-5, 5).map(lambda i: b"%d" % i),
                  st.sampled_from([b"1.5", b"-2.25", b"0.1", b"inf", b"-inf", b"+inf", b"nan",
                                   b"1e300", b"abc", b"", b"3.0000000000000001", b"1e-320",
                                   b"0x1p3", b" 1"]))
VALUE = st.one_of(MEMBER, st.binary(max_size=8))


def C(*parts):
    """A command strategy: each part a bytes constant, a strategy of bytes, or a
    strategy of lists of bytes (flattened)."""
    strats = [st.just(p) if isinstance(p, bytes) else p for p in parts]

    def flat(t):
        out = []
        for x in t:
            if isinstance(x, (list, tuple)):
                out.extend(x)
            else:
                out.append(x)
        return out
    return st.tuples(*strats).map(flat)


def many(s, lo=1, hi=4):
    return st.lists(s, min_size=lo, max_size=hi)


def opts(*choices):
    """An optional flag list: any subset of the choices, in generated order."""
    return st.lists(st.sampled_from(choices), max_size=len(choices))


def pairs(a, b, lo=1, hi=3):
    return st.lists(st.tuples(a, b), min_size=lo, max_size=hi).map(
        lambda ps: [x for p in ps for x in p])


# Commands every type mixes in: wrong-type keys, deletion, generic key commands.
COMMON = [
    C(b"SET", st.sampled_from([b"s", b"k3"]), VALUE),
    C(b"DEL", many(KEY, 1, 2)),
    C(b"TYPE", KEY),
    C(b"EXISTS", many(KEY, 1, 3)),
    C(b"OBJECT", b"ENCODING", KEY),
]


def seq(*cmds):
    return st.lists(st.one_of(*cmds, *cmds, *COMMON), min_size=8, max_size=40)


# -- per-type command strategies ---------------------------------------------------

STRINGS = seq(
    C(b"GET", KEY), C(b"APPEND", KEY, VALUE), C(b"STRLEN", KEY),
    C(b"INCR", KEY), C(b"DECR", KEY), C(b"INCRBY", KEY, INT), C(b"DECRBY", KEY, INT),
    C(b"INCRBYFLOAT", KEY, FLOAT),
    C(b"GETRANGE", KEY, SMALL_INT, SMALL_INT), C(b"SETRANGE", KEY, st.sampled_from([b"0", b"3", b"-1"]), VALUE),
    C(b"SETNX", KEY, VALUE), C(b"GETSET", KEY, VALUE), C(b"GETDEL", KEY),
    C(b"MSET", pairs(KEY, VALUE)), C(b"MSETNX", pairs(KEY, VALUE)), C(b"MGET", many(KEY)),
    C(b"SET", KEY, VALUE, opts(b"NX", b"XX", b"GET", b"KEEPTTL")),
    C(b"SETBIT", KEY, st.sampled_from([b"0", b"7", b"100", b"-1"]), st.sampled_from([b"0", b"1", b"2"])),
    C(b"GETBIT", KEY, st.sampled_from([b"0", b"7", b"100"])),
    C(b"BITCOUNT", KEY), C(b"BITCOUNT", KEY, SMALL_INT, SMALL_INT),
    C(b"LCS", KEY, KEY),
)

LISTS = seq(
    C(st.sampled_from([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), KEY, many(MEMBER)),
    C(st.sampled_from([b"LPOP", b"RPOP"]), KEY),
    C(st.sampled_from([b"LPOP", b"RPOP"]), KEY, COUNT),
    C(b"LLEN", KEY), C(b"LRANGE", KEY, INT, INT), C(b"LINDEX", KEY, INT),
    C(b"LSET", KEY, INT, MEMBER),
    C(b"LINSERT", KEY, st.sampled_from([b"BEFORE", b"AFTER", b"after", b"middle"]), MEMBER, MEMBER),
    C(b"LREM", KEY, INT, MEMBER), C(b"LTRIM", KEY, SMALL_INT, SMALL_INT),
    C(b"LPOS", KEY, MEMBER, opts(b"RANK", b"COUNT", b"MAXLEN").flatmap(
        lambda os_: st.tuples(*[st.tuples(st.just(o), INT) for o in os_]).map(
            lambda ts: [x for t in ts for x in t]))),
    C(b"LMOVE", KEY, KEY, st.sampled_from([b"LEFT", b"RIGHT", b"up"]), st.sampled_from([b"LEFT", b"right"])),
    C(b"RPOPLPUSH", KEY, KEY),
    C(b"LMPOP", st.sampled_from([b"1", b"2", b"0", b"-1"]), many(KEY, 1, 2),
      st.sampled_from([b"LEFT", b"RIGHT", b"x"]), st.sampled_from([[], [b"COUNT", b"2"], [b"COUNT", b"0"]])),
)

HASHES = seq(
    C(b"HSET", KEY, pairs(MEMBER, VALUE)), C(b"HMSET", KEY, pairs(MEMBER, VALUE)),
    C(b"HSETNX", KEY, MEMBER, VALUE), C(b"HGET", KEY, MEMBER), C(b"HMGET", KEY, many(MEMBER)),
    C(b"HDEL", KEY, many(MEMBER)), C(b"HLEN", KEY), C(b"HEXISTS", KEY, MEMBER),
    C(b"HSTRLEN", KEY, MEMBER), C(b"HINCRBY", KEY, MEMBER, INT),
    C(b"HINCRBYFLOAT", KEY, MEMBER, FLOAT),
    C(b"HKEYS", KEY), C(b"HVALS", KEY), C(b"HGETALL", KEY),
    C(b"HRANDFIELD", KEY), C(b"HRANDFIELD", KEY, COUNT, opts(b"WITHVALUES")),
)

SETS = seq(
    C(b"SADD", KEY, many(MEMBER)), C(b"SREM", KEY, many(MEMBER)),
    C(b"SISMEMBER", KEY, MEMBER), C(b"SMISMEMBER", KEY, many(MEMBER)), C(b"SCARD", KEY),
    C(b"SMEMBERS", KEY), C(b"SMOVE", KEY, KEY, MEMBER),
    C(st.sampled_from([b"SINTER", b"SUNION", b"SDIFF"]), many(KEY, 1, 3)),
    C(st.sampled_from([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]), KEY, many(KEY, 1, 3)),
    C(b"SINTERCARD", st.sampled_from([b"1", b"2", b"0", b"3"]), many(KEY, 1, 2),
      st.sampled_from([[], [b"LIMIT", b"1"], [b"LIMIT", b"0"], [b"LIMIT", b"-1"]])),
    C(b"SRANDMEMBER", KEY), C(b"SRANDMEMBER", KEY, COUNT),
)

SCORE = st.one_of(st.integers(-3, 5).map(lambda i: b"%d" % i),
                  st.sampled_from([b"1.5", b"-inf", b"+inf", b"0.1", b"nan", b"abc"]))
# (No denormal scores such as 1e-320 here: Redis's strtod leaves errno = ERANGE
# behind, and a later SORT, which does not reset errno, then fails at random.)
RANGE_SCORE = st.sampled_from([b"-inf", b"+inf", b"0", b"(0", b"2", b"(2", b"1.5", b"(1.5", b"x",
                               b"5", b"-3", b"(inf"])
LEX = st.sampled_from([b"-", b"+", b"[a", b"(a", b"[c", b"(d", b"[", b"a", b"[1"])
ZSETS = seq(
    C(b"ZADD", KEY, opts(b"NX", b"XX", b"GT", b"LT", b"CH"), pairs(SCORE, SMALL_MEMBER)),
    C(b"ZADD", KEY, opts(b"NX", b"XX", b"GT", b"LT"), b"INCR", SCORE, SMALL_MEMBER),
    C(b"ZINCRBY", KEY, SCORE, SMALL_MEMBER),
    C(b"ZSCORE", KEY, SMALL_MEMBER), C(b"ZMSCORE", KEY, many(SMALL_MEMBER)), C(b"ZCARD", KEY),
    C(b"ZCOUNT", KEY, RANGE_SCORE, RANGE_SCORE), C(b"ZLEXCOUNT", KEY, LEX, LEX),
    C(b"ZRANGE", KEY, INT, INT, opts(b"REV", b"WITHSCORES")),
    C(b"ZRANGE", KEY, RANGE_SCORE, RANGE_SCORE, b"BYSCORE", opts(b"REV", b"WITHSCORES"),
      st.sampled_from([[], [b"LIMIT", b"0", b"2"], [b"LIMIT", b"1", b"-1"]])),
    C(b"ZRANGE", KEY, LEX, LEX, b"BYLEX", opts(b"REV"),
      st.sampled_from([[], [b"LIMIT", b"0", b"2"], [b"LIMIT", b"1", b"-1"]])),
    C(b"ZRANGESTORE", KEY, KEY, INT, INT),
    C(st.sampled_from([b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"]), KEY, RANGE_SCORE, RANGE_SCORE,
      opts(b"WITHSCORES")),
    C(st.sampled_from([b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"]), KEY, LEX, LEX),
    C(b"ZREVRANGE", KEY, INT, INT, opts(b"WITHSCORES")),
    C(st.sampled_from([b"ZRANK", b"ZREVRANK"]), KEY, SMALL_MEMBER),
    C(b"ZREM", KEY, many(SMALL_MEMBER)),
    C(b"ZREMRANGEBYRANK", KEY, SMALL_INT, SMALL_INT),
    C(b"ZREMRANGEBYSCORE", KEY, RANGE_SCORE, RANGE_SCORE),
    C(b"ZREMRANGEBYLEX", KEY, LEX, LEX),
    C(st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]), KEY, st.sampled_from([[], [b"2"], [b"0"], [b"-1"]])),
    C(b"ZMPOP", st.sampled_from([b"1", b"2"]), many(KEY, 1, 2), st.sampled_from([b"MIN", b"MAX"]),
      st.sampled_from([[], [b"COUNT", b"2"]])),
    C(st.sampled_from([b"ZUNION", b"ZINTER", b"ZDIFF"]), b"2", KEY, KEY,
      st.sampled_from([[], [b"WEIGHTS", b"2", b"0.5"], [b"AGGREGATE", b"MAX"], [b"AGGREGATE", b"MIN"]]),
      opts(b"WITHSCORES")),
    C(st.sampled_from([b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"]), KEY, b"2", KEY, KEY),
    C(b"ZINTERCARD", b"2", KEY, KEY),
    C(b"ZRANDMEMBER", KEY), C(b"ZRANDMEMBER", KEY, COUNT, opts(b"WITHSCORES")),
)

LONLAT = st.sampled_from([(b"13.361389", b"38.115556"), (b"15.087269", b"37.502669"),
                          (b"2.3522", b"48.8566"), (b"-0.1276", b"51.5072"),
                          (b"0", b"0"), (b"180", b"85.05112878"), (b"181", b"0"), (b"x", b"1")])
GEO = seq(
    C(b"GEOADD", KEY, opts(b"NX", b"XX", b"CH"),
      st.lists(st.tuples(LONLAT, SMALL_MEMBER), min_size=1, max_size=3).map(
          lambda ps: [x for (ll, m) in ps for x in (*ll, m)])),
    C(b"GEOPOS", KEY, many(SMALL_MEMBER)), C(b"GEOHASH", KEY, many(SMALL_MEMBER)),
    C(b"GEODIST", KEY, SMALL_MEMBER, SMALL_MEMBER, st.sampled_from([[], [b"km"], [b"mi"], [b"ft"], [b"xx"]])),
    C(b"GEOSEARCH", KEY, st.sampled_from([[b"FROMLONLAT", b"14", b"38"], [b"FROMMEMBER", b"a"]]),
      st.sampled_from([[b"BYRADIUS", b"300", b"km"], [b"BYBOX", b"400", b"400", b"km"],
                       [b"BYRADIUS", b"5000", b"km"]]),
      st.sampled_from([b"ASC", b"DESC"]), opts(b"WITHCOORD", b"WITHDIST", b"WITHHASH"),
      st.sampled_from([[], [b"COUNT", b"1"], [b"COUNT", b"2"]])),
    C(b"GEORADIUSBYMEMBER", KEY, SMALL_MEMBER, b"500", b"km", b"ASC", opts(b"WITHDIST")),
    C(b"GEOSEARCHSTORE", KEY, KEY, b"FROMLONLAT", b"14", b"38", b"BYRADIUS", b"1000", b"km",
      opts(b"STOREDIST")),
    C(b"ZRANGE", KEY, b"0", b"-1", b"WITHSCORES"),
)

SID = st.one_of(st.tuples(st.integers(0, 4), st.integers(0, 3)).map(lambda t: b"%d-%d" % t),
                st.sampled_from([b"0", b"3", b"-", b"+", b"(1-1", b"0-0", b"x", b"18446744073709551615-18446744073709551615"]))
FIELDS = pairs(st.sampled_from([b"f", b"g", b"h"]), VALUE, 1, 2)
STREAMS = seq(
    C(b"XADD", KEY, opts(b"NOMKSTREAM"),
      st.sampled_from([[], [b"MAXLEN", b"2"], [b"MAXLEN", b"=", b"0"], [b"MINID", b"2-0"],
                       [b"MAXLEN", b"~", b"1"], [b"MAXLEN", b"-1"]]),
      st.one_of(st.tuples(st.integers(0, 6), st.integers(0, 3)).map(lambda t: b"%d-%d" % t),
                st.sampled_from([b"5-*", b"1-*", b"0-0", b"abc", b"7"])), FIELDS),
    C(b"XLEN", KEY), C(st.sampled_from([b"XRANGE", b"XREVRANGE"]), KEY, SID, SID,
                       st.sampled_from([[], [b"COUNT", b"1"], [b"COUNT", b"0"], [b"COUNT", b"-1"]])),
    C(b"XDEL", KEY, many(SID, 1, 2)),
    C(b"XTRIM", KEY, st.sampled_from([[b"MAXLEN", b"1"], [b"MINID", b"3-0"], [b"MAXLEN", b"~", b"0"],
                                      [b"MAXLEN", b"1", b"LIMIT", b"1"]])),
    C(b"XREAD", st.sampled_from([[], [b"COUNT", b"1"]]), b"STREAMS", KEY, SID),
    C(b"XGROUP", b"CREATE", KEY, st.sampled_from([b"g1", b"g2"]), st.sampled_from([b"0", b"$", b"2-0"]),
      opts(b"MKSTREAM")),
    C(b"XGROUP", b"SETID", KEY, st.sampled_from([b"g1", b"g2"]), st.sampled_from([b"0", b"$", b"1-0"])),
    C(b"XGROUP", b"DESTROY", KEY, st.sampled_from([b"g1", b"g2"])),
    C(b"XGROUP", b"CREATECONSUMER", KEY, b"g1", st.sampled_from([b"c1", b"c2"])),
    C(b"XGROUP", b"DELCONSUMER", KEY, b"g1", st.sampled_from([b"c1", b"c2"])),
    C(b"XREADGROUP", b"GROUP", st.sampled_from([b"g1", b"g2"]), st.sampled_from([b"c1", b"c2"]),
      st.sampled_from([[], [b"COUNT", b"1"], [b"NOACK"]]), b"STREAMS", KEY,
      st.sampled_from([b">", b"0", b"2-0"])),
    C(b"XACK", KEY, st.sampled_from([b"g1", b"g2"]), many(SID, 1, 2)),
    C(b"XPENDING", KEY, st.sampled_from([b"g1", b"g2"])),
    C(b"XCLAIM", KEY, b"g1", st.sampled_from([b"c1", b"c2"]), b"0", many(SID, 1, 2), opts(b"JUSTID")),
    C(b"XSETID", KEY, st.sampled_from([b"5-0", b"0-1", b"100-0"])),
)

HLL_ELEM = st.one_of(st.sampled_from([b"a", b"b", b"c", b""]), st.integers(0, 3000).map(lambda i: b"e%d" % i))
HLL = seq(
    C(b"PFADD", KEY, st.lists(HLL_ELEM, max_size=5)),
    C(b"PFADD", KEY, st.integers(0, 400).map(lambda n: [b"m%d" % i for i in range(n)])),
    C(b"PFCOUNT", many(KEY, 1, 3)), C(b"PFMERGE", KEY, many(KEY, 0, 2)),
    C(b"GET", KEY), C(b"APPEND", KEY, st.sampled_from([b"x", b"\x00"])),
)

KEYS = seq(
    C(b"SET", KEY, VALUE), C(b"RPUSH", KEY, MEMBER), C(b"SADD", KEY, MEMBER),
    C(b"HSET", KEY, MEMBER, VALUE), C(b"ZADD", KEY, SCORE, SMALL_MEMBER),
    C(b"RENAME", KEY, KEY), C(b"RENAMENX", KEY, KEY), C(b"COPY", KEY, KEY, opts(b"REPLACE")),
    C(b"EXPIRE", KEY, st.sampled_from([b"100", b"-1", b"abc"]), opts(b"NX", b"XX", b"GT", b"LT")),
    C(b"PERSIST", KEY), C(b"TTL", KEY), C(b"UNLINK", many(KEY)), C(b"TOUCH", many(KEY)),
    C(b"DBSIZE"), C(b"KEYS", b"k*"),
    C(b"SORT", KEY, opts(b"ALPHA", b"DESC"), st.sampled_from([[], [b"LIMIT", b"0", b"2"]])),
)

FAMILIES = {"strings": STRINGS, "lists": LISTS, "hashes": HASHES, "sets": SETS, "zsets": ZSETS,
            "geo": GEO, "streams": STREAMS, "hll": HLL, "keys": KEYS}

# How replies are compared (default: raw bytes).
MODES = {
    b"SMEMBERS": "multiset", b"SINTER": "multiset", b"SUNION": "multiset", b"SDIFF": "multiset",
    b"HKEYS": "multiset", b"HVALS": "multiset", b"HGETALL": "pairs", b"KEYS": "multiset",
    b"SRANDMEMBER": "shape", b"HRANDFIELD": "shape", b"ZRANDMEMBER": "shape",
}


# -- comparison ------------------------------------------------------------------

def parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


# Known, accepted differences: (command, redis reply, securekv reply).
KNOWN = {
    # A string stored by INCRBYFLOAT that looks like an integer ("1", "0"):
    # Redis keeps the embstr object it made (no tryObjectEncoding), securekv
    # derives the encoding from the bytes. Only OBJECT ENCODING can tell.
    (b"OBJECT", b"$6\r\nembstr\r\n", b"$3\r\nint\r\n"),
}


def same(cmd, a: bytes, b: bytes) -> bool:
    if a == b or (cmd[0].upper(), a, b) in KNOWN:
        return True
    mode = MODES.get(cmd[0].upper())
    if mode is None or a[:1] == b"-" or b[:1] == b"-":
        return False
    if mode == "shape":
        return a[:1] == b[:1] and (a[:1] != b"*" or a.split(b"\r\n", 1)[0] == b.split(b"\r\n", 1)[0])
    pa, pb = parse(a), parse(b)
    if isinstance(pa, dict) and isinstance(pb, dict):     # RESP3 maps (HGETALL)
        return a[:1] == b[:1] and sorted(pa.items()) == sorted(pb.items())
    if not (isinstance(pa, list) and isinstance(pb, list)) or a[:1] != b[:1]:
        return False
    if mode == "pairs":
        pa, pb = list(zip(pa[::2], pa[1::2])), list(zip(pb[::2], pb[1::2]))
    return sorted(pa) == sorted(pb)


def run_both(conns, cmds) -> None:
    rc, sc = conns
    rc.cmd("FLUSHALL")
    sc.cmd("FLUSHALL")
    log = []
    for argv in cmds:
        data = encode_command(*argv)
        rc.send(data)
        sc.send(data)
        a, b = rc.read_reply(), sc.read_reply()
        line = b" ".join(x if x and b" " not in x and len(x) < 40 else repr(x).encode() for x in argv)
        log.append(line.decode("utf-8", "replace"))
        assert same(argv, a, b), ("replies differ after:\n  " + "\n  ".join(log) +
                                  f"\n redis:    {a!r}\n securekv: {b!r}")


def check_family(conns, name: str, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(FAMILIES[name])
    def prop(cmds):
        run_both(conns, cmds)
    prop()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_model_vs_redis(conns, family):
    check_family(conns, family, MAX_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_model_vs_redis_long(conns, family):
    check_family(conns, family, SLOW_EXAMPLES)
