"""Keyspace notifications (notify-keyspace-events) match redis-server 7.0.15,
command by command.

Every line of COMMANDS runs on a redis-server and on securekv (one connection
each, in order). A subscriber on each server (PSUBSCRIBE __key*__:*) collects
what the line published on __keyspace@<db>__:<key> and __keyevent@<db>__:<event>;
after each line a marker message (PUBLISH on another connection, to a channel
the subscriber also listens on) closes the line's batch. The two batches must
be equal, in order. The script runs twice: with KEA (every class but key-miss
and new-key events) and with KEAmn (those too).

Lines are quoted as redis-cli inline commands (tests/helpers.py parse_script);
`@dump:KEY` is replaced by that server's DUMP of KEY (read in db 0); `@sleep S`
pauses (what was published meanwhile -- active expiry -- is compared too);
`&CMD` is sent on a third connection, where it blocks (what serving it
publishes belongs to the line that served it); `~x CMD`: a known difference,
not compared (see the comment there; none today).

Not compared: `evicted` events (class e), as eviction follows memory
accounting, which securekv estimates rather than measures like Redis's
allocator; and the order of several keys expired by one active expiry cycle
(Redis samples keys at random), so each such test expires one key.

Run as a script (python tests/integration/test_notification_parity.py [KEA|KEAmn] [-v])
to print every difference instead of asserting.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import (RawConn, ServerProcess, block_on, bulk, parse_script,  # noqa: E402
                     raw_blocked_clients, redis_server_available)
from parity_scripts import WRITES  # noqa: E402

MARK = "__notification_parity_mark__"

# WRITES (tests/parity_scripts.py, shared with test_dirty_counter.py), then reads:
COMMANDS = WRITES + r"""
# -- reads (keymiss events with the m class; nothing with KEA)
FLUSHALL
SET k v
GET k
GET nokey
MGET k nokey k nokey2
EXISTS nokey
TYPE nokey
TTL nokey
STRLEN nokey
GETRANGE nokey 0 1
LRANGE nokey 0 -1
LLEN nokey
HGET nokey f
HGETALL nokey
SMEMBERS nokey
SISMEMBER nokey a
ZSCORE nokey a
ZRANGE nokey 0 -1
XRANGE nokey - +
XLEN nokey
PFCOUNT nokey
GEOPOS nokey a
GETBIT nokey 0
BITCOUNT nokey
DUMP nokey
OBJECT ENCODING nokey
SET k v GET
SET nk v GET
GETDEL nokey
GETEX nokey
# -- expiry: lazy (on access) and active
FLUSHALL
SET ex1 v PX 1
SET ex2 v PX 1
LPUSH ex3 a
PEXPIRE ex3 1
@sleep 0.01
GET ex1
LPUSH ex3 b
SET ex2 v2
EXISTS ex2
DEBUG SET-ACTIVE-EXPIRE 1
# one key a cycle: Redis samples keys at random, so the order of several is not defined
SET ax1 v PX 1
@sleep 0.5
HSET ax2 f v
PEXPIRE ax2 1
@sleep 0.5
DEBUG SET-ACTIVE-EXPIRE 0
# -- blocking pops served by pushes
FLUSHALL
&BLPOP bq 0
LPUSH bq a b
&BRPOP bq1 0
RPUSH bq1 x
&BLPOP bq9 0
RPUSH bq9 x y
&BLMOVE bq2 bq3 LEFT RIGHT 0
RPUSH bq2 a
&BRPOPLPUSH bq4 bq4 0
RPUSH bq4 a
&BLMPOP 0 1 bq5 LEFT COUNT 5
RPUSH bq5 a b c
&BZPOPMIN bz 0
ZADD bz 1 a 2 b
&BZPOPMAX bz1 0
ZADD bz1 1 a
&BZMPOP 0 1 bz2 MIN COUNT 5
ZADD bz2 1 a 2 b
&XREAD BLOCK 0 STREAMS bs $
XADD bs 1-1 f v
XGROUP CREATE bs2 g $ MKSTREAM
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 1-1 f v
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 2-1 f v
&BLPOP bq6 0
MULTI
RPUSH bq6 a
RPUSH bq6 b
EXEC
&BLMOVE bq7 bq8 RIGHT LEFT 0
LPUSH bq7 a
&BLPOP bq10 bq11 0
RPUSH bq11 z
# -- transactions: events of queued commands come at EXEC
FLUSHALL
MULTI
SET t1 v
INCR t2
LPUSH t3 a
EXPIRE t1 100
RENAME t1 t4
DEL t3
HSET t5 f v
EXEC
MULTI
SET t1 v
LPUSH t1 a
SADD t6 x
EXEC
SET wk v
WATCH wk
SET wk v2
MULTI
SET wk v3
EXEC
# -- SORT STORE with BY/GET
FLUSHALL
RPUSH sl 3 1 2
SET w_1 3
SET w_2 1
SET w_3 2
SORT sl BY w_* STORE dst
SORT sl BY w_* GET # STORE dst
SORT nokey STORE dst
# -- more strings
SET s v EXAT 99999999999
SET s v PXAT 99999999999999 GET
SET s v EX 100 NX
SET s2 v PX 100000 XX
SETEX s 200 v2
GETEX s EXAT 99999999999
GETEX s PX 100000
INCRBYFLOAT s3 1e2
INCRBYFLOAT s3 -100
DECRBY s4 3
SETRANGE s5 3 abc
SETRANGE s5 0 xyz
APPEND s5 ""
LPUSH lst a
SETRANGE lst 0 x
APPEND lst x
INCR lst
GETDEL lst
SET big 1
INCRBY big 9223372036854775807
INCRBYFLOAT s5 1
LCS s s5
SUBSTR s 0 1
# -- more keys: expiry edge cases, TTL on expired keys
FLUSHALL
SET e1 v
EXPIRE e1 -1
SET e2 v
PEXPIRE e2 0
SET e3 v
EXPIREAT e3 1
SET e4 v EX 100
EXPIRE e4 50 XX
EXPIRE e4 10 NX
EXPIRE e4 1000 GT
EXPIRE e4 10 GT
PEXPIRE e4 100 LT
PERSIST e4
SET x1 v PX 1
SET x2 v PX 1
SET x3 v PX 1
SET x4 v PX 1
SET x5 v PX 1
SET x6 v PX 1
SET x7 v PX 1
SET x8 v PX 1
SET x9 v PX 1
SET x10 v PX 1
@sleep 0.01
TYPE x1
TTL x2
EXISTS x3
EXPIRE x4 100
DEL x5
RENAME x6 x66
COPY x7 x77
TOUCH x8
OBJECT ENCODING x9
SCAN 0 COUNT 1000
DBSIZE
SET r1 v EX 100
SET r2 v
RENAME r1 r2
RENAMENX r2 r1
SET r3 v
RENAMENX r2 r3
LPUSH cp a b
COPY cp r3
COPY cp r3 REPLACE
SET mv v EX 100
SELECT 1
SET mv other
SELECT 0
MOVE mv 1
MOVE mv 2
MOVE mv 0
TOUCH r3 nokey
EXPIRETIME r1
OBJECT FREQ r1
RESTORE rst 0 @dump:r3 IDLETIME 100
RESTORE rst 0 @dump:r3 REPLACE FREQ 5
RESTORE rst 0 "bad payload" REPLACE
RESTORE rst2 -1 @dump:r3
FLUSHDB ASYNC
FLUSHALL SYNC
# -- more lists
RPUSH l a b c b a
LINSERT l AFTER c x
LINSERT l AFTER nosuch x
LSET l -1 z
LSET l 1 b
LREM l 0 b
LREM l 0 a
LPOS l x
LRANGE l 0 -1
LINDEX l 0
LLEN l
LTRIM l 5 1
LPUSHX l a
RPUSHX nol a
RPUSH l a
LSET l 0 b
RPOPLPUSH l nl
RPOPLPUSH nl nl
LMPOP 2 nol nl RIGHT
BLPOP nol 0.01
BLMPOP 0.01 1 nol LEFT
LPOS nol a
# -- more hashes
HSET h a 1
HSETNX h a 2
HINCRBY h a 5
HINCRBY h2 a 5
HINCRBYFLOAT h2 b 1
HINCRBYFLOAT h2 b x
HINCRBY h2 b 1
HMSET h2 c 3
HGET h a
HMGET nohash a b
HRANDFIELD nohash
HRANDFIELD h 1
HSTRLEN h a
HEXISTS nohash a
HLEN nohash
HKEYS nohash
HVALS h
HSCAN nohash 0
HDEL h a
HDEL h2 a b c
# -- more sets
SADD st a
SPOP st
SADD st a b
SPOP st 2
SADD st a b
SPOP st 5
SADD st a b c
SREM st a b c
SADD sa a b c
SADD sb c d
SINTERSTORE sc sa sb
SINTERSTORE sc sa nokey
SUNIONSTORE sc sa sb
SDIFFSTORE sc sa sb
SDIFFSTORE sc sa sa
SMOVE sa sa a
SMOVE sa sb c
SMOVE sa sb a
SMOVE nos sb a
SMISMEMBER sa a x
SRANDMEMBER nos
SCARD nos
SINTER sa nokey
SUNION nokey nokey2
SDIFF nokey sa
SINTERCARD 2 nokey sa
SMOVE sa sstr a
SET sstr v
SMOVE sa sstr b
# -- more sorted sets
ZADD z INCR 5 a
ZADD z GT CH 3 a 1 b
ZADD z LT CH 3 a 1 b
ZADD z NX INCR 1 a
ZADD z XX 1 nosuch
ZINCRBY z 0 nosuch
ZADD z 1 c 1 d 1 e
ZREMRANGEBYLEX z [c [d
ZREMRANGEBYLEX z [x [y
ZREMRANGEBYRANK z 5 10
ZREMRANGEBYSCORE z -inf +inf
ZADD z 1 a 2 b 3 c
ZPOPMAX z 0
ZPOPMIN noz
ZMPOP 1 noz MIN
ZUNIONSTORE zu 2 z noz WEIGHTS 2 3 AGGREGATE MAX
ZINTERSTORE zu 2 z noz
ZINTERSTORE zu 2 z noz
ZDIFFSTORE zu 1 z
ZRANGESTORE zr z [a [b BYLEX
ZRANGESTORE zr z (5 0 BYSCORE REV
ZRANGESTORE zr z 0 0 REV
ZRANGESTORE zr noz 0 -1
ZSCORE noz a
ZMSCORE noz a
ZRANK noz a
ZCARD noz
ZCOUNT noz 0 1
ZRANDMEMBER noz
ZRANGEBYSCORE noz 0 1
ZLEXCOUNT noz - +
ZSCAN noz 0
ZINTERCARD 1 noz
ZUNION 1 noz
BZPOPMIN noz 0.01
BZMPOP 0.01 1 noz MIN
# -- more streams
XADD st1 MAXLEN ~ 100 1-1 f v
XADD st1 MAXLEN = 1 2-1 f v
XADD st1 LIMIT 10 MAXLEN ~ 1 3-1 f v
XADD st1 NOMKSTREAM 4-1 f v
XADD st2 NOMKSTREAM 4-1 f v
XADD st1 0-1 f v
XTRIM st1 MINID 4
XTRIM st1 MINID ~ 100
XTRIM st1 MAXLEN 0
XLEN st1
XRANGE st1 - +
XREVRANGE nost + -
XREAD STREAMS nost 0
XREAD STREAMS st1 nost 0 0
XINFO STREAM st1
XGROUP CREATE st1 g $
XGROUP CREATECONSUMER st1 g alice
XGROUP CREATECONSUMER nost g alice
XGROUP DELCONSUMER st1 g alice
XADD st1 5-1 f v
XADD st1 6-1 f v
XREADGROUP GROUP g bob COUNT 1 STREAMS st1 >
XREADGROUP GROUP g bob STREAMS st1 >
XREADGROUP GROUP g carol STREAMS st1 0
XREADGROUP GROUP nog bob STREAMS st1 >
XPENDING st1 g
XPENDING nost g
XCLAIM st1 g dave 0 5-1 6-1
XCLAIM st1 g dave 1000000 5-1
XCLAIM st1 g erin 0 5-1 JUSTID
XAUTOCLAIM st1 g frank 0 0 COUNT 1
XAUTOCLAIM st1 g frank 0 0 JUSTID
XDEL st1 5-1
XAUTOCLAIM st1 g gina 0 0
XACK st1 g 6-1
XACK st1 g 6-1
XGROUP SETID st1 g $
XGROUP SETID st1 g 0 ENTRIESREAD 1
XGROUP DESTROY st1 g
XSETID st1 1-1
XSETID nost 1-1
XSETID st1 999-1
XDEL st1 6-1
XTRIM st1 MAXLEN 0
# -- more hyperloglog
PFADD p1
PFADD p1 a
PFADD p1 a
PFADD p2 b c
PFCOUNT p1
PFADD p1 z
PFCOUNT p1
PFCOUNT p1
PFCOUNT p1 p2
PFMERGE p3
PFMERGE p3 p1 p2
PFMERGE p3 nokey
PFMERGE p4 nokey
PFCOUNT nokey
SET notp v
PFADD notp a
PFCOUNT notp
PFMERGE notp p1
# -- more geo
GEOADD g NX 13.361389 38.115556 a
GEOADD g XX CH 13.4 38.1 a
GEOADD g XX CH 13.4 38.1 zz
GEOADD g 200 100 bad
GEOSEARCHSTORE gd g FROMMEMBER a BYRADIUS 10 km ASC COUNT 1 STOREDIST
GEOSEARCHSTORE gd g FROMMEMBER a BYRADIUS 10 km ASC COUNT 1 STOREDIST
GEOSEARCHSTORE gd nog FROMLONLAT 0 0 BYRADIUS 1 km
GEOSEARCHSTORE gd2 nog FROMLONLAT 0 0 BYRADIUS 1 km
GEOSEARCHSTORE gd g FROMMEMBER nosuch BYRADIUS 1 km
GEORADIUS g 13 38 100 km STORE gr
GEORADIUS nog 13 38 100 km STORE gr
GEORADIUSBYMEMBER g a 1 m STOREDIST gr
GEODIST nog a b
GEOPOS g a nosuch
GEOHASH nog a
GEOSEARCH nog FROMLONLAT 0 0 BYRADIUS 1 km
# -- more bitmaps
SETBIT nb 0 0
SETBIT nb 0 0
SETBIT nb 0 1
SETBIT nb 10 0
GETBIT nb 0
BITCOUNT nb
BITPOS nb 1
BITPOS nob 1
BITOP OR bo nb nob
BITOP XOR bo nob nob
BITOP AND nob2 nob nob
BITOP NOT bo nob
BITFIELD nbf GET u8 0
BITFIELD nbf INCRBY u8 0 0
BITFIELD nbf OVERFLOW FAIL SET u8 0 300
BITFIELD nbf OVERFLOW SAT INCRBY u8 0 300
BITFIELD nbf SET u8 0 1 GET u8 0
BITFIELD_RO nobf GET u8 0
SETBIT lst2 0 1
LPUSH lst3 a
SETBIT lst3 0 1
BITFIELD lst3 SET u8 0 1
# -- more sort
RPUSH srt c a b
SORT srt ALPHA STORE so
SORT srt ALPHA DESC LIMIT 0 2 STORE so
SORT srt BY nosort STORE so
SORT srt ALPHA LIMIT 10 5 STORE so
SORT srt ALPHA LIMIT 10 5 STORE so
SADD sst 3 1 2
SORT sst STORE so
ZADD zst 1 a 2 b
SORT zst ALPHA STORE so
SORT_RO nokey
# -- transactions with errors at EXEC and WATCH aborts
FLUSHALL
SET str v
MULTI
SET m1 v
LPUSH str a
INCR m2
EXEC
WATCH m1
SET m1 x
MULTI
DEL m1
EXEC
MULTI
GET nokey
EXISTS nokey
SET m3 v
EXEC
MULTI
LPUSH mq a
LPOP mq
EXEC
SELECT 1
MULTI
SET d1 v
SELECT 0
SET d1 v
MOVE d1 1
EXEC
SELECT 0
FLUSHALL
# -- SWAPDB / MOVE / COPY across databases
FLUSHALL
SET a 1
SELECT 1
SET b 2
SELECT 0
SWAPDB 0 1
MOVE b 1
COPY b c DB 1
SELECT 1
COPY a c DB 0 REPLACE
SELECT 0
FLUSHALL
"""


class Side:
    """One server: the command connection, a connection for markers and INFO,
    one for blocking commands, and the subscriber."""

    def __init__(self, port: int, flags: str) -> None:
        self.conn, self.info, self.blocker = RawConn(port), RawConn(port), RawConn(port)
        self.sub = RawConn(port)
        self.conn.cmd("FLUSHALL")
        self.conn.cmd("CONFIG", "SET", "notify-keyspace-events", flags)
        self.sub.cmd("PSUBSCRIBE", "__key*__:*")
        self.sub.cmd("SUBSCRIBE", MARK)
        self.blocked = False
        self.n = 0

    def step(self, kind: str, args) -> tuple[list, bytes]:
        reply = b""
        if kind == "sleep":
            time.sleep(args)
        elif kind == "block":
            block_on(self.blocker, self.info, args)
            self.blocked = True
        else:
            args = list(args)
            for i, a in enumerate(args):
                if a.startswith(b"@dump:"):
                    args[i] = bulk(self.info.cmd("DUMP", a[6:]))
            reply = self.conn.cmd(*args)
            if self.blocked and raw_blocked_clients(self.info) == 0:
                self.blocker.read_reply()       # served: the blocker is free again
                self.blocked = False
        return self.events(), reply

    def events(self) -> list[tuple[bytes, bytes]]:
        """The notifications published since the last marker, in order."""
        self.n += 1
        self.info.cmd("PUBLISH", MARK, str(self.n))
        out = []
        while True:
            msg = parse_push(self.sub.read_reply())
            if msg[0] == b"pmessage":
                out.append((msg[2], msg[3]))
            elif msg[0] == b"message" and msg[2] == str(self.n).encode():
                return out

    def close(self) -> None:
        for c in (self.conn, self.info, self.blocker, self.sub):
            c.close()


def parse_push(reply: bytes) -> list[bytes]:
    """The elements of a RESP2 array of bulk strings (a pub/sub message)."""
    parts = reply.split(b"\r\n")
    return [parts[i] for i in range(2, len(parts) - 1, 2)]


def fmt(events: list) -> str:
    return " ".join(f"{ch.decode(errors='replace')}={data.decode(errors='replace')}"
                    for ch, data in events) or "-"


def differences(ref_port: int, skv_port: int, flags: str, verbose: bool = False) -> list[str]:
    a, b = Side(ref_port, flags), Side(skv_port, flags)
    out = []
    try:
        for kind, args, mark in parse_script(COMMANDS):
            (ea, ra), (eb, rb) = a.step(kind, args), b.step(kind, args)
            line = (f"@sleep {args}" if kind == "sleep"
                    else ("&" if kind == "block" else "") + b" ".join(args).decode(errors="replace"))
            if verbose:
                print(f"{line:50} {fmt(ea)}")
            if (ra[:1] == b"-") != (rb[:1] == b"-"):
                out.append(f"{line}: redis replied {ra!r}, securekv {rb!r}")
            if mark == "x":
                continue
            if ea != eb:
                out.append(f"{line} [{flags}]:\n    redis    {fmt(ea)}\n    securekv {fmt(eb)}")
        assert not a.blocked and not b.blocked, "a blocked client was never served"
    finally:
        a.close()
        b.close()
    return out


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
@pytest.mark.parametrize("flags", ["KEA", "KEAmn"])
def test_notifications_match_redis(ref, server, flags):
    skv = server
    diffs = differences(ref.port, skv.port, flags)
    assert diffs == [], "\n".join(diffs)


if __name__ == "__main__":
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        for flags in [a for a in sys.argv[1:] if a != "-v"] or ["KEA", "KEAmn"]:
            for d in differences(ref.port, skv.port, flags, "-v" in sys.argv):
                print("DIFF", d)
        print("done")
