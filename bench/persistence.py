#!/usr/bin/env python3
"""Persistence, securekv vs redis-server on the same machine in the same run.

    python bench/persistence.py [--keys 1000000] [--repeat 3] [--set-requests 20000]

1. A dump of --keys string keys is written ONCE by redis-server (DEBUG POPULATE,
   SAVE). Each server then, --repeat times:
   - load:  starts on that dump.rdb; the time is the server's own
            "DB loaded from disk: <s> seconds" log line (both print it), and the
            wall time from exec to the first PING answered;
   - BGSAVE of the loaded dataset: wall time from the command to
            rdb_bgsave_in_progress:0 (polled every 10 ms), and the parent's GET
            throughput meanwhile (redis-benchmark GET -c 50, its running "overall"
            rps when the save ends) next to the same GET run for as long with
            nothing in the background;
   - BGREWRITEAOF: the same, after CONFIG SET appendonly yes (in securekv that
            first base is written synchronously: its time is reported as well).
2. SET throughput (redis-benchmark -t set -c 50 -P 1, --set-requests requests) on an
   empty server with appendonly no / appendfsync everysec / appendfsync always.

Medians over --repeat runs (the machine is shared: single runs are noisy).
Prints one table. This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port: int, *args) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                          text=True, timeout=600).stdout.strip()


def info(port: int, field: str) -> str:
    for line in cli(port, "INFO", "persistence").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return ""


class Server:
    def __init__(self, kind: str, d: str, args=()) -> None:
        self.kind = kind
        self.dir = d
        self.port = free_port()
        base = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", d,
                "--appendonly", "no", "--enable-debug-command", "yes"]
        cmd = (["redis-server"] if kind == "redis" else [PY, "-m", "securekv", "server"])
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.log = os.path.join(d, "server.log")
        self.t0 = time.monotonic()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd + base + list(args), stdout=log,
                                         stderr=subprocess.STDOUT, cwd=d, env=env)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{kind} exited: {open(self.log).read()[-2000:]}")
            try:
                if cli(self.port, "PING") == "PONG":
                    break
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.01)
        self.ready = time.monotonic() - self.t0

    def loaded_seconds(self) -> float | None:
        m = re.search(r"DB loaded from disk: ([\d.]+) seconds", open(self.log, errors="replace").read())
        return float(m.group(1)) if m else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class GetLoad:
    """redis-benchmark GET running until stop(); returns its overall rps."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(
            ["redis-benchmark", "-p", str(port), "-t", "get", "-n", "1000000000", "-c", "50",
             "-r", "1000000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def stop(self) -> float:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        vals = re.findall(rb"rps=[\d.]+ \(overall: ([\d.]+)\)", out)
        return float(vals[-1]) if vals else 0.0


def timed_background(port: int, command: str, flag: str) -> tuple[float, float]:
    """(seconds until `flag` is 0 again, GET rps meanwhile)."""
    load = GetLoad(port)
    time.sleep(0.5)                     # let redis-benchmark connect and warm up
    t0 = time.monotonic()
    reply = cli(port, command)
    if "started" not in reply and "scheduled" not in reply:
        load.stop()
        raise RuntimeError(f"{command}: {reply}")
    time.sleep(0.01)
    while info(port, flag) != "0":
        time.sleep(0.01)
    dt = time.monotonic() - t0
    return dt, load.stop()


def baseline_get(port: int, seconds: float) -> float:
    load = GetLoad(port)
    time.sleep(0.5 + max(seconds, 1.0))
    return load.stop()


def make_dump(keys: int) -> str:
    d = tempfile.mkdtemp(prefix="bench-persist-src-")
    s = Server("redis", d)
    try:
        cli(s.port, "DEBUG", "POPULATE", keys, "key", 16)
        cli(s.port, "SAVE")
    finally:
        s.stop()
    return os.path.join(d, "dump.rdb")


def fresh_dir(dump: str | None) -> str:
    d = tempfile.mkdtemp(prefix="bench-persist-")
    if dump:
        shutil.copy(dump, os.path.join(d, "dump.rdb"))
    return d


def round_dataset(kind: str, dump: str) -> dict:
    d = fresh_dir(dump)
    s = Server(kind, d)
    out = {"ready": s.ready, "load": s.loaded_seconds(), "dbsize": cli(s.port, "DBSIZE")}
    try:
        out["bgsave"], out["get_bgsave"] = timed_background(s.port, "BGSAVE",
                                                           "rdb_bgsave_in_progress")
        out["get_idle"] = baseline_get(s.port, out["bgsave"])
        t0 = time.monotonic()
        cli(s.port, "CONFIG", "SET", "appendonly", "yes")
        out["aof_enable"] = time.monotonic() - t0       # securekv: synchronous first base
        while info(s.port, "aof_rewrite_in_progress") != "0":
            time.sleep(0.01)
        out["aof_enable_total"] = time.monotonic() - t0
        out["bgrewrite"], out["get_bgrewrite"] = timed_background(s.port, "BGREWRITEAOF",
                                                                 "aof_rewrite_in_progress")
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)
    return out


def round_set(kind: str, mode: str, n: int) -> float:
    d = fresh_dir(None)
    args = [] if mode == "off" else ["--appendonly", "yes", "--appendfsync", mode]
    s = Server(kind, d, args)
    try:
        p = subprocess.run(["redis-benchmark", "-p", str(s.port), "-t", "set", "-n", str(n),
                            "-c", "50", "-r", "100000", "-q", "--csv"],
                           capture_output=True, text=True, timeout=900)
        m = re.search(r'"SET","([\d.]+)"', p.stdout)
        return float(m.group(1)) if m else 0.0
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--set-requests", type=int, default=20000)
    ap.add_argument("--skip-dataset", action="store_true")
    ap.add_argument("--skip-set", action="store_true")
    a = ap.parse_args()
    print(f"# {a.keys} keys, {a.repeat} repeats, medians; host load {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} CPUs", flush=True)
    rows = []
    if not a.skip_dataset:
        dump = make_dump(a.keys)
        print(f"# dump.rdb by redis-server: {os.path.getsize(dump) >> 20} MiB", flush=True)
        res = {"redis": [], "securekv": []}
        for i in range(a.repeat):
            for kind in ("redis", "securekv"):          # alternated: same noise for both
                r = round_dataset(kind, dump)
                res[kind].append(r)
                print(f"  run {i + 1} {kind}: " + " ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()),
                    flush=True)
        shutil.rmtree(os.path.dirname(dump), ignore_errors=True)

        def row(label, key, unit, fmt="{:.2f}"):
            rv, sv = med([r[key] for r in res["redis"]]), med([r[key] for r in res["securekv"]])
            ratio = sv / rv if rv else float("nan")
            rows.append((label, unit, fmt.format(rv), fmt.format(sv), f"{ratio:.2f}"))

        row("load dump.rdb (server's own time)", "load", "s")
        row("start to first PING (incl. load)", "ready", "s")
        row("BGSAVE", "bgsave", "s")
        row("GET while idle", "get_idle", "ops/s", "{:,.0f}")
        row("GET during BGSAVE", "get_bgsave", "ops/s", "{:,.0f}")
        row("CONFIG SET appendonly yes (returns)", "aof_enable", "s")
        row("  ... first AOF base done", "aof_enable_total", "s")
        row("BGREWRITEAOF", "bgrewrite", "s")
        row("GET during BGREWRITEAOF", "get_bgrewrite", "ops/s", "{:,.0f}")
    if not a.skip_set:
        for mode in ("off", "everysec", "always"):
            vals = {"redis": [], "securekv": []}
            for _ in range(a.repeat):
                for kind in ("redis", "securekv"):
                    vals[kind].append(round_set(kind, mode, a.set_requests))
            rv, sv = med(vals["redis"]), med(vals["securekv"])
            print(f"  SET appendfsync={mode}: redis {vals['redis']} securekv {vals['securekv']}",
                  flush=True)
            label = "SET, no persistence" if mode == "off" else f"SET, appendfsync {mode}"
            rows.append((label, "ops/s", f"{rv:,.0f}", f"{sv:,.0f}",
                         f"{sv / rv:.2f}" if rv else "nan"))
    w = max(len(r[0]) for r in rows) if rows else 10
    print()
    print(f"{'measure':<{w}}  {'unit':<6} {'redis-server':>14} {'securekv':>14} {'ratio':>7}")
    for label, unit, rv, sv, ratio in rows:
        print(f"{label:<{w}}  {unit:<6} {rv:>14} {sv:>14} {ratio:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
