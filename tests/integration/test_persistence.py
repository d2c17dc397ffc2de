"""Persistence against the reference: RDB files both ways (redis-server 7.0.15
writes, securekv loads, and the reverse, checked by redis-check-rdb), BGSAVE in
a forked child, save points, SHUTDOWN saves, MISCONF, DEBUG RELOAD, corrupt
files, DUMP/RESTORE payloads both ways."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time

import pytest
import redis

from helpers import ServerProcess, plain_value, redis_server_available

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")


def populate(r: redis.Redis, seed: int = 1) -> None:
    """Every type and every encoding Redis 7.0 writes, small and large, with TTLs,
    streams with groups/PEL/deleted entries, and several databases."""
    rnd = random.Random(seed)
    r.flushall()
    r.set("s:int", "123")
    r.set("s:neg", "-7")
    r.set("s:big", "12345678901234")
    r.set("s:i32", "2147483647")
    r.set("s:lead0", "0123")
    r.set("s:empty", "")
    r.set("s:long", "a" * 1000)
    r.set("s:rand", bytes(rnd.getrandbits(8) for _ in range(300)))
    r.set("s:ttl", "v", px=10_000_000)
    r.setbit("s:bits", 1000, 1)
    r.append("s:app", "x" * 30)
    r.pfadd("hll:sparse", *[f"e{i}" for i in range(50)])
    r.pfadd("hll:dense", *[f"e{i}" for i in range(5000)])
    r.rpush("l:small", "a", "1", "-2", "300000", "b" * 70)
    r.rpush("l:big", *[f"item-{i}" for i in range(3000)])
    r.rpush("l:huge-el", "x" * 20000, "y")
    r.rpush("l:ints", *range(-1000, 1000, 7))
    r.pexpire("l:small", 50_000_000)
    r.hset("h:small", mapping={"f1": "v1", "n": "12", "neg": "-5000",
                               "big": "9223372036854775807"})
    r.hset("h:big", mapping={f"f{i}": f"v{i}" for i in range(300)})
    r.hset("h:longval", mapping={"a": "z" * 100})
    r.sadd("set:int", 1, 2, 3, -5, 100000)
    r.sadd("set:int64", 1, 2 ** 40, -(2 ** 50))
    r.sadd("set:str", "a", "b", "c")
    r.sadd("set:bigint", *range(1000))
    r.sadd("set:big", *[f"m{i}" for i in range(1000)])
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": float("-inf"),
                       "f": 1e20, "g": 0.1})
    r.zadd("z:big", {f"m{i}": rnd.random() * 1000 for i in range(500)})
    r.zadd("z:long", {"x" * 100: 1})
    for i in range(20):
        r.xadd("st:1", {"f": i, "g": "x"}, id=f"{1000 + i}-{i}")
    r.xadd("st:1", {"other": "1"}, id="2000-0")
    r.xadd("st:1", {"f": "1", "g": "2", "h": "3"}, id="2000-1")
    r.xdel("st:1", "1005-5", "1006-6")
    r.xgroup_create("st:1", "g1", id="0")
    r.xgroup_create("st:1", "g2", id="1010-0")
    r.xreadgroup("g1", "alice", {"st:1": ">"}, count=5)
    r.xreadgroup("g1", "bob", {"st:1": ">"}, count=3)
    r.xack("st:1", "g1", "1001-1")
    r.xgroup_createconsumer("st:1", "g1", "idle-consumer")
    r.xadd("st:big", {"k": "v"}, id="1-1")
    for i in range(1500):
        r.xadd("st:big", {"k": f"v{i}", "n": i})
    r.xadd("st:empty", {"a": 1}, id="5-5")
    r.xdel("st:empty", "5-5")
    r.xgroup_create("st:empty", "grp", id="$")
    r.xadd("st:trim", {"a": 1})
    r.xadd("st:trim", {"a": 2})
    r.xtrim("st:trim", maxlen=1)
    port = r.connection_pool.connection_kwargs["port"]
    r3 = redis.Redis(port=port, db=3)
    r3.set("db3:key", "x", ex=100000)
    r3.rpush("db3:list", "q")
    redis.Redis(port=port, db=9).set("db9", "nine")


def walk(port: int, ndb: int = 16, **kw) -> dict:
    """Every key of every db: type, full value, PEXPIRETIME and OBJECT ENCODING."""
    out = {}
    for dbi in range(ndb):
        r = redis.Redis(port=port, db=dbi, **kw)
        for k in sorted(r.keys("*")):
            t = r.type(k).decode()
            if t != "stream":
                v = plain_value(r, k, t)
            else:
                v = [r.xrange(k), r.execute_command("XINFO", "STREAM", k, "FULL")]
            out[(dbi, k)] = (t, v, r.execute_command("PEXPIRETIME", k), r.object("encoding", k))
        r.close()
    return out


def info(r, field: str) -> str:
    return r.info("persistence")[field]


def poll(fn, timeout: float = 20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("condition not reached")


@needs_redis
def test_redis_rdb_loads_identically():
    with ServerProcess(kind="redis") as ref:
        populate(ref.client())
        assert ref.client().save()
        expected = walk(ref.port)
        src = os.path.join(ref.dir, "dump.rdb")
        d = os.path.join(ref.dir, "skv")
        os.mkdir(d)
        shutil.copy(src, os.path.join(d, "from-redis.rdb"))
        with ServerProcess(args=["--dbfilename", "from-redis.rdb"], cwd=d) as s:
            assert walk(s.port) == expected
            r = s.client()
            assert info(r, "rdb_last_load_keys_loaded") == len(expected)


@needs_redis
def test_securekv_rdb_loads_into_redis_and_passes_check():
    with ServerProcess() as s:
        r = s.client()
        populate(r)
        assert r.save()
        expected = walk(s.port)
        path = os.path.join(s.dir, "dump.rdb")
        out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
        assert "RDB looks OK" in out.stdout, out.stdout
        d = os.path.join(s.dir, "redis")
        os.mkdir(d)
        shutil.copy(path, os.path.join(d, "dump.rdb"))
        with ServerProcess(kind="redis", cwd=d) as ref:
            assert walk(ref.port) == expected
        # And back: securekv reloads its own file identically.
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert walk(s.port) == expected


@needs_redis
def test_rdb_without_compression_and_checksum():
    with ServerProcess(args=["--rdbcompression", "no", "--rdbchecksum", "no"]) as s:
        r = s.client()
        populate(r)
        expected = walk(s.port)
        assert r.save()
        path = os.path.join(s.dir, "dump.rdb")
        with open(path, "rb") as f:
            assert f.read()[-8:] == b"\0" * 8
        out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
        assert "RDB looks OK" in out.stdout, out.stdout
        d = os.path.join(s.dir, "redis")
        os.mkdir(d)
        shutil.copy(path, os.path.join(d, "dump.rdb"))
        with ServerProcess(kind="redis", cwd=d) as ref:
            assert walk(ref.port) == expected


@needs_redis
def test_dump_restore_both_ways():
    with ServerProcess(kind="redis") as ref, ServerProcess() as s:
        a, b = ref.client(), s.client()
        populate(a)
        populate(b)
        for k in a.keys("*"):
            pa, pb = a.dump(k), b.dump(k)
            b.restore(b"x:" + k, 0, pa)
            a.restore(b"x:" + k, 0, pb)
        for r in (a, b):
            for k in r.keys("x:*"):
                orig = k[2:]
                t = r.type(orig)
                assert r.type(k) == t
                if t == b"string":
                    assert r.get(k) == a.get(orig) == b.get(orig)
                elif t == b"list":
                    assert r.lrange(k, 0, -1) == a.lrange(orig, 0, -1)
                elif t == b"hash":
                    assert r.hgetall(k) == a.hgetall(orig)
                elif t == b"set":
                    assert r.smembers(k) == a.smembers(orig)
                elif t == b"zset":
                    assert r.zrange(k, 0, -1, withscores=True) == a.zrange(orig, 0, -1,
                                                                           withscores=True)
        # Payloads of deterministic encodings are byte-identical to Redis's.
        for k in (b"s:long", b"s:int", b"l:small", b"h:small", b"z:small", b"set:int",
                  b"z:big", b"hll:dense"):
            assert a.dump(k) == b.dump(k), k


@needs_redis
def test_restore_errors_like_redis():
    with ServerProcess(kind="redis") as ref, ServerProcess() as s:
        a, b = ref.client(), s.client()
        a.set("k", "v" * 50)
        good = a.dump("k")
        cases = [
            ["RESTORE", "n", "0", b""],
            ["RESTORE", "n", "0", b"abc"],
            ["RESTORE", "n", "0", good[:-1]],
            ["RESTORE", "n", "0", good[:3] + b"\xff" + good[4:]],
            ["RESTORE", "k", "0", good],
            ["RESTORE", "n", "-1", good],
            ["RESTORE", "n", "x", good],
            ["RESTORE", "n", "0", good, "IDLETIME", "-1"],
            ["RESTORE", "n", "0", good, "FREQ", "256"],
            ["RESTORE", "n", "0", good, "FREQ", "1", "IDLETIME", "1"],
            ["RESTORE", "n", "0", good, "bogus"],
            ["RESTORE", "n", "1", good, "ABSTTL"],
            ["RESTORE", "k", "0", good, "REPLACE", "IDLETIME", "10"],
        ]
        b.set("k", "v" * 50)
        for argv in cases:
            res = []
            for r in (a, b):
                try:
                    res.append(r.execute_command(*argv))
                except redis.ResponseError as e:
                    res.append(str(e))
            assert res[0] == res[1], (argv, res)
        # A payload whose CRC is right but whose body is garbage.
        from securekv.persistence.encoding import crc64
        body = b"\x04\x05\xff\xff" + bytes((10, 0))
        bad = body + crc64(body).to_bytes(8, "little")
        for r in (a, b):
            with pytest.raises(redis.ResponseError, match="Bad data format"):
                r.restore("bad", 0, bad)


def test_restore_ttl_and_propagated_form():
    with ServerProcess() as s:
        r = s.client()
        r.set("k", "v")
        p = r.dump("k")
        r.restore("t", 100000, p)
        assert 0 < r.pttl("t") <= 100000
        r.restore("t2", int(time.time() * 1000) + 50000, p, absttl=True)
        assert 0 < r.pttl("t2") <= 50000
        r.restore("gone", 1, p, absttl=True)
        assert r.exists("gone") == 0
        assert r.restore("t", 0, p, replace=True)
        assert r.pttl("t") == -1


def test_bgsave_in_child_and_restart_keeps_everything():
    s = ServerProcess().start()
    try:
        r = s.client()
        populate(r)
        expected = walk(s.port)
        assert r.bgsave()
        poll(lambda: info(r, "rdb_bgsave_in_progress") == 0)
        assert info(r, "rdb_last_bgsave_status") == "ok"
        assert info(r, "rdb_changes_since_last_save") == 0
        r.set("after", "1")           # the parent kept serving
        assert info(r, "rdb_changes_since_last_save") == 1
        s.kill9()
        s2 = ServerProcess(cwd=s.dir, port=s.port).start()
        try:
            assert walk(s2.port) == expected
        finally:
            s2.stop()
    finally:
        s.stop()


def test_bgsave_schedule_and_lastsave():
    with ServerProcess() as s:
        r = s.client()
        r.set("a", "1")
        before = r.lastsave()
        assert r.info("stats")["total_forks"] == 0
        assert r.execute_command("BGSAVE", "SCHEDULE")
        poll(lambda: info(r, "rdb_bgsave_in_progress") == 0 and info(r, "rdb_saves") >= 1)
        assert r.lastsave() >= before
        stats = r.info("stats")     # the fork is counted and timed (Redis's INFO stats)
        assert stats["total_forks"] == 1 and stats["latest_fork_usec"] > 0
        with pytest.raises(redis.ResponseError, match="syntax error"):
            r.execute_command("BGSAVE", "NOW")


def test_save_points_trigger_bgsave():
    with ServerProcess(args=["--save", "1", "2"]) as s:
        r = s.client()
        r.set("a", "1")
        r.set("b", "2")
        poll(lambda: info(r, "rdb_saves") >= 1 and info(r, "rdb_bgsave_in_progress") == 0)
        assert os.path.exists(os.path.join(s.dir, "dump.rdb"))


def _shutdown(r, **kw):
    try:
        r.shutdown(**kw)
    except redis.ConnectionError:
        pass


def test_shutdown_saves_with_save_points_and_nosave_does_not():
    s = ServerProcess(args=["--save", "3600", "1"]).start()
    r = s.client()
    r.set("kept", "1")
    _shutdown(r)
    s.proc.wait(10)
    s.stop()
    s2 = ServerProcess(cwd=s.dir, args=["--save", "3600", "1"]).start()
    try:
        r = s2.client()
        assert r.get("kept") == b"1"
        r.set("lost", "1")
        _shutdown(r, nosave=True)
        s2.proc.wait(10)
    finally:
        s2.stop()
    s3 = ServerProcess(cwd=s.dir).start()
    try:
        r = s3.client()
        assert r.get("kept") == b"1" and r.get("lost") is None
        r.set("sig", "1")
    finally:
        s3.stop()                     # SIGTERM without save points: no save
    s4 = ServerProcess(cwd=s.dir, args=["--save", "3600", "1"]).start()
    try:
        r = s4.client()
        assert r.get("sig") is None
        r.set("sig", "2")
    finally:
        s4.stop()                     # SIGTERM with save points: saved
    with ServerProcess(cwd=s.dir) as s5:
        assert s5.client().get("sig") == b"2"


def test_misconf_after_failed_bgsave():
    with ServerProcess(args=["--save", "3600", "1", "--enable-protected-configs", "yes"]) as s:
        r = s.client()
        d = os.path.join(s.dir, "gone")
        os.mkdir(d)
        r.config_set("dir", d)
        os.rmdir(d)
        r.set("a", "1")
        r.bgsave()
        poll(lambda: info(r, "rdb_bgsave_in_progress") == 0
             and info(r, "rdb_last_bgsave_status") == "err")
        with pytest.raises(redis.ResponseError, match="^MISCONF Redis is configured"):
            r.set("b", "2")
        with pytest.raises(redis.ResponseError, match="^MISCONF"):
            r.ping()
        assert r.get("a") == b"1"
        raw = s.raw()
        assert raw.cmd("MULTI") == b"+OK\r\n"
        assert raw.cmd("SET", "x", "1").startswith(b"-MISCONF")
        assert raw.cmd("EXEC").startswith(b"-EXECABORT")
        r.config_set("stop-writes-on-bgsave-error", "no")
        assert r.set("b", "2")
        r.config_set("stop-writes-on-bgsave-error", "yes")
        r.config_set("dir", s.dir)
        assert r.save()
        assert r.set("c", "3")
        assert info(r, "rdb_last_bgsave_status") == "ok"


def test_flushall_with_save_points_saves_empty_dataset():
    with ServerProcess(args=["--save", "3600", "1"]) as s:
        r = s.client()
        r.set("a", "1")
        r.flushall()
        assert info(r, "rdb_changes_since_last_save") == 0      # as redis-server 7.0.15
        assert os.path.exists(os.path.join(s.dir, "dump.rdb"))


def test_debug_reload_options():
    with ServerProcess() as s:
        r = s.client()
        r.set("a", "1")
        r.set("b", "2", ex=1000)
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert r.get("a") == b"1" and 0 < r.ttl("b") <= 1000
        r.set("c", "3")
        assert r.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
        assert r.get("c") is None
        with pytest.raises(redis.ResponseError, match="only supports the MERGE"):
            r.execute_command("DEBUG", "RELOAD", "bogus")
        with pytest.raises(redis.ResponseError, match="Error trying to load the RDB dump"):
            r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
        r.set("new", "1")
        assert r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
        assert r.get("new") == b"1" and r.get("a") == b"1"


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "garbage", "version"])
def test_corrupt_rdb_refuses_to_start(damage):
    with ServerProcess() as s:
        r = s.client()
        populate(r)
        r.save()
    path = os.path.join(s.dir, "dump.rdb")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "bitflip":
        data[len(data) // 3] ^= 0x10
    elif damage == "garbage":
        data = bytearray(b"hello world, not an rdb")
    else:
        data[5:9] = b"0011"
    with open(path, "wb") as f:
        f.write(data)
    s2 = ServerProcess(cwd=s.dir)
    try:
        s2.start()
    except RuntimeError:
        pass                    # exited before the port opened
    assert s2.proc.wait(20) != 0
    out = s2.output()
    assert "offset" in out and "Fatal error loading the DB" in out, out
    s2.stop()


def test_corrupt_rdb_checksum_stops_startup_with_redis_log_lines(tmp_path):
    """A damaged RDB checksum aborts the start (exit 1) with Redis's lines, which
    its test suite and operators' log alerts match ("Wrong RDB checksum ... but
    got ...", "... -> RDB CRC error")."""
    import sys
    with ServerProcess(args=["--dir", str(tmp_path)]) as s:
        s.client().set("a", "b")
        s.client().save()
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    data[-8:] = b"foobar00"
    path.write_bytes(bytes(data))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, "-m", "securekv", "server", "--port", "0", "--dir",
                        str(tmp_path), "--save", ""], capture_output=True, text=True,
                       timeout=60, cwd=root)
    assert p.returncode == 1
    out = p.stdout + p.stderr
    assert "Wrong RDB checksum expected: (" in out and ") but got (3030726162" in out
    assert "-> RDB CRC error" in out


def test_signal_shutdown_stays_up_when_the_final_save_fails(tmp_path):
    """Redis's prepareForShutdown: when the final RDB save fails (here dump.rdb is
    a directory) SIGTERM does not exit (the data would be lost), SHUTDOWN answers
    an error, writes still work (a failed foreground save is no bgsave error),
    and SHUTDOWN NOSAVE exits."""
    import signal
    s = ServerProcess(args=["--dir", str(tmp_path), "--save", "3600 1"]).start()
    try:
        r = s.client()
        r.set("a", "1")
        (tmp_path / "dump.rdb").mkdir()
        os.kill(s.proc.pid, signal.SIGTERM)
        time.sleep(1.0)
        assert s.proc.poll() is None and r.ping()
        with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
            r.shutdown()
        assert r.set("b", "2") and r.get("a") == b"1"
        try:
            r.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        assert s.proc.wait(10) == 0
        out = s.output()
        assert "Error trying to save the DB, can't exit." in out
        assert "SIGTERM received but errors trying to shut down the server" in out
    finally:
        s.stop()


def test_shutdown_removes_a_running_saves_temp_file(tmp_path):
    """Redis's finishShutdown and "You insist": SHUTDOWN NOSAVE kills a BGSAVE child
    still writing (rdb-key-save-delay keeps it writing) and removes its temp file;
    a second SIGINT during the final save of a signal shutdown exits at once (code
    1) and removes the temp file too."""
    import glob
    import signal
    s = ServerProcess(args=["--dir", str(tmp_path), "--save", "3600 1"]).start()
    try:
        r = s.client()
        for i in range(20):
            r.set(i, i)
        r.config_set("rdb-key-save-delay", 100000)          # 20 keys: 2 s
        r.bgsave()
        poll(lambda: glob.glob(str(tmp_path / "temp-*.rdb")))
        try:
            r.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        assert s.proc.wait(10) == 0
        assert not glob.glob(str(tmp_path / "temp-*.rdb"))
        assert "There is a child saving an .rdb. Killing it!" in s.output()
    finally:
        s.stop()
    s = ServerProcess(args=["--dir", str(tmp_path), "--save", "3600 1"]).start()
    try:
        r = s.client()
        for i in range(20):
            r.set(i, i)
        r.config_set("rdb-key-save-delay", 100000)
        temp = tmp_path / ("temp-%d.rdb" % s.proc.pid)
        os.kill(s.proc.pid, signal.SIGINT)
        poll(temp.exists)
        os.kill(s.proc.pid, signal.SIGINT)
        assert s.proc.wait(10) == 1
        assert not temp.exists()
        assert "You insist... exiting now." in s.output()
    finally:
        s.stop()
