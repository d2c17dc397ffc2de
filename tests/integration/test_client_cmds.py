"""CLIENT commands across real connections: LIST/INFO format, KILL filters,
PAUSE/UNPAUSE deferral, REPLY modes, UNBLOCK, NO-EVICT."""

import re
import socket
import time

import pytest

from helpers import RawConn, ServerProcess, encode_command, redis_server_available

FIELDS = ("id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem "
          "multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp").split()


def bulk(reply: bytes) -> bytes:
    head, rest = reply.split(b"\r\n", 1)
    assert head[:1] in (b"$", b"=")
    return rest[:-2]


def parse_line(line: bytes) -> dict:
    return dict(kv.split(b"=", 1) for kv in line.split(b" "))


def test_client_info_field_set_and_order(server):
    c = RawConn(server.port)
    body = bulk(c.cmd("CLIENT", "INFO"))
    assert body.endswith(b"\n") and body.count(b"\n") == 1
    keys = [kv.split(b"=", 1)[0].decode() for kv in body[:-1].split(b" ")]
    assert keys == FIELDS
    f = parse_line(body[:-1])
    assert f[b"id"] == c.cmd("CLIENT", "ID")[1:-2]
    assert f[b"flags"] == b"N" and f[b"db"] == b"0" and f[b"multi"] == b"-1"
    assert f[b"cmd"] == b"client|info" and f[b"user"] == b"default" and f[b"resp"] == b"2"
    assert f[b"argv-mem"] == b"10"      # "client" + "info", as Redis
    assert re.fullmatch(rb"127\.0\.0\.1:\d+", f[b"addr"])
    assert f[b"laddr"] == b"127.0.0.1:%d" % server.port
    c.close()


def test_client_list_types_ids_names_flags(server):
    a, b = RawConn(server.port), RawConn(server.port)
    assert a.cmd("CLIENT", "SETNAME", "alpha") == b"+OK\r\n"
    ida = int(a.cmd("CLIENT", "ID")[1:-2])
    idb = int(b.cmd("CLIENT", "ID")[1:-2])
    b.cmd("SELECT", "3")
    b.cmd("MULTI")
    b.cmd("SET", "k", "v")
    lines = bulk(a.cmd("CLIENT", "LIST", "ID", str(ida), str(idb), "999999")).splitlines()
    assert len(lines) == 2
    fa, fb = (parse_line(l) for l in lines)
    assert fa[b"name"] == b"alpha" and fa[b"cmd"] == b"client|list"
    assert fb[b"flags"] == b"x" and fb[b"db"] == b"3" and fb[b"multi"] == b"1"
    assert int(fb[b"multi-mem"]) == 5
    # Redis shows cmd=set here (lastcmd is set at lookup, before queueing); securekv
    # shows the last command that ran (multi).
    assert fb[b"cmd"] in (b"set", b"multi")
    normal = bulk(a.cmd("CLIENT", "LIST", "TYPE", "normal"))
    assert b"id=%d " % ida in normal and b"id=%d " % idb in normal
    assert bulk(a.cmd("CLIENT", "LIST", "TYPE", "pubsub")) == b""
    b.cmd("DISCARD")
    b.cmd("CLIENT", "NO-EVICT", "on")
    f = parse_line(bulk(b.cmd("CLIENT", "INFO"))[:-1])
    assert f[b"flags"] == b"e"
    s = RawConn(server.port)
    s.cmd("SUBSCRIBE", "chan")
    pubsub = bulk(a.cmd("CLIENT", "LIST", "TYPE", "pubsub"))
    assert pubsub.count(b"\n") == 1 and b"flags=P " in pubsub and b"sub=1 " in pubsub
    for x in (a, b, s):
        x.close()


def test_client_kill_filters(server):
    a, b, c = RawConn(server.port), RawConn(server.port), RawConn(server.port)
    idb = int(b.cmd("CLIENT", "ID")[1:-2])
    addr_c = parse_line(bulk(c.cmd("CLIENT", "INFO"))[:-1])[b"addr"]
    # by ID
    assert a.cmd("CLIENT", "KILL", "ID", str(idb)) == b":1\r\n"
    assert b.read_until_closed() == b""
    assert b"id=%d " % idb not in bulk(a.cmd("CLIENT", "LIST"))
    # old form by address
    assert a.cmd("CLIENT", "KILL", addr_c) == b"+OK\r\n"
    assert c.read_until_closed() == b""
    assert a.cmd("CLIENT", "KILL", addr_c) == b"-ERR No such client\r\n"
    # SKIPME
    d = RawConn(server.port)
    mine = parse_line(bulk(d.cmd("CLIENT", "INFO"))[:-1])
    assert d.cmd("CLIENT", "KILL", "ADDR", mine[b"addr"].decode()) == b":0\r\n"
    assert d.cmd("CLIENT", "KILL", "ADDR", mine[b"addr"].decode(), "SKIPME", "no") == b":1\r\n"
    assert d.read_until_closed() == b""
    # LADDR + USER + TYPE: every other normal client of the default user
    e, f = RawConn(server.port), RawConn(server.port)
    f.cmd("PING")
    n = int(e.cmd("CLIENT", "KILL", "LADDR", "127.0.0.1:%d" % server.port, "USER", "default",
                  "TYPE", "normal")[1:-2])
    assert n >= 2      # a, f (and any others of this module), never e itself
    assert f.read_until_closed() == b""
    assert e.cmd("PING") == b"+PONG\r\n"
    e.close()


def test_client_kill_maxage(server):
    a = RawConn(server.port)
    b = RawConn(server.port)
    idb = int(b.cmd("CLIENT", "ID")[1:-2])
    assert a.cmd("CLIENT", "KILL", "ID", str(idb), "MAXAGE", "3600") == b":0\r\n"
    assert a.cmd("CLIENT", "KILL", "MAXAGE", "0") == b"-ERR maxage should be greater than 0\r\n"
    deadline = time.monotonic() + 10
    while a.cmd("CLIENT", "KILL", "ID", str(idb), "MAXAGE", "1") != b":1\r\n":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert b.read_until_closed() == b""
    a.close()


def test_kill_self_old_form_replies_then_closes(server):
    a = RawConn(server.port)
    me = parse_line(bulk(a.cmd("CLIENT", "INFO"))[:-1])[b"addr"].decode()
    a.send(encode_command("CLIENT", "KILL", me) + encode_command("PING"))
    assert a.read_until_closed() == b"+OK\r\n"


def test_close_reason_killed_in_log(server):
    a, b = RawConn(server.port), RawConn(server.port)
    idb = b.cmd("CLIENT", "ID")[1:-2].decode()
    assert a.cmd("CLIENT", "KILL", "ID", idb) == b":1\r\n"
    b.read_until_closed()
    a.close()


# -- PAUSE ---------------------------------------------------------------------------

def no_reply(conn, wait=0.3) -> bool:
    conn.sock.settimeout(wait)
    try:
        data = conn.sock.recv(100)
    except socket.timeout:
        return True
    finally:
        conn.sock.settimeout(10)
    conn.buf += data
    return False


def test_pause_write_defers_writes_only(server):
    admin, w = RawConn(server.port), RawConn(server.port)
    w.cmd("SET", "pk", "1")
    idw = w.cmd("CLIENT", "ID")[1:-2].decode()
    try:
        assert admin.cmd("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
        assert w.cmd("GET", "pk") == b"$1\r\n1\r\n"
        w.send(encode_command("INCR", "pk") + encode_command("GET", "pk"))
        assert no_reply(w)              # INCR deferred, GET waits behind it
        assert admin.cmd("GET", "pk") == b"$1\r\n1\r\n"
        info = parse_line(bulk(admin.cmd("CLIENT", "LIST", "ID", idw))[:-1])
        assert info[b"flags"] == b"b"   # deferred clients show as blocked, as Redis
        m = RawConn(server.port)
        assert m.cmd("MULTI") == b"+OK\r\n"
        m.send(encode_command("SET", "pk2", "x"))
        assert no_reply(m)              # deferred before MULTI queueing, as Redis
        m.send(encode_command("EXEC"))
    finally:
        assert admin.cmd("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert w.read_reply() == b":2\r\n"
    assert w.read_reply() == b"$1\r\n2\r\n"
    assert m.read_reply() == b"+QUEUED\r\n"
    assert m.read_reply() == b"*1\r\n+OK\r\n"
    for x in (admin, w, m):
        x.close()


def test_pause_write_defers_may_replicate_commands(server):
    """PFCOUNT (it may rewrite the HLL) and PUBLISH are may_replicate in Redis 7.0
    (a flag COMMAND INFO hides): CLIENT PAUSE WRITE defers them too (Redis's own
    unit/pause "Test special commands are paused by RO")."""
    admin, a, b = RawConn(server.port), RawConn(server.port), RawConn(server.port)
    admin.cmd("PFADD", "hll", "x")
    try:
        assert admin.cmd("CLIENT", "PAUSE", "100000", "WRITE") == b"+OK\r\n"
        a.send(encode_command("PFCOUNT", "hll"))
        b.send(encode_command("PUBLISH", "ch", "m"))
        assert no_reply(a) and no_reply(b)
        assert b"blocked_clients:2" in admin.cmd("INFO", "clients")
        assert b"may_replicate" not in admin.cmd("COMMAND", "INFO", "pfcount", "publish")
    finally:
        assert admin.cmd("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert a.read_reply() == b":1\r\n"
    assert b.read_reply() == b":0\r\n"
    for x in (admin, a, b):
        x.close()


def test_pause_all_defers_everything_and_expires(server):
    admin, other = RawConn(server.port), RawConn(server.port)
    assert admin.cmd("CLIENT", "PAUSE", "500") == b"+OK\r\n"
    t0 = time.monotonic()
    other.send(encode_command("PING"))
    assert other.read_reply() == b"+PONG\r\n"          # answered once the pause ends
    assert time.monotonic() - t0 >= 0.3
    assert admin.cmd("PING") == b"+PONG\r\n"
    admin.close()
    other.close()


def test_pause_exec_with_writes_is_deferred(server):
    admin, m = RawConn(server.port), RawConn(server.port)
    m.cmd("MULTI")
    m.cmd("SET", "pe", "1")
    try:
        admin.cmd("CLIENT", "PAUSE", "100000", "WRITE")
        m.send(encode_command("EXEC"))
        assert no_reply(m)
    finally:
        admin.cmd("CLIENT", "UNPAUSE")
    assert m.read_reply() == b"*1\r\n+OK\r\n"
    admin.close()
    m.close()


def test_paused_client_disconnect_is_clean(server):
    admin, w = RawConn(server.port), RawConn(server.port)
    try:
        admin.cmd("CLIENT", "PAUSE", "100000", "WRITE")
        w.send(encode_command("SET", "gone", "1"))
        assert no_reply(w)
        w.close()
    finally:
        admin.cmd("CLIENT", "UNPAUSE")
    assert admin.cmd("PING") == b"+PONG\r\n"
    admin.close()


# -- REPLY ---------------------------------------------------------------------------

def test_client_reply_modes(server):
    c = RawConn(server.port)
    c.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SET", "rk", "1")
           + encode_command("CLIENT", "REPLY", "SKIP") + encode_command("GET", "rk")
           + encode_command("CLIENT", "REPLY", "ON") + encode_command("GET", "rk"))
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b"$1\r\n1\r\n"
    c.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("PING")
           + encode_command("ECHO", "a"))
    assert c.read_reply() == b"$1\r\na\r\n"
    c.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("CLIENT", "REPLY", "ON"))
    assert c.read_reply() == b"+OK\r\n"
    c.close()


# -- UNBLOCK ---------------------------------------------------------------------------

@pytest.mark.parametrize("how,reply", [
    ((), b"*-1\r\n"),
    (("TIMEOUT",), b"*-1\r\n"),
    (("ERROR",), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"),
])
def test_client_unblock(server, how, reply):
    admin, b = RawConn(server.port), RawConn(server.port)
    idb = b.cmd("CLIENT", "ID")[1:-2].decode()
    b.send(encode_command("BLPOP", "nolist", "0") + encode_command("PING"))
    deadline = time.monotonic() + 5
    while b"flags=b " not in bulk(admin.cmd("CLIENT", "LIST", "ID", idb)):
        assert time.monotonic() < deadline
    assert admin.cmd("CLIENT", "UNBLOCK", idb, *how) == b":1\r\n"
    assert b.read_reply() == reply
    assert b.read_reply() == b"+PONG\r\n"
    assert admin.cmd("CLIENT", "UNBLOCK", idb) == b":0\r\n"
    admin.close()
    b.close()


def test_tracking_on_is_refused_honestly(server):
    c = RawConn(server.port)
    assert c.cmd("CLIENT", "TRACKING", "on").startswith(b"-ERR client-side caching")
    assert c.cmd("CLIENT", "TRACKING", "off") == b"+OK\r\n"
    assert c.cmd("CLIENT", "GETREDIR") == b":-1\r\n"
    c.close()


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
@pytest.mark.parametrize("proto", ["2", "3"])
def test_reply_off_keeps_pubsub_pushes_as_redis(server, proto):
    """Redis's CLIENT_PUSHING: under CLIENT REPLY OFF/SKIP the (un)subscribe
    confirmations and messages are still sent (Redis's own unit/pubsub "PubSub
    messages with CLIENT REPLY OFF"); the bytes are compared with redis-server."""
    def run(port):
        sub, pub = RawConn(port), RawConn(port)
        sub.cmd("HELLO", proto)
        got = []
        sub.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SUBSCRIBE", "ch")
                 + encode_command("PSUBSCRIBE", "c*"))
        got += [sub.read_reply(), sub.read_reply()]
        if proto == "3":
            sub.send(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("PING")
                     + encode_command("CLIENT", "REPLY", "OFF"))
        pub.cmd("PUBLISH", "ch", "hello")
        got += [sub.read_reply(), sub.read_reply()]
        sub.send(encode_command("UNSUBSCRIBE", "ch") + encode_command("PUNSUBSCRIBE"))
        got += [sub.read_reply(), sub.read_reply()]
        sub.send(encode_command("CLIENT", "REPLY", "ON") + encode_command("PING"))
        got += [sub.read_reply(), sub.read_reply()]
        sub.close()
        pub.close()
        return got
    with ServerProcess(kind="redis") as ref:
        want = run(ref.port)
    assert run(server.port) == want
