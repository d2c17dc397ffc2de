"""Quotas, eviction and the LRU/LFU access clocks.

Access clocks cost nothing unless an LRU/LFU policy is in use
-----------------------------------------------------------
Redis keeps 24 bits of LRU/LFU data in every object header. A Python object
has no spare bits, and a per-key field would cost memory and a store on every
read for everyone. Instead, while a tenant's effective policy is *-lru or
*-lfu, each of its databases' `data` dict is replaced by `Tracked`, a dict
subclass whose `get`/`__setitem__` also record the access in a side dict
`atime` (key -> LRU clock in seconds, or LFU `minutes << 8 | counter`, Redis's
packing). Every lookup of every command goes through `data.get`, so nothing
else has to know. Switching the policy back swaps plain dicts in again and the
side dicts are dropped. Cost, only while such a policy is active: one Python
method call per key access (GET/SET are ~10-20% slower) and about 70-100
bytes per accessed key (a dict slot plus, for LFU, an int). Keys not yet
accessed since tracking started count as accessed when it started (LRU) or
with a counter of 0 (LFU: what Redis reports for objects created under
another policy); new keys start at LFU_INIT_VAL (5), as Redis's createObject.
OBJECT IDLETIME/FREQ read the side dict; under other policies IDLETIME reports
0 (Redis would report the real idle time: the price of not tracking).

Sampling
--------
Python dicts have no O(1) random access, so a sample of `maxmemory-samples`
keys is a run of consecutive keys starting at a random offset within the first
SAMPLE_WINDOW keys of each non-empty database (insertion order, so biased
towards older keys, which suits LRU). The best candidate of all databases is
evicted, one key at a time, until the tenant is under the limit.
"""

from __future__ import annotations

import itertools
import math
import random
import time

from securekv.commands.table import keys_from_specs

SAMPLE_WINDOW = 1024
LFU_INIT_VAL = 5

CLOCK = [int(time.time())]          # seconds; refreshed by the cron (shared int objects)


def tick() -> None:
    CLOCK[0] = int(time.time())


def lfu_minutes() -> int:
    return (CLOCK[0] // 60) & 0xFFFF


class Tracked(dict):
    """A database's data dict that records accesses (see module doc)."""
    __slots__ = ("atime", "lfu", "since", "log_factor", "decay")

    def _init(self, lfu: bool, cfg) -> "Tracked":
        self.atime = {}
        self.lfu = lfu
        self.since = CLOCK[0]
        self.log_factor = cfg["lfu-log-factor"]
        self.decay = cfg["lfu-decay-time"]
        return self

    def _touch(self, key) -> None:
        if self.lfu:
            old = self.atime.get(key)
            counter = 0 if old is None else self.decayed(old)   # untracked: as Redis, ~0
            if counter < 255:
                base = counter - LFU_INIT_VAL
                if base < 0:
                    base = 0
                if random.random() < 1.0 / (base * self.log_factor + 1):
                    counter += 1
            self.atime[key] = (lfu_minutes() << 8) | counter
        else:
            self.atime[key] = CLOCK[0]

    def decayed(self, packed: int) -> int:
        """Redis's LFUDecrAndReturn."""
        counter = packed & 255
        then = packed >> 8
        now = lfu_minutes()
        elapsed = now - then if now >= then else 65535 - then + now
        periods = elapsed // self.decay if self.decay else 0
        return counter - periods if periods < counter else 0

    def get(self, key, default=None):
        v = dict.get(self, key, default)
        if v is not None:
            self._touch(key)
        return v

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value)
        if not self.lfu:
            self.atime[key] = CLOCK[0]
        elif key not in self.atime:         # a new object starts at LFU_INIT_VAL (createObject)
            self.atime[key] = (lfu_minutes() << 8) | LFU_INIT_VAL

    def __delitem__(self, key) -> None:
        dict.__delitem__(self, key)
        self.atime.pop(key, None)

    def pop(self, key, *default):
        self.atime.pop(key, None)
        return dict.pop(self, key, *default)

    # -- what OBJECT IDLETIME / FREQ and the sampler read ---------------------------

    def idle(self, key) -> int:
        t = self.atime.get(key)
        if self.lfu:
            return 0
        return max(0, CLOCK[0] - (self.since if t is None else t))

    def freq(self, key) -> int:
        t = self.atime.get(key)
        return 0 if t is None else self.decayed(t)


def set_tracking(tenant) -> None:
    """Wrap or unwrap the tenant's databases to match its effective policy."""
    pol = tenant.effective_policy()
    mode = "lfu" if pol.endswith("lfu") else "lru" if pol.endswith("lru") else None
    cfg = tenant.server.config
    for db in tenant.keyspace.dbs:
        d = db.data
        if mode is None:
            if type(d) is Tracked:
                db.data = dict(d)
        elif type(d) is not Tracked or d.lfu != (mode == "lfu"):
            db.data = Tracked(d)._init(mode == "lfu", cfg)
        else:
            d.log_factor = cfg["lfu-log-factor"]
            d.decay = cfg["lfu-decay-time"]
    tenant.tracking = mode


def rewrap(tenant) -> None:
    """FLUSHDB/FLUSHALL/SWAPDB may have put plain dicts back (cron)."""
    if tenant.tracking is not None:
        for db in tenant.keyspace.dbs:
            if type(db.data) is not Tracked:
                set_tracking(tenant)
                return


def idle_time(db, key) -> int | None:
    d = db.data
    return d.idle(key) if type(d) is Tracked else None


def frequency(db, key) -> int | None:
    d = db.data
    return d.freq(key) if type(d) is Tracked and d.lfu else None


# -- eviction ----------------------------------------------------------------------------

def _sample(pool, n: int):
    size = len(pool)
    if size <= n:
        return list(pool)
    off = random.randrange(min(size - n, SAMPLE_WINDOW) + 1)
    return list(itertools.islice(pool, off, off + n))


def pick_victim(tenant, policy: str, samples: int):
    """(db, key) to evict under `policy`, or None when nothing qualifies."""
    best = None
    best_score = -math.inf
    volatile = policy.startswith("volatile")
    for db in tenant.keyspace.dbs:
        pool = db.expires if volatile else db.data
        if not pool:
            continue
        keys = _sample(pool, samples)
        if policy.endswith("random"):
            key = random.choice(keys)
            score = random.random()
            if score > best_score:
                best, best_score = (db, key), score
            continue
        d = db.data
        for key in keys:
            if policy == "volatile-ttl":
                score = -db.expires[key]
            elif policy.endswith("lfu"):
                score = 255 - (d.freq(key) if type(d) is Tracked else 0)
            else:
                score = d.idle(key) if type(d) is Tracked else 0
            if score > best_score:
                best, best_score = (db, key), score
    return best


def evict_one(tenant, policy: str) -> bool:
    server = tenant.server
    victim = pick_victim(tenant, policy, server.config["maxmemory-samples"])
    if victim is None:
        return False
    db, key = victim
    db.delete(key)
    tenant.stats.evicted_keys += 1
    server.notify(tenant.keyspace, "e", b"evicted", key, db.id)
    if server.propagation_subscribers:
        for sub in server.propagation_subscribers:
            sub(None, db.id, [[b"DEL", key]], tenant.keyspace)
    return True


def evict_to(tenant, limit: int, policy: str) -> bool:
    """Evict keys of `tenant` until its dataset estimate is <= limit."""
    if policy == "noeviction":
        return tenant.used_memory() <= limit
    while tenant.used_memory() > limit:
        if not evict_one(tenant, policy):
            return False
    return True


def global_used(registry) -> int:
    return sum(t.used_memory() for t in registry.tenants.values())


def evict_global(registry, writer) -> bool:
    """Global maxmemory: evict from quota-less tenants and the writer (module
    __init__ doc), largest first, each by its effective policy."""
    server = registry.server
    limit = server.maxmemory
    used = global_used(registry)
    while used > limit:
        cands = [t for t in registry.tenants.values()
                 if (t is writer or not t.maxmemory) and t.effective_policy() != "noeviction"]
        cands.sort(key=lambda t: t.used_memory(), reverse=True)
        for t in cands:
            before = t.used_memory()
            if evict_one(t, t.effective_policy()):
                used -= before - t.used_memory()
                break
        else:
            return False
    return True


OOM_GLOBAL = "OOM command not allowed when used memory > 'maxmemory'."

# Inside MULTI every command is refused when out of memory (queueing costs memory),
# except these (processCommand's reject_cmd_on_oom).
_MULTI_ALWAYS = frozenset(("exec", "discard", "quit", "reset"))


def would_add_key(c, cmd, argv) -> bool:
    """Could this command create a key? A written key (key spec not RO and not a
    pure deletion, or no spec at all) that does not exist in the client's db."""
    data = c.db.data
    # SET/BITFIELD have variable_flags specs and no getkeys here: read the specs
    found = cmd.key_extractor(argv) or (cmd.key_specs and keys_from_specs(cmd, argv)) or ()
    for i, spec in found:
        if spec is not None and ("delete" in spec.flags or "not_key" in spec.flags
                                 or not spec.is_write):
            continue
        if argv[i] not in data:
            return True
    return False


def make_oom_check(registry):
    """server.oom_check(c, cmd, argv), run before every command while a limit is set.

    Like Redis's processCommand: it always evicts when over a limit
    (performEvictions), and refuses only a `denyoom` command, any command queued
    inside MULTI except EXEC/DISCARD/QUIT/RESET, or an EXEC whose queue holds a
    `denyoom` command (mstate.cmd_flags & CMD_DENYOOM). `maxkeys` refuses only
    such commands that would add a key (for EXEC: any queued one)."""
    server = registry.server
    default = registry.default

    def oom_check(c, cmd, argv):
        t = c.tenant or default
        deny = cmd.denyoom
        queue = c.multi
        if queue is not None:
            if cmd.name == "exec":
                deny = any(q.denyoom for q, _ in queue)
            elif cmd.name not in _MULTI_ALWAYS:
                deny = True
        if deny and t.maxkeys and t.nkeys() >= t.maxkeys:
            if (any(q.denyoom and would_add_key(c, q, qa) for q, qa in queue)
                    if queue is not None and cmd.name == "exec"
                    else would_add_key(c, cmd, argv)):
                return ("OOM command not allowed when the number of keys >= 'maxkeys' (%d) "
                        "of tenant '%s'." % (t.maxkeys, t.name.decode("utf-8", "replace")))
        if t.maxmemory and t.used_memory() > t.maxmemory:
            if not evict_to(t, t.maxmemory, t.effective_policy()) and deny:
                return ("OOM command not allowed when used memory > 'maxmemory' of tenant "
                        "'%s' (quota %d bytes)." % (t.name.decode("utf-8", "replace"),
                                                     t.maxmemory))
        if server.maxmemory and global_used(registry) > server.maxmemory:
            # the issuer's own keys only for a command that adds data (module doc)
            if not evict_global(registry, t if deny else None) and deny:
                return OOM_GLOBAL
        return None

    return oom_check
