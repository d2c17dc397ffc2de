"""The Tenant object: a keyspace with its own Stats, a quota, a policy, limits."""

from __future__ import annotations

import collections
import time

from securekv.engine.keyspace import Keyspace
from securekv.stats import Stats

POLICIES = ("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
            "volatile-lfu", "volatile-random", "volatile-ttl")


class Tenant:
    """One tenant. `policy` None: follow the global maxmemory-policy."""

    def __init__(self, server, name: bytes, keyspace: Keyspace | None = None) -> None:
        self.server = server
        self.name = name
        if keyspace is None:
            from securekv.commands.table import ALL
            keyspace = Keyspace(server, server.config["databases"], Stats(len(ALL)))
        self.keyspace = keyspace
        keyspace.tenant = self
        self.stats = keyspace.stats
        self.maxmemory = 0
        self.policy: str | None = None
        self.maxclients = 0
        self.maxkeys = 0
        self.maxops = 0
        self.clients: dict = {}          # client id -> client
        self.slowlog: collections.deque = collections.deque(
            maxlen=server.config["slowlog-max-len"])
        self.latency_events: dict = {}   # LATENCY: the tenant's own events (server.latency_add_sample)
        self.ops_second = 0              # rate limit: the current second ...
        self.ops_count = 0               # ... and commands counted in it
        self.ops_last_total = 0          # for the ops rate in TENANT INFO
        self.ops_rate = 0
        self.tracking = None             # "lru" | "lfu" while access clocks are kept

    @property
    def evicted_keys(self) -> int:
        return self.stats.evicted_keys

    @property
    def is_default(self) -> bool:
        return self.name == b"default"

    def effective_policy(self) -> str:
        return self.policy or self.server.config["maxmemory-policy"]

    def used_memory(self) -> int:
        return sum(db.mem for db in self.keyspace.dbs)

    def nkeys(self) -> int:
        return sum(len(db.data) for db in self.keyspace.dbs)

    def allow_op(self) -> bool:
        """The commands-per-second limit (maxops): a fixed one-second window."""
        now = int(time.monotonic())
        if now != self.ops_second:
            self.ops_second = now
            self.ops_count = 0
        self.ops_count += 1
        return self.ops_count <= self.maxops

    def option_words(self) -> list[bytes]:
        """The settings as TENANT CREATE option words (what RDB/AOF record)."""
        words = []
        if self.maxmemory:
            words += [b"maxmemory", b"%d" % self.maxmemory]
        if self.policy:
            words += [b"maxmemory-policy", self.policy.encode()]
        for attr in ("maxclients", "maxkeys", "maxops"):
            if getattr(self, attr):
                words += [attr.encode(), b"%d" % getattr(self, attr)]
        return words

    def has_data(self) -> bool:
        return any(db.data for db in self.keyspace.dbs)
