"""CONFIG against a real server: GET/SET semantics beyond the compat script
(RESP3, patterns, apply hooks, rebinding, rollback, REWRITE of a real file,
RESETSTAT, redaction), and a sweep of every directive's SET errors against
redis-server when it is installed."""

import os

import pytest
import redis

from helpers import RawConn, ServerProcess, free_port, redis_server_available

import securekv.commands  # noqa: F401  (families may declare directives)
from securekv import config as C

SKIP_SWEEP = {"port", "bind", "requirepass", "dir", "save", "masterauth", "masteruser",
              "appendonly", "maxclients", "logfile", "pidfile", "daemonize"}


def test_get_star_names_match_redis_and_table(r):
    got = r.config_get("*")
    names = set(got)
    expected = {n for n, d in C.TABLE.items() if not d.hidden and not d.repeat} | set(C.ALIASES)
    assert names == expected
    assert got["slave-read-only"] == "yes" and got["replica-read-only"] == "yes"
    assert "rdb-key-save-delay" not in got and "user" not in got


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_get_star_same_names_and_values_as_redis(r):
    with ServerProcess(kind="redis") as rs:
        theirs = rs.client().config_get("*")
    ours = r.config_get("*")
    for name, d in C.TABLE.items():
        if not d.redis:                     # securekv's own directives
            ours.pop(name, None)
    assert set(ours) == set(theirs)
    differ = {k for k in ours if ours[k] != theirs[k]}
    assert differ <= {"port", "dir", "bind", "enable-debug-command"}, differ


def test_resp3_map_and_multiple_patterns(server):
    c = RawConn(server.port)
    c.cmd("HELLO", "3")
    assert c.cmd("CONFIG", "GET", "maxmemory") == b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    rep = c.cmd("CONFIG", "GET", "maxmemory", "max*", "MAXMEMORY")
    assert rep.startswith(b"%6\r\n") and rep.count(b"maxmemory\r\n") == 1
    c.close()


def test_set_applies_and_rolls_back(r):
    assert r.config_set("slowlog-max-len", 3)
    for i in range(5):
        r.config_set("slowlog-log-slower-than", 0)
        r.ping()
    assert len(r.slowlog_get(100)) <= 3
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("slowlog-max-len", 128)
    # an apply failure (unbindable address) restores every value of the call
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("CONFIG", "SET", "maxmemory", "7mb", "bind", "192.0.2.1")
    assert "Failed to bind to specified addresses." in str(e.value)
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_get("bind") == {"bind": "127.0.0.1"}
    assert r.ping()


def test_set_port_rebinds_at_once():
    with ServerProcess() as s:
        c = s.client()
        new = free_port()
        assert c.config_set("port", new)
        c2 = redis.Redis(port=new)
        assert c2.ping()
        assert c2.config_get("port") == {"port": str(new)}
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=s.port).ping()
        c2.close()
        c.close()
        s.port = new


def test_secret_values_are_redacted_from_slowlog(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.execute_command("CONFIG", "SET", "masterauth", "topsecret", "timeout", "0")
    entries = r.slowlog_get(10)
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("masterauth", "")
    cmds = [e["command"] for e in entries]
    assert any(b"(redacted)" in x for x in cmds)
    assert not any(b"topsecret" in x for x in cmds)


def test_protected_configs_with_enable_protected_configs():
    with ServerProcess(args=["--enable-protected-configs", "yes"]) as s:
        c = s.client()
        d = os.path.join(s.dir, "sub")
        os.mkdir(d)
        assert c.config_set("dir", d)
        assert c.config_get("dir") == {"dir": d}
        assert c.config_set("dbfilename", "x.rdb")
        with pytest.raises(redis.ResponseError, match="can't be a path"):
            c.config_set("dbfilename", "a/b.rdb")
        c.close()


def test_resetstat(r):
    r.get("nokey")
    assert r.info("stats")["keyspace_misses"] >= 1
    assert r.config_resetstat()
    assert r.info("stats")["keyspace_misses"] == 0


def test_rewrite_updates_the_file_in_place(tmp_path):
    conf = ("# my settings\nmaxmemory 1mb\nslave-read-only yes\nsave 900 1\nsave 300 10\n"
            "list-max-ziplist-entries 5\nrequirepass \"\"\n")
    with ServerProcess(conf_text=conf) as s:
        c = s.client()
        c.config_set("maxmemory", "3mb")
        c.config_set("replica-read-only", "no")
        c.config_set("save", "60 5")
        c.config_set("timeout", "9")
        assert c.execute_command("CONFIG", "REWRITE") == b"OK"
        c.close()
        path = os.path.join(s.dir, "test.conf")
        text = open(path).read()
        assert "CONFIG REWRITE executed with success." in s.output()
    lines = text.split("\n")
    assert lines[0] == "# my settings"
    assert "maxmemory 3mb" in lines and "replica-read-only no" in lines
    assert "save 60 5" in lines and "save 300 10" not in lines
    assert "# ??? list-max-ziplist-entries 5" in lines
    assert "requirepass" not in text      # back to no password: the line goes, as Redis
    tail = lines[lines.index("# Generated by CONFIG REWRITE"):]
    assert "timeout 9" in tail
    # the rewritten file loads
    with ServerProcess(conf_text=text) as s2:
        c = s2.client()
        assert c.config_get("timeout") == {"timeout": "9"}
        c.close()


def test_rewrite_without_file(raw):
    assert raw.cmd("CONFIG", "REWRITE") == b"-ERR The server is running without a config file\r\n"


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_every_directive_set_errors_match_redis():
    values = ["-1", "abc", "99999999999999999999", "1k", "1%", "yes", "0777", "", "7 8"]
    with ServerProcess(kind="redis") as rs, ServerProcess() as ss:
        a, b = RawConn(rs.port), RawConn(ss.port)
        names = sorted(rs.client().config_get("*"))
        mismatches = []
        for name in names:
            if name in SKIP_SWEEP:
                continue
            before_a = a.cmd("CONFIG", "GET", name)
            before = rs.client().config_get(name)[name]
            for v in values:
                ra, rb = a.cmd("CONFIG", "SET", name, v), b.cmd("CONFIG", "SET", name, v)
                ga, gb = a.cmd("CONFIG", "GET", name), b.cmd("CONFIG", "GET", name)
                if ra != rb or ga != gb:
                    mismatches.append((name, v, ra, rb, ga, gb))
                a.cmd("CONFIG", "SET", name, before)
                b.cmd("CONFIG", "SET", name, before)
            assert a.cmd("CONFIG", "GET", name) == before_a
        assert not mismatches, "\n".join(map(repr, mismatches[:20]))


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_rename_command_in_config_file_matches_redis():
    """rename-command from the config file takes effect: the old name is unknown,
    the new one runs the command, an empty name removes it (operators use it to
    disable FLUSHALL/CONFIG on exposed servers). Replies compared with redis-server."""
    conf = 'rename-command flushdb badger\nrename-command FLUSHALL ""\n'

    def run(port):
        c = RawConn(port)
        out = [c.cmd("SET", "k", "v"), c.cmd("FLUSHDB"), c.cmd("FLUSHALL"), c.cmd("DBSIZE"),
               c.cmd("BADGER"), c.cmd("DBSIZE"), c.cmd("MULTI"), c.cmd("FLUSHDB"),
               c.cmd("EXEC")]
        c.close()
        return out
    with ServerProcess(kind="redis", conf_text=conf) as ref:
        want = run(ref.port)
    with ServerProcess(conf_text=conf) as s:
        assert run(s.port) == want
    assert want[1].startswith(b"-ERR unknown command")


def test_debug_config_rewrite_force_all_round_trips(tmp_path):
    """DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive, defaults included;
    a server started from that file reports the same CONFIG GET * (Redis's
    'CONFIG REWRITE sanity')."""
    conf = tmp_path / "s.conf"
    conf.write_text('save ""\n')

    def config_all(port):
        return redis.Redis(port=port).config_get("*")
    with ServerProcess(conf_file=str(conf), cwd=str(tmp_path)) as s:
        before = config_all(s.port)
        assert s.client().execute_command("DEBUG", "CONFIG-REWRITE-FORCE-ALL") == b"OK"
    lines = [ln for ln in conf.read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) > 100
    with ServerProcess(conf_file=str(conf), port=s.port, cwd=str(tmp_path)) as s2:
        after = config_all(s2.port)
    assert after == before
