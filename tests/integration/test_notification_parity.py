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

MARK = "__notification_parity_mark__"

COMMANDS = r"""
# lazy expiry only, so that @sleep cases are deterministic
DEBUG SET-ACTIVE-EXPIRE 0
# -- strings
SET k v
SET k v2
SET k v NX
SET k v XX
SET nx v XX
SET k v GET
SET k v EX 100
SET k v KEEPTTL
SETNX k v
SETNX k2 v
MSET a 1 b 2 c 3
MSETNX a 1 d 4
MSETNX d 4 e 5
GETSET k v3
GETSET gs v
GETDEL k
GETDEL nokey
GETEX a EX 100
GETEX a PERSIST
GETEX a PERSIST
GETEX a
GETEX nokey EX 100
GETEX b PXAT 1
INCR n
INCRBY n 5
DECR n
DECRBY n 2
INCRBYFLOAT f 1.5
INCR k2
APPEND ap x
APPEND ap y
SETRANGE sr 0 x
SETRANGE sr 5 y
SETRANGE empty 0 ""
SETEX se 100 v
PSETEX pse 100000 v
SETEX se 0 v
# -- keys
FLUSHALL
MSET a 1 b 2 c 3 d 4
DEL a b nokey
DEL nokey
UNLINK c d nokey
SET k v
RENAME k k2
RENAME k2 k2
RENAME nokey x
SET k v
RENAMENX k k2
RENAMENX k k3
COPY k3 k4
COPY k3 k4
COPY k3 k4 REPLACE
COPY nokey k5
MOVE k4 1
MOVE k4 1
MOVE nokey 1
EXPIRE k3 100
EXPIRE k3 100 NX
EXPIRE k3 200 XX
PEXPIRE k3 100000
EXPIREAT k3 99999999999
PEXPIREAT k3 99999999999999
EXPIRE nokey 100
PERSIST k3
PERSIST k3
SET gone v
EXPIRE gone 0
SET gone v
PEXPIREAT gone 1
SET rk v
RESTORE rk2 0 @dump:rk
RESTORE rk2 0 @dump:rk REPLACE
RESTORE rk2 0 @dump:rk
RESTORE rk3 1 @dump:rk ABSTTL
RESTORE rk2 1 @dump:rk ABSTTL REPLACE
SWAPDB 0 1
SWAPDB 0 1
SWAPDB 0 0
FLUSHDB
FLUSHDB
MSET a 1 b 2
FLUSHALL
FLUSHALL
# -- lists
LPUSH l a b c
LPUSH l d
RPUSH l e f
LPUSHX l g h
LPUSHX nol g
RPUSHX l i
LPOP l
LPOP l 2
RPOP l 2
LPOP l 0
LPOP nol 2
RPUSH l2 a b a c a
LREM l2 2 a
LREM l2 0 zz
LTRIM l2 0 0
LTRIM l2 0 -1
RPUSH l3 a b c d e
LTRIM l3 1 -2
LTRIM l3 5 10
LSET l 0 x
LINSERT l BEFORE x y
LINSERT l BEFORE nosuch y
LINSERT nol BEFORE x y
LMOVE l l4 LEFT RIGHT
LMOVE l l LEFT RIGHT
LMOVE l4 l5 LEFT LEFT
LMOVE nol l5 LEFT LEFT
RPOPLPUSH l l6
RPOPLPUSH l l
RPUSH lm a b c
LMPOP 2 nol lm LEFT COUNT 2
LMPOP 1 lm RIGHT
LMPOP 1 nol RIGHT
RPUSH bl a b c
BLPOP bl 0
BRPOP bl 0
BLMOVE bl bl2 LEFT RIGHT 0
BLMPOP 0 1 bl2 LEFT COUNT 5
RPUSH la a
RPOP la
# -- hashes
HSET h a 1 b 2
HSET h a 3 c 4
HSET h a 3
HMSET h d 1 e 2
HSETNX h a 1
HSETNX h z 1
HDEL h a b nosuch
HDEL h nosuch
HDEL noh a
HINCRBY h n 1
HINCRBYFLOAT h fl 1.5
HDEL h c d e z n fl
# -- sets
SADD st a b
SADD st a
SADD st b c d e f
SREM st a b nosuch
SREM st nosuch
SPOP st
SPOP st 2
SPOP st 0
SPOP st 10
SPOP nost
SADD s1 a b c
SADD s2 b c d
SMOVE s1 s2 a
SMOVE s1 s2 b
SMOVE s1 s1 c
SMOVE s1 s2 nosuch
SINTERSTORE si s1 s2
SUNIONSTORE su s1 s2
SDIFFSTORE sd s1 s2
SDIFFSTORE sd nos1 nos2
SDIFFSTORE sd2 nos1 nos2
SINTERCARD 2 s1 s2
# -- sorted sets
ZADD z 1 a 2 b
ZADD z 1 a 2 b
ZADD z 3 a 4 c
ZADD z CH 5 a 5 b
ZADD z NX 9 a 9 d
ZADD z XX 9 a 9 e
ZADD z INCR 1 a
ZADD z GT 1 a
ZADD z LT 1 a
ZINCRBY z 1 b
ZINCRBY z2 1 x
ZREM z a b nosuch
ZREM z nosuch
ZADD zr 1 a 2 b 3 c 4 d 5 e 6 f
ZREMRANGEBYSCORE zr 1 2
ZREMRANGEBYRANK zr 0 0
ZREMRANGEBYLEX zr - +
ZREMRANGEBYSCORE zr 1 2
ZADD zp 1 a 2 b 3 c 4 d
ZPOPMIN zp
ZPOPMIN zp 2
ZPOPMAX zp 5
ZPOPMAX zp
ZADD zm 1 a 2 b 3 c
ZMPOP 2 noz zm MIN COUNT 2
ZMPOP 1 zm MAX
ZADD bz 1 a 2 b
BZPOPMIN bz 0
BZMPOP 0 1 bz MAX COUNT 3
ZADD za 1 a 2 b
ZADD zb 2 b 3 c
ZUNIONSTORE zu 2 za zb
ZINTERSTORE zi 2 za zb
ZDIFFSTORE zd 2 za zb
ZDIFFSTORE zd 2 za za
ZDIFFSTORE zd 2 za za
ZRANGESTORE zrs za 0 -1
ZRANGESTORE zrs za 5 10
ZRANGESTORE zrs za 5 10
# -- streams
XADD s 1-1 f v
XADD s 2-1 f v g w
XADD s2 MAXLEN 1 1-1 f v
XADD s2 MAXLEN 1 2-1 f v
XADD s3 NOMKSTREAM * f v
XADD s 1-1 f v
XADD s 3-1 f v
XADD s 4-1 f v
XADD s 5-1 f v
XDEL s 1-1 2-1 99-1
XDEL s 99-1
XTRIM s MAXLEN 1
XTRIM s MAXLEN 1
XTRIM nos MAXLEN 0
XADD s 6-1 f v
XADD s 7-1 f v
XGROUP CREATE s g 0
XGROUP CREATE s g 0
XGROUP CREATE s4 g $ MKSTREAM
XGROUP CREATE s5 g $
XGROUP SETID s g 0
XGROUP CREATECONSUMER s g c1
XGROUP CREATECONSUMER s g c1
XREADGROUP GROUP g c2 STREAMS s >
XREADGROUP GROUP g c2 STREAMS s >
XREADGROUP GROUP g c3 STREAMS s 0
XREADGROUP GROUP g c2 STREAMS s 0
XADD s 8-1 f v
XREADGROUP GROUP g c4 NOACK STREAMS s >
XACK s g 5-1 7-1 99-1
XACK s g 99-1
XCLAIM s g c5 0 6-1
XCLAIM s g c5 0 6-1 JUSTID
XCLAIM s g c5 0 99-1
XADD s 9-1 f v
XADD s 10-1 f v
XREADGROUP GROUP g c2 COUNT 2 STREAMS s >
XDEL s 9-1
XAUTOCLAIM s g c6 0 0
XAUTOCLAIM s g c6 0 0 JUSTID
XGROUP DELCONSUMER s g c1
XGROUP DELCONSUMER s g c6
XGROUP DELCONSUMER s g nosuch
XGROUP DESTROY s g
XGROUP DESTROY s g
XSETID s 99-1
XSETID s 99-1 ENTRIESADDED 100 MAXDELETEDID 0-1
XADD xb 1-1 f v
XGROUP CREATE xb g 0
XREADGROUP GROUP g c BLOCK 0 STREAMS xb >
# -- hyperloglog
PFADD hll a b
PFADD hll a b
PFADD hll c
PFADD hll
PFADD hll2
PFADD hll2
PFADD hll3 x y z w
PFMERGE hm hll hll3
PFMERGE hm hll
PFMERGE hm2
PFCOUNT hll hll3
# -- geo
GEOADD g 13.361389 38.115556 a 15.087269 37.502669 b
GEOADD g 13.361389 38.115556 a
GEOADD g CH 13 38 a 14 38 c
GEOADD g XX 13 38 d
GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 500 km ASC
GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 1 m ASC
GEOSEARCHSTORE gs2 g FROMLONLAT 15 37 BYRADIUS 1 m ASC
GEORADIUS g 15 37 500 km STORE gr
GEORADIUS g 15 37 500 km STOREDIST gr
GEORADIUSBYMEMBER g a 500 km STORE gr2
# -- bitmaps
SETBIT bt 7 1
SETBIT bt 7 1
SETBIT bt 100 1
SETBIT bt 100 0
SET bo1 a
SET bo2 b
BITOP AND bd bo1 bo2
BITOP OR bd nob1 nob2
BITOP OR bd2 nob1 nob2
BITOP NOT bd bo1
BITFIELD bf SET u8 0 255 SET u8 8 1
BITFIELD bf GET u8 0
BITFIELD bf INCRBY u8 0 10 INCRBY u8 8 1
BITFIELD bf OVERFLOW FAIL INCRBY u8 0 1000
BITFIELD_RO bf GET u8 0
# -- sort
RPUSH sl 3 1 2
SORT sl STORE so
SORT sl STORE so
SORT nol STORE so
SORT nol STORE so3
SORT sl
# -- no-ops and errors
SET str v
LPUSH str a
SADD str a
HSET str a 1
ZADD str 1 a
XADD str * f v
INCR str
APPEND ap2 ""
HSET h
SET k v BADOPT
EXPIRE k notanumber
LSET nol 0 x
LSET l 99 x
GET k
EXISTS k
# -- transactions and scripts
MULTI
SET m1 v
SADD m2 a b
DEL m1
EXEC
MULTI
SET m1 v
DISCARD
MULTI
SET m1 v
NOSUCHCOMMAND
EXEC
# -- more edge cases
FLUSHALL
SET k v
SET k v GET
SET k v NX GET
LPUSH wl a
SET wl v GET
SET k2 v PX 100000
GETEX k2 PX 100
GETEX k2 EXAT 99999999999
GETEX k2 PXAT 1
GETEX k2 PERSIST
INCRBYFLOAT k 1
SETRANGE k 10 x
SETRANGE k 0 ""
APPEND k ""
MSET a 1 a 2
MSETNX x 1 x 2
SET t v PX 1
@sleep 0.01
GET t
SET t v PX 1
@sleep 0.01
DEL t
SET t v PX 1
@sleep 0.01
SET t v2
SET src v EX 100
RENAME src dst
SET src v
RENAME src dst
SET src v
COPY src dst DB 1
COPY src dst DB 1 REPLACE
SWAPDB 0 99
SELECT 1
MOVE dst 0
FLUSHDB
SELECT 0
EXPIRE dst 100 GT
EXPIRE dst 200 GT
EXPIRE dst 100 LT
EXPIRE dst 50 LT
EXPIRE dst -1
FLUSHALL
LPUSH l a
LINSERT l AFTER a b
LPUSH l x y z
LREM l -2 x
LREM l 0 a
LPOP l 10
LPOP l 10
RPUSH l a b
LMPOP 1 l LEFT COUNT 10
RPUSH l a b
RPOPLPUSH l l
LMOVE l nl RIGHT LEFT
LMOVE l nl RIGHT LEFT
BLMOVE nl nl2 LEFT LEFT 0
BRPOPLPUSH nl2 nl3 0
LPUSH str2 a
SET str2 v
LMOVE nl3 str2 LEFT LEFT
HSETNX nh a 1
HINCRBYFLOAT nh2 f 1.5
HINCRBY nh3 f 1
HSET nh4 a 1 b 2 c 3
HDEL nh4 a b c
HDEL nh a
SADD s 1 2 3
SREM s 1 2 3
SADD s a b c
SPOP s 3
SADD s a b c
SPOP s 2
SADD s1 a
SMOVE s1 ns2 a
SADD e1 a
SADD e2 b
SINTERSTORE ns2 e1 e2
SINTERSTORE ns2 e1 e2
SUNIONSTORE ns3 e1 e2
SUNIONSTORE ns3 nokey
ZADD z 1 a
ZADD z INCR 0 a
ZINCRBY z 0 a
ZADD z GT CH 5 a 1 b
ZADD z NX 1 a
ZADD z XX INCR 1 nosuch
ZADD z INCR NX 1 a
ZADD z 2 a 2 a 3 a
ZUNIONSTORE zu 1 nokey
ZADD zu 1 a
ZUNIONSTORE zu 1 nokey
ZINTERSTORE zi 2 z nokey
ZRANGESTORE zrs z 0 10 BYSCORE LIMIT 0 1
ZREM z a b
ZADD zp 1 a 2 b
ZPOPMIN zp 10
ZPOPMIN zp 10
ZMPOP 1 zp MIN
ZADD zx 1 a
ZREMRANGEBYRANK zx 0 -1
XADD s1 MINID 5 5-1 f v
XADD s1 MINID 7 7-1 f v
XADD s1 8-1 f v
XADD s1 9-1 f v
XTRIM s1 MINID 9
XTRIM s1 MAXLEN ~ 0
XTRIM s1 MAXLEN 0
XDEL s1 9-1
XADD s1 10-1 f v
XGROUP CREATE s1 g2 0 ENTRIESREAD 0
XGROUP SETID s1 g2 0 ENTRIESREAD 0
XGROUP SETID s1 nosuch 0
XGROUP CREATE nostream g 0
XGROUP CREATECONSUMER s1 nog c
XCLAIM s1 g2 c 0 10-1 FORCE
XCLAIM s1 g2 c 0 10-1 RETRYCOUNT 5
XCLAIM s1 g2 c 0 10-1 LASTID 10-1
XADD s1 11-1 f v
XADD s1 12-1 f v
XREADGROUP GROUP g2 c COUNT 10 STREAMS s1 >
XDEL s1 11-1 12-1
XCLAIM s1 g2 c2 0 11-1 12-1
XREADGROUP GROUP g2 c STREAMS s1 0
XAUTOCLAIM s1 g2 c3 0 0 COUNT 10
XACK s1 g2 10-1 11-1 12-1
XGROUP DESTROY s1 nosuch
XSETID s1 1-1
PFADD h1 a
PFCOUNT h1
PFCOUNT h1
PFADD h1 b c
PFCOUNT h1 nokey
PFMERGE h1 h1
PFMERGE h2 h1
GEOADD g NX 13 38 a 13 38 b
GEOSEARCHSTORE gs g FROMMEMBER a BYBOX 100 100 km ASC STOREDIST
SET s8 a
BITOP AND s8 nokey nokey
BITOP AND s8 nokey nokey
SETBIT s9 3 1
SETBIT s9 100 0
BITFIELD s10 OVERFLOW FAIL INCRBY u2 100 10
BITFIELD s11 GET u8 0
BITFIELD s12 SET u8 0 0
RPUSH srt 3 1 2
SET w_1 3
SORT srt BY w_* GET # STORE srtd
SORT srt LIMIT 5 1 STORE srtd
FLUSHALL
&BLPOP bq 0
LPUSH bq a b
&BRPOP bq1 0
RPUSH bq1 x
&BLMOVE bq2 bq3 LEFT RIGHT 0
RPUSH bq2 a
&BLMPOP 0 1 bq4 LEFT COUNT 5
RPUSH bq4 a b c
&BZPOPMIN bz 0
ZADD bz 1 a 2 b
&BZMPOP 0 1 bz2 MIN COUNT 5
ZADD bz2 1 a 2 b
&XREAD BLOCK 0 STREAMS bs $
XADD bs 1-1 f v
XGROUP CREATE bs2 g $ MKSTREAM
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 1-1 f v
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 2-1 f v
&BLPOP bq5 0
MULTI
RPUSH bq5 a
RPUSH bq5 b
EXEC
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


@pytest.fixture(scope="module")
def servers():
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        yield ref, skv


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
@pytest.mark.parametrize("flags", ["KEA", "KEAmn"])
def test_notifications_match_redis(servers, flags):
    ref, skv = servers
    diffs = differences(ref.port, skv.port, flags)
    assert diffs == [], "\n".join(diffs)


if __name__ == "__main__":
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        for flags in [a for a in sys.argv[1:] if a != "-v"] or ["KEA", "KEAmn"]:
            for d in differences(ref.port, skv.port, flags, "-v" in sys.argv):
                print("DIFF", d)
        print("done")
