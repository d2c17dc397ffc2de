#!/usr/bin/env python3
"""The floor: the thinnest RESP server CPython can run, for bench/floor.

It is what securekv's network path is made of and nothing more: uvloop, a
hiredis Reader, a dict from command name to a handler, builtin containers
(dict, deque, set) and one transport.write per read. No command table, arity,
ACL, statistics, slow log, notifications, expiry, propagation, tenants, output
limits or error handling: a malformed or unknown request gets a generic error
and any other misuse may crash it. It knows only what redis-benchmark sends
for the rows bench/floor runs (PING, GET, SET, LPUSH, LPOP, RPUSH, SADD, HSET,
CONFIG, FLUSHALL, ECHO).

How close a Python server can come to redis-server is bounded by this
server's figures: a row where the floor itself reaches, say, 0.45x redis
cannot be won at 0.7x by a server that does more. Never use it for anything
but measuring.

    python bench/floor_server.py --port N [--bind 127.0.0.1] [ignored redis options ...]
"""

from __future__ import annotations

import asyncio
import collections
import sys

import hiredis
import uvloop

OK = b"+OK\r\n"
NULL = b"$-1\r\n"
STORE: dict = {}


def bulk(v: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(v), v)


def ping(a):
    return b"+PONG\r\n"


def get(a):
    v = STORE.get(a[1])
    return NULL if v is None else bulk(v)


def set_(a):
    STORE[a[1]] = a[2]
    return OK


def _list(key):
    v = STORE.get(key)
    if v is None:
        v = STORE[key] = collections.deque()
    return v


def lpush(a):
    v = _list(a[1])
    if len(a) == 3:
        v.appendleft(a[2])
    else:
        v.extendleft(a[2:])
    return b":%d\r\n" % len(v)


def rpush(a):
    v = _list(a[1])
    v.extend(a[2:])
    return b":%d\r\n" % len(v)


def lpop(a):
    v = STORE.get(a[1])
    if not v:
        return NULL
    r = v.popleft()
    if not v:
        del STORE[a[1]]
    return bulk(r)


def sadd(a):
    v = STORE.get(a[1])
    if v is None:
        v = STORE[a[1]] = set()
    n = len(v)
    if len(a) == 3:
        v.add(a[2])
    else:
        v.update(a[2:])
    return b":%d\r\n" % (len(v) - n)


def hset(a):
    v = STORE.get(a[1])
    if v is None:
        v = STORE[a[1]] = {}
    n = len(v)
    if len(a) == 4:
        v[a[2]] = a[3]
    else:
        it = iter(a[2:])
        v.update(zip(it, it))
    return b":%d\r\n" % (len(v) - n)


def config(a):
    return b"*0\r\n"


def echo(a):
    return bulk(a[1])


def flushall(a):
    STORE.clear()
    return OK


HANDLERS = {}
for _name, _f in {"PING": ping, "GET": get, "SET": set_, "LPUSH": lpush, "RPUSH": rpush,
                  "LPOP": lpop, "SADD": sadd, "HSET": hset,
                  "CONFIG": config, "FLUSHALL": flushall,
                  "ECHO": echo}.items():
    HANDLERS[_name.encode()] = HANDLERS[_name.lower().encode()] = _f


class Proto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.r = hiredis.Reader()

    def data_received(self, data):
        r = self.r
        r.feed(data)
        out = []
        get_handler = HANDLERS.get
        while True:
            req = r.gets()
            if req is False:
                break
            h = get_handler(req[0]) if type(req) is list else None
            out.append(h(req) if h is not None else b"-ERR unknown command\r\n")
        if out:
            self.t.write(b"".join(out))


def main(argv: list[str]) -> None:
    port, bind = 6379, "127.0.0.1"
    i = 0
    while i < len(argv):
        if argv[i] == "--port":
            port = int(argv[i + 1])
        elif argv[i] == "--bind":
            bind = argv[i + 1]
        i += 2 if argv[i].startswith("--") and i + 1 < len(argv) else 1
    uvloop.install()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(Proto, bind, port))
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main(sys.argv[1:])
