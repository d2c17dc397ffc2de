"""The multi-part AOF against redis-server 7.0.15 (directories both ways,
after rewrites, with and without the RDB preamble), torn tails, runtime
CONFIG SET appendonly, and kill -9 crash cycles under appendfsync always
with concurrent writers (bounded loops): no acknowledged write may be lost."""

from __future__ import annotations

import os
import random
import shutil
import sys
import threading

import pytest
import redis

from helpers import ServerProcess, redis_server_available
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_persistence import poll, populate, walk  # noqa: E402

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")


def normalized(w: dict) -> dict:
    """A walk without consumers' seen-time (replaying XREADGROUP/XCLAIM sets it
    to the replay time, in Redis too)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != b"seen-time"}
        if isinstance(x, (list, tuple)):
            return type(x)(strip(v) for v in x)
        return x
    return {k: strip(v) for k, v in w.items()}


def aof_dir(s) -> str:
    return os.path.join(s.dir, "appendonlydir")


def wait_rewrite(r) -> None:
    poll(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0)


@needs_redis
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_securekv_aof_loads_into_redis(preamble):
    args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
    with ServerProcess(args=args) as s:
        r = s.client()
        populate(r)
        r.bgrewriteaof()
        wait_rewrite(r)
        r.set("after-rewrite", "1")
        r.incr("counter")
        redis.Redis(port=s.port, db=5).rpush("db5", "x")
        expected = walk(s.port)
    names = os.listdir(aof_dir(s))
    ext = "rdb" if preamble == "yes" else "aof"
    assert f"appendonly.aof.2.base.{ext}" in names and "appendonly.aof.2.incr.aof" in names
    d = os.path.join(s.dir, "redis")
    os.mkdir(d)
    shutil.copytree(aof_dir(s), os.path.join(d, "appendonlydir"))
    with ServerProcess(kind="redis", cwd=d, args=["--appendonly", "yes"]) as ref:
        assert normalized(walk(ref.port)) == normalized(expected)
    with ServerProcess(cwd=s.dir, args=args) as s2:
        assert normalized(walk(s2.port)) == normalized(expected)


@needs_redis
def test_redis_aof_loads_into_securekv():
    with ServerProcess(kind="redis", args=["--appendonly", "yes"]) as ref:
        r = ref.client()
        populate(r)
        r.bgrewriteaof()
        wait_rewrite(r)
        r.set("later", "1", ex=1000)
        r.execute_command("MULTI")
        r.execute_command("INCR", "tx")
        r.execute_command("INCR", "tx")
        r.execute_command("EXEC")
        expected = walk(ref.port)
    d = os.path.join(ref.dir, "skv")
    os.mkdir(d)
    shutil.copytree(aof_dir(ref), os.path.join(d, "appendonlydir"))
    with ServerProcess(cwd=d, args=["--appendonly", "yes"]) as s:
        assert normalized(walk(s.port)) == normalized(expected)


def test_torn_tail_is_dropped_or_refused():
    with ServerProcess(args=["--appendonly", "yes"]) as s:
        r = s.client()
        r.set("a", "1")
        r.set("b", "2")
    incr = os.path.join(aof_dir(s), "appendonly.aof.1.incr.aof")
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhel")
    s2 = ServerProcess(cwd=s.dir, args=["--appendonly", "yes", "--aof-load-truncated", "no"])
    try:
        s2.start()
    except RuntimeError:
        pass
    assert s2.proc.wait(20) != 0
    assert "Unexpected end of file" in s2.output()
    s2.stop()
    with ServerProcess(cwd=s.dir, args=["--appendonly", "yes"]) as s3:
        r = s3.client()
        assert r.mget("a", "b", "c") == [b"1", b"2", None]
        assert "truncating it at offset" in s3.output()
        r.set("c", "3")
    with ServerProcess(cwd=s.dir, args=["--appendonly", "yes"]) as s4:
        assert s4.client().mget("a", "b", "c") == [b"1", b"2", b"3"]
    # Garbage in the middle is never loaded.
    with open(incr, "r+b") as f:
        f.seek(5)
        f.write(b"!!!!")
    s5 = ServerProcess(cwd=s.dir, args=["--appendonly", "yes"])
    try:
        s5.start()
    except RuntimeError:
        pass
    assert s5.proc.wait(20) != 0
    assert "Bad file format" in s5.output() and "offset" in s5.output()
    s5.stop()


def test_config_set_appendonly_at_runtime():
    with ServerProcess() as s:
        r = s.client()
        r.set("before", "1")
        r.config_set("appendonly", "yes")
        assert r.info("persistence")["aof_enabled"] == 1
        r.set("during", "2")
        r.config_set("appendonly", "no")
        r.set("not-logged", "3")
        r.config_set("appendonly", "yes")
        r.set("again", "4")
    with ServerProcess(cwd=s.dir, args=["--appendonly", "yes"]) as s2:
        assert s2.client().mget("before", "during", "not-logged", "again") == [
            b"1", b"2", b"3", b"4"]


def test_xadd_is_replayed_with_its_id_and_exact_trim():
    """XADD * and MAXLEN/MINID ~ [LIMIT] are logged as what they did (the ID given,
    `=` and the length or first ID reached, LIMIT kept as Redis keeps it), so a
    reload rebuilds the same stream: the AOF loader obeys `= n LIMIT m`, which a
    client may not send (Redis's mustObeyClient)."""
    with ServerProcess(args=["--appendonly", "yes", "--stream-node-max-entries", "10"]) as s:
        r = s.client()
        for i in range(300):
            r.xadd("st", {"i": i})
        r.xadd("st", {"i": "last"}, maxlen=100, approximate=True)
        r.xadd("st", {"p": "1"}, id="*")
        r.xadd("st2", {"p": "1"}, id="5-*")
        for i in range(100):
            r.xadd("lim", {"i": i})
            r.xadd("lim2", {"i": i}, id=f"{i + 1}-0")
        r.xadd("lim", {"i": "x"}, maxlen=55, approximate=True, limit=30)
        r.xadd("lim2", {"i": "x"}, minid="90", approximate=True, limit=30)
        r.xtrim("lim", maxlen=20, approximate=True, limit=20)
        assert (r.xlen("lim"), r.xlen("lim2")) == (51, 71)
        want = [r.xrange(k) for k in ("st", "st2", "lim", "lim2")]
    data = open(os.path.join(aof_dir(s), "appendonly.aof.1.incr.aof"), "rb").read()
    assert b"$1\r\n*\r\n" not in data and b"$1\r\n~\r\n" not in data
    assert b"LIMIT" in data
    with ServerProcess(cwd=s.dir, args=["--appendonly", "yes"]) as s2:
        r2 = s2.client()
        assert [r2.xrange(k) for k in ("st", "st2", "lim", "lim2")] == want
        # A client still may not combine an exact trim with LIMIT.
        with pytest.raises(redis.ResponseError, match="LIMIT cannot be used without the special"):
            r2.execute_command("XADD", "lim", "MAXLEN", "=", "5", "LIMIT", "3", "*", "f", "v")


def test_debug_loadaof_reloads_from_the_files():
    """DEBUG LOADAOF (Redis's debug.c): the dataset is emptied and rebuilt from the
    AOF files, with no change counted and nothing appended for the reload."""
    with ServerProcess(args=["--appendonly", "yes", "--enable-debug-command", "yes"]) as s:
        r = s.client()
        r.set("a", "1")
        r.rpush("l", *range(10))
        redis.Redis(port=s.port, db=3).set("in3", "x")
        r.xadd("st", {"f": "v"}, maxlen=1, approximate=True, limit=10)
        before = walk(s.port)
        path = os.path.join(aof_dir(s), "appendonly.aof.1.incr.aof")
        assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert walk(s.port) == before
        size = os.path.getsize(path)            # the buffer was written out first
        assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert walk(s.port) == before
        assert os.path.getsize(path) == size
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0
        r.set("after", "2")
        assert r.get("after") == b"2"


def test_select_and_expired_keys_are_logged():
    with ServerProcess(args=["--appendonly", "yes"]) as s:
        r = s.client()
        r.set("k", "v", px=50)
        redis.Redis(port=s.port, db=2).set("other", "x")
        poll(lambda: r.exists("k") == 0)
    data = open(os.path.join(aof_dir(s), "appendonly.aof.1.incr.aof"), "rb").read()
    assert b"SELECT\r\n$1\r\n2" in data and b"PXAT" in data


@pytest.mark.parametrize("cycle", range(3))
def test_kill9_appendfsync_always_loses_no_acknowledged_write(cycle, tmp_path):
    d = str(tmp_path)
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    acked: dict = {}
    acked_len: dict = {}
    for round_ in range(2):
        s = ServerProcess(cwd=d, args=args).start()
        stop = threading.Event()
        errors = []

        def writer(n):
            c = redis.Redis(port=s.port, socket_timeout=5)
            key = f"w{n}"
            try:
                for _ in range(5000):           # bounded
                    if stop.is_set():
                        return
                    v = c.incr(key)
                    acked[key] = v
                    acked_len[n] = c.rpush(f"l{n}", v)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            except Exception as e:      # pragma: no cover
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        r = s.client()
        target = random.Random(cycle * 10 + round_).randrange(50, 400)
        poll(lambda: sum(acked.values()) >= target or not any(t.is_alive() for t in threads))
        if round_ == 1:
            r.bgrewriteaof()        # a rewrite running (or just done) at the kill
        s.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        s.stop()
        assert not errors
        with ServerProcess(cwd=d, args=args) as s2:
            c = s2.client()
            for key, v in acked.items():
                got = int(c.get(key) or 0)
                assert got >= v, (key, got, v)
            for n, ln in acked_len.items():
                assert c.llen(f"l{n}") >= ln
            # continue counting from what survived
            for key in acked:
                acked[key] = int(c.get(key))


@needs_redis
def test_bgrewriteaof_with_aof_off_writes_a_loadable_base():
    """Redis 7.0 writes a new BASE and the manifest on BGREWRITEAOF even with
    appendonly no; DEBUG LOADAOF and redis-server (appendonly yes) load it."""
    with ServerProcess(args=["--enable-debug-command", "yes"]) as s:
        r = s.client()
        populate(r)
        r.bgrewriteaof()
        wait_rewrite(r)
        r.set("after", "1")
        r.bgrewriteaof()
        wait_rewrite(r)
        expected = walk(s.port)
        assert sorted(os.listdir(aof_dir(s))) == ["appendonly.aof.2.base.rdb",
                                                  "appendonly.aof.manifest"]
        r.set("not-in-the-aof", "x")
        assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert walk(s.port) == expected
    d = os.path.join(s.dir, "redis")
    os.mkdir(d)
    shutil.copytree(aof_dir(s), os.path.join(d, "appendonlydir"))
    with ServerProcess(kind="redis", cwd=d, args=["--appendonly", "yes"]) as ref:
        assert normalized(walk(ref.port)) == normalized(expected)


def test_old_style_aof_is_upgraded_into_the_aof_dir(tmp_path):
    """A Redis <= 6.2 appendonly.aof in the server dir (no AOF dir) is loaded and
    moved into appendonlydir as the BASE of a new manifest (aofUpgradePrepare)."""
    (tmp_path / "appendonly.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n")
    with ServerProcess(args=["--dir", str(tmp_path), "--appendonly", "yes"]) as s:
        r = s.client()
        assert r.get("k1") == b"v1" and r.lrange("l", 0, -1) == [b"a"]
        r.set("k2", "v2")
    d = tmp_path / "appendonlydir"
    assert not (tmp_path / "appendonly.aof").exists()
    assert (d / "appendonly.aof").exists()
    assert (d / "appendonly.aof.manifest").read_text().startswith(
        "file appendonly.aof seq 1 type b\n")
    with ServerProcess(args=["--dir", str(tmp_path), "--appendonly", "yes"]) as s:
        assert s.client().mget("k1", "k2") == [b"v1", b"v2"]


@pytest.mark.parametrize("manifest,error", [
    (b"", "Found an empty AOF manifest"),
    (b"file a.1.base.aof seq 1 type b\n\nfile a.1.incr.aof seq 1 type i\n",
     "Invalid AOF manifest file format"),
    (b"file a.1.base.aof seq 1 type b\nfile a.2.base.aof seq 2 type b\n",
     "Found duplicate base file information"),
    (b"file a.2.incr.aof seq 2 type i\nfile a.1.incr.aof seq 1 type i\n",
     "Found a non-monotonic sequence number"),
    (b"file a.1.base.aof seq 1 type b", "The AOF manifest file contains too long line"),
    (b"file dir/a.1.base.aof seq 1 type b\n", "File can't be a path, just a filename"),
    (b"file a.1.base.aof seq 1 type x\n", "Unknown AOF file type"),
    (b"file a.1.base.aof seq 1 type\n", "Invalid AOF manifest file format"),
])
def test_malformed_manifest_stops_startup_as_redis(tmp_path, manifest, error):
    """aofLoadManifestFromFile's strictness: a manifest Redis refuses stops the
    start (exit 1) with its report, instead of loading part of the data."""
    import subprocess
    import sys
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.manifest").write_bytes(manifest)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, "-m", "securekv", "server", "--port", "0", "--dir",
                        str(tmp_path), "--appendonly", "yes", "--save", ""],
                       capture_output=True, text=True, timeout=60, cwd=root)
    assert p.returncode == 1
    assert "*** FATAL AOF MANIFEST FILE ERROR ***" in p.stdout and error in p.stdout


@needs_redis
def test_past_expire_in_the_aof_is_kept_until_loading_ends(tmp_path):
    """Nothing expires while the AOF is replayed (Redis's checkAlreadyExpired and
    keyIsExpired during loading): `RPUSH list foo`, `PEXPIREAT list 1000`, `RPUSH
    list bar` leave one list with a past TTL, gone once loaded, as in Redis (a
    delete at the PEXPIREAT would leave [bar])."""
    def enc(*args):
        return b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in args])
    aof = (enc(b"RPUSH", b"list", b"foo") + enc(b"PEXPIREAT", b"list", b"1000")
           + enc(b"RPUSH", b"list", b"bar") + enc(b"SET", b"s", b"v", b"PXAT", b"1000")
           + enc(b"APPEND", b"s", b"w"))
    got = []
    for kind in ("redis", "securekv"):
        d = tmp_path / kind
        (d / "appendonlydir").mkdir(parents=True)
        (d / "appendonlydir" / "appendonly.aof.1.incr.aof").write_bytes(aof)
        (d / "appendonlydir" / "appendonly.aof.manifest").write_text(
            "file appendonly.aof.1.incr.aof seq 1 type i\n")
        with ServerProcess(kind=kind, cwd=str(d), args=["--appendonly", "yes"]) as s:
            r = s.client()
            got.append((r.llen("list"), r.get("s"), r.dbsize()))
    assert got[0] == got[1] == (0, None, 0)


def test_unknown_command_in_the_aof_stops_startup(tmp_path):
    """loadSingleAppendOnlyFile: an AOF holding a command this server does not know
    is refused (exit 1, Redis's message) rather than replayed without that write."""
    import subprocess
    import sys
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.1.incr.aof").write_bytes(
        b"*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$5\r\nhello\r\n*3\r\n$3\r\nbla\r\n$3\r\nfoo\r\n$1\r\nx\r\n")
    (d / "appendonly.aof.manifest").write_text("file appendonly.aof.1.incr.aof seq 1 type i\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, "-m", "securekv", "server", "--port", "0", "--dir",
                        str(tmp_path), "--appendonly", "yes", "--save", ""],
                       capture_output=True, text=True, timeout=60, cwd=root)
    assert p.returncode == 1
    assert "Unknown command 'bla' reading the append only file appendonly.aof.1.incr.aof" \
        in p.stdout


@needs_redis
def test_timestamp_annotations_are_written_and_load_in_redis(tmp_path):
    """aof-timestamp-enabled: '#TS:<unix>' lines lead the INCR file's writes and a
    rewritten RESP base (Redis's 'Generate timestamp annotations in AOF'); the
    files load into redis-server and back into securekv."""
    args = ["--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", "no"]
    with ServerProcess(args=args) as s:
        r = s.client()
        r.set("foo", "bar")
        r.config_set("appendfsync", "always")
        r.set("foo2", "bar")
        with open(os.path.join(aof_dir(s), "appendonly.aof.1.incr.aof"), "rb") as f:
            assert f.readline().startswith(b"#TS:")
        r.bgrewriteaof()
        wait_rewrite(r)
        r.set("after", "1")
        base = [n for n in os.listdir(aof_dir(s)) if ".base." in n][0]
        with open(os.path.join(aof_dir(s), base), "rb") as f:
            assert f.readline().startswith(b"#TS:")
        expected = walk(s.port)
    d = os.path.join(s.dir, "redis")
    os.mkdir(d)
    shutil.copytree(aof_dir(s), os.path.join(d, "appendonlydir"))
    with ServerProcess(kind="redis", cwd=d, args=["--appendonly", "yes"]) as ref:
        assert walk(ref.port) == expected
    with ServerProcess(cwd=s.dir, args=args) as s2:
        assert walk(s2.port) == expected
