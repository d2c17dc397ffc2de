"""Expiry commands against a real server: relative/absolute times, options,
lazy and active expiry, notifications, MULTI, RESP3."""

import time

import pytest
import redis

from helpers import RawConn


def now_ms():
    return int(time.time() * 1000)


def test_expire_sets_absolute_times(r):
    r.set(b"k", b"v")
    t0 = now_ms()
    assert r.expire(b"k", 100) is True
    t1 = now_ms()
    pt = r.pexpiretime(b"k")
    assert t0 + 100000 <= pt <= t1 + 100000
    assert r.expiretime(b"k") == (pt + 500) // 1000
    assert 99 <= r.ttl(b"k") <= 100
    assert 99000 <= r.pttl(b"k") <= 100000
    assert r.pexpire(b"k", 5000) is True
    assert 4000 <= r.pttl(b"k") <= 5000
    at = int(time.time()) + 1000
    assert r.expireat(b"k", at) is True
    assert r.expiretime(b"k") == at
    assert r.pexpiretime(b"k") == at * 1000
    assert r.pexpireat(b"k", at * 1000 + 777) is True
    assert r.pexpiretime(b"k") == at * 1000 + 777


def test_gt_lt_with_real_ttls(r):
    r.set(b"k", b"v")
    r.expire(b"k", 100)
    assert r.expire(b"k", 200, gt=True) is True
    assert 199 <= r.ttl(b"k") <= 200
    assert r.expire(b"k", 150, gt=True) is False
    assert r.expire(b"k", 150, lt=True) is True
    assert r.expire(b"k", 160, lt=True) is False
    assert r.expire(b"k", 10, xx=True) is True
    assert r.expire(b"k", 10, nx=True) is False
    r.persist(b"k")
    assert r.expire(b"k", 10, gt=True) is False      # no TTL = infinite
    assert r.expire(b"k", 10, lt=True) is True


def test_lazy_expiry_on_access(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set(b"k", b"v", px=1)
        r.execute_command("DEBUG", "SLEEP", "0.01")
        assert r.dbsize() == 1
        assert r.ttl(b"k") == -2
        assert r.dbsize() == 0
        r.set(b"k", b"v", px=1)
        r.execute_command("DEBUG", "SLEEP", "0.01")
        assert r.expire(b"k", 100) is False          # lookupKeyWrite expired it
        assert r.persist(b"k") is False
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry(r):
    r.mset({b"k%d" % i: b"v" for i in range(100)})
    for i in range(100):
        r.pexpire(b"k%d" % i, 1)
    deadline = time.monotonic() + 10
    while r.dbsize():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_expire_in_the_past_deletes_and_notifies_del(server, r):
    r.config_set("notify-keyspace-events", "KEA")
    sub = RawConn(server.port)
    try:
        sub.cmd("SUBSCRIBE", "__keyevent@0__:del", "__keyevent@0__:expired")
        sub.read_reply()                # the second subscribe confirmation
        r.set(b"k", b"v")
        assert r.expire(b"k", -10) is True
        assert r.exists(b"k") == 0
        msg = sub.read_reply()
        assert msg == b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:del\r\n$1\r\nk\r\n"
    finally:
        r.config_set("notify-keyspace-events", "")
        sub.close()


def test_expired_event_on_lazy_expiry(server, r):
    r.config_set("notify-keyspace-events", "Ex")
    sub = RawConn(server.port)
    try:
        sub.cmd("SUBSCRIBE", "__keyevent@0__:expired")
        r.set(b"k", b"v", px=1)
        msg = sub.read_reply()          # active or lazy expiry: either fires it once
        assert msg == b"*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n"
    finally:
        r.config_set("notify-keyspace-events", "")
        sub.close()


def test_expire_inside_multi(r):
    r.set(b"k", b"v")
    p = r.pipeline(transaction=True)
    p.expire(b"k", 100, nx=True)
    p.expire(b"k", 100, nx=True)
    p.ttl(b"k")
    assert p.execute() == [True, False, 100]


def test_set_clears_ttl_and_rename_keeps_it(r):
    r.set(b"k", b"v", ex=100)
    r.set(b"k", b"w")
    assert r.ttl(b"k") == -1
    r.expire(b"k", 100)
    r.rename(b"k", b"k2")
    assert 99 <= r.ttl(b"k2") <= 100
    r.move(b"k2", 1)
    r.execute_command("SELECT", 1)
    assert 99 <= r.ttl(b"k2") <= 100
    r.execute_command("SELECT", 0)


def test_resp3_replies(server):
    c = RawConn(server.port)
    c.cmd("HELLO", "3")
    c.cmd("FLUSHALL")
    assert c.cmd("TTL", "nokey") == b":-2\r\n"
    c.cmd("SET", "k", "v")
    assert c.cmd("EXPIRE", "k", "100") == b":1\r\n"
    assert c.cmd("PERSIST", "k") == b":1\r\n"
    assert c.cmd("EXPIRE", "k", "100", "FOO") == b"-ERR Unsupported option FOO\r\n"
    c.close()


def test_error_names_the_command(r):
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT"):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(cmd, "k", "9223372036854775807")
        assert str(e.value) == f"invalid expire time in '{cmd.lower()}' command"
    assert r.execute_command("PEXPIREAT", "k", "9223372036854775807") == 0
