"""The change counter (`server.dirty`, INFO persistence rdb_changes_since_last_save,
what `save <seconds> <changes>` points count) moves by exactly what
redis-server 7.0.15 counts, command by command.

Every line of COMMANDS runs on a redis-server and on securekv (one connection
each, in order); the increment of rdb_changes_since_last_save across the
command, and whether the reply is an error, must be equal. Lines are quoted as
redis-cli inline commands; `@dump:KEY` is replaced by that server's DUMP of KEY;
`@sleep S` pauses; `&CMD` is sent on a third connection, where it blocks (its
reply is read once a later command served it); `~N CMD`: securekv is known to
count N more than Redis for CMD (see the comments there).

Run as a script (python tests/integration/test_dirty_counter.py) to print every
difference instead of asserting.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import (RawConn, ServerProcess, bulk, encode_command, parse_script,  # noqa: E402
                     raw_blocked_clients, redis_server_available)
from parity_scripts import WRITES  # noqa: E402

COMMANDS = WRITES


def parse(text: str) -> list[tuple[str, object]]:
    out = []
    for kind, value, mark in parse_script(text):
        out.append((kind, value if kind == "sleep" else (value, int(mark or 0))))
    return out


def changes(conn: RawConn) -> int:
    for line in bulk(conn.cmd("INFO", "persistence")).split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def blocked_clients(info: RawConn) -> int:
    return raw_blocked_clients(info)


def run(conn: RawConn, info: RawConn, args: list) -> tuple[int, bool]:
    """Run one command on conn; its dirty increment (read on info, as conn may
    be in MULTI) and whether it answered an error."""
    args = list(args)
    for i, a in enumerate(args):
        if a.startswith(b"@dump:"):
            args[i] = bulk(info.cmd("DUMP", a[6:]))
    before = changes(info)
    reply = conn.cmd(*args)
    return changes(info) - before, reply[:1] == b"-"


def block(conn: RawConn, info: RawConn, args: list) -> int:
    """Send a blocking command on conn and wait until it blocks; the dirty increment."""
    before = changes(info)
    n = blocked_clients(info)
    conn.send(encode_command(*args))
    deadline = time.monotonic() + 5
    while blocked_clients(info) == n:
        assert time.monotonic() < deadline, f"{args} did not block"
        time.sleep(0.002)
    return changes(info) - before


def differences(ref_port: int, skv_port: int, verbose: bool = False) -> list[str]:
    a, b = RawConn(ref_port), RawConn(skv_port)
    ai, bi = RawConn(ref_port), RawConn(skv_port)
    ab, bb = RawConn(ref_port), RawConn(skv_port)
    out = []
    blocked = False
    try:
        for c in (a, b):
            c.cmd("FLUSHALL")
        for kind, args in parse(COMMANDS):
            if kind == "sleep":
                time.sleep(args)
                continue
            args, extra = args
            if kind == "block":
                (da, ea), (db, eb) = (block(ab, ai, args), False), (block(bb, bi, args), False)
                blocked = True
            else:
                (da, ea), (db, eb) = run(a, ai, args), run(b, bi, args)
                if blocked and blocked_clients(ai) == 0 and blocked_clients(bi) == 0:
                    ab.read_reply()         # served: the blocker is free again
                    bb.read_reply()
                    blocked = False
            if verbose:
                print(da, db, b" ".join(args).decode(errors="replace"))
            if da + extra != db or ea != eb:
                line = b" ".join(args).decode(errors="replace")
                out.append(f"{line}: redis {da}{' (error)' * ea}, securekv {db}{' (error)' * eb}")
        assert not blocked, "a blocked client was never served"
    finally:
        for c in (a, b, ai, bi, ab, bb):
            c.close()
    return out


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_dirty_increments_match_redis():
    ref = ServerProcess(kind="redis").start()
    try:
        skv = ServerProcess().start()
        try:
            assert differences(ref.port, skv.port) == []
        finally:
            skv.stop()
    finally:
        ref.stop()


if __name__ == "__main__":
    with ServerProcess(kind="redis") as ref, ServerProcess() as skv:
        for d in differences(ref.port, skv.port, "-v" in sys.argv):
            print("DIFF", d)
        print("done")
