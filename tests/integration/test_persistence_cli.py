"""`securekv rdb info FILE` and `securekv aof check PATH [--fix]` on files written
by a real server (with tenants), torn, garbled, and fixed."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import ROOT, ServerProcess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_persistence import poll  # noqa: E402


def run(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "securekv", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_rdb_info_counts_types_per_db_and_tenant():
    with ServerProcess() as s:
        r = s.client()
        r.set("a", "1")
        r.set("b", "2", ex=1000)
        r.rpush("l", "x")
        r.hset("h", "f", "v")
        r.execute_command("SELECT", 2)
        r.sadd("s", "m")
        r.execute_command("SELECT", 0)
        r.execute_command("TENANT", "CREATE", "t1", "MAXKEYS", "10")
        r.execute_command("TENANT", "USE", "t1")
        r.zadd("z", {"m": 1})
        r.xadd("st", {"f": "v"})
        r.execute_command("TENANT", "USE", "default")
        r.save()
    path = os.path.join(s.dir, "dump.rdb")
    p = run("rdb", "info", path)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "rdb_version: 10" in out and "aux redis-ver: 7.0.15" in out and "checksum: ok" in out
    assert "tenant default:" in out
    assert "  db0: keys=4 expires=1 already_expired=0 hash=1 list=1 string=2" in out
    assert "  db2: keys=1 expires=0 already_expired=0 set=1" in out
    assert "tenant t1 (maxkeys 10):" in out
    assert "  db0: keys=2 expires=0 already_expired=0 stream=1 zset=1" in out
    assert "total_keys: 7" in out
    data = open(path, "rb").read()
    bad = os.path.join(s.dir, "bad.rdb")
    with open(bad, "wb") as f:
        f.write(data[:len(data) // 2])
    p = run("rdb", "info", bad)
    assert p.returncode == 1 and "at offset" in p.stderr


def _aof_dir(s) -> str:
    return os.path.join(s.dir, "appendonlydir")


def test_aof_check_valid_torn_fix_and_garbage():
    args = ["--appendonly", "yes", "--aof-load-truncated", "no"]
    with ServerProcess(args=args) as s:
        r = s.client()
        r.set("k", "v")
        r.bgrewriteaof()
        poll(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0)
        for i in range(10):
            r.set(f"k{i}", i)
    d = _aof_dir(s)
    p = run("aof", "check", d)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "appendonly.aof.2.base.rdb is valid" in p.stdout
    assert "appendonly.aof.2.incr.aof is valid (11 commands" in p.stdout
    incr = os.path.join(d, "appendonly.aof.2.incr.aof")
    good_size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nhal")       # torn last command
    p = run("aof", "check", d)
    assert p.returncode == 1
    assert f"ok_up_to={good_size}" in p.stdout and "torn" in p.stdout
    s2 = ServerProcess(cwd=s.dir, args=args)
    try:                                        # aof-load-truncated no: refuses to start
        s2.start()                              # (the port may be open before the load fails)
    except RuntimeError:
        pass
    assert s2.proc.wait(30) != 0
    s2.stop()
    assert "Unexpected end of file" in open(s2.log_path).read()
    p = run("aof", "check", d, "--fix")
    assert p.returncode == 0 and f"truncated AOF appendonly.aof.2.incr.aof to {good_size}" in p.stdout
    assert os.path.getsize(incr) == good_size
    with ServerProcess(cwd=s.dir, args=args) as s3:
        assert s3.client().get("k9") == b"9"
    # an unfinished MULTI at the end is a torn tail too
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n1\r\n")
    p = run("aof", "check", d, "--fix")
    assert p.returncode == 0 and "unfinished MULTI" in p.stdout
    assert os.path.getsize(incr) == good_size
    # garbage in the middle: reported with its offset, never "fixed"
    with open(incr, "r+b") as f:
        f.seek(good_size // 2)
        f.write(b"!garbage!")
    p = run("aof", "check", os.path.join(d, "appendonly.aof.manifest"), "--fix")
    assert p.returncode == 1 and "cannot be fixed automatically" in p.stdout
    assert "bad file format" in p.stdout and "at offset" in p.stdout


def test_cli_usage():
    p = run("aof", "nope")
    assert p.returncode == 2 and "Usage" in p.stderr
