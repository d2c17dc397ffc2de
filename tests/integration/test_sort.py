"""SORT / SORT_RO: bigger inputs, STORE as a write (WATCH, notifications, TTL),
sets and sorted sets, RESP3, key extraction."""

from __future__ import annotations

import random

import pytest
import redis

from helpers import keyevents


def test_sort_big_numeric_list(r):
    vals = list(range(20_000))
    random.Random(7).shuffle(vals)
    r.rpush("l", *vals)
    assert r.sort("l") == [str(v).encode() for v in range(20_000)]
    assert r.sort("l", start=100, num=3, desc=True) == [b"19899", b"19898", b"19897"]


def test_sort_by_and_get_patterns(r):
    r.rpush("ids", 1, 2, 3)
    r.mset({"weight_1": 30, "weight_2": 10, "weight_3": 20})
    r.hset("obj_1", "name", "one")
    r.hset("obj_2", "name", "two")
    assert r.sort("ids", by="weight_*") == [b"2", b"3", b"1"]
    assert r.sort("ids", by="weight_*", get=["#", "obj_*->name"]) == [
        b"2", b"two", b"3", None, b"1", b"one"]


def test_sort_store_is_a_write(server, r):
    r.rpush("l", 3, 1, 2)
    r.set("dst", "old")
    r.expire("dst", 100)
    w = server.client()
    try:
        p = w.pipeline()
        p.watch("dst")
        assert r.sort("l", store="dst") == 3
        p.multi()
        p.get("k")
        with pytest.raises(redis.WatchError):
            p.execute()
    finally:
        w.close()
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3"]
    assert r.ttl("dst") == -1


def test_sortstore_notification(server, r):
    with keyevents(server, r, "Elg") as collect:
        r.rpush("l", 2, 1)
        r.sort("l", store="dst")
        r.sort("nokey", store="dst")
        assert collect(3) == [(b"rpush", b"l"), (b"sortstore", b"dst"), (b"del", b"dst")]


def test_sort_ro_in_readonly_contexts(r):
    r.rpush("l", 2, 1)
    assert r.execute_command("SORT_RO", "l") == [b"1", b"2"]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT_RO", "l", "STORE", "x")


def test_sort_sets_and_zsets(r):
    r.sadd("s", *range(100))
    assert r.sort("s", desc=True, start=0, num=3) == [b"99", b"98", b"97"]
    r.sadd("w", "banana", "apple", "cherry")
    assert r.sort("w", alpha=True) == [b"apple", b"banana", b"cherry"]
    r.zadd("z", {"c": 1, "a": 3, "b": 2})
    assert r.sort("z", by="nosort") == [b"c", b"b", b"a"]
    assert r.sort("z", by="nosort", desc=True, start=1, num=1) == [b"b"]
    assert r.sort("z", alpha=True) == [b"a", b"b", b"c"]


def test_sort_resp3(server, r):
    c = server.client(protocol=3)
    try:
        c.rpush("l", "b", "a")
        assert c.execute_command("SORT", "l", "ALPHA", "GET", "#", "GET", "x_*") == [
            b"a", None, b"b", None]
    finally:
        c.close()


def test_command_getkeys(raw):
    assert raw.cmd("COMMAND", "GETKEYS", "SORT", "l", "STORE", "d") == \
        b"*2\r\n$1\r\nl\r\n$1\r\nd\r\n"
    assert raw.cmd("COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "w_*") == b"*1\r\n$1\r\nl\r\n"
