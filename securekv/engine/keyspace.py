"""The keyspace: databases, expiry, the modification signal and notifications.

How expiry works
----------------
Each database keeps `expires`, a dict from key to an absolute unix time in
milliseconds, beside `data`. A key is expired *lazily* whenever it is looked
up (every read and write goes through `lookup`/`lookup_write`), and
*actively* by `active_expire_cycle`, which the server cron runs `hz` times a
second. Redis samples random keys with a TTL and repeats while more than a
quarter of a sample had expired; Python dicts cannot sample randomly, so each
database instead keeps a min-heap of (when, key) pushed whenever a TTL is set.
The cycle pops entries that are due, skips stale ones (the key's TTL changed
or it was deleted: the heap entry no longer matches `expires`) and stops when
the next entry is in the future or its time budget (25% of a cron tick, as
Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC) is spent. This finds every due key
without sampling; stale entries are compacted away once they outnumber live
ones, so the heap stays O(keys with a TTL).

Expiring a key is a deletion like any other for WATCH (the key is touched),
keyspace notifications (`expired` event) and propagation (a DEL, so AOF and
replicas never depend on clocks).

Notifications fired here
------------------------
Besides `expired`, the database fires the two events Redis 7.0 fires from
db.c rather than from the commands: `new` (class n) when set/add/set_pairs
create a key (dbAdd; before the command's own event), and `keymiss` (class m)
when lookup_read finds nothing (lookupKey; OBJECT uses lookup_read_quiet, as
Redis's LOOKUP_NONOTIFY). Both cost one check of server.notify_flags, made only
on key creation and on a miss.

The modification signal
-----------------------
Every write goes through `touch(key)` (directly, or through set/add/delete):
it marks WATCHing clients dirty, wakes clients blocked on the key and counts
one change in `server.dirty`, which is what decides whether a command is
propagated and what save points count. Commands that mutate a container in
place call `touch` themselves.

`server.dirty` counts what Redis 7.0 counts (`server.dirty++` / `+= n` in its
t_*.c), not one per touched key: add, delete and touch take `n`, the changes
to count (default 1). A command that changes several elements passes their
number (SADD of 3 new members: 3); one that touches two keys for one change
passes 0 for the other (RENAME: the source is deleted with n=0, the
destination added with 1) -- the signal (WATCH, blocked clients) is the same
whatever n is.

Memory accounting
-----------------
`mem` is an estimate of the bytes held by the database, kept current in O(1)
per mutation from `engine.memory.estimate`: set and delete adjust it with
the value's estimate; in-place container mutations report their delta with
`grow`. MEMORY USAGE, INFO memory and (later) tenant quotas read it.
"""

from __future__ import annotations

import heapq
import time

from securekv.engine.memory import KEY_OVERHEAD, STRING_OVERHEAD, estimate

STRING_ENTRY = KEY_OVERHEAD + STRING_OVERHEAD


def now_ms() -> int:
    return int(time.time() * 1000)


class Database:
    __slots__ = ("id", "data", "expires", "heap", "watched", "ks", "mem",
                 "avg_ttl", "blocking", "server")

    def __init__(self, dbid: int, ks: "Keyspace") -> None:
        self.id = dbid
        self.data: dict = {}
        self.expires: dict = {}
        self.heap: list = []
        # key -> {client: expired}: the clients WATCHing it, each with Redis's
        # watchedKey.expired (the key was logically expired when WATCHed).
        self.watched: dict = {}
        self.blocking: dict = {}    # key -> deque of clients blocked on it (engine/blocking.py)
        self.ks = ks
        self.server = ks.server
        self.mem = 0
        self.avg_ttl = 0

    # -- reads ------------------------------------------------------------

    def lookup(self, key: bytes):
        """The value of key, or None; expires the key if its time has come."""
        v = self.data.get(key)
        if v is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when <= now_ms() and self.ks.expire_enabled():
                if self.server.paused_until and self.server.expiry_paused():
                    return None     # CLIENT PAUSE: expired to readers, kept in the dataset
                self.expire_now(key)
                return None
        return v

    def lookup_read(self, key: bytes):
        """lookup() that also counts a keyspace hit or miss (Redis's lookupKeyRead)."""
        v = self.lookup(key)
        st = self.ks.stats
        if v is None:
            st.keyspace_misses += 1
            if self.server.notify_flags:
                self.notify_miss(key)
        else:
            st.keyspace_hits += 1
        return v

    def lookup_read_quiet(self, key: bytes):
        """lookup_read() without the `keymiss` event (LOOKUP_NONOTIFY: OBJECT)."""
        v = self.lookup(key)
        st = self.ks.stats
        if v is None:
            st.keyspace_misses += 1
        else:
            st.keyspace_hits += 1
        return v

    def notify_miss(self, key: bytes) -> None:
        """The `keymiss` event (class m) of a read that found no key (Redis's
        lookupKey); callers check server.notify_flags first."""
        self.server.notify(self.ks, "m", b"keymiss", key, self.id)

    def notify_new(self, key: bytes) -> None:
        """The `new` event (class n) of a key added to the database (Redis's
        dbAdd): fired before the command's own event; callers check
        server.notify_flags first."""
        self.server.notify(self.ks, "n", b"new", key, self.id)

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def __len__(self) -> int:
        return len(self.data)

    # -- writes -----------------------------------------------------------

    def set(self, key: bytes, value, keepttl: bool = False) -> None:
        """Store value under key (Redis's setKey): drops the TTL unless keepttl."""
        data = self.data
        old = data.get(key)
        if old is not None and self.expires and self.lookup(key) is None:
            old = None      # setKey's lookupKeyWrite: an expired key is deleted first
        if type(old) is bytes and type(value) is bytes:     # the common overwrite
            self.mem += len(value) - len(old)
        else:
            if old is not None:
                self.mem -= estimate(key, old)
            self.mem += estimate(key, value)
        data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if self.watched or self.blocking:
            self.touch(key)
        else:
            self.server.dirty += 1
        if old is None and self.server.notify_flags:
            self.notify_new(key)

    def set_pairs(self, argv: list, start: int) -> None:
        """set(argv[i], argv[i + 1]) for i = start, start + 2, ... (MSET): one
        loop with set()'s accounting inlined while nobody WATCHes or blocks."""
        if self.watched or self.blocking or self.server.notify_flags:
            for i in range(start, len(argv), 2):
                self.set(argv[i], argv[i + 1])
            return
        data = self.data
        expires = self.expires
        mem = 0
        for i in range(start, len(argv), 2):
            key = argv[i]
            value = argv[i + 1]
            old = data.get(key)
            if old is not None and expires and self.lookup(key) is None:
                old = None      # expired: deleted first, as set()
            if old is None:
                mem += STRING_ENTRY + len(key) + len(value)
            elif type(old) is bytes:
                mem += len(value) - len(old)
            else:
                mem += estimate(key, value) - estimate(key, old)
            data[key] = value
            if expires:
                expires.pop(key, None)
        self.mem += mem
        self.server.dirty += (len(argv) - start) // 2

    def add(self, key: bytes, value, n: int = 1) -> None:
        """Store a value under a key known to be absent (no TTL to clear),
        counting n changes. The hot path of SET: the string estimate and
        touch() are inlined."""
        self.data[key] = value
        if type(value) is bytes:
            self.mem += STRING_ENTRY + len(key) + len(value)
        else:
            self.mem += estimate(key, value)
        server = self.server
        if self.watched or self.blocking:
            self.touch(key, n)
        else:
            server.dirty += n
        if server.notify_flags:
            self.notify_new(key)

    def replace_value(self, key: bytes, value) -> None:
        """Swap the value of an existing key in place, keeping its TTL (SETRANGE,
        APPEND, INCR ...)."""
        data = self.data
        self.mem += estimate(key, value) - estimate(key, data[key])
        data[key] = value
        self.touch(key)

    def delete(self, key: bytes, n: int = 1) -> bool:
        """Remove key (counting n changes when it existed); False when absent."""
        v = self.data.pop(key, None)
        if v is None:
            return False
        self.mem -= estimate(key, v)
        if self.expires:
            self.expires.pop(key, None)
        self.touch(key, n)
        return True

    def pop(self, key: bytes):
        """Remove key and return its value (None when absent)."""
        v = self.data.pop(key, None)
        if v is not None:
            self.mem -= estimate(key, v)
            if self.expires:
                self.expires.pop(key, None)
            self.touch(key)
        return v

    def grow(self, delta: int) -> None:
        """Report an in-place change of a value's estimated size."""
        self.mem += delta

    def touch(self, key: bytes, n: int = 1) -> None:
        """The modification signal: WATCH invalidation, blocked clients, and n
        changes counted in `server.dirty` (n=0: Redis's signalModifiedKey
        alone, for a command that counts its change elsewhere)."""
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                self._touch_watched(key, clients)
        if self.blocking and key in self.blocking:
            self.server.ready_keys[(self, key)] = None
        self.server.dirty += n

    def _touch_watched(self, key: bytes, clients: dict) -> None:
        """touchWatchedKey: mark the watchers dirty, except one that WATCHed the
        key already expired, when it is now deleted (no logical change; the
        flag is cleared: a deleted key is not an expired one)."""
        present = key in self.data
        for c, expired in clients.items():
            if expired:
                if not present:
                    clients[c] = False
                continue
            c.dirty_cas = True

    def is_stale(self, key: bytes) -> bool:
        """keyIsExpired: the key is present and its time has passed."""
        when = self.expires.get(key)
        return when is not None and when <= now_ms() and key in self.data

    def touch_all_watched(self, replaced_with) -> None:
        """touchAllWatchedKeysInDb (FLUSHDB/FLUSHALL: replaced_with None; SWAPDB:
        the db whose data comes in), before the data changes."""
        other = replaced_with.data if replaced_with is not None else {}
        for key, clients in self.watched.items():
            exists = key in self.data
            if not exists and key not in other:
                continue
            for c, expired in clients.items():
                if expired:
                    if key not in other:
                        clients[c] = False      # expired key now deleted: no change
                        continue
                    if replaced_with.is_stale(key):
                        continue                # expired key remains expired
                elif not exists and replaced_with.is_stale(key):
                    clients[c] = True           # no key replaced with an expired key
                    continue
                c.dirty_cas = True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        heapq.heappush(self.heap, (when_ms, key))
        if len(self.heap) > 2 * len(self.expires) + 1024:
            self._compact_heap()

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def expire_now(self, key: bytes) -> None:
        """Delete an expired key: notification, propagation as DEL, statistics.
        Not a change for `server.dirty` (Redis's deleteExpiredKeyAndPropagate):
        the DEL is propagated here, not by the command that found the key."""
        self.delete(key, 0)
        ks = self.ks
        ks.stats.expired_keys += 1
        ks.on_expired(self, key)

    def flush(self) -> int:
        """Remove every key; returns how many there were."""
        n = len(self.data)
        if self.watched:
            self.touch_all_watched(None)
        if self.blocking:
            self.signal_deleted_streams(None)
        self.data = {}
        self.expires = {}
        self.heap = []
        self.mem = 0
        self.avg_ttl = 0
        return n

    def signal_deleted_streams(self, replaced_with) -> None:
        """Redis's scanDatabaseForDeletedStreams, before the data goes (FLUSHDB,
        FLUSHALL) or is swapped with another db's (SWAPDB): a blocked key that
        holds a stream now and will not after is made ready, so clients blocked
        in XREADGROUP on it get -UNBLOCKED (the others just wait on)."""
        other = replaced_with.data if replaced_with is not None else {}
        ready = self.server.ready_keys
        for key in self.blocking:
            v = self.data.get(key)
            if v is not None and getattr(v, "type_name", None) == b"stream":
                w = other.get(key)
                if w is None or getattr(w, "type_name", None) != b"stream":
                    ready[(self, key)] = None

    # -- active expiry ------------------------------------------------------

    def _compact_heap(self) -> None:
        self.heap = [(w, k) for k, w in self.expires.items()]
        heapq.heapify(self.heap)

    def expire_due(self, now: int, deadline_ns: int) -> int:
        """Expire due keys until none is due or the deadline passes."""
        heap = self.heap
        expires = self.expires
        n = 0
        checked = 0
        while heap and heap[0][0] <= now:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self.expire_now(key)
                n += 1
            checked += 1
            if checked & 63 == 0 and time.perf_counter_ns() > deadline_ns:
                break
        if len(heap) > 2 * len(expires) + 1024:
            self._compact_heap()
        return n


class Keyspace:
    """The databases of one tenant (the `default` tenant is Redis's keyspace)."""

    def __init__(self, server, ndb: int, stats) -> None:
        self.server = server
        self.stats = stats
        self.dbs = [Database(i, self) for i in range(ndb)]

    def expire_enabled(self) -> bool:
        return self.server.active_expire_lazy_ok()

    def server_dirty(self) -> None:
        self.server.dirty += 1

    def on_expired(self, db: Database, key: bytes) -> None:
        """The `expired` event, and the key's deletion propagated as DEL (UNLINK
        under lazyfree-lazy-expire), as Redis's deleteExpiredKeyAndPropagate:
        inside EXEC into the transaction; during a command with the command's
        own writes (dispatch.propagate_command: one unit, so MULTI/EXEC-wrapped
        when the command writes too); found by the active cycle, on its own
        (active_expire_cycle flushes)."""
        server = self.server
        server.notify(self, "x", b"expired", key, db.id)
        if server.propagation_subscribers:
            argv = [b"UNLINK" if server.config["lazyfree-lazy-expire"] else b"DEL", key]
            batch = server.prop_batch
            if batch is not None:
                batch.append((db.id, [argv]))
                return
            server.expired_pending.append((self, db.id, argv))

    def flush_expired(self) -> None:
        """Propagate the keys expired outside any command (the active cycle),
        each on its own, as Redis."""
        server = self.server
        pend = server.expired_pending
        if not pend:
            return
        ops = pend[:]
        pend.clear()
        subs = server.propagation_subscribers
        for ks, dbid, argv in ops:
            for sub in subs:
                sub(None, dbid, [argv], ks)

    def active_expire_cycle(self, budget_ms: float) -> int:
        now = now_ms()
        deadline = time.perf_counter_ns() + int(budget_ms * 1e6)
        n = 0
        for db in self.dbs:
            if db.heap and db.heap[0][0] <= now:
                n += db.expire_due(now, deadline)
        if n:
            self.flush_expired()
        return n

    def swap(self, a: int, b: int) -> None:
        dbs = self.dbs
        da, db_ = dbs[a], dbs[b]
        for d, other in ((da, db_), (db_, da)):
            if d.watched:
                d.touch_all_watched(other)
            if d.blocking:
                d.signal_deleted_streams(other)
        # Swap contents, not objects: clients keep pointing at "db a".
        for attr in ("data", "expires", "heap", "mem", "avg_ttl"):
            va, vb = getattr(da, attr), getattr(db_, attr)
            setattr(da, attr, vb)
            setattr(db_, attr, va)
        for d in (da, db_):
            # Redis's scanDatabaseForReadyKeys: clients blocked on a key that
            # now exists get a chance to be served.
            if d.blocking:
                for key in d.blocking:
                    if key in d.data:
                        self.server.ready_keys[(d, key)] = None
