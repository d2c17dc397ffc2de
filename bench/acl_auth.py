"""Authentication figures: argon2id verifications per second (cold and cached),
and a brute-force run against the throttling directives. Prints tables.

    python bench/acl_auth.py [--seconds 3] [--users 40] [--attempts 2000]
                             [--connections 20] [--max-failures 10]

1. In-process (acl.passwords.Hasher with securekv's default argon2id parameters):
   verifications per second with the cache of recently verified credentials
   off (cold) and on (cached).
2. End to end against a securekv server: AUTH per second over 8 connections,
   cold (each of --users users with its own password, authenticated once, so
   every AUTH runs argon2 in the server's thread pool) and cached (the same
   credentials again).
3. Brute force: --attempts wrong-password AUTHs for user `victim` from 127.0.0.1
   over --connections connections, with auth-max-failures --max-failures (the
   default 10), auth-failure-window 60, auth-lockout-time 60. Attempts the
   server evaluated (-WRONGPASS) vs refused (throttled) per second, before and
   after the first refusal; meanwhile a client from 127.0.0.2 authenticates
   correctly as `app` in a loop (it must succeed throughout) and, for the
   record, as `victim` (locked by the per-username counter while the lockout
   lasts: that is the documented design).

A measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from acl.passwords import Hasher  # noqa: E402
from helpers import RawConn, ServerProcess  # noqa: E402
from securekv.config import Config  # noqa: E402

WRONGPASS = b"-WRONGPASS"


def defaults():
    cfg = Config()
    return (cfg["acl-argon2-time-cost"], cfg["acl-argon2-memory-cost"],
            cfg["acl-argon2-parallelism"])


def rate(fn, seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def in_process(seconds: float) -> None:
    t, m, p = defaults()
    cold = Hasher("argon2id", t, m, p, cache_size=0)
    warm = Hasher("argon2id", t, m, p)
    stored = cold.hash(b"correct horse")
    warm.matches(stored, b"correct horse")
    print(f"argon2id in process (time-cost {t}, memory-cost {m} KiB, parallelism {p}), one thread")
    print(f"  {'cold (cache off)':<22}{rate(lambda: cold.matches(stored, b'correct horse'), seconds):>10.1f} verifications/s")
    print(f"  {'cached':<22}{rate(lambda: warm.matches(stored, b'correct horse'), seconds):>10.1f} verifications/s")


def conn(port: int, source: str = "127.0.0.1") -> RawConn:
    import socket
    c = RawConn.__new__(RawConn)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    c.sock, c.buf = s, b""
    return c


def parallel(port: int, jobs: list, workers: int):
    """Run AUTH jobs [(user, password)] over `workers` connections; (seconds, replies)."""
    replies, lock = [], threading.Lock()
    it = iter(jobs)

    def run():
        c = conn(port)
        while True:
            with lock:
                job = next(it, None)
            if job is None:
                break
            r = c.cmd("AUTH", *job)
            with lock:
                replies.append(r)
        c.close()
    threads = [threading.Thread(target=run) for _ in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, replies


def end_to_end(users: int) -> None:
    with ServerProcess(["--auth-max-failures", "0"]) as s:
        admin = s.raw()
        for i in range(users):
            admin.cmd("ACL", "SETUSER", f"u{i}", "on", f">pw{i}", "~*", "+@all")
        admin.close()
        jobs = [(f"u{i}", f"pw{i}") for i in range(users)]
        dt, r = parallel(s.port, jobs, 8)
        assert all(x == b"+OK\r\n" for x in r), r[:3]
        print(f"AUTH end to end over 8 connections ({os.cpu_count()} cores)")
        print(f"  {'cold (argon2)':<22}{users / dt:>10.1f} AUTH/s   ({users} users, {dt:.2f} s)")
        jobs = jobs * max(1, 4000 // users)
        dt, r = parallel(s.port, jobs, 8)
        assert all(x == b"+OK\r\n" for x in r)
        print(f"  {'cached':<22}{len(jobs) / dt:>10.1f} AUTH/s   ({len(jobs)} AUTHs, {dt:.2f} s)")


def brute_force(attempts: int, connections: int, max_failures: int) -> None:
    args = ["--auth-max-failures", str(max_failures), "--auth-failure-window", "60",
            "--auth-lockout-time", "60"]
    with ServerProcess(args) as s:
        admin = s.raw()
        admin.cmd("ACL", "SETUSER", "victim", "on", ">the-real-one", "~*", "+@all")
        admin.cmd("ACL", "SETUSER", "app", "on", ">app-secret", "~*", "+@all")
        admin.close()
        events = []                 # (time, evaluated: bool)
        lock = threading.Lock()
        stop = threading.Event()
        legit = {"app": [0, 0], "victim": [0, 0]}     # [ok, refused]

        def attacker(k):
            c = conn(s.port)
            for i in range(attempts // connections):
                r = c.cmd("AUTH", "victim", f"guess-{k}-{i}")
                with lock:
                    events.append((time.perf_counter(), r.startswith(WRONGPASS)))
            c.close()

        def legitimate():
            while not stop.is_set():
                for user, pw in (("app", "app-secret"), ("victim", "the-real-one")):
                    c = conn(s.port, "127.0.0.2")
                    r = c.cmd("AUTH", user, pw)
                    legit[user][0 if r == b"+OK\r\n" else 1] += 1
                    c.close()
                stop.wait(0.05)

        lt = threading.Thread(target=legitimate)
        lt.start()
        threads = [threading.Thread(target=attacker, args=(k,)) for k in range(connections)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_end = time.perf_counter()
        stop.set()
        lt.join()
        events.sort()
        first_refused = next((t for t, ev in events if not ev), t_end)
        last_evaluated = max((t for t, ev in events if ev), default=t0)
        drained = max(first_refused, last_evaluated + 1e-9)
        phases = [("before the threshold", t0, first_refused),
                  ("lockout, in-flight drain", first_refused, drained),
                  ("lockout, steady", drained, t_end)]
        print(f"brute force: {len(events)} wrong-password AUTHs for 'victim' from 127.0.0.1 over "
              f"{connections} connections (auth-max-failures {max_failures}, window 60 s, "
              f"lockout 60 s)")
        print(f"  {'phase':<26}{'seconds':>9}{'attempts':>10}{'evaluated':>11}{'evaluated/s':>13}"
              f"{'refused/s':>11}")
        for name, a, b in phases:
            evs = [ev for t, ev in events if a <= t < b or (b == t_end and t == t_end)]
            d = max(b - a, 1e-9)
            n_ev = sum(evs)
            print(f"  {name:<26}{b - a:>9.2f}{len(evs):>10}{n_ev:>11}{n_ev / d:>13.1f}"
                  f"{(len(evs) - n_ev) / d:>11.1f}")
        print("  (in-flight: attempts that passed the throttle check before the lockout began and")
        print("   were answered -WRONGPASS after it, at most one per connection)")
        print(f"  correct AUTH from 127.0.0.2 during the run: app {legit['app'][0]} ok / "
              f"{legit['app'][1]} refused; victim {legit['victim'][0]} ok / "
              f"{legit['victim'][1]} refused (per-username lockout)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--attempts", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--max-failures", type=int, default=10)
    a = ap.parse_args()
    in_process(a.seconds)
    print()
    end_to_end(a.users)
    print()
    brute_force(a.attempts, a.connections, a.max_failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
