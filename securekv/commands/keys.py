"""Generic keyspace commands (Redis's db.c, expire.c, object.c): DEL, UNLINK,
EXISTS, TYPE, RENAME(NX), COPY, MOVE, SWAPDB, the EXPIRE family, PERSIST,
TTL/PTTL/(P)EXPIRETIME, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL,
TOUCH, OBJECT.

Values: strings are bytes/bytearray; every other value carries a class
attribute `type_name` (b"list", b"hash", ...), a method `encoding()` -> bytes
and `copy()` (a deep copy for COPY). Nothing here knows a container class.

Deletions go through db.delete (the modification signal: WATCH, blocked
clients, the dirty counter). RENAME, MOVE, COPY and RESTORE signal every key
they touch but count one change, as Redis: the keys they remove are deleted
with n=0.
"""

from __future__ import annotations

import collections
import itertools
import random

from acl.glob import compile_glob
from securekv.commands.table import KeySpec, Range, command, container, subcommand
from securekv.commands.util import (LLONG_MAX, help_reply, notify, now_ms, parse_int,
                                    parse_scan_cursor, parse_scan_options)
from securekv.errors import DB_INDEX, NO_SUCH_KEY, NOT_INTEGER, SYNTAX, CommandError
from securekv.net.resp import OK, Status, _strict_int
from securekv.tenancy.evict import frequency, idle_time

SAME_OBJECT = "ERR source and destination objects are the same"
LLONG_MIN = -(2 ** 63)
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1

_STRING = b"string"
_TYPE_STATUS: dict = {}


# -- types and encodings ---------------------------------------------------------

def type_name(v) -> bytes:
    """Redis's getObjectTypeName for a stored value (b"none" for None)."""
    if v is None:
        return b"none"
    t = type(v)
    if t is bytes or t is bytearray:
        return _STRING
    return v.type_name


def string_encoding(v) -> bytes:
    """OBJECT ENCODING of a string value: int, embstr or raw (as tryObjectEncoding)."""
    if type(v) is bytearray:
        return b"raw"
    n = len(v)
    if n <= 20 and _strict_int(v) is not None:
        return b"int"
    return b"embstr" if n <= 44 else b"raw"


def encoding_name(v) -> bytes:
    t = type(v)
    if t is bytes or t is bytearray:
        return string_encoding(v)
    return v.encoding()


def duplicate(v):
    """A deep copy of a value (COPY): bytes are immutable and shared."""
    t = type(v)
    if t is bytes:
        return v
    if t is bytearray:
        return bytearray(v)
    return v.copy()


def _db_index(arg: bytes, err: str | None = None) -> int:
    """Redis's getIntFromObjectOrReply for a db index (a 32-bit int); `err`
    replaces both of its messages when given."""
    v = _strict_int(arg)
    if v is None:
        raise CommandError(err or NOT_INTEGER)
    if not INT_MIN <= v <= INT_MAX:
        raise CommandError(err or "ERR value is out of range, value must between "
                           "-2147483648 and 2147483647")
    return v


def _other_db(c, arg: bytes):
    dbs = c.keyspace.dbs
    i = _db_index(arg)
    if i < 0 or i >= len(dbs):
        raise CommandError(DB_INDEX)
    return dbs[i]


def _notify_db(c, event: bytes, key: bytes, dbid: int) -> None:
    server = c.server
    if server.notify_flags:
        server.notify(c.keyspace, "g", event, key, dbid)


# -- DEL, UNLINK, EXISTS, TYPE, TOUCH ------------------------------------------------

def _del_generic(c, argv):
    db = c.db
    notify_on = c.server.notify_flags
    n = 0
    for key in argv[1:]:
        if db.expires and key in db.expires and db.lookup(key) is None:
            continue                         # expired: expireIfNeeded deleted it
        if db.delete(key):
            n += 1
            if notify_on:
                notify(c, "g", b"del", key)
    return n


@command("del", -2, "write", "@keyspace",
         keys=[KeySpec("RM delete", 1, Range(-1, 1, 0))],
         group="generic", since="1.0.0", summary="Delete a key",
         tips=["request_policy:multi_shard", "response_policy:agg_sum"])
def del_(c, argv):
    return _del_generic(c, argv)


@command("unlink", -2, "write fast", "@keyspace",
         keys=[KeySpec("RM delete", 1, Range(-1, 1, 0))],
         group="generic", since="4.0.0",
         summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                 "but non blocking.",
         tips=["request_policy:multi_shard", "response_policy:agg_sum"])
def unlink(c, argv):
    return _del_generic(c, argv)


@command("exists", -2, "readonly fast", "@keyspace",
         keys=[KeySpec("RO", 1, Range(-1, 1, 0))],
         group="generic", since="1.0.0", summary="Determine if a key exists",
         tips=["request_policy:multi_shard", "response_policy:agg_sum"])
def exists(c, argv):
    lookup = c.db.lookup_read
    n = 0
    for key in argv[1:]:
        if lookup(key) is not None:
            n += 1
    return n


@command("touch", -2, "readonly fast", "@keyspace",
         keys=[KeySpec("RO", 1, Range(-1, 1, 0))],
         group="generic", since="3.2.1",
         summary="Alters the last access time of a key(s). Returns the number of existing keys "
                 "specified.",
         tips=["request_policy:multi_shard", "response_policy:agg_sum"])
def touch(c, argv):
    return exists(c, argv)


@command("type", 2, "readonly fast", "@keyspace", keys=[KeySpec("RO", 1)],
         group="generic", since="1.0.0", summary="Determine the type stored at key")
def type_(c, argv):
    name = type_name(c.db.lookup_read(argv[1]))
    st = _TYPE_STATUS.get(name)
    if st is None:
        st = _TYPE_STATUS[name] = Status(name)
    return st


# -- RENAME, RENAMENX, MOVE, COPY, SWAPDB ----------------------------------------------

def _rename(c, argv, nx: bool):
    src, dst = argv[1], argv[2]
    db = c.db
    v = db.lookup(src)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    when = db.expires.get(src)
    if db.lookup(dst) is not None:
        if nx:
            return 0
        db.delete(dst, 0)
    db.add(dst, v)
    if when is not None:
        db.set_expire(dst, when)
    db.delete(src, 0)
    if c.server.notify_flags:
        notify(c, "g", b"rename_from", src)
        notify(c, "g", b"rename_to", dst)
    return 1 if nx else OK


@command("rename", 3, "write", "@keyspace",
         keys=[KeySpec("RW access delete", 1), KeySpec("OW update", 2)],
         group="generic", since="1.0.0", summary="Rename a key")
def rename(c, argv):
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", "@keyspace",
         keys=[KeySpec("RW access delete", 1), KeySpec("OW insert", 2)],
         group="generic", since="1.0.0", summary="Rename a key, only if the new key does not exist")
def renamenx(c, argv):
    return _rename(c, argv, True)


@command("move", 3, "write fast", "@keyspace", keys=[KeySpec("RW access update", 1)],
         group="generic", since="1.0.0", summary="Move a key to another database")
def move(c, argv):
    key = argv[1]
    src = c.db
    dst = _other_db(c, argv[2])
    if src is dst:
        raise CommandError(SAME_OBJECT)
    v = src.lookup(key)
    if v is None:
        return 0
    when = src.expires.get(key)
    if dst.lookup(key) is not None:
        return 0
    dst.add(key, v)
    if when is not None:
        dst.set_expire(key, when)
    src.delete(key, 0)
    _notify_db(c, b"move_from", key, src.id)
    _notify_db(c, b"move_to", key, dst.id)
    return 1


@command("copy", -3, "write denyoom", "@keyspace",
         keys=[KeySpec("RO access", 1), KeySpec("OW update", 2)],
         group="generic", since="6.2.0", summary="Copy a key")
def copy(c, argv):
    src = dst = c.db
    replace = False
    n = len(argv)
    j = 3
    while j < n:
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and j + 1 < n:
            dst = _other_db(c, argv[j + 1])
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise CommandError(SAME_OBJECT)
    v = src.lookup_read(key)
    if v is None:
        return 0
    when = src.expires.get(key)
    exists_ = dst.lookup(newkey) is not None
    if exists_ and not replace:
        return 0
    newv = duplicate(v)
    if exists_:
        dst.delete(newkey, 0)
    dst.add(newkey, newv)
    if when is not None:
        dst.set_expire(newkey, when)
    _notify_db(c, b"copy_to", newkey, dst.id)
    return 1


@command("swapdb", 3, "write fast", "@keyspace @dangerous", group="server", since="4.0.0",
         summary="Swaps two Redis databases")
def swapdb(c, argv):
    a = _db_index(argv[1], "ERR invalid first DB index")
    b = _db_index(argv[2], "ERR invalid second DB index")
    ks = c.keyspace
    n = len(ks.dbs)
    if a < 0 or a >= n or b < 0 or b >= n:
        raise CommandError(DB_INDEX)
    if a != b:
        ks.swap(a, b)
    ks.server_dirty()
    return OK


# -- expiry ---------------------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_OPTS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def _expire_generic(c, argv, basetime: int, seconds: bool):
    """Redis's expireGenericCommand (basetime 0 for the *AT forms)."""
    flags = 0
    for opt in argv[3:]:
        f = _EXPIRE_OPTS.get(opt.lower())
        if f is None:
            raise CommandError("ERR Unsupported option %s" % bytes(opt).split(b"\0", 1)[0]
                               .decode("utf-8", "surrogateescape"))
        flags |= f
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    when = parse_int(argv[2])
    name = c.cur_cmd.name if c.cur_cmd is not None else bytes(argv[0]).lower().decode()
    if seconds:
        if when > LLONG_MAX // 1000 or when < -(-LLONG_MIN // 1000):
            raise CommandError(f"ERR invalid expire time in '{name}' command")
        when *= 1000
    if when > LLONG_MAX - basetime:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    when += basetime
    key = argv[1]
    db = c.db
    if db.lookup(key) is None:
        return 0
    if flags:
        cur = db.expires.get(key, -1)
        if flags & _NX and cur != -1:
            return 0
        if flags & _XX and cur == -1:
            return 0
        if flags & _GT and (when <= cur or cur == -1):
            return 0
        if flags & _LT and cur != -1 and when >= cur:
            return 0
    # A relative TTL is compared with the time it was added to (EXPIRE k 1 on a
    # millisecond boundary must not delete k); an absolute one with the clock.
    if when <= (basetime or now_ms()) and c.server.expiring_allowed():
        db.delete(key)
        c.propagate_argv = [[b"DEL", key]]
        notify(c, "g", b"del", key)
        return 1
    db.set_expire(key, when)
    db.touch(key)
    if basetime or seconds or argv[0].lower() != b"pexpireat":
        c.propagate_argv = [[b"PEXPIREAT", key, b"%d" % when, *argv[3:]]]
    notify(c, "g", b"expire", key)
    return 1


@command("expire", -3, "write fast", "@keyspace", keys=[KeySpec("RW update", 1)],
         group="generic", since="1.0.0", summary="Set a key's time to live in seconds")
def expire(c, argv):
    return _expire_generic(c, argv, now_ms(), True)


@command("pexpire", -3, "write fast", "@keyspace", keys=[KeySpec("RW update", 1)],
         group="generic", since="2.6.0", summary="Set a key's time to live in milliseconds")
def pexpire(c, argv):
    return _expire_generic(c, argv, now_ms(), False)


@command("expireat", -3, "write fast", "@keyspace", keys=[KeySpec("RW update", 1)],
         group="generic", since="1.2.0",
         summary="Set the expiration for a key as a UNIX timestamp")
def expireat(c, argv):
    return _expire_generic(c, argv, 0, True)


@command("pexpireat", -3, "write fast", "@keyspace", keys=[KeySpec("RW update", 1)],
         group="generic", since="2.6.0",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds")
def pexpireat(c, argv):
    return _expire_generic(c, argv, 0, False)


@command("persist", 2, "write fast", "@keyspace", keys=[KeySpec("RW update", 1)],
         group="generic", since="2.2.0", summary="Remove the expiration from a key")
def persist(c, argv):
    key = argv[1]
    db = c.db
    if db.lookup(key) is None or not db.persist(key):
        return 0
    db.touch(key)
    notify(c, "g", b"persist", key)
    return 1


def _ttl(c, key: bytes, ms: bool, absolute: bool) -> int:
    """Redis's ttlGenericCommand."""
    db = c.db
    if db.lookup_read(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    ttl = when if absolute else when - now_ms()
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl", 2, "readonly fast", "@keyspace", keys=[KeySpec("RO access", 1)],
         group="generic", since="1.0.0", summary="Get the time to live for a key in seconds",
         tips=["nondeterministic_output"])
def ttl(c, argv):
    return _ttl(c, argv[1], False, False)


@command("pttl", 2, "readonly fast", "@keyspace", keys=[KeySpec("RO access", 1)],
         group="generic", since="2.6.0", summary="Get the time to live for a key in milliseconds",
         tips=["nondeterministic_output"])
def pttl(c, argv):
    return _ttl(c, argv[1], True, False)


@command("expiretime", 2, "readonly fast", "@keyspace", keys=[KeySpec("RO access", 1)],
         group="generic", since="7.0.0", summary="Get the expiration Unix timestamp for a key")
def expiretime(c, argv):
    return _ttl(c, argv[1], False, True)


@command("pexpiretime", 2, "readonly fast", "@keyspace", keys=[KeySpec("RO access", 1)],
         group="generic", since="7.0.0",
         summary="Get the expiration Unix timestamp for a key in milliseconds")
def pexpiretime(c, argv):
    return _ttl(c, argv[1], True, True)


# -- KEYS, SCAN, RANDOMKEY, DBSIZE ----------------------------------------------------

def _live(db, keys: list) -> list:
    """keys without the logically expired ones (Redis's keyIsExpired; not deleted)."""
    expires = db.expires
    if not expires:
        return keys
    now = now_ms()
    get = expires.get
    return [k for k in keys if (w := get(k)) is None or w > now]


@command("keys", 2, "readonly", "@keyspace @dangerous", group="generic", since="1.0.0",
         summary="Find all keys matching the given pattern",
         tips=["request_policy:all_shards", "nondeterministic_output_order"])
def keys(c, argv):
    pat = argv[1]
    db = c.db
    data = db.data
    if pat == b"*":
        found = list(data)
    else:
        m = compile_glob(pat)
        lit = m.literal
        if lit is not None:                  # no wildcard: at most one key
            found = [lit] if lit in data else []
        else:
            found = m.select(data)
    vis = _key_filter(c)
    if vis is not None:
        found = [k for k in found if vis(k)]
    return _live(db, found)


def _key_filter(c):
    """acl-filter-keyspace: None when c may see every key name, else a predicate
    (installed by the ACL family as server.keyspace_filter)."""
    f = getattr(c.server, "keyspace_filter", None)
    return None if f is None or not c.gated else f(c)


class _Snapshot:
    """The keys of one database when a SCAN started (see scan())."""
    __slots__ = ("sid", "data", "keys", "dirty", "users")

    def __init__(self, sid: int, data: dict, dirty: int) -> None:
        self.sid = sid
        self.data = data
        self.keys = list(data)
        self.dirty = dirty
        self.users = 1


_SNAPSHOTS: "collections.OrderedDict[int, _Snapshot]" = collections.OrderedDict()
_LATEST: dict = {}      # id(data dict) -> the newest snapshot of it (for sharing)
_sid_counter = itertools.count(1)
_POS_BITS = 32
_POS_MASK = (1 << _POS_BITS) - 1


_parse_cursor = parse_scan_cursor     # (hashes imports this name)


def _max_cursors(server) -> int:
    try:
        return server.config["scan-max-cursors"]
    except KeyError:
        return 64


def _new_snapshot(c, db) -> _Snapshot:
    server = c.server
    data = db.data
    snap = _LATEST.get(id(data))
    if (snap is not None and snap.data is data and snap.dirty == server.dirty
            and snap.sid in _SNAPSHOTS):
        snap.users += 1                      # nothing was written since: share it
        _SNAPSHOTS.move_to_end(snap.sid)
        return snap
    sid = next(_sid_counter) & 0x7FFFFFFF or next(_sid_counter)
    snap = _Snapshot(sid, data, server.dirty)
    _SNAPSHOTS[sid] = snap
    _LATEST[id(data)] = snap
    limit = _max_cursors(server)
    while len(_SNAPSHOTS) > limit:
        _drop(_SNAPSHOTS.popitem(last=False)[1])
    return snap


def _drop(snap: _Snapshot) -> None:
    _SNAPSHOTS.pop(snap.sid, None)
    if _LATEST.get(id(snap.data)) is snap:
        del _LATEST[id(snap.data)]


def forget_db(db) -> None:
    """Drop SCAN/RANDOMKEY state that references db's current key dict (FLUSH*)."""
    data = db.data
    for snap in [s for s in _SNAPSHOTS.values() if s.data is data]:
        _drop(snap)
    _RANDOM.pop(db, None)


def _scan_keys(c, db, cursor: int, count: int):
    """One SCAN step: (next cursor, candidate keys).

    Design. Python dicts cannot be walked by bucket like Redis's reverse-binary
    cursor, and a position in a dict's iteration order shifts when earlier
    keys are deleted. So a scan works on a snapshot: SCAN 0 takes the list of
    the database's keys (one C-level copy, 8 bytes per key; shared by scans
    that start while nothing was written), kept server side under an id. The
    cursor is (id << 32) | position in that list. Each call walks the list from
    the position and returns the keys still present. Hence every key present
    for the whole scan is returned exactly once; keys added during the scan may
    or may not be (Redis makes the same promise), deleted ones are not.

    The snapshot dies when its scan completes (last user) or when more than
    `scan-max-cursors` exist (least recently used first). An unknown cursor (an
    evicted one, one from another database, after FLUSHDB/SWAPDB, or one
    made up by the client) restarts the scan from the beginning: the guarantee
    holds, with duplicates. Like Redis, at most 10 * COUNT entries are
    examined per call, so a call may return fewer than COUNT keys.
    """
    data = db.data
    snap = None
    pos = 0
    if cursor:
        snap = _SNAPSHOTS.get(cursor >> _POS_BITS)
        pos = cursor & _POS_MASK
        if snap is None or snap.data is not data or pos > len(snap.keys):
            snap = None
        else:
            _SNAPSHOTS.move_to_end(snap.sid)
    if snap is None:
        snap = _new_snapshot(c, db)
        pos = 0
    keys_ = snap.keys
    n = len(keys_)
    end = min(n, pos + count * 10)
    out = []
    i = pos
    while i < end:
        k = keys_[i]
        i += 1
        if k in data:
            out.append(k)
            if len(out) >= count:
                break
    if i >= n:
        snap.users -= 1
        if snap.users <= 0:
            _drop(snap)
        return 0, out
    return (snap.sid << _POS_BITS) | i, out


@command("scan", -2, "readonly", "@keyspace", group="generic", since="2.8.0",
         summary="Incrementally iterate the keys space",
         tips=["nondeterministic_output", "request_policy:special"])
def scan(c, argv):
    cursor = parse_scan_cursor(argv[1])
    count, pat, typ = parse_scan_options(argv, 2, with_type=True)
    db = c.db
    cursor, found = _scan_keys(c, db, cursor, count)
    if pat is not None:
        found = compile_glob(pat).select(found)
    vis = _key_filter(c)
    if vis is not None:
        found = [k for k in found if vis(k)]
    if typ is not None:
        lookup = db.lookup_read
        found = [k for k in found if type_name(lookup(k)) == typ]
    if db.expires and found:
        expires = db.expires
        now = now_ms()
        live = []
        for k in found:
            w = expires.get(k)
            if w is not None and w <= now and db.lookup(k) is None:
                continue
            live.append(k)
        found = live
    return [b"%d" % cursor, found]


_RANDOM: dict = {}      # db -> (data dict, key list, server.dirty when built)
_RANDOM_SMALL = 1024
_RANDOM_MAX_DBS = 256


def _random_key(c, db):
    """A key of db chosen at random without an O(n) walk per call.

    Small databases (<= 1024 keys) pick an index and walk to it. Larger ones
    sample a cached list of the db's keys, checking the pick still exists; the
    list is rebuilt (O(n), amortized over the writes that made it stale) when
    its dict was replaced (FLUSHDB/SWAPDB), after as many writes as half its
    size, or when 32 picks in a row were deleted keys. Keys added since the
    last rebuild are not candidates until the next one."""
    data = db.data
    n = len(data)
    if n <= _RANDOM_SMALL:
        return next(itertools.islice(data, random.randrange(n), None))
    dirty = c.server.dirty
    ent = _RANDOM.get(db)
    for attempt in range(2):
        if ent is None or ent[0] is not data or dirty - ent[2] > len(ent[1]) // 2 or attempt:
            if len(_RANDOM) >= _RANDOM_MAX_DBS:
                _RANDOM.clear()
            ent = _RANDOM[db] = (data, list(data), dirty)
        lst = ent[1]
        m = len(lst)
        for _ in range(32):
            k = lst[random.randrange(m)]
            if k in data:
                return k
    return next(iter(data))


@command("randomkey", 1, "readonly", "@keyspace", group="generic", since="1.0.0",
         summary="Return a random key from the keyspace",
         tips=["request_policy:all_shards", "nondeterministic_output"])
def randomkey(c, argv):
    db = c.db
    data = db.data
    vis = _key_filter(c)
    if vis is not None:
        return _random_visible_key(c, db, vis)
    while data:
        k = _random_key(c, db)
        if db.expires and k in db.expires and db.lookup(k) is None:
            data = db.data
            continue                         # it had expired (and is now deleted)
        return k
    return None


def _random_visible_key(c, db, vis):
    """RANDOMKEY for a user who may see only some key names: a few random
    probes, then a pick among all visible live keys (nil when there is none)."""
    for _ in range(16):
        if not db.data:
            return None
        k = _random_key(c, db)
        if vis(k) and db.lookup(k) is not None:
            return k
    live = _live(db, [k for k in db.data if vis(k)])
    return random.choice(live) if live else None


@command("dbsize", 1, "readonly fast", "@keyspace", group="server", since="1.0.0",
         summary="Return the number of keys in the selected database",
         tips=["request_policy:all_shards", "response_policy:agg_sum"])
def dbsize(c, argv):
    return len(c.db.data)


# -- FLUSHDB, FLUSHALL -------------------------------------------------------------

def _check_flush_args(argv) -> None:
    """Redis's getFlushCommandFlags: [ASYNC|SYNC]. Flushing is synchronous here."""
    if len(argv) == 1 or (len(argv) == 2 and argv[1].lower() in (b"sync", b"async")):
        return
    raise CommandError(SYNTAX)


@command("flushdb", -1, "write", "@keyspace @dangerous", group="server", since="1.0.0",
         summary="Remove all keys from the current database",
         tips=["request_policy:all_shards", "response_policy:all_succeeded"])
def flushdb(c, argv):
    _check_flush_args(argv)
    db = c.db
    forget_db(db)
    c.server.dirty += db.flush()
    c.propagate_argv = [argv]            # propagated even when the db was empty
    return OK


@command("flushall", -1, "write", "@keyspace @dangerous", group="server", since="1.0.0",
         summary="Remove all keys from all databases",
         tips=["request_policy:all_shards", "response_policy:all_succeeded"])
def flushall(c, argv):
    _check_flush_args(argv)
    removed = 0
    for db in c.keyspace.dbs:
        forget_db(db)
        removed += db.flush()
    c.server.dirty += removed
    # Redis then kills a saving child and, with save points configured, saves
    # an (empty) RDB, which resets rdb_changes_since_last_save: persistence
    # will hook in here (server.flushall_hook), none exists yet.
    hook = getattr(c.server, "flushall_hook", None)
    if hook is not None:
        hook(c)
    c.propagate_argv = [argv]
    return OK


# -- OBJECT ---------------------------------------------------------------------

container("object", -2, "", "", group="generic", since="2.2.3",
          summary="A container for object introspection commands")

OBJ_SHARED_INTEGERS = 10000
OBJ_SHARED_REFCOUNT = 2 ** 31 - 1
_LFU_POLICIES = ("volatile-lfu", "allkeys-lfu")


def _object_value(c, argv):
    """objectCommandLookup: the value (counts a keyspace hit/miss, no keymiss
    event), None if absent."""
    return c.db.lookup_read_quiet(argv[2])


def _policy_is_lfu(c) -> bool:
    t = c.tenant           # a tenant's own policy (securekv/tenancy), else the server's
    return (c.server.config["maxmemory-policy"] if t is None else t.effective_policy()) \
        in _LFU_POLICIES


@subcommand("object", "encoding", 3, "readonly", "@keyspace", keys=[KeySpec("RO", 2)],
            since="2.2.3", summary="Inspect the internal encoding of a Redis object",
            tips=["nondeterministic_output"])
def object_encoding(c, argv):
    v = _object_value(c, argv)
    if v is None:
        return None
    return encoding_name(v)


@subcommand("object", "freq", 3, "readonly", "@keyspace", keys=[KeySpec("RO", 2)],
            since="4.0.0", summary="Get the logarithmic access frequency counter of a Redis object",
            tips=["nondeterministic_output"])
def object_freq(c, argv):
    freq = frequency(c.db, argv[2])      # read before the lookup touches the key
    v = _object_value(c, argv)
    if v is None:
        return None
    if not _policy_is_lfu(c):
        raise CommandError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
            "note that when switching between policies at runtime LRU and LFU data will take "
            "some time to adjust.")
    return freq or 0    # tracked only under an LFU policy (securekv/tenancy/evict.py)


@subcommand("object", "idletime", 3, "readonly", "@keyspace", keys=[KeySpec("RO", 2)],
            since="2.2.3", summary="Get the time since a Redis object was last accessed",
            tips=["nondeterministic_output"])
def object_idletime(c, argv):
    idle = idle_time(c.db, argv[2])      # read before the lookup touches the key
    v = _object_value(c, argv)
    if v is None:
        return None
    if _policy_is_lfu(c):
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some time "
            "to adjust.")
    return idle or 0    # tracked only under an LRU policy (securekv/tenancy/evict.py)


@subcommand("object", "refcount", 3, "readonly", "@keyspace", keys=[KeySpec("RO", 2)],
            since="2.2.3", summary="Get the number of references to the value of the key",
            tips=["nondeterministic_output"])
def object_refcount(c, argv):
    v = _object_value(c, argv)
    if v is None:
        return None
    if type(v) is bytes and len(v) <= 5:
        n = _strict_int(v)
        if n is not None and 0 <= n < OBJ_SHARED_INTEGERS and _shared_integers(c):
            return OBJ_SHARED_REFCOUNT
    return 1


def _shared_integers(c) -> bool:
    """Redis shares small integers unless maxmemory is set with an LRU/LFU policy."""
    cfg = c.server.config
    return not cfg["maxmemory"] or not ("lru" in cfg["maxmemory-policy"]
                                        or "lfu" in cfg["maxmemory-policy"])


_OBJECT_HELP = [
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
]


@subcommand("object", "help", 2, "loading stale", "@keyspace", since="6.2.0",
            summary="Show helpful text about the different subcommands")
def object_help(c, argv):
    return help_reply(argv, _OBJECT_HELP)
