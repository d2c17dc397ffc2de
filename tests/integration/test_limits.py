"""Limits over real connections: proto-max-bulk-len, client-query-buffer-limit,
unauthenticated limits, maxclients, timeout, tcp-keepalive, output-buffer
limits (normal and pubsub classes) and backpressure."""

import shutil
import socket
import subprocess
import time

import pytest

from helpers import RawConn, ServerProcess, encode_command, redis_server_available


def closed_within(conn, seconds=10.0) -> bytes:
    """Read until the server closes the connection; fail if it does not in time."""
    return conn.read_until_closed(timeout=seconds)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_proto_max_bulk_len():
    with ServerProcess(["--proto-max-bulk-len", "1mb"]) as s:
        c = RawConn(s.port)
        c.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n")
        assert closed_within(c) == b"-ERR Protocol error: invalid bulk length\r\n"
        c = RawConn(s.port)
        big = b"x" * 1048576
        assert c.cmd("ECHO", big) == b"$1048576\r\n" + big + b"\r\n"
        c.close()


def test_client_query_buffer_limit_closes_client():
    with ServerProcess(["--client-query-buffer-limit", "1mb", "--loglevel", "verbose"]) as s:
        c = RawConn(s.port)
        c.send(b"*2\r\n$4\r\nECHO\r\n$5000000\r\n")
        try:
            for _ in range(40):
                c.send(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert closed_within(c) == b""          # no reply, as Redis
        c2 = RawConn(s.port)
        assert c2.cmd("PING") == b"+PONG\r\n"
        c2.close()
        deadline = time.monotonic() + 5
        while "max query buffer length" not in s.output():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        line = [l for l in s.output().splitlines() if "max query buffer length" in l][0]
        assert "id=" in line and " qbuf=" in line and " cmd=" in line   # CLIENT LIST format


@pytest.mark.parametrize("kind", ["securekv", "redis"])
def test_unauthenticated_limits(kind):
    if kind == "redis" and not redis_server_available():
        pytest.skip("redis-server not installed")
    with ServerProcess(["--requirepass", "secret"], kind=kind) as s:
        c = RawConn(s.port)
        c.send(b"*11\r\n")
        assert closed_within(c) == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        c = RawConn(s.port)
        c.send(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
        assert closed_within(c) == b"-ERR Protocol error: unauthenticated bulk length\r\n"
        c = RawConn(s.port)
        assert c.cmd("GET", "k") == b"-NOAUTH Authentication required.\r\n"
        assert c.cmd("HELLO", "2", "AUTH", "default", "secret").startswith(b"*14\r\n")
        big = b"y" * 20000
        assert c.cmd(*(["ECHO"] + [big])) == b"$20000\r\n" + big + b"\r\n"
        c.send(encode_command("DEL", *["k"] * 11))
        assert c.read_reply() == b":0\r\n"
        c.close()


def test_maxclients():
    with ServerProcess(["--maxclients", "3"]) as s:
        conns = [RawConn(s.port) for _ in range(3)]
        for c in conns:
            assert c.cmd("PING") == b"+PONG\r\n"
        extra = RawConn(s.port)
        assert closed_within(extra) == b"-ERR max number of clients reached\r\n"
        conns[0].close()
        deadline = time.monotonic() + 5
        while True:               # the freed slot becomes usable
            c = RawConn(s.port)
            try:
                if c.cmd("PING") == b"+PONG\r\n":
                    break
            except ConnectionError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.05)
        info = conns[1].cmd("INFO", "stats")
        assert b"rejected_connections:" in info


def test_idle_timeout_closes_client():
    with ServerProcess(["--timeout", "1"]) as s:
        c = RawConn(s.port)
        assert c.cmd("PING") == b"+PONG\r\n"
        t0 = time.monotonic()
        assert closed_within(c, 10) == b""
        assert time.monotonic() - t0 >= 0.9


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) not installed")
def test_tcp_keepalive_set_on_socket():
    with ServerProcess(["--tcp-keepalive", "100"]) as s:
        c = RawConn(s.port)
        assert c.cmd("PING") == b"+PONG\r\n"
        out = subprocess.run(["ss", "-tnoH", "state", "established", f"( sport = :{s.port} )"],
                             capture_output=True, text=True).stdout
        assert "keepalive" in out, out
        c.close()
    with ServerProcess(["--tcp-keepalive", "0"]) as s:
        c = RawConn(s.port)
        assert c.cmd("PING") == b"+PONG\r\n"
        out = subprocess.run(["ss", "-tnoH", "state", "established", f"( sport = :{s.port} )"],
                             capture_output=True, text=True).stdout
        assert "keepalive" not in out, out
        c.close()


def _unread_pipeline(port, n, key=b"big"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    data = encode_command("GET", key) * n
    sent = 0
    deadline = time.monotonic() + 10
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    s.setblocking(True)
    s.settimeout(10)
    return s


def _drain_until_closed(s, limit_bytes):
    got = 0
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return got
            got += len(chunk)
            assert got < limit_bytes, "never disconnected"
    except ConnectionResetError:
        return got


def test_output_buffer_hard_limit_normal_class():
    with ServerProcess(["--client-output-buffer-limit", "normal", "1mb", "0", "0"]) as s:
        r = RawConn(s.port)
        assert r.cmd("SET", "big", b"v" * 100_000) == b"+OK\r\n"
        sock = _unread_pipeline(s.port, 2000)        # 200 MB of replies
        got = _drain_until_closed(sock, 200_000_000)
        assert got < 200_000_000
        assert r.cmd("PING") == b"+PONG\r\n"
        deadline = time.monotonic() + 5
        while "overcoming of output buffer limits" not in s.output():
            assert time.monotonic() < deadline
            time.sleep(0.05)


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_single_reply_over_the_hard_limit_is_not_sent_as_redis():
    """Redis counts a reply against the hard limit as it builds it (beyond its 16k
    reply buffer), before writing: a 150 KB LRANGE under a 100 KB limit closes the
    client with nothing sent (Redis's unit/obuf-limits); a 10 KB one is answered."""
    def run(port):
        admin = RawConn(port)
        admin.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0")
        for _ in range(150):
            admin.cmd("LPUSH", "mylist", b"x" * 1000)
        small = RawConn(port)
        reply = small.cmd("LRANGE", "mylist", "0", "9")
        big = socket.create_connection(("127.0.0.1", port))
        big.sendall(encode_command("LRANGE", "mylist", "0", "-1"))
        got = b""
        big.settimeout(5)
        try:
            while True:
                chunk = big.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (socket.timeout, ConnectionResetError):
            got += b"<still open>"
        return len(reply), got, admin.cmd("PING")
    with ServerProcess(kind="redis") as ref:
        want = run(ref.port)
    with ServerProcess() as s:
        assert run(s.port) == want
    assert want[1] == b""


def test_output_buffer_soft_limit_with_seconds():
    with ServerProcess(["--client-output-buffer-limit", "normal", "0", "512kb", "1"]) as s:
        r = RawConn(s.port)
        assert r.cmd("SET", "big", b"v" * 100_000) == b"+OK\r\n"
        sock = _unread_pipeline(s.port, 500)
        t0 = time.monotonic()
        deadline = t0 + 15
        while "overcoming of output buffer limits" not in s.output():
            assert time.monotonic() < deadline, "soft limit never enforced"
            time.sleep(0.05)
        assert time.monotonic() - t0 >= 0.9
        assert _drain_until_closed(sock, 50_000_000) < 50_000_000
        r.close()


def test_output_buffer_limit_pubsub_class():
    with ServerProcess(["--client-output-buffer-limit", "pubsub", "256kb", "0", "0"]) as s:
        sub = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sub.sendall(encode_command("SUBSCRIBE", "ch"))
        assert sub.recv(100).startswith(b"*3\r\n$9\r\nsubscribe")
        pub = RawConn(s.port)
        msg = b"m" * 10_000
        deadline = time.monotonic() + 20
        while pub.cmd("PUBLISH", "ch", msg) != b":0\r\n":   # until the subscriber is dropped
            assert time.monotonic() < deadline, "subscriber never disconnected"
        sub.close()
        pub.close()


def test_backpressure_bounds_memory():
    """A client pipelines GETs of a 1 MB value and never reads: the server stops
    reading from it instead of buffering the replies (the normal class has no
    output limit by default)."""
    with ServerProcess() as s:
        r = RawConn(s.port)
        assert r.cmd("SET", "big", b"v" * 1_000_000) == b"+OK\r\n"
        pid = s.proc.pid
        rss0 = rss_kb(pid)
        sock = _unread_pipeline(s.port, 3000)       # 3 GB of replies if it all ran
        # The server keeps serving others, and its memory stays bounded.
        for _ in range(20):
            assert r.cmd("PING") == b"+PONG\r\n"
        lst = r.cmd("CLIENT", "LIST")
        assert rss_kb(pid) - rss0 < 150_000, (rss0, rss_kb(pid))
        assert b"omem=" in lst
        # The paused client's pipeline is intact: reading resumes it, in order.
        sock.settimeout(30)
        got = 0
        want = 3000 * (len(b"$1000000\r\n") + 1_000_000 + 2)
        sent_all = True
        while got < want:
            chunk = sock.recv(1 << 20)
            if not chunk:
                sent_all = False
                break
            got += len(chunk)
            if got > 50_000_000:
                break           # enough: it flows again
        assert sent_all
        assert rss_kb(pid) - rss0 < 150_000
        sock.close()
        r.close()
