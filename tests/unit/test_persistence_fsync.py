"""appendfsync always batches fsync per event-loop tick: every client that
flushes while writes are unsynced is held, one tick writes + fsyncs once and
then flushes them; nothing is flushed before that fsync. everysec/no share one
write per tick the same way, without the fsync."""

from __future__ import annotations

import os
import tempfile

from securekv.persistence import aof as aofmod
from securekv.persistence.aof import AOF


class FakeLoop:
    def __init__(self):
        self.soon = []

    def call_soon(self, fn, *a):
        self.soon.append((fn, a))

    def run_once(self):
        todo, self.soon = self.soon, []
        for fn, a in todo:
            fn(*a)


class FakeServer:
    def __init__(self, policy):
        self.config = {"appendfsync": policy}
        self.keyspace = object()
        self.loop = FakeLoop()
        self.propagation_subscribers = []

    def log_warning(self, msg):
        raise AssertionError(msg)


class FakeClient:
    def __init__(self, cid, aof, events):
        self.id = cid
        self.aof = aof
        self.events = events
        self.out = []

    def flush(self):                        # Client.flush's contract
        if not self.out:
            return
        if self.aof.before_reply(self):
            return
        self.events.append(("reply", self.id, list(self.out)))
        self.out.clear()


def make(policy, monkeypatch):
    events = []
    server = FakeServer(policy)
    a = AOF(server, snap=None)
    fd, path = tempfile.mkstemp()
    a.fd = fd
    real = os.fsync
    monkeypatch.setattr(aofmod.os, "fsync", lambda f: (events.append(("fsync", f)), real(f)))
    return a, server, events, path


def test_always_one_fsync_per_tick_and_replies_after_it(monkeypatch):
    a, server, events, path = make("always", monkeypatch)
    clients = [FakeClient(i, a, events) for i in range(5)]
    for c in clients:                       # five clients served in one loop iteration
        a.feed(c, 0, [[b"SET", b"k%d" % c.id, b"v"]])
        c.out.append(b"+OK\r\n")
        c.flush()
    reader = FakeClient(99, a, events)      # a read in the same iteration waits too
    reader.out.append(b"$1\r\nv\r\n")
    reader.flush()
    assert events == [] and len(server.loop.soon) == 1
    server.loop.run_once()
    assert events[0][0] == "fsync"
    assert [e[0] for e in events].count("fsync") == 1
    assert sorted(e[1] for e in events[1:]) == [0, 1, 2, 3, 4, 99]
    data = open(path, "rb").read()
    assert data.count(b"SET") == 5 and data.startswith(b"*2\r\n$6\r\nSELECT")
    # nothing pending: replies go straight out, no fsync
    events.clear()
    reader.out.append(b"+PONG\r\n")
    reader.flush()
    assert events == [("reply", 99, [b"+PONG\r\n"])] and not server.loop.soon
    # the cron (no client) syncs at once
    a.feed(None, 0, [[b"DEL", b"x"]])
    a.before_reply(None)
    assert events[-1][0] == "fsync" and not a.unsynced


def test_everysec_one_write_per_tick_no_fsync(monkeypatch):
    a, server, events, path = make("everysec", monkeypatch)
    clients = [FakeClient(i, a, events) for i in range(3)]
    for c in clients:
        a.feed(c, 0, [[b"SET", b"k", b"v"]])
        c.out.append(b"+OK\r\n")
        c.flush()
    assert events == [] and open(path, "rb").read() == b""     # held until the write
    server.loop.run_once()
    assert [e[0] for e in events] == ["reply"] * 3              # no fsync: the thread's
    assert open(path, "rb").read().count(b"SET") == 3           # written before the replies
    assert a.fsync_pending and not a.unsynced
    c = clients[0]
    c.out.append(b"+PONG\r\n")
    c.flush()                                                   # nothing pending: straight out
    assert events[-1] == ("reply", 0, [b"+PONG\r\n"])


def test_switching_policy_releases_held_clients(monkeypatch):
    a, server, events, path = make("always", monkeypatch)
    c = FakeClient(1, a, events)
    a.feed(c, 0, [[b"SET", b"k", b"v"]])
    c.out.append(b"+OK\r\n")
    c.flush()
    a.always = False                               # CONFIG SET appendfsync everysec
    server.loop.run_once()
    assert events[-1] == ("reply", 1, [b"+OK\r\n"])
