"""The statistics INFO reports move by exactly what redis-server 7.0.15 counts,
command by command: INFO stats (keyspace_hits, keyspace_misses, expired_keys,
total_commands_processed, total_error_replies, unexpected_error_replies),
INFO commandstats (calls, rejected_calls, failed_calls of every command) and
INFO errorstats (errorstat_<CODE>).

Every line of COMMANDS runs on a redis-server and on securekv (one connection
each, in order). Before and after each line, INFO is read on a second
connection; the increments of the fields above must be equal, and so must the error code of
the reply, if any (the INFO
commands the harness itself sends are subtracted). Lines are quoted as
redis-cli inline commands (tests/helpers.py parse_script); `@sleep S`
pauses; `&CMD` is sent on a third connection, where it blocks (Redis counts
its call when it is served or times out: in the increments of the line that
served it, or of the line after the timeout); `@blocker` is the CLIENT ID of that third
connection; `~FIELD[,FIELD] CMD`: a known
difference, those fields are not compared for CMD (see the comments there).

Run as a script (python tests/integration/test_info_stats_parity.py [-v]) to
print every difference instead of asserting.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import (RawConn, ServerProcess, block_on, info_fields, parse_script,  # noqa: E402
                     redis_server_available)

COMMANDS = r"""
# lazy expiry only, so that @sleep cases are deterministic
DEBUG SET-ACTIVE-EXPIRE 0
# -- strings
SET k v
GET k
GET nokey
MGET k nokey k
SET k v GET
SET nk v GET
SET k v NX GET
SET k v XX
GETSET k v
GETSET gs v
GETDEL gs
GETDEL gs
GETEX k EX 100
GETEX nokey
GETRANGE k 0 -1
GETRANGE nokey 0 -1
SUBSTR k 0 1
STRLEN k
STRLEN nokey
APPEND k x
APPEND ap x
SETRANGE k 0 y
SETRANGE sr 1 y
SETNX k v
SETNX snx v
MSET a 1 b 2
MSETNX a 1 c 3
INCR n
INCRBY n 2
DECR n
DECRBY n 2
INCRBYFLOAT n 1.5
INCR k
INCRBYFLOAT k 1
SETEX se 100 v
PSETEX pse 100000 v
SETEX se -1 v
LCS k a
LCS nokey nokey2
SET k v BADOPT
GET k extra
GET
# -- keys
EXISTS k nokey k
EXISTS nokey
TOUCH k nokey
TYPE k
TYPE nokey
OBJECT ENCODING k
OBJECT ENCODING nokey
OBJECT FREQ k
OBJECT IDLETIME k
OBJECT REFCOUNT nokey
OBJECT HELP
TTL k
TTL nokey
PTTL se
EXPIRETIME se
PEXPIRETIME nokey
DUMP k
DUMP nokey
DEL a nokey
UNLINK b
RENAME k k2
RENAME nokey k3
RENAMENX k2 k
COPY k k4
COPY nokey k5
MOVE k4 1
EXPIRE k 100
EXPIRE nokey 100
PERSIST k
PEXPIRE k 100000
EXPIREAT k 99999999999
KEYS *
SCAN 0 COUNT 100
RANDOMKEY
DBSIZE
RESTORE k 0 "bad payload"
OBJECT ENCODING k
# -- sort
RPUSH sl 3 1 2
SET w_1 10
SET w_2 20
SET w_3 5
SET o_1 x
SORT sl
SORT sl BY w_* GET o_* GET #
SORT sl BY nosort
SORT_RO sl ALPHA
SORT nol
SORT sl STORE sd
SORT nol STORE sd2
SORT k
SORT sl BY w_* LIMIT 0 1 DESC
SORT sl GET # GET nothere_*
# -- lists
LPUSH l a b c
RPUSH l d
LPUSHX l e
LPUSHX nol e
RPUSHX nol e
LRANGE l 0 -1
LRANGE nol 0 -1
LLEN l
LLEN nol
LINDEX l 0
LINDEX nol 0
LPOS l a
LPOS nol a
LSET l 0 x
LSET nol 0 x
LINSERT l BEFORE x y
LINSERT nol BEFORE x y
LREM l 1 y
LTRIM l 0 -1
LPOP l
RPOP l
LPOP nol
LPOP l 0
LMOVE l l2 LEFT RIGHT
LMOVE nol l2 LEFT RIGHT
RPOPLPUSH l2 l
LMPOP 2 nol l LEFT
LMPOP 1 nol LEFT
LRANGE k 0 -1
LPUSH k a
LLEN k
LINDEX l notanumber
LPOS l a RANK 0
# -- hashes
HSET h a 1 b 2
HSETNX h a 1
HMSET h c 3
HGET h a
HGET h nofield
HGET noh a
HMGET h a nofield
HMGET noh a
HGETALL h
HGETALL noh
HKEYS h
HVALS noh
HLEN h
HEXISTS h a
HEXISTS noh a
HSTRLEN h a
HSTRLEN noh a
HINCRBY h n 1
HINCRBYFLOAT h f 1.5
HINCRBY h a notanumber
HRANDFIELD h
HRANDFIELD noh
HRANDFIELD h 2 WITHVALUES
HSCAN h 0
HSCAN noh 0
HDEL h a
HDEL noh a
HGET k a
HSET h a
# -- sets
SADD s a b c
SADD s2 b c d
SREM s a
SREM nos a
SISMEMBER s b
SISMEMBER nos b
SMISMEMBER s b x
SMEMBERS s
SMEMBERS nos
SCARD s
SCARD nos
SRANDMEMBER s
SRANDMEMBER nos
SRANDMEMBER s 5
SADD s1e x
SPOP s1e
SPOP nos
SINTER s s2
SINTER s nos
SUNION s nos s2
SDIFF s s2 nos
SINTERCARD 2 s s2
SINTERCARD 2 nos s
SINTERSTORE d s s2
SUNIONSTORE d s nos
SDIFFSTORE d s s2
SMOVE s s2 b
SMOVE nos s2 b
SSCAN s 0
SSCAN nos 0
SINTER s k
SMEMBERS k
# -- sorted sets
ZADD z 1 a 2 b 3 c
ZADD z2 1 b 5 d
ZSCORE z a
ZSCORE z x
ZSCORE noz a
ZMSCORE z a x
ZMSCORE noz a
ZRANK z b
ZRANK noz b
ZREVRANK z b
ZCARD z
ZCARD noz
ZCOUNT z 0 10
ZCOUNT noz 0 10
ZLEXCOUNT z - +
ZRANGE z 0 -1
ZRANGE noz 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGE z (1 +inf BYSCORE LIMIT 0 1
ZRANGEBYSCORE z 0 10
ZRANGEBYSCORE noz 0 10
ZREVRANGE z 0 1
ZREVRANGEBYSCORE z 10 0
ZRANGEBYLEX z - +
ZREVRANGEBYLEX noz + -
ZRANGESTORE dz z 0 -1
ZRANGESTORE dz noz 0 -1
ZINCRBY z 1 a
ZINCRBY noz2 1 a
ZRANDMEMBER z
ZRANDMEMBER noz
ZRANDMEMBER z 2 WITHSCORES
ZSCAN z 0
ZSCAN noz 0
ZUNION 2 z z2
ZINTER 2 z noz
ZDIFF 2 z z2
ZINTERCARD 2 z z2
ZUNIONSTORE dz 2 z z2
ZINTERSTORE dz 2 z noz
ZDIFFSTORE dz 2 z z2
ZREM z a
ZREM noz a
ZPOPMIN z2
ZPOPMAX noz
ZMPOP 2 noz z MIN
ZMPOP 1 noz MIN
ZREMRANGEBYSCORE z 0 1
ZREMRANGEBYRANK noz 0 1
ZREMRANGEBYLEX z - (a
ZRANGE z 0 -1 BADARG
ZSCORE k a
ZADD z nan a
# -- streams
XADD st 1-1 f v
XADD st 2-1 f v
XADD nost NOMKSTREAM * f v
XLEN st
XLEN nost
XRANGE st - +
XRANGE nost - +
XREVRANGE st + -
XREVRANGE nost + -
XREAD STREAMS st 0
XREAD STREAMS nost 0
XREAD COUNT 1 STREAMS st nost 0 0
XREAD STREAMS st $
XGROUP CREATE st g 0
XGROUP CREATE nost g 0
XGROUP CREATE st2 g $ MKSTREAM
XGROUP CREATECONSUMER st g c0
XREADGROUP GROUP g c STREAMS st >
XREADGROUP GROUP g c STREAMS st 0
XREADGROUP GROUP g c STREAMS nost >
XREADGROUP GROUP nog c STREAMS st >
XPENDING st g
XPENDING st g - + 10
XPENDING nost g
XINFO STREAM st
XINFO STREAM nost
XINFO STREAM st FULL
XINFO GROUPS st
XINFO GROUPS nost
XINFO CONSUMERS st g
XINFO CONSUMERS st nog
XACK st g 1-1
XACK nost g 1-1
XCLAIM st g c2 0 2-1
XCLAIM nost g c2 0 2-1
XAUTOCLAIM st g c3 0 0
XAUTOCLAIM nost g c3 0 0
XDEL st 1-1
XDEL nost 1-1
XTRIM st MAXLEN 10
XTRIM nost MAXLEN 10
XSETID st 99-1
XSETID nost 99-1
XGROUP SETID st g 0
XGROUP DELCONSUMER st g c3
XGROUP DESTROY st g
XGROUP DESTROY nost g
XRANGE k - +
XADD st 1-1 f v
XADD st * f
XREAD STREAMS st
# -- hyperloglog
PFADD hll a b c
PFADD hll a
PFCOUNT hll
PFCOUNT nohll
PFCOUNT hll nohll
PFADD hll2 x
PFCOUNT hll hll2
PFMERGE hm hll hll2
PFMERGE hm nohll
PFCOUNT k
PFADD k a
PFMERGE hm k
# -- geo
GEOADD g 13.361389 38.115556 a 15.087269 37.502669 b
GEOPOS g a x
GEOPOS nog a
GEODIST g a b
GEODIST nog a b
GEOHASH g a
GEOHASH nog a
GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 500 km ASC
GEOSEARCH nog FROMLONLAT 15 37 BYRADIUS 500 km ASC
GEOSEARCH g FROMMEMBER a BYRADIUS 500 km ASC
GEOSEARCH g FROMMEMBER x BYRADIUS 500 km ASC
GEORADIUS g 15 37 500 km
GEORADIUS_RO nog 15 37 500 km
GEORADIUSBYMEMBER g a 500 km
GEORADIUSBYMEMBER_RO g a 500 km
GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 500 km
GEOSEARCHSTORE gd nog FROMLONLAT 15 37 BYRADIUS 500 km
GEORADIUS g 15 37 500 km STORE gd
GEOADD g 200 100 c
GEODIST k a b
# -- bitmaps
SETBIT bm 7 1
GETBIT bm 7
GETBIT nobm 7
BITCOUNT bm
BITCOUNT nobm
BITCOUNT bm 0 -1 BIT
BITPOS bm 1
BITPOS nobm 1
BITPOS nobm 0
BITFIELD_RO bm GET u8 0
BITFIELD_RO nobm GET u8 0
BITFIELD bm GET u8 0
BITFIELD nobm GET u8 0
BITFIELD bm INCRBY u8 0 1
BITOP AND bd bm nobm
BITOP OR bd nobm nobm2
GETBIT bm notanumber
GETBIT l 0
BITCOUNT l
# -- lazily expired keys: reads, writes and key commands that find them
SET t v PX 1
@sleep 0.01
GET t
SET t v PX 1
@sleep 0.01
EXISTS t
SET t v PX 1
@sleep 0.01
TYPE t
SET t v PX 1
@sleep 0.01
TTL t
SET t v PX 1
@sleep 0.01
DEL t
SET t v PX 1
@sleep 0.01
SET t v2
SET t v PX 1
@sleep 0.01
SET t v2 GET
RPUSH tl a
PEXPIRE tl 1
@sleep 0.01
LRANGE tl 0 -1
RPUSH tl a
PEXPIRE tl 1
@sleep 0.01
LPUSH tl b
HSET th a 1
PEXPIRE th 1
@sleep 0.01
HGET th a
SADD ts a
PEXPIRE ts 1
@sleep 0.01
SMEMBERS ts
ZADD tz 1 a
PEXPIRE tz 1
@sleep 0.01
ZSCORE tz a
XADD tx 1-1 f v
PEXPIRE tx 1
@sleep 0.01
XRANGE tx - +
SET t v PX 1
@sleep 0.01
OBJECT ENCODING t
SET t v PX 1
@sleep 0.01
DUMP t
SET t v PX 1
@sleep 0.01
MGET t k
SET t v PX 1
@sleep 0.01
RENAME t t2
SET t v PX 1
@sleep 0.01
SCAN 0 COUNT 1000
SET t v PX 1
@sleep 0.01
KEYS *
SET t v PX 1
@sleep 0.01
SETNX t v
SET t v PX 1
@sleep 0.01
MSET t v t2 v
SET t v PX 1
@sleep 0.01
MSETNX t v
SET t v PX 1
@sleep 0.01
INCR t
SET t v PX 1
@sleep 0.01
APPEND t x
SET t v PX 1
@sleep 0.01
SETRANGE t 1 x
SET t v PX 1
@sleep 0.01
GETSET t x
SET t v PX 1
@sleep 0.01
GETDEL t
SET t v PX 1
@sleep 0.01
GETEX t PERSIST
SET t v PX 1
@sleep 0.01
STRLEN t
SET t v PX 1
@sleep 0.01
EXPIRE t 100
SET t v PX 1
@sleep 0.01
PERSIST t
SET t v PX 1
@sleep 0.01
TOUCH t
SET t v PX 1
@sleep 0.01
UNLINK t
SET t v PX 1
SET t3 v
@sleep 0.01
RENAME t3 t
SET t v PX 1
@sleep 0.01
COPY t t4
SET t v PX 1
@sleep 0.01
MOVE t 1
SET t v PX 1
@sleep 0.01
EXISTS t t k
SET t v PX 1
@sleep 0.01
SETBIT t 1 1
SET t v PX 1
@sleep 0.01
GETBIT t 1
SET t v PX 1
@sleep 0.01
BITCOUNT t
SET t v PX 1
@sleep 0.01
PFADD t a
SET t v PX 1
@sleep 0.01
PFCOUNT t
SET t v PX 1
@sleep 0.01
HSET t a 1
SET t v PX 1
@sleep 0.01
SADD t a
SET t v PX 1
@sleep 0.01
ZADD t 1 a
SET t v PX 1
@sleep 0.01
XADD t 1-1 f v
SET t v PX 1
@sleep 0.01
SINTER t k
SET t v PX 1
@sleep 0.01
SUNIONSTORE t k
SET t v PX 1
@sleep 0.01
SORT t
RPUSH tl a
PEXPIRE tl 1
@sleep 0.01
RPOP tl
RPUSH tl a
PEXPIRE tl 1
@sleep 0.01
BLPOP tl 0.01
RPUSH tl a
PEXPIRE tl 1
@sleep 0.01
LMOVE tl tl2 LEFT LEFT
SET t v PX 1
@sleep 0.01
DEBUG OBJECT t
SET t v PX 1
@sleep 0.01
MOVE t 1
SET t v PX 1
@sleep 0.01
BITOP NOT t2 t
SET t v PX 1
@sleep 0.01
SDIFFSTORE t2 t
SET t v PX 1
@sleep 0.01
ZUNIONSTORE t2 1 t
SET t v PX 1
@sleep 0.01
SORT t STORE t2
SET t v PX 1
@sleep 0.01
PFMERGE t2 t
SET t v PX 1
@sleep 0.01
XREAD STREAMS t 0
SET t v PX 1
@sleep 0.01
GEOSEARCHSTORE t2 t FROMLONLAT 15 37 BYRADIUS 500 km
SET t v PX 1
@sleep 0.01
EXPIRETIME t
SET t v PX 1
@sleep 0.01
MEMORY USAGE t
MEMORY USAGE k
MEMORY USAGE nokey
SET t v PX 1
@sleep 0.01
SCAN 0 TYPE string COUNT 1000
SADD ts a
PEXPIRE ts 1
@sleep 0.01
SSCAN ts 0
SADD ts a
PEXPIRE ts 1
@sleep 0.01
SRANDMEMBER ts
SADD ts a
PEXPIRE ts 1
@sleep 0.01
SINTERCARD 1 ts
ZADD tz 1 a
PEXPIRE tz 1
@sleep 0.01
ZRANGE tz 0 -1
ZADD tz 1 a
PEXPIRE tz 1
@sleep 0.01
BZPOPMIN tz 0.01
HSET th a 1
PEXPIRE th 1
@sleep 0.01
HINCRBY th a 1
SET t v PX 1
@sleep 0.01
WATCH t
UNWATCH
# RANDOMKEY picks at random: alone in db 2, the expired key is found for sure
SELECT 2
SET t v PX 1
@sleep 0.01
RANDOMKEY
SET t v PX 1
@sleep 0.01
DBSIZE
FLUSHDB
SELECT 0
# -- errors and rejections
NOSUCHCOMMAND a b
XINFO NOSUCHSUB st
OBJECT NOSUCHSUB k
CONFIG NOSUCHSUB
GET a b c
HSET h
EXPIRE k notanumber
SET k v EX -1
SELECT 99
DEBUG NOSUCHSUB
XINFO STREAM
OBJECT ENCODING
CONFIG GET
SET k v
LPUSH k a
SADD k a
HSET k a 1
ZADD k 1 a
XADD k * f v
PFADD k a
SETBIT k 1 2
ZADD z XX NX 1 a
ZADD z INCR 1 a 2 b
ZRANGEBYSCORE z a b
SRANDMEMBER s -5 extra
RESTORE k 0 "\x00\x01v\n\x00\x91\b\xce\xb2\x198\x8a\xce"
RESTORE rk 0 "\x00\x01v\n\x00\x91\b\xce\xb2\x198\x8a\xce"
XGROUP CREATE st g 0
XGROUP CREATE st g 0
XADD st 0-0 f v
XCLAIM st g c 0 badid
LPOP l -1
SPOP s -1
SETEX k 0 v
GETEX k EX 0
BITFIELD k OVERFLOW WRAP INCRBY badtype 0 1
GEOSEARCH g FROMLONLAT 15 37
SORT sl BY w_* GET # LIMIT 0
HINCRBYFLOAT h a nan
INCRBY n 99999999999999999999
INCRBYFLOAT n inf
SORT sl BY wh_*->f GET wh_*->g
HSET wh_1 f 1 g x
SORT sl BY wh_*->f GET wh_*->g
LPOS k a
LCS k l
SMOVE s k a
SINTERCARD 1 s LIMIT 1
ZUNION 2 z z2 WEIGHTS 1 2 WITHSCORES
ZINTERCARD 1 k
COPY k k9 DB 1
COPY nokey k9 DB 1
PFDEBUG GETREG hll
PFDEBUG GETREG nohll
HELLO 4
AUTH nopass
ECHO
PING a b
# -- transactions
MULTI
GET k
GET nokey
LPUSH k a
INCR k
EXEC
MULTI
SET m v
DISCARD
MULTI
GET k
GET a b
EXEC
MULTI
SET k v
NOSUCHCOMMAND
EXEC
EXEC
DISCARD
MULTI
MULTI
EXEC
WATCH k
SET k v2
MULTI
GET k
EXEC
MULTI
WATCH k
GET k
EXEC
MULTI
GET k
XREAD BLOCK 0 STREAMS nost $
BLPOP nol 0
EXEC
# -- blocking commands served by another client's write, or timing out
&BLPOP bq 0
LPUSH bq a
&BRPOP bq nobq 0
RPUSH bq a b
LPUSH bq2 a
BLPOP bq2 0
BLPOP nobq bq2 0.01
&BLMOVE bq3 bq4 LEFT RIGHT 0
RPUSH bq3 a
&BRPOPLPUSH bq5 bq6 0
RPUSH bq5 a
&BLMPOP 0 1 bq7 LEFT COUNT 5
RPUSH bq7 a b
&BZPOPMIN bz 0
ZADD bz 1 a
&BZMPOP 0 1 bz2 MAX
ZADD bz2 1 a 2 b
&XREAD BLOCK 0 STREAMS bs $
XADD bs 1-1 f v
XGROUP CREATE bs2 g $ MKSTREAM
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 1-1 f v
&BLPOP tq 0.05
@sleep 0.3
PING
&BZPOPMAX tz2 0.05
@sleep 0.3
PING
&XREAD BLOCK 50 STREAMS tx2 $
@sleep 0.3
PING
&BLPOP wq 0
SET wq v
DEL wq
LPUSH wq a
XGROUP CREATE bs3 g $ MKSTREAM
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs3 >
XGROUP DESTROY bs3 g
XADD bs3 1-1 f v
XGROUP CREATE bs4 g $ MKSTREAM
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs4 >
DEL bs4
XADD bs4 1-1 f v
SET bstr v
&BLMOVE bq8 bstr LEFT RIGHT 0
RPUSH bq8 a
&BLPOP bq9 0
RPUSH bq9 a
&BLPOP ub 0
CLIENT UNBLOCK @blocker TIMEOUT
&BZPOPMIN ub 0
CLIENT UNBLOCK @blocker ERROR
&XREAD BLOCK 0 STREAMS ub2 $
CLIENT UNBLOCK @blocker ERROR
&BLPOP mq 0
MULTI
RPUSH mq a
RPUSH mq b
EXEC
"""


STATS = ("keyspace_hits", "keyspace_misses", "expired_keys", "total_commands_processed",
         "total_error_replies", "unexpected_error_replies")


def snapshot(info: RawConn) -> dict[str, int]:
    """The counters compared, flattened: stats fields, cmdstat_X.calls/
    rejected_calls/failed_calls, errorstat_X."""
    fields = info_fields(info, "stats", "commandstats", "errorstats")
    out = {}
    for k, v in fields.items():
        if k in STATS:
            out[k] = int(v)
        elif k.startswith("cmdstat_") or k.startswith("errorstat_"):
            for part in v.split(","):
                name, _, n = part.partition("=")
                if name in ("calls", "rejected_calls", "failed_calls", "count"):
                    out[f"{k}.{name}" if name != "count" else k] = int(n)
    return out


def delta(before: dict, after: dict, info_calls: int) -> dict[str, int]:
    """The nonzero increments, less the harness's own INFO commands."""
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after.keys() | before.keys()}
    d["total_commands_processed"] = d.get("total_commands_processed", 0) - info_calls
    d["cmdstat_info.calls"] = d.get("cmdstat_info.calls", 0) - info_calls
    return {k: v for k, v in d.items() if v}


class Side:
    """One server: the command connection, the INFO connection, the blocking one."""

    def __init__(self, port: int) -> None:
        self.conn, self.info, self.blocker = RawConn(port), RawConn(port), RawConn(port)
        self.blocker_id = self.blocker.cmd("CLIENT", "ID")[1:-2]
        self.conn.cmd("FLUSHALL")
        self.last = snapshot(self.info)
        self.info_calls = 0
        self.blocked = False

    def step(self, kind: str, args: list) -> dict[str, int]:
        self.error = None
        if kind == "block":
            self.info_calls += block_on(self.blocker, self.info, args)
            self.blocked = True
        else:
            reply = self.conn.cmd(*[self.blocker_id if a == b"@blocker" else a for a in args])
            if reply[:1] == b"-":
                self.error = reply.split(b" ", 1)[0].decode()
        now = snapshot(self.info)
        d = delta(self.last, now, self.info_calls + 1)
        self.last, self.info_calls = now, 0
        return d

    def collect_served(self) -> None:
        """Read the reply of a blocked client that was served (or timed out)."""
        if self.blocked:
            self.info_calls += 1
            fields = info_fields(self.info, "clients")
            if int(fields["blocked_clients"]) == 0:
                self.blocker.read_reply()
                self.blocked = False

    def close(self) -> None:
        for c in (self.conn, self.info, self.blocker):
            c.close()


def fmt(d: dict) -> str:
    return " ".join(f"{k}{v:+d}" for k, v in sorted(d.items())) or "-"


def differences(ref_port: int, skv_port: int, verbose: bool = False) -> list[str]:
    a, b = Side(ref_port), Side(skv_port)
    out = []
    try:
        for kind, args, mark in parse_script(COMMANDS):
            if kind == "sleep":
                time.sleep(args)
                continue
            da, db = a.step(kind, args), b.step(kind, args)
            if kind == "cmd":
                a.collect_served()
                b.collect_served()
            line = b" ".join(args).decode(errors="replace")
            if verbose:
                print(f"{line:50} {fmt(da)}")
            if mark:
                for field in mark.split(","):
                    for d in (da, db):
                        for k in list(d):
                            if k == field or k.startswith(field + "."):
                                del d[k]
            if a.error != b.error:
                out.append(f"{line}: redis replied {a.error or 'no error'}, "
                           f"securekv {b.error or 'no error'}")
            if da != db:
                keys = {k for k in da.keys() | db.keys() if da.get(k) != db.get(k)}
                out.append(f"{line}: redis {fmt({k: da.get(k, 0) for k in keys})}, "
                           f"securekv {fmt({k: db.get(k, 0) for k in keys})}")
        assert not a.blocked and not b.blocked, "a blocked client was never served"
    finally:
        a.close()
        b.close()
    return out


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_info_stats_increments_match_redis():
    # One rerun on fresh servers: about one run in three (on the code of 944a399 as
    # well) redis-server does not count a lazily expired key on the read that
    # follows `PEXPIRE k 1` + 10 ms (expired_keys +0 where securekv counts +1); not
    # explained yet (a standalone loop of the same commands never shows it). A
    # real difference fails both runs.
    for attempt in range(2):
        with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
            diffs = differences(ref.port, skv.port)
        if not diffs:
            return
    assert diffs == [], "\n".join(diffs)


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_protocol_error_counted_once():
    """A protocol error is one error reply: total_error_replies +1, errorstat_ERR +1."""
    got = {}
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        for s in (ref, skv):
            info = RawConn(s.port)
            before = snapshot(info)
            c = RawConn(s.port)
            c.send(b"*1\r\n$x\r\n")
            assert c.read_until_closed().startswith(b"-ERR Protocol error")
            c.close()
            got[s.kind] = delta(before, snapshot(info), 1)
            info.close()
    assert got["securekv"] == got["redis"]


if __name__ == "__main__":
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        for d in differences(ref.port, skv.port, "-v" in sys.argv):
            print("DIFF", d)
        print("done")
