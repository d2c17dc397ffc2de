"""Command scripts shared by the side-by-side parity tests
(tests/integration/test_dirty_counter.py, test_notification_parity.py,
test_aof_parity.py).

WRITES exercises every write command family: no-ops, errors, MULTI/EXEC, lazy
expiry and blocked clients served by another client's write. Lines are
redis-cli inline commands (tests/helpers.py parse_script); `@dump:KEY` is
replaced by that server's DUMP of KEY; `@sleep S` pauses; `&CMD` is sent on a
third connection, where it blocks; `~MARK CMD` marks a known difference whose
meaning is the test's own (`~N`: securekv's change counter moves N more than
Redis's); a test that does not know a mark compares the line as usual.
"""

WRITES = r"""
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
BITFIELD bf SET u8 0 9 SET u8 8 1
BITFIELD bf SET i5 0 0 INCRBY u8 8 0 SET u8 8 2
SETBIT bf 0 0
SETBIT bf 0 1
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
# Redis creates s10 (zero-filled) but counts no change and propagates nothing;
# securekv counts the creation so that it reaches the AOF.
~1 BITFIELD s10 OVERFLOW FAIL INCRBY u2 100 10
BITFIELD s11 GET u8 0
BITFIELD s12 SET u8 0 0
RPUSH srt 3 1 2
SET w_1 3
SORT srt BY w_* GET # STORE srtd
SORT srt LIMIT 5 1 STORE srtd
FLUSHALL
# -- blocked clients served by another client's write. Redis 7.0 counts no change
# for serving BLPOP/BRPOP/BLMOVE (it propagates the pop with alsoPropagate);
# securekv's serving loop (engine/blocking.py) propagates a served client only
# when server.dirty moved, so the serve counts one change: the "~1" lines.
&BLPOP bq 0
~1 LPUSH bq a b
&BRPOP bq1 0
~1 RPUSH bq1 x
&BLMOVE bq2 bq3 LEFT RIGHT 0
~1 RPUSH bq2 a
&BLMPOP 0 1 bq4 LEFT COUNT 5
RPUSH bq4 a b c
&BZPOPMIN bz 0
ZADD bz 1 a 2 b
&BZMPOP 0 1 bz2 MIN COUNT 5
ZADD bz2 1 a 2 b
&XREAD BLOCK 0 STREAMS bs $
XADD bs 1-1 f v
XGROUP CREATE bs2 g $ MKSTREAM
# served with a new consumer: Redis counts its creation only
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
XADD bs2 1-1 f v
# the consumer exists now: Redis counts nothing for the serve
&XREADGROUP GROUP g c BLOCK 0 STREAMS bs2 >
~1 XADD bs2 2-1 f v
&BLPOP bq5 0
MULTI
RPUSH bq5 a
RPUSH bq5 b
~1 EXEC
"""
