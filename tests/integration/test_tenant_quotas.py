"""Tenant quotas and eviction: each policy evicts only the tenant's own keys (or
refuses with -OOM under noeviction); the neighbour tenant is unaffected; the
global maxmemory rule (securekv/tenancy/__init__.py); TENANT command errors,
limits, the `tenant` directive and user binding."""

from __future__ import annotations

import pytest
import redis

from helpers import ServerProcess

POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl"]


@pytest.fixture
def op(server):
    c = server.client(max_connections=1)
    for name in c.execute_command("TENANT", "LIST"):
        if name != b"default":
            c.execute_command("TENANT", "DROP", name, "FORCE")
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    c.flushall()
    yield c
    c.close()


def _in(server, name):
    c = server.client(max_connections=1)
    c.execute_command("TENANT", "USE", name)
    return c


def _fill(c, n, size=100, ttl=False, prefix="k"):
    p = c.pipeline(transaction=False)
    for i in range(n):
        if ttl:
            p.set(f"{prefix}{i}", "x" * size, ex=10000 + i)
        else:
            p.set(f"{prefix}{i}", "x" * size)
    return p.execute(raise_on_error=False)


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_evicts_only_own_keys(server, op, policy):
    op.execute_command("TENANT", "CREATE", "full", "MAXMEMORY", "50kb",
                       "MAXMEMORY-POLICY", policy)
    op.execute_command("TENANT", "CREATE", "neighbour", "MAXMEMORY", "50kb",
                       "MAXMEMORY-POLICY", policy)
    a, b = _in(server, "full"), _in(server, "neighbour")
    _fill(b, 100, ttl=True, prefix="n")
    op.set("d", "1")
    res = _fill(a, 2000, ttl=True)
    assert all(r is True for r in res)
    evicted = a.info("stats")["evicted_keys"]     # any command of the tenant may evict
    info = op.execute_command("TENANT", "INFO", "full")
    assert info[b"evicted-keys"] == evicted > 0
    assert info[b"used-memory"] <= 50 * 1024 + 400
    assert a.dbsize() < 2000
    assert b.dbsize() == 100 and b.info("stats")["evicted_keys"] == 0
    assert op.get("d") == b"1"
    assert b.set("n-new", "1") is True       # neighbour writes unaffected
    a.close()
    b.close()


def test_noeviction_refuses_with_quota_error(server, op):
    op.execute_command("TENANT", "CREATE", "t", "MAXMEMORY", "20kb")
    a = _in(server, "t")
    res = _fill(a, 500)
    errs = [r for r in res if isinstance(r, Exception)]
    assert errs and all(isinstance(e, redis.exceptions.OutOfMemoryError) for e in errs)
    assert all(str(e).startswith("command not allowed when used memory > 'maxmemory' "
                                          "of tenant 't'") for e in errs)
    with pytest.raises(redis.exceptions.ResponseError, match="tenant 't'"):
        a.set("more", "x")
    assert a.get("k0") == b"x" * 100            # reads still work
    assert a.delete("k0") == 1                  # non-denyoom writes still work
    assert op.set("default-ok", "1") is True
    a.close()


def test_volatile_policy_without_volatile_keys_is_oom(server, op):
    op.execute_command("TENANT", "CREATE", "t", "MAXMEMORY", "10kb",
                       "MAXMEMORY-POLICY", "volatile-lru")
    a = _in(server, "t")
    res = _fill(a, 300)
    errs = [r for r in res if isinstance(r, Exception)]
    assert errs and all(isinstance(e, redis.exceptions.OutOfMemoryError) for e in errs)
    assert a.info("stats")["evicted_keys"] == 0
    a.close()


def test_global_maxmemory_never_evicts_tenant_under_quota(server, op):
    op.execute_command("TENANT", "CREATE", "reserved", "MAXMEMORY", "200kb")
    r = _in(server, "reserved")
    _fill(r, 300, prefix="r")
    keep = r.dbsize()
    op.config_set("maxmemory-policy", "allkeys-lru")
    op.config_set("maxmemory", 100 * 1024)
    try:
        res = _fill(op, 3000, prefix="d")        # default tenant (no quota) takes the load
        assert all(x is True for x in res)
        assert r.dbsize() == keep                # the reservation is untouched
        assert op.info("stats")["evicted_keys"] > 0
        assert r.info("stats")["evicted_keys"] == 0
    finally:
        op.config_set("maxmemory", 0)
        op.config_set("maxmemory-policy", "noeviction")
    r.close()


def test_global_maxmemory_noeviction_redis_error(server, op):
    _fill(op, 200)
    op.config_set("maxmemory", 1024)
    try:
        with pytest.raises(redis.exceptions.ResponseError,
                           match=r"^command not allowed when used memory > 'maxmemory'\.$"):
            op.set("x", "y")
        assert op.get("k1") is not None
    finally:
        op.config_set("maxmemory", 0)


def test_lru_idletime_and_lfu_freq(server, op):
    op.execute_command("TENANT", "CREATE", "lru", "MAXMEMORY-POLICY", "allkeys-lru")
    op.execute_command("TENANT", "CREATE", "lfu", "MAXMEMORY-POLICY", "allkeys-lfu")
    a, b = _in(server, "lru"), _in(server, "lfu")
    a.set("k", "v")
    assert a.object("idletime", "k") == 0
    with pytest.raises(redis.exceptions.ResponseError, match="An LFU maxmemory policy is not"):
        a.object("freq", "k")
    b.set("k", "v")
    assert b.object("freq", "k") >= 5          # LFU_INIT_VAL
    for _ in range(200):
        b.get("k")
    assert b.object("freq", "k") > 5
    with pytest.raises(redis.exceptions.ResponseError, match="An LFU maxmemory policy is "
                                                             "selected"):
        b.object("idletime", "k")
    op.execute_command("TENANT", "SET", "lfu", "MAXMEMORY-POLICY", "noeviction")
    assert b.get("k") == b"v"                  # tracking off again, data intact
    a.close()
    b.close()


def test_maxkeys_maxclients_maxops(server, op):
    op.execute_command("TENANT", "CREATE", "lim", "MAXKEYS", "3", "MAXCLIENTS", "1",
                       "MAXOPS", "1000000")
    a = _in(server, "lim")
    a.mset({"a": 1, "b": 2, "c": 3})
    with pytest.raises(redis.exceptions.ResponseError, match="'maxkeys' \\(3\\) of tenant 'lim'"):
        a.set("d", "4")
    b = server.client(max_connections=1)
    with pytest.raises(redis.exceptions.ResponseError,
                       match="max number of clients reached for tenant 'lim'"):
        b.execute_command("TENANT", "USE", "lim")
    op.execute_command("TENANT", "SET", "lim", "MAXOPS", "5")
    with pytest.raises(redis.exceptions.ResponseError, match="exceeded its command rate limit"):
        for _ in range(50):
            a.get("a")
    info = op.execute_command("TENANT", "INFO", "lim")
    assert info[b"keys"] == 3 and info[b"clients"] == 1 and info[b"maxops"] == 5
    a.close()
    b.close()


def test_tenant_command_errors(server, op):
    t = op.execute_command
    with pytest.raises(redis.exceptions.ResponseError, match="no such tenant 'nope'"):
        t("TENANT", "INFO", "nope")
    t("TENANT", "CREATE", "x")
    with pytest.raises(redis.exceptions.ResponseError, match="already exists"):
        t("TENANT", "CREATE", "x")
    with pytest.raises(redis.exceptions.ResponseError, match="invalid MAXMEMORY-POLICY"):
        t("TENANT", "SET", "x", "MAXMEMORY-POLICY", "bogus")
    with pytest.raises(redis.exceptions.ResponseError, match="unknown TENANT option 'FOO'"):
        t("TENANT", "SET", "x", "FOO", "1")
    with pytest.raises(redis.exceptions.ResponseError, match="default tenant cannot be dropped"):
        t("TENANT", "DROP", "default")
    c = _in(server, "x")
    c.set("k", "v")
    with pytest.raises(redis.exceptions.ResponseError, match="holds data"):
        t("TENANT", "DROP", "x")
    assert t("TENANT", "DROP", "x", "FORCE") == b"OK"
    assert t("TENANT", "LIST") == [b"default"]
    c.close()


def test_directive_and_user_binding():
    conf = ("tenant acme maxmemory 1mb maxmemory-policy allkeys-lru maxkeys 100 user alice\n"
            "user alice on >pw ~* &* +@all\n")
    with ServerProcess(conf_text=conf) as s:
        op = s.client()
        info = op.execute_command("TENANT", "INFO", "acme")
        assert info[b"maxmemory"] == 1024 * 1024 and info[b"maxkeys"] == 100
        assert info[b"maxmemory-policy"] == b"allkeys-lru" and info[b"users"] == [b"alice"]
        op.set("k", "default")
        alice = s.client(username="alice", password="pw", max_connections=1)
        assert alice.get("k") is None
        alice.set("k", "acme")
        assert op.get("k") == b"default"
        assert alice.execute_command("TENANT", "INFO", "acme")[b"keys"] == 1
        with pytest.raises(redis.exceptions.ResponseError, match="tenant users may only run TENANT INFO"):
            alice.execute_command("TENANT", "INFO", "default")
        with pytest.raises(redis.exceptions.ResponseError, match="tenant users may only run TENANT INFO"):
            alice.execute_command("TENANT", "USE", "default")
        alice.execute_command("RESET")        # back to the default user: default tenant
        assert alice.get("k") == b"default"
        op.close()
        alice.close()


def test_config_rewrite_keeps_tenants():
    with ServerProcess(conf_text="tenant acme maxmemory 1mb user alice\n") as s:
        r = s.client()
        r.execute_command("TENANT", "CREATE", "beta", "MAXKEYS", "10",
                          "MAXMEMORY-POLICY", "allkeys-lfu")
        assert r.execute_command("CONFIG", "REWRITE") == b"OK"
        text = open(s.dir + "/test.conf").read()
        assert "tenant acme maxmemory 1048576 user alice" in text
        assert "tenant beta maxmemory-policy allkeys-lfu maxkeys 10" in text
        r.close()


def test_tenant_command_table_entry(server, op):
    raw = server.raw()
    info = raw.cmd("COMMAND", "INFO", "tenant|create")
    assert b"@admin" in info and b"@dangerous" in info
    assert b"Create a tenant" in raw.cmd("COMMAND", "DOCS", "tenant")
    raw.close()


# -- latency, statistics and INFO as a tenant sees them ------------------------------------

def test_latency_events_are_per_tenant(server, op):
    op.execute_command("TENANT", "CREATE", "lat")
    a = _in(server, "lat")
    op.config_set("latency-monitor-threshold", 5)
    try:
        a.execute_command("DEBUG", "SLEEP", "0.02")
        mine = a.execute_command("LATENCY", "LATEST")
        assert [e[0] for e in mine] == [b"command"]
        assert op.execute_command("LATENCY", "LATEST") == []
        assert op.execute_command("LATENCY", "HISTORY", "command") == []
        assert len(a.execute_command("LATENCY", "HISTORY", "command")) == 1
        assert b"command" in a.execute_command("LATENCY", "DOCTOR")
        a.execute_command("LATENCY", "GRAPH", "command")
        with pytest.raises(redis.exceptions.ResponseError, match="No samples available"):
            op.execute_command("LATENCY", "GRAPH", "command")
        op.execute_command("DEBUG", "SLEEP", "0.02")
        assert [e[0] for e in op.execute_command("LATENCY", "LATEST")] == [b"command"]
        assert a.execute_command("LATENCY", "RESET") == 1       # only its own events
        assert a.execute_command("LATENCY", "LATEST") == []
        assert len(op.execute_command("LATENCY", "LATEST")) == 1
        assert op.execute_command("LATENCY", "RESET") == 1
    finally:
        op.config_set("latency-monitor-threshold", 0)
    a.close()


def test_config_resetstat_resets_only_own_tenant(server, op):
    op.execute_command("TENANT", "CREATE", "st")
    a = _in(server, "st")
    a.set("k", "v")
    a.get("k")
    a.get("missing")
    op.set("d", "1")
    op.get("d")
    assert a.info("stats")["keyspace_hits"] == 1
    a.config_resetstat()
    stats = a.info("commandstats")
    assert "cmdstat_get" not in stats and "cmdstat_set" not in stats
    assert a.info("stats")["keyspace_hits"] == 0 and a.info("stats")["keyspace_misses"] == 0
    mine = op.info("commandstats")
    assert mine["cmdstat_get"]["calls"] >= 1 and mine["cmdstat_set"]["calls"] >= 1
    assert op.info("stats")["keyspace_hits"] >= 1
    op.config_resetstat()                          # default tenant: Redis's server-wide reset
    assert "cmdstat_get" not in op.info("commandstats")
    a.close()


def test_info_memory_maxmemory_is_the_tenants(server, op):
    op.execute_command("TENANT", "CREATE", "q", "MAXMEMORY", "1mb",
                       "MAXMEMORY-POLICY", "allkeys-lfu")
    op.execute_command("TENANT", "CREATE", "pool")
    a, b = _in(server, "q"), _in(server, "pool")
    m = a.info("memory")
    assert m["maxmemory"] == 1048576 and m["maxmemory_human"] == "1.00M"
    assert m["maxmemory_policy"] == "allkeys-lfu"
    assert m["tenant_maxmemory"] == 1048576 and m["tenant_maxmemory_policy"] == "allkeys-lfu"
    op.config_set("maxmemory", "10mb")
    try:
        m = b.info("memory")           # no quota: the global pool's limit and policy
        assert m["maxmemory"] == 10 * 1048576 and m["maxmemory_policy"] == "noeviction"
        assert m["tenant_maxmemory"] == 0
        m = op.info("memory")          # the default tenant: Redis's fields
        assert m["maxmemory"] == 10 * 1048576 and m["maxmemory_policy"] == "noeviction"
    finally:
        op.config_set("maxmemory", 0)
    a.close()
    b.close()


# -- maxkeys refuses only what would add a key --------------------------------------------

def test_maxkeys_refuses_only_new_keys(server, op):
    op.execute_command("TENANT", "CREATE", "few", "MAXKEYS", "2")
    a = _in(server, "few")
    a.set("s", "1")
    a.rpush("l", "x")
    err = "'maxkeys' \\(2\\) of tenant 'few'"
    assert a.set("s", "2") is True              # overwrite: no new key
    assert a.append("s", "x") == 2
    assert a.setrange("s", 0, "9") == 2
    assert a.rpush("l", "y") == 2               # grows an existing key
    assert a.mset({"s": "3"}) is True
    for new in (lambda: a.set("new", "1"), lambda: a.lpush("new", "1"),
                lambda: a.sadd("new", "1"), lambda: a.mset({"s": "4", "new": "1"}),
                lambda: a.copy("s", "new"), lambda: a.lmove("l", "new")):
        with pytest.raises(redis.exceptions.ResponseError, match=err):
            new()
    assert a.lmove("l", "l") == b"x"            # source and destination exist
    assert a.delete("s") == 1                   # deletions always work
    assert a.set("new", "1") is True
    assert a.dbsize() == 2
    a.close()


# -- OOM and MULTI (processCommand's reject_cmd_on_oom) -----------------------------------

def test_exec_refused_when_queue_has_denyoom_global(server, op):
    """Raw bytes as redis-server 7.0.15 answers them."""
    op.set("k", "v")
    a = server.raw()
    try:
        assert a.cmd("MULTI") == b"+OK\r\n"
        assert a.cmd("SET", "a", "1") == b"+QUEUED\r\n"
        assert a.cmd("GET", "a") == b"+QUEUED\r\n"
        op.config_set("maxmemory", 1)
        assert a.cmd("EXEC") == (b"-EXECABORT Transaction discarded because of: OOM command "
                                 b"not allowed when used memory > 'maxmemory'.\r\n")
        assert a.cmd("MULTI") == b"+OK\r\n"
        assert a.cmd("GET", "a") == (b"-OOM command not allowed when used memory > "
                                     b"'maxmemory'.\r\n")
        assert a.cmd("EXEC") == (b"-EXECABORT Transaction discarded because of previous "
                                 b"errors.\r\n")
        op.config_set("maxmemory", 0)
        assert a.cmd("MULTI") == b"+OK\r\n"
        assert a.cmd("GET", "k") == b"+QUEUED\r\n"
        assert a.cmd("DEL", "k") == b"+QUEUED\r\n"
        op.config_set("maxmemory", 1)
        assert a.cmd("EXEC") == b"*2\r\n$1\r\nv\r\n:1\r\n"      # no denyoom queued: runs
        assert a.cmd("MULTI") == b"+OK\r\n"
        assert a.cmd("DISCARD") == b"+OK\r\n"
    finally:
        op.config_set("maxmemory", 0)
        a.close()


def test_exec_refused_when_over_tenant_quota(server, op):
    op.execute_command("TENANT", "CREATE", "tx", "MAXMEMORY", "20kb")
    a, b = _in(server, "tx"), _in(server, "tx")
    a.set("keep", "v")
    # queue on a raw connection of the tenant, push the tenant over its quota, EXEC
    raw = server.raw()
    try:
        assert raw.cmd("TENANT", "USE", "tx") == b"+OK\r\n"
        assert raw.cmd("MULTI") == b"+OK\r\n"
        assert raw.cmd("SET", "x", "1") == b"+QUEUED\r\n"
        res = _fill(b, 400)
        assert any(isinstance(e, redis.exceptions.OutOfMemoryError) for e in res)
        reply = raw.cmd("EXEC")
        assert reply.startswith(b"-EXECABORT Transaction discarded because of: OOM command not "
                                b"allowed when used memory > 'maxmemory' of tenant 'tx'")
        assert raw.cmd("EXISTS", "x") == b":0\r\n"
        assert raw.cmd("MULTI") == b"+OK\r\n"
        assert raw.cmd("GET", "keep").startswith(b"-OOM ")
        assert raw.cmd("EXEC").startswith(b"-EXECABORT Transaction discarded because of "
                                          b"previous errors.")
        assert op.set("default-still-writes", "1") is True
    finally:
        raw.close()
    a.close()
    b.close()


# -- lowering a limit below the usage evicts at once ----------------------------------------

def test_lowering_limits_evicts_at_once(server, op):
    op.execute_command("TENANT", "CREATE", "shrink", "MAXMEMORY", "1mb",
                       "MAXMEMORY-POLICY", "allkeys-random")
    op.execute_command("TENANT", "CREATE", "reserved", "MAXMEMORY", "1mb")
    a, r = _in(server, "shrink"), _in(server, "reserved")
    _fill(a, 300)
    _fill(r, 100, prefix="r")
    op.execute_command("TENANT", "SET", "shrink", "MAXMEMORY", "10kb")
    info = op.execute_command("TENANT", "INFO", "shrink")       # no command of the tenant ran
    assert info[b"evicted-keys"] > 0 and info[b"used-memory"] <= 10 * 1024
    _fill(op, 300, prefix="d")
    op.config_set("maxmemory-policy", "allkeys-random")
    try:
        op.config_set("maxmemory", 1)                # updateMaxmemory evicts at once ...
        assert op.execute_command("TENANT", "INFO", "default")[b"keys"] == 0
        assert r.dbsize() == 100                     # ... never a tenant under its quota
    finally:
        op.config_set("maxmemory", 0)
        op.config_set("maxmemory-policy", "noeviction")
    a.close()
    r.close()
