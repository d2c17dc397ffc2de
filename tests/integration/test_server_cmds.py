"""INFO, TIME, LASTSAVE, SHUTDOWN, SLOWLOG, LATENCY, MONITOR and DEBUG over real
sockets: what compat scripts cannot show (several clients, process exit,
values that vary, RESP3, configuration-dependent gating)."""

import re
import time

import hiredis

from helpers import RawConn, ServerProcess


def parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


def info_fields(text: bytes) -> dict:
    out = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError("condition not reached")


# -- INFO -------------------------------------------------------------------------

def test_info_sections_and_order(raw):
    text = parse(raw.cmd("INFO", "everything"))
    heads = re.findall(rb"^# (\w+)\r$", text, re.M)
    assert heads == [b"Server", b"Clients", b"Memory", b"Persistence", b"Stats",
                     b"Replication", b"CPU", b"Modules", b"Commandstats", b"Errorstats",
                     b"Latencystats", b"Cluster", b"Keyspace"]
    default = re.findall(rb"^# (\w+)\r$", parse(raw.cmd("INFO")), re.M)
    assert b"Commandstats" not in default and b"Latencystats" not in default
    assert b"Errorstats" in default
    f = info_fields(text)
    assert f["redis_version"] == "7.0.15"
    assert f["securekv_version"]
    assert f["mem_allocator"] == "libc"
    assert int(f["used_memory"]) > 0 and int(f["used_memory_rss"]) > 0
    assert float(f["used_cpu_user"]) >= 0
    assert f["role"] == "master"
    assert len(f["run_id"]) == 40
    assert parse(raw.cmd("INFO", "bogus")) == b""
    two = re.findall(rb"^# (\w+)\r$", parse(raw.cmd("INFO", "keyspace", "SERVER")), re.M)
    assert two == [b"Server", b"Keyspace"]


def test_info_stats_and_keyspace(raw):
    raw.cmd("CONFIG", "RESETSTAT")
    raw.cmd("SET", "a", "1")
    raw.cmd("SET", "b", "2", "EX", "100")
    raw.cmd("GET", "a")
    raw.cmd("GET", "nokey")
    assert raw.cmd("GET").startswith(b"-ERR wrong number")         # rejected: arity
    assert raw.cmd("INCRBY", "a", "x").startswith(b"-ERR")          # failed
    f = info_fields(parse(raw.cmd("INFO", "all")))
    assert f["db0"].startswith("keys=2,expires=1,avg_ttl=")
    assert 0 < int(f["db0"].rsplit("=", 1)[1]) <= 100000
    assert f["cmdstat_set"].startswith("calls=2,usec=")
    assert f["cmdstat_get"].endswith(",rejected_calls=1,failed_calls=0")
    assert re.fullmatch(r"calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,"
                        r"failed_calls=0", f["cmdstat_get"])
    assert f["errorstat_ERR"] == "count=2"
    assert re.fullmatch(r"calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,"
                        r"failed_calls=1", f["cmdstat_incrby"])
    assert int(f["keyspace_hits"]) == 1 and int(f["keyspace_misses"]) == 1


def test_info_resp3_is_verbatim(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd("INFO", "cluster") == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_instantaneous_ops(server):
    c = server.raw()
    # The cron samples every 1/hz s; the rate shows once two samples bracket some commands.
    def rate():
        for _ in range(50):
            c.cmd("PING")
        return int(info_fields(parse(c.cmd("INFO", "stats")))["instantaneous_ops_per_sec"])
    assert wait_for(lambda: rate() > 0) > 0
    c.close()


# -- TIME, LASTSAVE -------------------------------------------------------------

def test_time_and_lastsave(raw):
    secs, usecs = parse(raw.cmd("TIME"))
    assert abs(int(secs) - time.time()) < 5 and 0 <= int(usecs) < 1_000_000
    assert abs(parse(raw.cmd("LASTSAVE")) - time.time()) < 3600


# -- SLOWLOG ----------------------------------------------------------------------

def test_slowlog_entries(server):
    c = RawConn(server.port)
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("CLIENT", "SETNAME", "slowpoke")
    c.cmd("SET", "k", "v" * 200)
    c.cmd("MSET", *[f"k{i}" for i in range(40)])
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    entries = parse(c.cmd("SLOWLOG", "GET", "-1"))
    by_cmd = {e[3][0]: e for e in entries}
    set_e = by_cmd[b"SET"]
    assert set_e[3][2] == b"v" * 128 + b"... (72 more bytes)"
    assert set_e[4].startswith(b"127.0.0.1:")
    mset = by_cmd[b"MSET"]
    assert len(mset[3]) == 32 and mset[3][31] == b"... (10 more arguments)"
    ids = [e[0] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert parse(c.cmd("SLOWLOG", "LEN")) == len(entries)
    assert len(parse(c.cmd("SLOWLOG", "GET", "1"))) == 1
    assert c.cmd("SLOWLOG", "RESET") == b"+OK\r\n"
    assert parse(c.cmd("SLOWLOG", "LEN")) == 0
    c.close()


def test_slowlog_redacts_secrets(server):
    c = RawConn(server.port)
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("HELLO", "2", "AUTH", "default", "sekrit")
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    entries = parse(c.cmd("SLOWLOG", "GET", "-1"))
    hello = [e for e in entries if e[3][0] == b"HELLO"][0]
    assert hello[3] == [b"HELLO", b"2", b"AUTH", b"(redacted)", b"(redacted)"]
    c.close()


# -- LATENCY -----------------------------------------------------------------------

def test_latency_monitor(server):
    c = RawConn(server.port)
    c.cmd("LATENCY", "RESET")
    c.cmd("CONFIG", "SET", "latency-monitor-threshold", "5")
    try:
        c.cmd("DEBUG", "SLEEP", "0.02")
        latest = parse(c.cmd("LATENCY", "LATEST"))
        assert [e[0] for e in latest] == [b"command"]
        _, when, last, worst = latest[0]
        assert last >= 20 and worst >= last and abs(when - time.time()) < 5
        hist = parse(c.cmd("LATENCY", "HISTORY", "command"))
        assert hist == [[when, last]]
        doctor = parse(c.cmd("LATENCY", "DOCTOR"))
        assert b"1. command: 1 latency spikes" in doctor
        graph = parse(c.cmd("LATENCY", "GRAPH", "command"))
        assert graph.startswith(b"command - high %d ms, low %d ms" % (last, last))
        c.cmd("PING")           # fast and quick: no sample
        assert [e[0] for e in parse(c.cmd("LATENCY", "LATEST"))] == [b"command"]
        assert parse(c.cmd("LATENCY", "RESET", "COMMAND")) == 1
        assert parse(c.cmd("LATENCY", "LATEST")) == []
    finally:
        c.cmd("CONFIG", "SET", "latency-monitor-threshold", "0")
        c.close()


# -- MONITOR ----------------------------------------------------------------------

def _monitor_lines(m, n):
    lines = []
    while len(lines) < n:
        lines.append(m.read_reply())
    return lines


def test_monitor_lines(server):
    m = RawConn(server.port)
    assert m.cmd("MONITOR") == b"+OK\r\n"
    c = RawConn(server.port)
    c.cmd("SET", "k", 'a"b\\c\x01\n')
    c.cmd("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "cli")
    c.cmd("HELLO", "2")
    c.cmd("SELECT", "3")
    c.cmd("GET", "k")
    c.cmd("DEBUG", "SLEEP", "0")        # admin: not shown
    c.cmd("NOSUCH")                     # rejected: not shown
    c.cmd("PING")
    port = c.sock.getsockname()[1]
    lines = _monitor_lines(m, 6)
    pat = re.compile(rb"^\+(\d+\.\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)\r\n$")
    parsed = [pat.match(l) for l in lines]
    assert all(parsed), lines
    assert {int(p.group(3)) for p in parsed} == {port}
    assert [p.group(2) for p in parsed] == [b"0", b"0", b"0", b"3", b"3", b"3"]
    assert [p.group(4) for p in parsed] == [
        b'"SET" "k" "a\\"b\\\\c\\x01\\n"',
        b'"HELLO" "3" "AUTH" "(redacted)" "(redacted)" "SETNAME" "cli"',
        b'"HELLO" "2"',
        b'"SELECT" "3"',
        b'"GET" "k"',
        b'"PING"',
    ]
    c.close()
    m.close()


def test_monitor_client_state(server):
    m = RawConn(server.port)
    assert m.cmd("MONITOR") == b"+OK\r\n"
    m.send(b"PING\r\n")
    assert m.read_reply() == b"+PONG\r\n"
    assert m.read_reply().endswith(b'"PING"\r\n')          # sees its own commands
    m.send(b"GET x\r\n")
    assert m.read_reply() == b"-ERR Replica can't interact with the keyspace\r\n"
    m.send(b"MONITOR\r\nRESET\r\n")                        # a second MONITOR: no reply
    assert m.read_reply() == b"+RESET\r\n"
    other = RawConn(server.port)
    other.cmd("PING")
    assert m.cmd("ECHO", "x") == b"$1\r\nx\r\n"             # no more monitor lines
    other.close()
    m.close()


def test_monitor_in_multi(raw):
    raw.cmd("MULTI")
    assert raw.cmd("MONITOR") == b"+QUEUED\r\n"
    assert raw.cmd("EXEC") == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"


# -- DEBUG ------------------------------------------------------------------------

DENIED = (b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
          b"\"local\", you can run it from a local connection, otherwise you need to set this "
          b"option in the configuration file, and then restart the server.\r\n")


def test_debug_disabled():
    with ServerProcess(args=["--enable-debug-command", "no"]) as s:
        c = s.raw()
        assert c.cmd("DEBUG", "HELP") == DENIED
        assert c.cmd("DEBUG") == b"-ERR wrong number of arguments for 'debug' command\r\n"
        c.cmd("MULTI")
        assert c.cmd("DEBUG", "SLEEP", "0") == DENIED
        assert c.cmd("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        f = info_fields(c.cmd("INFO", "commandstats").split(b"\r\n", 1)[1])
        assert re.fullmatch(r"calls=0,usec=\d+,usec_per_call=0.00,rejected_calls=3,failed_calls=0",
                            f["cmdstat_debug"])
        c.close()


def test_debug_local_allows_loopback():
    with ServerProcess(args=["--enable-debug-command", "local"]) as s:
        c = s.raw()
        assert c.cmd("DEBUG", "SLEEP", "0") == b"+OK\r\n"
        c.close()


def test_debug_object_and_active_expire(r):
    r.set(b"n", b"12")
    line = r.execute_command("DEBUG", "OBJECT", "n")
    assert re.fullmatch(rb"Value at:0x[0-9a-f]+ refcount:2147483647 encoding:int "
                        rb"serializedlength:2 lru:\d+ lru_seconds_idle:\d+", line)
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        assert r.config_get("active-expire-enabled") == {"active-expire-enabled": "no"}
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# -- SHUTDOWN ----------------------------------------------------------------------

def test_shutdown_nosave_exits():
    s = ServerProcess().start()
    try:
        c = s.raw()
        c.send(b"SHUTDOWN NOSAVE\r\nPING\r\n")
        assert c.read_until_closed() == b""          # no reply, as Redis's exit(0)
        assert s.proc.wait(10) == 0
        assert "ready to exit" in s.output()
    finally:
        s.stop()


def test_shutdown_errors_keep_serving(server):
    c = server.raw()
    assert c.cmd("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
    assert c.cmd("SHUTDOWN", "SAVE", "NOSAVE") == b"-ERR syntax error\r\n"
    c.cmd("MULTI")
    assert c.cmd("SHUTDOWN") == b"-ERR Command not allowed inside a transaction\r\n"
    c.cmd("DISCARD")
    assert c.cmd("PING") == b"+PONG\r\n"
    c.close()
