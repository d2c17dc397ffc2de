"""Memory calibration: the keyspace estimate (engine/memory.py, INFO
used_memory_dataset) against the real RSS growth of a securekv process, per
data type at realistic sizes. A fresh server per type (RSS does not shrink
after a flush), loaded through pipelines; RSS read from /proc/<pid>/statm
before and after, after a MEMORY PURGE.

    /tmp/venv/bin/python bench/memory_calibration.py [--scale 1.0]

Prints one line per type: keys, estimate, RSS growth, estimate / RSS.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from helpers import ServerProcess  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def load(r, kind: str, n: int, width: int, m: int = 20) -> None:
    """n keys of `kind`, each of m members/fields/elements/entries of ~width bytes."""
    p = r.pipeline(transaction=False)
    batch = max(1, 10_000 // m)
    for i in range(n):
        k = f"{kind}:{i:08d}"
        if kind == "string":
            p.set(k, "v" * width)
        elif kind == "hash":
            p.hset(k, mapping={f"field:{j}": "v" * width for j in range(m)})
        elif kind == "set":
            for j0 in range(0, m, 1000):
                p.sadd(k, *[f"member:{j}:{'m' * width}" for j in range(j0, min(m, j0 + 1000))])
        elif kind == "zset":
            for j0 in range(0, m, 1000):
                p.zadd(k, {f"member:{j}:{'m' * width}": j * 1.5
                           for j in range(j0, min(m, j0 + 1000))})
        elif kind == "list":
            p.rpush(k, *["e" * width for _ in range(m)])
        elif kind == "stream":
            for j in range(m):
                p.xadd(k, {"field": "v" * width, "n": str(j)})
        if i % batch == batch - 1:
            p.execute()
    p.execute()


CASES = [  # type, keys, value width, members per key
    ("string", 200_000, 100, 1),
    ("string", 20_000, 4096, 1),
    ("hash", 10_000, 32, 20),
    ("set", 10_000, 16, 20),
    ("set", 2_000, 1000, 20),
    ("set", 20, 16, 10_000),
    ("zset", 10_000, 16, 20),
    ("zset", 2_000, 1000, 20),
    ("zset", 20, 16, 10_000),
    ("list", 10_000, 64, 20),
    ("stream", 5_000, 32, 20),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    print(f"{'type':8} {'keys':>8} {'members':>8} {'width':>6} {'estimate':>12} "
          f"{'rss growth':>12} {'est/rss':>8}")
    for kind, n, width, m in CASES:
        n = max(1, int(n * args.scale))
        with ServerProcess() as s:
            r = s.client()
            r.execute_command("MEMORY", "PURGE")
            before = rss(s.proc.pid)
            est0 = r.info("memory")["used_memory_dataset"]
            load(r, kind, n, width, m)
            r.execute_command("MEMORY", "PURGE")
            grown = rss(s.proc.pid) - before
            est = r.info("memory")["used_memory_dataset"] - est0
            r.close()
        ratio = est / grown if grown > 0 else float("nan")
        print(f"{kind:8} {n:>8} {m:>8} {width:>6} {est:>12} {grown:>12} {ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
