"""Tenants survive restart (securekv/tenancy/__init__.py has the representation):
every tenant's keyspaces and settings through RDB and AOF (RDB-preamble and RESP
bases, INCR files), expired-key DELs land in their own tenant, TENANT DROP is
replayed, `tenant` directives win over saved settings, and with only `default`
the files carry no trace of tenants."""

from __future__ import annotations

import os
import shutil
import sys

import pytest
import redis

from helpers import ServerProcess, redis_server_available
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_persistence import poll, walk  # noqa: E402

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")

USERS = ("user ua on >pa ~* &* +@all tenant=a\n"
         "user ub on >pb ~* &* +@all tenant=b\n")

MODES = {
    "rdb": [],
    "aof-preamble": ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"],
    "aof-resp": ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
}


def as_user(port: int, user: str, db: int = 0) -> redis.Redis:
    return redis.Redis(port=port, db=db, username=user, password="p" + user[1:])


def fill(r: redis.Redis, tag: str) -> None:
    r.set("k", f"{tag}-string")
    r.set("n", 42)
    r.hset("h", mapping={"f1": tag, "f2": "v2"})
    r.rpush("l", *[f"{tag}{i}" for i in range(5)])
    r.sadd("s", tag, "common")
    r.zadd("z", {tag: 1.5, "x": 2})
    r.set("ttl", tag, ex=10000)
    r.xadd("st", {"who": tag})


def tenant_walks(port: int) -> dict:
    return {"default": walk(port, 4),
            "a": walk(port, 4, username="ua", password="pa"),
            "b": walk(port, 4, username="ub", password="pb")}


def build(s: ServerProcess) -> dict:
    r = s.client()
    r.execute_command("TENANT", "CREATE", "a", "MAXMEMORY", "50mb", "MAXKEYS", "1000")
    r.execute_command("TENANT", "CREATE", "b", "MAXMEMORY-POLICY", "allkeys-lru", "MAXOPS", "100000")
    fill(r, "default")
    fill(as_user(s.port, "ua"), "a")
    fill(as_user(s.port, "ua", 3), "a3")
    fill(as_user(s.port, "ub"), "b")
    as_user(s.port, "ub", 2).set("only-b2", "x")
    # An expired key of tenant a named like a live key of default: its DEL must
    # stay in tenant a (the propagation seam carries the keyspace).
    r.set("shared", "default-keeps-this")
    ua = as_user(s.port, "ua")
    ua.set("shared", "a", px=30)
    poll(lambda: ua.get("shared") is None)      # lazy expiry -> DEL propagated
    # A dropped tenant stays dropped.
    r.execute_command("TENANT", "CREATE", "c")
    r.execute_command("TENANT", "USE", "c")
    r.set("gone", "1")
    r.execute_command("TENANT", "USE", "default")
    r.execute_command("TENANT", "DROP", "c", "FORCE")
    return tenant_walks(s.port)


def settings(r: redis.Redis, name: str) -> dict:
    info = r.execute_command("TENANT", "INFO", name)
    m = dict(zip(info[0::2], info[1::2])) if isinstance(info, list) else info
    return {k: m[k] for k in (b"maxmemory", b"maxmemory-policy", b"maxkeys", b"maxops")}


@pytest.mark.parametrize("mode", list(MODES))
def test_tenants_survive_restart(mode):
    args = MODES[mode]
    with ServerProcess(args=args, conf_text=USERS) as s:
        expected = build(s)
        r = s.client()
        before = {t: settings(r, t) for t in ("a", "b")}
        if mode == "rdb":
            assert r.save()
        else:
            r.set("before-rewrite", "1")
            r.bgrewriteaof()
            poll(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0)
            # writes after the rewrite go to the INCR file, with TENANT USE lines
            as_user(s.port, "ub").set("after-rewrite", "b")
            as_user(s.port, "ua", 3).incr("n")
            expected = tenant_walks(s.port)
    assert expected["default"][(0, b"shared")][1] == b"default-keeps-this"
    assert (0, b"shared") not in expected["a"]
    assert (2, b"only-b2") in expected["b"] and (2, b"only-b2") not in expected["a"]
    if mode == "rdb":
        data = open(os.path.join(s.dir, "dump.rdb"), "rb").read()
        assert data.count(b"securekv-tenant") == 2
    with ServerProcess(cwd=s.dir, args=args, conf_text=USERS) as s2:
        got = tenant_walks(s2.port)
        assert got == expected
        r2 = s2.client()
        assert sorted(r2.execute_command("TENANT", "LIST")) == [b"a", b"b", b"default"]
        assert {t: settings(r2, t) for t in ("a", "b")} == before
        # and once more: what was loaded is saved again identically
        if mode == "rdb":
            assert r2.save()
    if mode == "rdb":
        with ServerProcess(cwd=s.dir, args=args, conf_text=USERS) as s3:
            assert tenant_walks(s3.port) == expected


@pytest.mark.parametrize("mode", ["rdb", "aof-preamble"])
def test_tenant_directive_wins_over_saved_settings(mode):
    args = MODES[mode]
    conf = USERS + "tenant a maxmemory 5mb\n"
    with ServerProcess(args=args, conf_text=conf) as s:
        r = s.client()
        r.execute_command("TENANT", "SET", "a", "MAXMEMORY", "7mb")
        r.execute_command("TENANT", "CREATE", "b", "MAXKEYS", "77")
        as_user(s.port, "ua").set("x", "1")
        if mode == "rdb":
            r.save()
    with ServerProcess(cwd=s.dir, args=args, conf_text=conf) as s2:
        r2 = s2.client()
        assert settings(r2, "a")[b"maxmemory"] == 5 << 20
        assert settings(r2, "b")[b"maxkeys"] == 77
        assert as_user(s2.port, "ua").get("x") == b"1"


@pytest.mark.parametrize("mode", list(MODES))
def test_default_only_files_have_no_tenant_trace(mode):
    args = MODES[mode]
    with ServerProcess(args=args) as s:
        r = s.client()
        r.set("k", "v")
        r.hset("h", "f", "v")
        if mode == "rdb":
            r.save()
        else:
            r.bgrewriteaof()
            poll(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0)
            r.set("k2", "v2")
    blob = b""
    for root, _dirs, files in os.walk(s.dir):
        for f in files:
            if f.endswith((".rdb", ".aof")):
                blob += open(os.path.join(root, f), "rb").read()
    assert blob and b"securekv-tenant" not in blob and b"TENANT" not in blob


@needs_redis
def test_redis_dump_loads_into_default_with_tenants_configured():
    with ServerProcess(kind="redis") as ref:
        r = ref.client()
        fill(r, "redis")
        r.set("shared", "1")
        redis.Redis(port=ref.port, db=3).set("in3", "x")
        expected = walk(ref.port, 4)
        r.save()
    with ServerProcess(args=["--dbfilename", "dump.rdb"], conf_text=USERS + "tenant a\n") as s:
        s.stop()
        shutil.copy(os.path.join(ref.dir, "dump.rdb"), os.path.join(s.dir, "dump.rdb"))
        s.start()
        assert walk(s.port, 4) == expected
        assert walk(s.port, 4, username="ua", password="pa") == {}


def test_evicted_keys_and_debug_reload_stay_in_their_tenant():
    args = MODES["aof-preamble"]
    with ServerProcess(args=args, conf_text=USERS) as s:
        r = s.client()
        r.execute_command("TENANT", "CREATE", "a")
        r.execute_command("TENANT", "CREATE", "b", "MAXMEMORY", "40kb",
                          "MAXMEMORY-POLICY", "allkeys-random")
        ub = as_user(s.port, "ub")
        for i in range(300):
            r.set(f"e{i}", "d" * 100)
            ub.set(f"e{i}", "b" * 100)
        info = r.execute_command("TENANT", "INFO", "b")
        m = dict(zip(info[0::2], info[1::2])) if isinstance(info, list) else info
        assert m[b"evicted-keys"] > 0               # evictions propagated as DELs ...
        expected = tenant_walks(s.port)
        assert len(expected["default"]) == 300      # ... that never touched default
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        got = tenant_walks(s.port)
        assert sorted(got["b"]) == sorted(expected["b"]), (len(got["b"]), len(expected["b"]))
        assert got == expected
    with ServerProcess(cwd=s.dir, args=args, conf_text=USERS) as s2:
        got = tenant_walks(s2.port)
        assert sorted(got["b"]) == sorted(expected["b"]), (len(got["b"]), len(expected["b"]))
        assert got == expected


@pytest.mark.parametrize("mode", ["aof-preamble", "aof-resp"])
def test_aof_replay_is_not_rate_limited_or_evicted(mode):
    """Loading replays without quotas, evictions or maxops (like Redis's loading);
    the settings apply once loaded."""
    args = MODES[mode]
    with ServerProcess(args=args, conf_text=USERS + "tenant a\n") as s:
        r = s.client()
        r.execute_command("TENANT", "CREATE", "b")
        r.execute_command("TENANT", "USE", "b")
        for i in range(60):
            r.set(f"k{i}", i)
        r.execute_command("TENANT", "USE", "a")
        for i in range(60):
            r.set(f"k{i}", i)
        r.execute_command("TENANT", "USE", "default")
        expected = {t: len(w) for t, w in tenant_walks(s.port).items()}
        r.execute_command("TENANT", "SET", "b", "MAXOPS", "20")
    assert expected == {"default": 0, "a": 60, "b": 60}
    conf = USERS + "tenant a maxops 20\n"        # the restart's config limits a too
    with ServerProcess(cwd=s.dir, args=args, conf_text=conf) as s2:
        r2 = s2.client()
        r2.execute_command("TENANT", "USE", "a")
        assert r2.dbsize() == 60
        r2.execute_command("TENANT", "USE", "b")
        assert r2.dbsize() == 60
        assert settings(r2, "a")[b"maxops"] == 20 and settings(r2, "b")[b"maxops"] == 20
