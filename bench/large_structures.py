#!/usr/bin/env python3
"""Large structures stay usable: a 1,000,000-member sorted set and a
1,000,000-entry stream, in securekv and in redis-server, same machine, same run.

    python bench/large_structures.py [--size 1000000] [--calls 2000]

Loads (untimed, pipelined through redis-cli --pipe):
  zs   ZADD score i member "m:<i>" for i < size
  st   XADD with IDs <i+1>-0 and one field/value pair
then times, each over --calls calls with random arguments:
  ZRANK zs m:<random>
  ZRANGEBYSCORE zs <random> +inf LIMIT 0 10
  XRANGE st <random>-0 + COUNT 10
and prints, per server and command, the server-side execution time (from
SLOWLOG with slowlog-log-slower-than 0: the time Redis and securekv measure
around the command itself) and the client round trip (one command at a time
on one connection), as median and p99 in microseconds.

This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import platform
import random
import socket
import subprocess
import sys
import time

import hiredis

_compare = importlib.util.module_from_spec(importlib.util.spec_from_loader(
    "compare", importlib.machinery.SourceFileLoader(
        "compare", os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare"))))
_compare.__loader__.exec_module(_compare)          # bench/compare: Srv, resp, rss_kb
Srv, resp, rss_kb = _compare.Srv, _compare.resp, _compare.rss_kb


def connect(port: int):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def call(sock, reader, *args):
    sock.sendall(resp(*args))
    while True:
        r = reader.gets()
        if r is not False:
            return r
        reader.feed(sock.recv(1 << 20))


def pipe(port: int, commands) -> None:
    """Send RESP commands in chunks through redis-cli --pipe."""
    batch = []
    for cmd in commands:
        batch.append(cmd)
        if len(batch) >= 100_000:
            _pipe(port, batch)
            batch = []
    if batch:
        _pipe(port, batch)


def _pipe(port: int, batch) -> None:
    p = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=b"".join(batch),
                       capture_output=True, timeout=1200)
    if p.returncode or b"errors: 0" not in p.stdout:
        raise RuntimeError(f"load failed: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")


def load(port: int, size: int) -> float:
    t = time.monotonic()
    pipe(port, (resp("ZADD", "zs", *[x for m in range(i, min(i + 1000, size))
                                     for x in (m, b"m:%d" % m)])
                for i in range(0, size, 1000)))
    pipe(port, (resp("XADD", "st", b"%d-0" % (i + 1), "field", b"value:%d" % i)
                for i in range(size)))
    return time.monotonic() - t


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure(port: int, size: int, calls: int, seed: int) -> dict:
    sock = connect(port)
    reader = hiredis.Reader()
    assert call(sock, reader, "ZCARD", "zs") == size
    assert call(sock, reader, "XLEN", "st") == size
    call(sock, reader, "CONFIG", "SET", "slowlog-max-len", str(calls + 10))
    results = {}
    tests = {
        "ZRANK": lambda r: ("ZRANK", "zs", b"m:%d" % r.randrange(size)),
        "ZRANGEBYSCORE LIMIT 0 10": lambda r: ("ZRANGEBYSCORE", "zs", r.randrange(size), "+inf",
                                               "LIMIT", "0", "10"),
        "XRANGE COUNT 10": lambda r: ("XRANGE", "st", b"%d-0" % r.randrange(1, size + 1), "+",
                                      "COUNT", "10"),
    }
    for name, gen in tests.items():
        rnd = random.Random(seed)
        cmds = [gen(rnd) for _ in range(calls)]
        for c in cmds[:100]:                       # warm up
            call(sock, reader, *c)
        call(sock, reader, "CONFIG", "SET", "slowlog-log-slower-than", "0")
        call(sock, reader, "SLOWLOG", "RESET")
        rtt = []
        for c in cmds:
            t = time.perf_counter()
            call(sock, reader, *c)
            rtt.append((time.perf_counter() - t) * 1e6)
        call(sock, reader, "CONFIG", "SET", "slowlog-log-slower-than", "10000")
        log = call(sock, reader, "SLOWLOG", "GET", str(calls + 10))
        first = cmds[0][0].encode() if isinstance(cmds[0][0], str) else cmds[0][0]
        exec_us = [e[2] for e in log if e[3] and e[3][0].upper() == first.upper()]
        results[name] = (pct(exec_us, 0.5), pct(exec_us, 0.99), pct(rtt, 0.5), pct(rtt, 0.99),
                         len(exec_us))
    sock.close()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    py = os.path.join(root, ".venv", "bin", "python")
    if not os.path.exists(py):
        py = sys.executable
    redis = Srv("redis", ["redis-server"])
    skv = Srv("securekv", [py, "-m", "securekv", "server"])
    try:
        ver = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"# bench/large_structures.py {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}: "
              f"{os.cpu_count()} cores, Python {platform.python_version()}; reference: {ver}")
        res, info = {}, {}
        for srv in (redis, skv):
            secs = load(srv.port, args.size)
            info[srv.name] = (secs, rss_kb(srv.proc.pid))
            res[srv.name] = measure(srv.port, args.size, args.calls, args.seed)
        print(f"# {args.size:,}-member sorted set + {args.size:,}-entry stream; "
              f"{args.calls} calls each, random arguments")
        for name, (secs, rss) in info.items():
            print(f"#   {name}: loaded in {secs:.1f} s, VmRSS {rss / 1024:.0f} MiB")
        print()
        print("| command | server | exec median us | exec p99 us | round trip median us | round trip p99 us |")
        print("|---|---|---:|---:|---:|---:|")
        for test in res["redis"]:
            for name in ("redis", "securekv"):
                m, p, rm, rp, _n = res[name][test]
                print(f"| {test} | {name} | {m} | {p} | {rm:.0f} | {rp:.0f} |")
    finally:
        redis.stop()
        skv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
