"""Tenant isolation, generated from the command table.

Two tenants, `ta` and `tb`, each with a connection inside it (TENANT USE until
ACL users carry `tenant=`; then the same suite runs with one user per tenant).
For every command of the table that takes keys, plus the commands that list
keys, report statistics or touch channels, an invocation is generated from
the command's documented arguments (required arguments only, keys named
k:1, k:2 ...). Tenant B holds keys of the command's type under exactly those
names. The command runs in tenant A twice: once with B full, once with B
empty. It must
  * not read or reveal B's data: A's reply is the same both times;
  * not change B: B's keys, values, TTLs in every database are unchanged;
  * not count in B: B's keyspace hits/misses and DBSIZE are unchanged.
New commands are covered automatically.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from securekv import commands as _commands  # noqa: E402,F401  (fills the table)
from securekv.commands.table import ALL  # noqa: E402

with open(os.path.join(ROOT, "securekv", "commands", "docs.json"), "rb") as f:
    DOCS = json.load(f)

# Commands that change the connection, the server or the network rather than a
# keyspace, or never return (they have their own tests).
SKIP = {
    "migrate", "restore-asking", "debug", "shutdown", "monitor", "sync", "psync", "replicaof",
    "slaveof", "failover", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
    "punsubscribe", "sunsubscribe", "multi", "exec", "discard", "watch", "unwatch", "quit",
    "reset", "hello", "auth", "select", "wait", "save", "bgsave", "bgrewriteaof",
}
SKIP_PREFIX = ("tenant", "acl", "config", "client", "cluster", "script", "function", "module",
               "latency", "sentinel")
# Keyless commands that list keys, count or touch channels.
EXTRA = {"keys", "scan", "randomkey", "dbsize", "flushdb", "flushall", "swapdb",
         "pubsub|channels", "pubsub|numsub", "pubsub|numpat", "pubsub|shardchannels",
         "pubsub|shardnumsub", "publish", "spublish", "slowlog|len", "memory|stats"}
# Replies that legitimately vary between two runs (timings, random choice, memory).
VOLATILE = {"xadd", "memory|stats", "memory|usage", "object|idletime", "object|freq", "slowlog|len"}

VALUE = {
    "timeout": "0.01", "seconds": "100", "milliseconds": "100000", "unix-time": "9999999999",
    "unix-time-seconds": "9999999999", "unix-time-milliseconds": "9999999999999",
    "db": "1", "destination-db": "1", "index1": "0", "index2": "1", "numkeys": "1",
    "cursor": "0", "count": "1", "id": "0", "group": "g", "consumer": "c", "pattern": "*",
    "increment": "1", "offset": "0", "start": "0", "end": "0", "stop": "0", "min-idle-time": "0",
    "longitude": "1", "latitude": "1", "radius": "1", "ttl": "0", "index": "0", "bit": "0",
    "score": "1", "port": "0", "numreplicas": "0", "decrement": "1",
}


class Gen:
    def __init__(self, name: str) -> None:
        self.name = name
        self.keys: list[str] = []
        self.out: list[str] = []

    def value(self, a) -> str:
        t = a["type"]
        if t == "key":
            k = "k:%d" % (len(self.keys) + 1)
            self.keys.append(k)
            return k
        n = a["name"]
        if n in ("min", "max"):
            if "lex" in self.name:
                return "-" if n == "min" else "+"
            return "-inf" if n == "min" else "+inf"
        if n in VALUE:
            return VALUE[n]
        if t in ("integer", "double"):
            return "1"
        if t == "unix-time":
            return "9999999999"
        if t == "pattern":
            return "*"
        return "x"

    def emit(self, a) -> None:
        if "token" in a:
            self.out.append(a["token"])
        t = a["type"]
        if t == "pure-token":
            return
        if t == "oneof":
            self.emit(a["arguments"][0])
        elif t == "block":
            self.build(a["arguments"])
        else:
            self.out.append(self.value(a))

    def build(self, args) -> None:
        for a in args:
            if "optional" in a.get("flags", ()):
                continue
            self.emit(a)


def invocation(cmd):
    words = cmd.name.split("|")
    g = Gen(cmd.name)
    g.build((DOCS.get(cmd.name) or {}).get("arguments", ()))
    return [w.upper() for w in words] + g.out, g.keys


def _selected():
    out = []
    for cmd in ALL:
        if cmd.handler is None:
            continue
        base = cmd.name.split("|")[0]
        if base in SKIP or cmd.name in SKIP or base in SKIP_PREFIX:
            continue
        if cmd.key_specs or cmd.name in EXTRA or cmd.has("movablekeys"):
            out.append(cmd)
    return out


SELECTED = _selected()

POPULATE = {
    "string": lambda r, k: r.set(k, "1"),
    "bitmap": lambda r, k: r.set(k, "1"),
    "generic": lambda r, k: r.set(k, "1"),
    "list": lambda r, k: r.rpush(k, "x", "y"),
    "set": lambda r, k: r.sadd(k, "x", "y"),
    "sorted-set": lambda r, k: r.zadd(k, {"x": 1, "y": 2}),
    "geo": lambda r, k: r.geoadd(k, (1, 1, "x")),
    "hash": lambda r, k: r.hset(k, mapping={"x": "1", "y": "2"}),
    "stream": lambda r, k: (r.xadd(k, {"f": "v"}, id="1-1"),
                            r.xgroup_create(k, "g", id="0")),
    "hyperloglog": lambda r, k: r.pfadd(k, "x", "y"),
}


READ = {
    b"string": lambda r, k: r.get(k),
    b"list": lambda r, k: r.lrange(k, 0, -1),
    b"set": lambda r, k: sorted(r.smembers(k)),
    b"zset": lambda r, k: r.zrange(k, 0, -1, withscores=True),
    b"hash": lambda r, k: sorted(r.hgetall(k).items()),
    b"stream": lambda r, k: (r.xrange(k), r.execute_command("XINFO", "GROUPS", k)),
}


def snapshot(r) -> dict:
    """Every key of every database of r's tenant: type, serialized value, TTL."""
    snap = {}
    for db in range(16):
        r.execute_command("SELECT", db)
        for k in sorted(r.execute_command("KEYS", "*")):
            t = r.type(k)
            snap[(db, k)] = (t, READ[t](r, k), r.pttl(k) > 0)
    r.execute_command("SELECT", 0)
    return snap


def counters(r) -> tuple:
    st = r.info("stats")
    return st["keyspace_hits"], st["keyspace_misses"], r.dbsize()


@pytest.fixture(scope="module")
def tenants(server):
    op = server.client()
    for name in ("ta", "tb"):
        op.execute_command("TENANT", "CREATE", name)
    # One connection per client (the tenant is per connection): a pool of one.
    a, b = server.client(max_connections=1), server.client(max_connections=1)
    a.execute_command("TENANT", "USE", "ta")
    b.execute_command("TENANT", "USE", "tb")
    yield a, b, op
    for c in (a, b, op):
        c.close()


def _run(a, argv):
    try:
        rep = a.execute_command(*argv)
    except Exception as e:         # an error reply is a reply
        rep = ("error", str(e))
    a.execute_command("SELECT", 0)
    return rep


def _fill(b, cmd, keys):
    group = cmd.group if cmd.group in POPULATE else "generic"
    b.execute_command("FLUSHALL")
    for k in keys:
        POPULATE[group](b, k)
        b.execute_command("SELECT", 1)
        POPULATE[group](b, k)
        b.execute_command("SELECT", 0)
    b.expire(keys[0], 1000) if keys else None


@pytest.mark.parametrize("cmd", SELECTED, ids=[c.name for c in SELECTED])
def test_other_tenant_not_read_changed_counted(tenants, cmd):
    a, b, _ = tenants
    argv, keys = invocation(cmd)
    _fill(b, cmd, keys)
    before = snapshot(b)
    cnt = counters(b)
    a.execute_command("FLUSHALL")
    with_b = _run(a, argv)
    assert counters(b) == cnt, f"{argv} was counted in the other tenant"
    assert snapshot(b) == before, f"{argv} changed the other tenant"
    b.execute_command("FLUSHALL")
    a.execute_command("FLUSHALL")
    without_b = _run(a, argv)
    if cmd.name not in VOLATILE:
        assert with_b == without_b, f"{argv} revealed the other tenant's data"


def test_generated_invocations_mostly_run(tenants):
    """The generator must exercise commands, not only their syntax errors."""
    a, _, _ = tenants
    ok = 0
    for cmd in SELECTED:
        argv, _ = invocation(cmd)
        a.execute_command("FLUSHALL")
        rep = _run(a, argv)
        if not (isinstance(rep, tuple) and rep and rep[0] == "error"):
            ok += 1
    assert ok >= 0.8 * len(SELECTED), (ok, len(SELECTED))


def test_keyspace_listing_and_stats(tenants, server):
    a, b, op = tenants
    a.execute_command("FLUSHALL")
    b.execute_command("FLUSHALL")
    op.flushall()
    calls = a.info("commandstats").get("cmdstat_mset", {}).get("calls", 0)
    b.mset({"b1": "1", "b2": "2"})
    op.set("d1", "1")
    a.set("a1", "1")
    assert a.keys("*") == [b"a1"]
    assert a.scan(0, count=100)[1] == [b"a1"]
    assert a.randomkey() == b"a1"
    assert a.dbsize() == 1 and b.dbsize() == 2 and op.dbsize() == 1
    assert a.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}
    assert "db0" in b.info("keyspace") and b.info("keyspace")["db0"]["keys"] == 2
    a.execute_command("FLUSHALL")
    assert b.dbsize() == 2 and op.dbsize() == 1
    b.get("b1")
    hits = b.info("stats")["keyspace_hits"]
    a.get("b1")
    assert b.info("stats")["keyspace_hits"] == hits
    # commandstats are the tenant's own
    assert a.info("commandstats").get("cmdstat_mset", {}).get("calls", 0) == calls


def test_pubsub_and_notifications_isolated(tenants, server):
    a, b, op = tenants
    sub_b = server.raw()
    sub_b.cmd("TENANT", "USE", "tb")
    sub_b.cmd("SUBSCRIBE", "ch")
    assert a.publish("ch", "hello") == 0
    assert a.execute_command("PUBSUB", "NUMSUB", "ch") in ([b"ch", 0], {b"ch": 0})
    assert a.execute_command("PUBSUB", "CHANNELS") == []
    assert b.publish("ch", "mine") == 1
    assert b"mine" in sub_b.read_reply()       # "hello" would have come first
    # keyspace notifications stay in their tenant too
    op.config_set("notify-keyspace-events", "KEA")
    try:
        sub_b.cmd("PSUBSCRIBE", "__key*__:*")
        a.set("noisy", "1")
        b.set("quiet", "1")
        got = sub_b.read_reply()
        assert b"quiet" in got and b"noisy" not in got
    finally:
        op.config_set("notify-keyspace-events", "")
        sub_b.close()


def test_client_list_kill_monitor_slowlog(tenants, server):
    a, b, op = tenants
    ida = a.client_id()
    idb = b.client_id()
    ids = [int(line.split()[0][3:]) for line in
           a.execute_command("CLIENT", "LIST").decode().splitlines()]
    assert ida in ids and idb not in ids
    assert a.execute_command("CLIENT", "KILL", "ID", idb) == 0
    assert a.execute_command("CLIENT", "UNBLOCK", idb) == 0
    assert b.ping()
    a.execute_command("SLOWLOG", "RESET")
    b.execute_command("SLOWLOG", "RESET")
    op.config_set("slowlog-log-slower-than", 0)
    try:
        b.set("slow", "1")
        assert a.execute_command("SLOWLOG", "GET", -1) == [] or all(
            b"slow" not in e[3] for e in a.execute_command("SLOWLOG", "GET", -1))
        assert any(b"slow" in [bytes(x) for x in e[3]]
                   for e in b.execute_command("SLOWLOG", "GET", -1))
    finally:
        op.config_set("slowlog-log-slower-than", 10000)
    mon = server.raw()
    mon.cmd("TENANT", "USE", "ta")
    assert mon.cmd("MONITOR") == b"+OK\r\n"
    b.set("secret-of-b", "1")
    a.set("visible-to-a", "1")
    line = mon.read_reply()
    assert b"visible-to-a" in line and b"secret-of-b" not in line
    mon.close()


def test_blocking_and_watch_isolated(tenants, server):
    a, b, _ = tenants
    a.execute_command("FLUSHALL")
    b.execute_command("FLUSHALL")
    b.rpush("q", "from-b")
    assert a.blpop("q", timeout=0.05) is None
    assert b.lrange("q", 0, -1) == [b"from-b"]
    # WATCH in A is not invalidated by B writing the same key name
    p = a.pipeline(transaction=True)
    p.watch("w")
    b.set("w", "1")
    p.multi()
    p.set("w", "a")
    assert p.execute() == [True]
    assert b.get("w") == b"1" and a.get("w") == b"a"
