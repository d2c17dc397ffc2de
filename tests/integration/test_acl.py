"""ACL, AUTH and brute-force protection against real server processes.

Scenarios that a compat script cannot show: several clients, config files,
ACL files written by redis-server 7.0.15, argon2 verification off the event
loop, throttling by source address, and a DRYRUN property test that compares
random users x random commands x random keys with redis-server.
"""

from __future__ import annotations

import shutil
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import RawConn, ServerProcess, encode_command, redis_server_available

needs_redis = pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")

FAST_HASH = ["--acl-argon2-time-cost", "1", "--acl-argon2-memory-cost", "64"]
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
NOAUTH = b"-NOAUTH Authentication required.\r\n"


def conn_from(port: int, source: str) -> RawConn:
    """A RawConn whose socket connects from `source` (a loopback alias)."""
    c = RawConn.__new__(RawConn)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    c.sock = s
    c.buf = b""
    return c


def closed(c: RawConn) -> bool:
    """True when the server closed the connection (polls until it does or 5 s)."""
    try:
        c.read_until_closed(5.0)
        return True
    except TimeoutError:
        return False


@pytest.fixture(scope="module")
def skv():
    with ServerProcess(FAST_HASH) as s:
        yield s


@pytest.fixture(scope="module")
def redis_ref():
    if not redis_server_available():
        pytest.skip("redis-server not installed")
    with ServerProcess(kind="redis") as s:
        yield s


@pytest.fixture
def admin(skv):
    c = skv.raw()
    yield c
    for name in c_users(c):
        if name != b"default":
            c.cmd("ACL", "DELUSER", name)
    c.cmd("ACL", "LOG", "RESET")
    c.close()


def c_users(c: RawConn) -> list[bytes]:
    import hiredis
    r = hiredis.Reader()
    r.feed(c.cmd("ACL", "USERS"))
    return r.gets()


def canon(line: bytes) -> list:
    return sorted(line.split())


def parse(raw: bytes):
    import hiredis
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


# -- requirepass and config-file users ----------------------------------------------------------

def test_requirepass_compat():
    with ServerProcess(["--requirepass", "s3cret", *FAST_HASH]) as s:
        c = s.raw()
        assert c.cmd("GET", "k") == NOAUTH
        assert c.cmd("AUTH", "nope") == WRONGPASS
        assert c.cmd("AUTH", "s3cret") == b"+OK\r\n"
        assert c.cmd("ACL", "WHOAMI") == b"$7\r\ndefault\r\n"
        d = s.raw()
        assert d.cmd("AUTH", "default", "s3cret") == b"+OK\r\n"
        # CONFIG SET requirepass changes the default user's password at once
        assert c.cmd("CONFIG", "SET", "requirepass", "other") == b"+OK\r\n"
        e = s.raw()
        assert e.cmd("PING") == NOAUTH
        assert e.cmd("AUTH", "s3cret") == WRONGPASS
        assert e.cmd("AUTH", "other") == b"+OK\r\n"
        assert b"nopass" not in c.cmd("ACL", "LIST")
        # empty requirepass: nopass again, new connections need no AUTH
        assert c.cmd("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
        f = s.raw()
        assert f.cmd("PING") == b"+PONG\r\n"
        assert b"nopass" in c.cmd("ACL", "LIST")
        for x in (c, d, e, f):
            x.close()


def test_user_directives_in_config_file():
    conf = ("user alice on >alicepw ~app:* +@read +@write -flushall\n"
            "user bob on nopass ~* &* +@all (~sel:* +get)\n"
            "user default on nopass ~* &* +@all\n")
    with ServerProcess(FAST_HASH, conf_text=conf) as s:
        c = s.raw()
        assert parse(c.cmd("ACL", "USERS")) == [b"alice", b"bob", b"default"]
        a = s.raw()
        assert a.cmd("AUTH", "alice", "alicepw") == b"+OK\r\n"
        assert a.cmd("SET", "app:1", "v") == b"+OK\r\n"
        assert a.cmd("GET", "other").startswith(b"-NOPERM")
        assert a.cmd("FLUSHALL") == b"-NOPERM this user has no permissions to run the 'flushall' command\r\n"
        assert parse(c.cmd("ACL", "GETUSER", "bob"))[-1] == [
            [b"commands", b"-@all +get", b"keys", b"~sel:*", b"channels", b""]]
        a.close()
        c.close()


def test_bad_user_directive_aborts_startup():
    s = ServerProcess(conf_text="user alice on +nosuchcommand\n")
    with pytest.raises(RuntimeError):
        s.start()
    s.stop()
    assert "Error in user declaration" in s.output() or "nosuchcommand" in s.output()


# -- ACL files ------------------------------------------------------------------------------------

@needs_redis
def test_aclfile_written_by_redis_loads_unchanged(tmp_path):
    """An ACL file saved by redis-server 7.0.15 loads into securekv unchanged and
    grants the same permissions (DRYRUN and real commands agree)."""
    rdir = tmp_path / "redis"
    rdir.mkdir()
    (rdir / "users.acl").write_text("")
    rules = [
        ["alice", "on", ">alicepw", "~app:*", "%R~ro:*", "&news.*", "+@read", "+@write", "-flushall"],
        ["bob", "on", ">bobpw", ">bob2", "resetchannels", "~*", "+@all", "-@dangerous"],
        ["carol", "off", "nopass", "~c:*", "+get", "(%W~w:* +set)", "(+@hash ~h:*)"],
        ["dave", "on", "#" + "a" * 64, "allkeys", "allchannels", "+@read"],
        ["erin", "on", ">erinpw", "~e:*", "+config|get", "+select|0", "+@string"],
    ]
    with ServerProcess(["--aclfile", str(rdir / "users.acl")], kind="redis", cwd=str(rdir)) as r:
        rc = r.raw()
        for rule in rules:
            assert rc.cmd("ACL", "SETUSER", *rule) == b"+OK\r\n"
        assert rc.cmd("ACL", "SAVE") == b"+OK\r\n"
        redis_list = parse(rc.cmd("ACL", "LIST"))
        sdir = tmp_path / "skv"
        sdir.mkdir()
        shutil.copy(rdir / "users.acl", sdir / "users.acl")
        original = (sdir / "users.acl").read_bytes()
        with ServerProcess(["--aclfile", str(sdir / "users.acl"), *FAST_HASH],
                           cwd=str(sdir)) as s:
            sc = s.raw()
            # single +cmd rules come in Redis's dict order: compare rule multisets
            assert [canon(x) for x in parse(sc.cmd("ACL", "LIST"))] == [canon(x) for x in redis_list]
            probes = [("alice", "get", "app:1"), ("alice", "set", "ro:1", "v"), ("alice", "get", "ro:1"),
                      ("alice", "flushall"), ("alice", "publish", "news.x", "m"),
                      ("alice", "publish", "other", "m"), ("bob", "flushall"),
                      ("bob", "publish", "x", "m"), ("carol", "set", "w:1", "v"),
                      ("carol", "get", "w:1"), ("carol", "hget", "h:1", "f"), ("carol", "get", "c:1"),
                      ("dave", "get", "anything"), ("dave", "set", "a", "b"),
                      ("erin", "config", "get", "x"), ("erin", "config", "set", "x", "y"),
                      ("erin", "select", "0"), ("erin", "select", "1"), ("erin", "append", "e:1", "x")]
            for p in probes:
                assert sc.cmd("ACL", "DRYRUN", *p) == rc.cmd("ACL", "DRYRUN", *p), p
            for user, pw in (("alice", "alicepw"), ("bob", "bobpw"), ("bob", "bob2"),
                             ("erin", "erinpw"), ("alice", "bad"), ("carol", "x")):
                a, b = r.raw(), s.raw()
                assert b.cmd("AUTH", user, pw) == a.cmd("AUTH", user, pw), (user, pw)
                a.close()
                b.close()
            # SAVE from securekv (sha256 hashes as loaded) gives the same lines back
            assert sc.cmd("ACL", "SAVE") == b"+OK\r\n"
            assert sorted(canon(x) for x in (sdir / "users.acl").read_bytes().splitlines()) == \
                sorted(canon(x) for x in original.splitlines())
            sc.close()
        rc.close()


def test_acl_load_is_atomic_and_names_the_line(tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\nuser u1 on >pw ~* +@all\n")
    with ServerProcess(["--aclfile", str(path), *FAST_HASH], cwd=str(tmp_path)) as s:
        c = s.raw()
        u = s.raw()
        assert u.cmd("AUTH", "u1", "pw") == b"+OK\r\n"
        path.write_text("user default on nopass ~* &* +@all\nuser u2 on +nosuch\n")
        err = c.cmd("ACL", "LOAD")
        assert err.startswith(b"-ERR ") and b":2: " in err and b"no change" in err
        assert parse(c.cmd("ACL", "USERS")) == [b"default", b"u1"]
        assert u.cmd("PING") == b"+PONG\r\n"        # nothing changed: still connected
        # a good reload replaces the users: clients of the old u1 object are dropped
        path.write_text("user default on nopass ~* &* +@all\nuser u1 on >pw2 ~* +@all\n")
        assert c.cmd("ACL", "LOAD") == b"+OK\r\n"
        assert closed(u)
        n = s.raw()
        assert n.cmd("AUTH", "u1", "pw") == WRONGPASS
        assert n.cmd("AUTH", "u1", "pw2") == b"+OK\r\n"
        for x in (c, n):
            x.close()


# -- enforcement ----------------------------------------------------------------------------------

def _scenario(server, steps):
    """Run (conn index, args) steps over two connections; return the raw replies."""
    conns = [server.raw(), server.raw()]
    out = []
    for i, args in steps:
        out.append(conns[i].cmd(*args))
    for c in conns:
        c.close()
    return out


MULTI_STEPS = [
    (0, ("ACL", "SETUSER", "mu", "on", ">pw", "~k:*", "+@all")),
    (1, ("AUTH", "mu", "pw")),
    # queue-time check: the denied command is refused, EXEC aborts
    (1, ("MULTI",)),
    (1, ("SET", "k:1", "v")),
    (1, ("GET", "other")),
    (1, ("EXEC",)),
    # EXEC-time check: rules change between queueing and EXEC
    (1, ("MULTI",)),
    (1, ("SET", "k:1", "v")),
    (1, ("GET", "k:1")),
    (1, ("PING",)),
    (0, ("ACL", "SETUSER", "mu", "resetkeys", "~j:*")),
    (1, ("EXEC",)),
    (1, ("MULTI",)),
    (1, ("PING",)),
    (0, ("ACL", "SETUSER", "mu", "-ping")),
    (1, ("EXEC",)),
    (0, ("ACL", "DELUSER", "mu")),
]


@needs_redis
def test_multi_queue_and_exec_time_checks(skv, redis_ref, admin):
    assert _scenario(skv, MULTI_STEPS) == _scenario(redis_ref, MULTI_STEPS)


def test_deleting_a_user_disconnects_its_clients(admin, skv):
    admin.cmd("ACL", "SETUSER", "gone", "on", ">pw", "~*", "+@all")
    victims = [skv.raw() for _ in range(3)]
    for v in victims:
        assert v.cmd("AUTH", "gone", "pw") == b"+OK\r\n"
    bystander = skv.raw()
    assert admin.cmd("ACL", "DELUSER", "gone") == b":1\r\n"
    for v in victims:
        assert closed(v)
    assert bystander.cmd("PING") == b"+PONG\r\n"
    bystander.close()


def test_deleting_own_user_answers_then_closes(admin, skv):
    admin.cmd("ACL", "SETUSER", "selfdel", "on", ">pw", "~*", "+@all")
    c = skv.raw()
    assert c.cmd("AUTH", "selfdel", "pw") == b"+OK\r\n"
    assert c.cmd("ACL", "DELUSER", "selfdel") == b":1\r\n"
    assert closed(c)


def test_acl_log_entries(admin, skv):
    admin.cmd("ACL", "LOG", "RESET")
    admin.cmd("ACL", "SETUSER", "logu", "on", ">pw", "~k:*", "&c:*", "+@all", "-flushall")
    c = skv.raw()
    c.cmd("CLIENT", "SETNAME", "logger")
    assert c.cmd("AUTH", "logu", "pw") == b"+OK\r\n"
    c.cmd("GET", "secret")
    c.cmd("GET", "secret")
    c.cmd("FLUSHALL")
    c.cmd("PUBLISH", "news", "m")
    c.cmd("AUTH", "logu", "wrong")
    entries = [dict(zip(e[::2], e[1::2])) for e in parse(admin.cmd("ACL", "LOG"))]
    assert [e[b"reason"] for e in entries] == [b"auth", b"channel", b"command", b"key"]
    assert [e[b"object"] for e in entries] == [b"AUTH", b"news", b"flushall", b"secret"]
    assert entries[3][b"count"] == 2
    for e in entries:
        assert list(e) == [b"count", b"reason", b"context", b"object", b"username",
                           b"age-seconds", b"client-info"]
        assert e[b"username"] == b"logu"
        assert e[b"context"] == b"toplevel"
        assert b"name=logger" in e[b"client-info"]
        float(e[b"age-seconds"])
    assert b"cmd=get" in entries[3][b"client-info"]
    assert b"cmd=flushall" in entries[2][b"client-info"]
    assert len(parse(admin.cmd("ACL", "LOG", "1"))) == 1
    # the password of a failed AUTH is nowhere in the log
    assert b"wrong" not in admin.cmd("ACL", "LOG")
    assert admin.cmd("ACL", "LOG", "RESET") == b"+OK\r\n"
    assert admin.cmd("ACL", "LOG") == b"*0\r\n"
    c.close()


def test_acllog_max_len(admin):
    admin.cmd("CONFIG", "SET", "acllog-max-len", "3")
    admin.cmd("ACL", "SETUSER", "lm", "on", "nopass", "~*", "-@all")
    try:
        c = RawConn(admin.sock.getpeername()[1])
        c.cmd("AUTH", "lm", "x")
        for i in range(6):
            c.cmd("GET", "k%d" % i)
            c.cmd("SET", "k", "v%d" % i)
            c.cmd("INCR", "k%d" % i)
        assert len(parse(admin.cmd("ACL", "LOG", "100"))) == 3
        c.close()
    finally:
        admin.cmd("CONFIG", "SET", "acllog-max-len", "128")


# -- DRYRUN property test against redis-server ------------------------------------------------------

RULES = ["+@all", "-@all", "+@read", "+@write", "-@write", "+@string", "+@hash", "-@dangerous",
         "+get", "-get", "+set", "+mget", "+config|get", "+select|0", "-@keyspace", "+@list",
         "~a:*", "~b*", "%R~r:*", "%W~w:*", "%RW~x?", "~[ab]c", "allkeys", "resetkeys",
         "&ch:*", "allchannels", "resetchannels", "+publish", "+subscribe", "+@pubsub",
         "(+get ~s:*)", "(%R~*  +@read)", "(+@write %W~w2:*)", "(+set ~a:*)"]
KEYS = ["a:1", "b", "bz", "r:1", "w:1", "x1", "xy", "ac", "bc", "cc", "s:1", "w2:1", "zzz"]
CHANNELS = ["ch:1", "ch:*", "other", "*"]
COMMANDS = [
    ("get", 1), ("set", 1, "v"), ("set", 1, "v", "GET"), ("mget", 2), ("mset", 1, "v", 1, "v"),
    ("del", 2), ("exists", 1), ("incr", 1), ("append", 1, "x"), ("getdel", 1), ("copy", 2),
    ("rename", 2), ("lmove", 2, "left", "right"), ("rpoplpush", 2), ("hget", 1, "f"),
    ("hset", 1, "f", "v"), ("sinterstore", 3), ("zunionstore", 1, "2", 1, 1),
    ("bitfield", 1, "get", "u8", "0"), ("bitfield", 1, "set", "u8", "0", "1"),
    ("sort", 1), ("sort", 1, "store", 1), ("object", "encoding", 1), ("type", 1),
    ("config", "get", "maxmemory"), ("config", "set", "x", "y"), ("select", "0"), ("select", "1"),
    ("flushall",), ("keys", "*"), ("ping",), ("publish", "C", "m"), ("subscribe", "C", "C"),
    ("psubscribe", "C"), ("ssubscribe", "C"), ("spublish", "C", "m"), ("xread", "streams", 1, "0"),
    ("lcs", 2), ("touch", 2), ("geosearchstore", 2, "frommember", "m", "byradius", "1", "km"),
]


def _materialize(tmpl, draw_key, draw_chan):
    out = []
    for a in tmpl:
        if isinstance(a, int):
            out.extend(draw_key() for _ in range(a))
        elif a == "C":
            out.append(draw_chan())
        else:
            out.append(a)
    return out


@needs_redis
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_dryrun_agrees_with_redis(skv, redis_ref, data):
    rules = data.draw(st.lists(st.sampled_from(RULES), min_size=1, max_size=6))
    a, b = redis_ref.raw(), skv.raw()
    try:
        ra = a.cmd("ACL", "SETUSER", "prop", "reset", "on", "nopass", *rules)
        rb = b.cmd("ACL", "SETUSER", "prop", "reset", "on", "nopass", *rules)
        assert ra == rb, rules
        if not ra.startswith(b"+"):
            return
        for _ in range(8):
            tmpl = data.draw(st.sampled_from(COMMANDS))
            argv = _materialize(tmpl, lambda: data.draw(st.sampled_from(KEYS)),
                                lambda: data.draw(st.sampled_from(CHANNELS)))
            ea = a.cmd("ACL", "DRYRUN", "prop", *argv)
            eb = b.cmd("ACL", "DRYRUN", "prop", *argv)
            assert ea == eb, (rules, argv)
    finally:
        a.cmd("ACL", "DELUSER", "prop")
        b.cmd("ACL", "DELUSER", "prop")
        a.close()
        b.close()


# -- argon2 off the loop, throttling ----------------------------------------------------------------

def test_argon2_auth_does_not_block_other_clients():
    # a deliberately slow hash: ~tens of ms per verification or more
    with ServerProcess(["--acl-argon2-time-cost", "8", "--acl-argon2-memory-cost", "65536"]) as s:
        admin = s.raw()
        assert admin.cmd("ACL", "SETUSER", "slow", "on", ">pw", "~*", "+@all") == b"+OK\r\n"
        assert parse(admin.cmd("ACL", "GETUSER", "slow"))[3][0].startswith(b"$argon2id$")
        waiters = [s.raw() for _ in range(4)]
        for w in waiters:
            w.send(encode_command("AUTH", "slow", "pw"))
        # while the verifications run in threads, other clients are served
        served_while_pending = 0
        for _ in range(20):
            assert admin.cmd("PING") == b"+PONG\r\n"
            waiters[-1].sock.setblocking(False)
            try:
                pending = waiters[-1].sock.recv(1, socket.MSG_PEEK) == b""
            except BlockingIOError:
                pending = True
            waiters[-1].sock.setblocking(True)
            waiters[-1].sock.settimeout(30)
            if pending:
                served_while_pending += 1
        assert served_while_pending > 0
        for w in waiters:
            assert w.read_reply() == b"+OK\r\n"
            assert w.cmd("ACL", "WHOAMI") == b"$4\r\nslow\r\n"
            w.close()
        # a wrong password through the same path
        x = s.raw()
        assert x.cmd("AUTH", "slow", "bad") == WRONGPASS
        # HELLO AUTH goes through the same deferred verification
        assert x.cmd("HELLO", "3", "AUTH", "slow", "pw").startswith(b"%7\r\n")
        assert x.cmd("ACL", "WHOAMI") == b"$4\r\nslow\r\n"
        x.close()
        admin.close()


def test_bruteforce_throttling_by_address():
    with ServerProcess(["--auth-max-failures", "5", "--auth-failure-window", "60",
                        "--auth-lockout-time", "60", *FAST_HASH]) as s:
        admin = s.raw()
        admin.cmd("ACL", "SETUSER", "victim", "on", ">right", "~*", "+@all")
        admin.cmd("ACL", "SETUSER", "other", "on", ">otherpw", "~*", "+@all")
        attackers = [conn_from(s.port, "127.0.0.1") for _ in range(4)]
        replies = []
        for i in range(40):
            replies.append(attackers[i % 4].cmd("AUTH", "other" if i % 2 else "nobody", "guess%d" % i))
        assert replies[:5] == [WRONGPASS] * 5
        assert all(r.startswith(b"-ERR too many failed authentication") for r in replies[5:])
        # even the right password is refused from the locked address
        assert attackers[0].cmd("AUTH", "victim", "right").startswith(b"-ERR too many")
        # another address is unaffected
        good = conn_from(s.port, "127.0.0.2")
        assert good.cmd("AUTH", "victim", "right") == b"+OK\r\n"
        assert good.cmd("PING") == b"+PONG\r\n"
        # already-authenticated clients keep working
        assert admin.cmd("PING") == b"+PONG\r\n"
        # failures are visible in ACL LOG and INFO
        log = parse(admin.cmd("ACL", "LOG", "100"))
        assert any(dict(zip(e[::2], e[1::2]))[b"reason"] == b"auth" for e in log)
        info = parse(admin.cmd("INFO", "stats")).decode()
        assert "acl_access_denied_auth:" in info
        # throttling can be switched off at runtime
        assert admin.cmd("CONFIG", "SET", "auth-max-failures", "0") == b"+OK\r\n"
        assert attackers[1].cmd("AUTH", "victim", "right") == b"+OK\r\n"
        for c in attackers + [good, admin]:
            c.close()


def test_throttling_per_username_spares_other_users():
    with ServerProcess(["--auth-max-failures", "3", *FAST_HASH]) as s:
        admin = s.raw()
        admin.cmd("ACL", "SETUSER", "target", "on", ">tpw", "~*", "+@all")
        admin.cmd("ACL", "SETUSER", "bystander", "on", ">bpw", "~*", "+@all")
        # failures spread over many addresses still lock the username
        for i in range(3):
            c = conn_from(s.port, "127.0.0.%d" % (10 + i))
            assert c.cmd("AUTH", "target", "bad") == WRONGPASS
            c.close()
        c = conn_from(s.port, "127.0.0.20")
        assert c.cmd("AUTH", "target", "tpw").startswith(b"-ERR too many")
        assert c.cmd("AUTH", "bystander", "bpw") == b"+OK\r\n"
        c.close()
        admin.close()


# -- pub/sub channel permissions, keyspace filtering ------------------------------------------------

def _revoke_scenario(server):
    """(subscriber kept?, pattern subscriber kept?, unrelated subscriber kept?) after revoking."""
    admin = server.raw()
    admin.cmd("ACL", "SETUSER", "subu", "on", ">pw", "~*", "+@all", "resetchannels", "&news.*", "&sport")
    sub, psub, other = server.raw(), server.raw(), server.raw()
    for c in (sub, psub, other):
        assert c.cmd("AUTH", "subu", "pw") == b"+OK\r\n"
    assert sub.cmd("SUBSCRIBE", "news.1").startswith(b"*3\r\n")
    assert psub.cmd("PSUBSCRIBE", "news.*").startswith(b"*3\r\n")
    assert other.cmd("SUBSCRIBE", "sport").startswith(b"*3\r\n")
    # revoke news.* only (sport stays)
    assert admin.cmd("ACL", "SETUSER", "subu", "resetchannels", "&sport") == b"+OK\r\n"
    res = []
    for c in (sub, psub, other):
        res.append(not closed(c) if c is not other else True)
    # the remaining subscriber still receives messages
    assert admin.cmd("PUBLISH", "sport", "hi") == b":1\r\n"
    assert other.read_reply() == b"*3\r\n$7\r\nmessage\r\n$5\r\nsport\r\n$2\r\nhi\r\n"
    admin.cmd("ACL", "DELUSER", "subu")
    admin.close()
    return res


def test_revoking_a_channel_disconnects_its_subscribers(skv):
    assert _revoke_scenario(skv) == [False, False, True]


@needs_redis
def test_revoking_channels_like_redis(redis_ref):
    assert _revoke_scenario(redis_ref) == [False, False, True]


def test_pubsub_channel_checks(admin, skv):
    admin.cmd("ACL", "SETUSER", "chu", "on", ">pw", "~*", "+@all", "resetchannels", "&ch.*")
    c = skv.raw()
    c.cmd("AUTH", "chu", "pw")
    err = (b"-NOPERM this user has no permissions to access one of the channels used as "
           b"arguments\r\n")
    assert c.cmd("PUBLISH", "other", "m") == err
    assert c.cmd("SPUBLISH", "other", "m") == err
    assert c.cmd("PUBLISH", "ch.1", "m") == b":0\r\n"
    assert c.cmd("PSUBSCRIBE", "ch.1*") == err        # patterns compare literally
    assert c.cmd("SSUBSCRIBE", "other") == err
    assert c.cmd("SUBSCRIBE", "ch.1", "other") == err  # all or nothing
    assert c.cmd("PSUBSCRIBE", "ch.*").startswith(b"*3\r\n$10\r\npsubscribe")
    c.close()


def test_keyspace_filtering_for_restricted_users(admin, skv):
    for k in ("app:1", "app:2", "app:3", "secret:1", "secret:2", "w:1"):
        admin.cmd("SET", k, "v")
    admin.cmd("ACL", "SETUSER", "ks", "on", ">pw", "+@all", "~app:*", "%W~w:*")
    c = skv.raw()
    c.cmd("AUTH", "ks", "pw")
    assert sorted(parse(c.cmd("KEYS", "*"))) == [b"app:1", b"app:2", b"app:3"]
    assert parse(c.cmd("KEYS", "secret:*")) == []
    seen, cursor = set(), b"0"
    while True:
        cursor, batch = parse(c.cmd("SCAN", cursor, "COUNT", "2"))
        seen.update(batch)
        if cursor == b"0":
            break
    assert seen == {b"app:1", b"app:2", b"app:3"}
    for _ in range(20):
        assert parse(c.cmd("RANDOMKEY")) in (b"app:1", b"app:2", b"app:3")
    # the default user still sees everything
    assert len(parse(admin.cmd("KEYS", "*"))) == 6
    # a user with no readable key gets nil from RANDOMKEY
    admin.cmd("ACL", "SETUSER", "ks2", "on", ">pw", "+@all", "~none:*")
    d = skv.raw()
    d.cmd("AUTH", "ks2", "pw")
    assert d.cmd("RANDOMKEY") == b"$-1\r\n"
    # acl-filter-keyspace no: Redis's behaviour (names of every key)
    assert admin.cmd("CONFIG", "SET", "acl-filter-keyspace", "no") == b"+OK\r\n"
    try:
        assert len(parse(c.cmd("KEYS", "*"))) == 6
    finally:
        admin.cmd("CONFIG", "SET", "acl-filter-keyspace", "yes")
    admin.cmd("FLUSHALL")
    c.close()
    d.close()


def test_restricted_user_fast_gate_keeps_every_gate_step(admin, skv):
    """A restricted user's allowed commands skip the full gate only while nothing
    else applies: MULTI queueing, RESP2 subscribed mode, CLIENT PAUSE, DEBUG
    protection and rule changes still take effect, and denials are logged."""
    admin.cmd("ACL", "SETUSER", "fast", "on", ">pw", "+@all", "~key:*", "&*")
    c = skv.raw()
    assert c.cmd("AUTH", "fast", "pw") == b"+OK\r\n"
    assert c.cmd("SET", "key:1", "v") == b"+OK\r\n"
    assert c.cmd("GET", "key:1") == b"$1\r\nv\r\n"
    assert c.cmd("MGET", "key:1", "key:2") == b"*2\r\n$1\r\nv\r\n$-1\r\n"
    assert c.cmd("GET", "other") == b"-NOPERM this user has no permissions to access one of " \
                                     b"the keys used as arguments\r\n"
    assert b"other" in admin.cmd("ACL", "LOG", "1")
    # MULTI: queued, then checked again at EXEC
    assert c.cmd("MULTI") == b"+OK\r\n"
    assert c.cmd("GET", "key:1") == b"+QUEUED\r\n"
    assert c.cmd("EXEC") == b"*1\r\n$1\r\nv\r\n"
    # RESP2 subscribed mode still restricts commands
    c.send(encode_command("SUBSCRIBE", "ch"))
    c.read_reply()
    assert c.cmd("GET", "key:1").startswith(b"-ERR Can't execute 'get'")
    c.cmd("UNSUBSCRIBE", "ch")
    assert c.cmd("GET", "key:1") == b"$1\r\nv\r\n"
    # DEBUG keeps its enable-debug-command check (the test servers enable it)
    assert c.cmd("DEBUG", "SLEEP", "0") == b"+OK\r\n"
    # CLIENT PAUSE WRITE defers the restricted client's write until unpaused
    assert admin.cmd("CLIENT", "PAUSE", "10000", "WRITE") == b"+OK\r\n"
    c.send(encode_command("SET", "key:2", "w"))
    assert admin.cmd("GET", "key:2") == b"$-1\r\n"
    assert admin.cmd("CLIENT", "UNPAUSE") == b"+OK\r\n"
    assert c.read_reply() == b"+OK\r\n"
    # a rule change applies to the next command
    admin.cmd("ACL", "SETUSER", "fast", "resetkeys", "~other")
    assert c.cmd("GET", "key:1").startswith(b"-NOPERM")
    assert c.cmd("GET", "other") == b"$-1\r\n"
    admin.cmd("ACL", "SETUSER", "fast", "-get")
    assert c.cmd("GET", "other") == b"-NOPERM this user has no permissions to run the 'get' " \
                                    b"command\r\n"
    admin.cmd("FLUSHALL")
    c.close()


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_default_user_off_makes_new_connections_authenticate():
    """Redis's authRequired: with `ACL SETUSER default off` a new connection is not
    authenticated (NOAUTH), though the default user has no password; existing
    connections keep their authentication; `on` restores it (Redis's own
    unit/acl "When default user is off, new connections are not authenticated")."""
    def run(port):
        admin = RawConn(port)
        out = [admin.cmd("ACL", "SETUSER", "default", "off")]
        fresh = RawConn(port)
        out += [fresh.cmd("SELECT", "9"), fresh.cmd("PING"),
                fresh.cmd("AUTH", "default", "x"), admin.cmd("PING")]
        out.append(admin.cmd("ACL", "SETUSER", "default", "on"))
        out.append(RawConn(port).cmd("PING"))
        out.append(fresh.cmd("RESET"))
        out.append(fresh.cmd("PING"))
        return out
    with ServerProcess(kind="redis") as ref:
        want = run(ref.port)
    with ServerProcess() as s:
        assert run(s.port) == want
    assert b"NOAUTH" in want[1]
