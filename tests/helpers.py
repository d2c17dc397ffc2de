"""Test helpers: start real server processes on free ports, talk raw RESP.

Every server is started as a subprocess listening on 127.0.0.1 only, on a free
port, and stopped by its PID. Nothing here sleeps to wait for something it can
poll.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"port {port} not listening after {timeout}s")


class ServerProcess:
    """A securekv-server (or redis-server) subprocess on a free port."""

    def __init__(self, args=(), kind: str = "securekv", port: int | None = None,
                 conf_text: str | None = None, cwd: str | None = None,
                 conf_file: str | None = None) -> None:
        self.kind = kind
        self.port = port or free_port()
        self.dir = cwd or tempfile.mkdtemp(prefix=f"{kind}-test-")
        self.args = list(args)
        self.conf_text = conf_text
        self.conf_file = conf_file      # an existing config file (kept as it is)
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.dir, "server.log")

    def command_line(self) -> list[str]:
        base = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir]
        conf = [self.conf_file] if self.conf_file else []
        if self.conf_text is not None:
            path = os.path.join(self.dir, "test.conf")
            with open(path, "w") as f:
                f.write(self.conf_text)
            conf = [path]
        if self.kind == "redis":
            return ["redis-server", *conf, *base, "--enable-debug-command", "yes", *self.args]
        return [sys.executable, "-m", "securekv", "server", *conf, *base,
                "--enable-debug-command", "yes", *self.args]

    def start(self) -> "ServerProcess":
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command_line(), stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env)
        wait_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc:
            self.log.close()

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, **kw):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self) -> "RawConn":
        return RawConn(self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def encode_command(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    """A raw socket that returns replies as the exact bytes the server sent."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def cmd(self, *args) -> bytes:
        """Send one command, return the raw bytes of its one reply."""
        self.send(encode_command(*args))
        return self.read_reply()

    def read_reply(self) -> bytes:
        """Read exactly one complete reply (of any RESP2/RESP3 type)."""
        while True:
            n = reply_length(self.buf)
            if n is not None:
                data, self.buf = self.buf[:n], self.buf[n:]
                return data
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"closed; buffered {self.buf!r}")
            self.buf += chunk

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError(f"not closed; got {data!r}") from None
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self) -> None:
        self.sock.close()


def reply_length(buf: bytes, pos: int = 0) -> int | None:
    """Length in bytes of the complete RESP2/RESP3 reply at buf[pos:], or None."""
    end = _reply_end(buf, pos)
    return None if end is None else end - pos


def _reply_end(buf: bytes, pos: int):
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    t = buf[pos:pos + 1]
    head = buf[pos + 1:nl]
    after = nl + 2
    if t in (b"+", b"-", b":", b",", b"#", b"_", b"("):
        return after
    if t in (b"$", b"=", b"!"):
        n = int(head)
        if n < 0:
            return after
        end = after + n + 2
        return end if len(buf) >= end else None
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(head)
        if n < 0:
            return after
        if t in (b"%", b"|"):
            n *= 2
        p = after
        for _ in range(n):
            p = _reply_end(buf, p)
            if p is None:
                return None
        return p
    raise ValueError(f"bad reply type {t!r} in {buf[pos:pos+40]!r}")


def redis_server_available() -> bool:
    return shutil.which("redis-server") is not None


def send(c: RawConn, *args) -> None:
    """Send one command without reading its reply (e.g. a command that blocks)."""
    c.send(encode_command(*args))


def blocked_clients(r) -> int:
    return int(r.info("clients")["blocked_clients"])


def wait_blocked(r, n: int, timeout: float = 10.0) -> None:
    """Poll INFO clients (through redis-py client r) until n clients are blocked."""
    deadline = time.monotonic() + timeout
    while blocked_clients(r) != n:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {n} blocked clients, have {blocked_clients(r)}")
        time.sleep(0.002)


def both(server, ref, resp3: bool = False) -> tuple[RawConn, RawConn]:
    """Raw connections (redis-server, securekv) on flushed servers, optionally in RESP3."""
    a, b = RawConn(ref.port), RawConn(server.port)
    for c in (a, b):
        c.cmd("FLUSHALL")
        if resp3:
            c.cmd("HELLO", "3")
    return a, b


def same(a: RawConn, b: RawConn, *args) -> bytes:
    """Run one command on both connections; assert the raw replies are equal."""
    ra, rb = a.cmd(*args), b.cmd(*args)
    assert ra == rb, (args, ra, rb)
    return ra


@contextlib.contextmanager
def keyevents(server, r, flags: str = "KEA"):
    """With notify-keyspace-events set to flags (through redis-py client r), yield
    collect(n): the next n (event, key) pairs published on __keyevent@0__.
    The setting is cleared on exit."""
    r.config_set("notify-keyspace-events", flags)
    sub = server.client()
    ps = sub.pubsub()
    ps.psubscribe("__keyevent@0__:*")
    ps.get_message(timeout=5)

    def collect(n: int) -> list:
        got = []
        while len(got) < n:
            m = ps.get_message(timeout=5)
            assert m is not None, got
            if m["type"] == "pmessage":
                got.append((m["channel"].split(b":", 1)[1], m["data"]))
        return got
    try:
        yield collect
    finally:
        ps.close()
        sub.close()
        r.config_set("notify-keyspace-events", "")


# -- command scripts run side by side on redis-server and securekv ----------------
# (tests/integration/test_dirty_counter.py, test_info_stats_parity.py)

def parse_script(text: str) -> list[tuple[str, object, str | None]]:
    """Parse a command script: one redis-cli inline command a line, `#` comments.
    Returns (kind, value, mark) items: ("sleep", seconds, None) for `@sleep S`;
    ("block", argv, mark) for `&CMD` (sent on its own connection, where it
    blocks); ("cmd", argv, mark) otherwise. `~MARK CMD` (a known difference,
    whose meaning is the test's) gives mark "MARK"."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from securekv.net.resp import split_args
    out = []
    for line in text.strip().split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@sleep"):
            out.append(("sleep", float(line.split()[1]), None))
            continue
        kind, mark = "cmd", None
        if line.startswith("&"):
            kind, line = "block", line[1:]
        elif line.startswith("~"):
            mark, line = line[1:].split(None, 1)
        args = split_args(line.encode())
        assert args is not None, line
        out.append((kind, args, mark))
    return out


def bulk(reply: bytes) -> bytes:
    """The payload of a raw bulk-string reply."""
    assert reply[:1] == b"$", reply
    return reply[reply.index(b"\r\n") + 2:-2]


def info_fields(conn: RawConn, *sections: str) -> dict[str, str]:
    """INFO <sections> on a raw connection, as {field: value}."""
    out = {}
    for line in bulk(conn.cmd("INFO", *sections)).decode().split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = v
    return out


def raw_blocked_clients(conn: RawConn) -> int:
    return int(info_fields(conn, "clients")["blocked_clients"])


def block_on(conn: RawConn, info: RawConn, args: list, timeout: float = 5.0) -> int:
    """Send a command that blocks on conn; return once INFO (on info) shows one
    more blocked client. Returns how many INFO commands that took."""
    n = raw_blocked_clients(info)
    conn.send(encode_command(*args))
    calls = 1
    deadline = time.monotonic() + timeout
    while True:
        calls += 1
        if raw_blocked_clients(info) != n:
            return calls
        assert time.monotonic() < deadline, f"{args} did not block"
        time.sleep(0.002)


def plain_value(r, key, t: str):
    """A non-stream key's value, comparable across servers (redis-py client r,
    t its TYPE): string and list as read, hash items and set members sorted,
    zset members with scores in order. Streams are compared by each caller."""
    if t == "string":
        return r.get(key)
    if t == "list":
        return r.lrange(key, 0, -1)
    if t == "hash":
        return sorted(r.hgetall(key).items())
    if t == "set":
        return sorted(r.smembers(key))
    if t == "zset":
        return r.zrange(key, 0, -1, withscores=True)
    raise ValueError(t)
