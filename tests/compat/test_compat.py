"""Compatibility, measured: every script in tests/compat/scripts runs against
redis-server 7.0.15 and securekv, and the raw reply bytes of each command are
compared.

Script syntax (one command per line, quoted like redis-cli / inline commands):
    # comment              ignored, as are blank lines
    SET k v                sent to both servers; replies compared byte for byte
    !HELLO 3               sent to both; reply not compared (nondeterministic)
    @sleep 0.2             pause both (for expiry tests)
Each script starts on a fresh connection after FLUSHALL, RESP2, db 0.
"""

from __future__ import annotations

import glob
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import RawConn, ServerProcess, redis_server_available  # noqa: E402

from securekv.net.resp import split_args  # noqa: E402

SCRIPTS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "scripts", "*.txt")))

pytestmark = pytest.mark.skipif(not redis_server_available(),
                                reason="redis-server not installed (apt-get install redis-server)")


@pytest.fixture(scope="module")
def pair():
    redis = ServerProcess(kind="redis").start()
    skv = ServerProcess().start()
    yield redis, skv
    redis.stop()
    skv.stop()


def parse_script(path):
    steps = []
    with open(path, "rb") as f:
        for no, line in enumerate(f.read().split(b"\n"), 1):
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            if line.startswith(b"@sleep"):
                steps.append((no, "sleep", float(line.split()[1]), line))
                continue
            compare = True
            if line.startswith(b"!"):
                compare = False
                line = line[1:]
            args = split_args(line)
            assert args is not None, f"{path}:{no}: unbalanced quotes"
            steps.append((no, "cmd" if compare else "nocmp", args, line))
    return steps


def run_script(port, steps):
    conn = RawConn(port)
    conn.cmd("FLUSHALL")
    replies = []
    for no, kind, arg, line in steps:
        if kind == "sleep":
            time.sleep(arg)
            replies.append(None)
            continue
        from helpers import encode_command
        conn.send(encode_command(*arg))
        try:
            replies.append(conn.read_reply())
        except ConnectionError as e:
            replies.append(f"<connection closed: {e}>".encode())
            break
    conn.close()
    return replies


@pytest.mark.parametrize("script", SCRIPTS, ids=[os.path.basename(s)[:-4] for s in SCRIPTS])
def test_script(pair, script):
    redis, skv = pair
    steps = parse_script(script)
    expected = run_script(redis.port, steps)
    got = run_script(skv.port, steps)
    problems = []
    for i, (no, kind, _arg, line) in enumerate(steps):
        if kind != "cmd":
            continue
        e = expected[i] if i < len(expected) else b"<none>"
        g = got[i] if i < len(got) else b"<none: connection closed earlier>"
        if e != g:
            problems.append(f"line {no}: {line.decode('utf-8', 'replace')}\n"
                            f"   redis:    {e!r}\n   securekv: {g!r}")
    assert skv.alive(), "securekv died:\n" + skv.output()[-3000:]
    assert not problems, f"{len(problems)} replies differ in {os.path.basename(script)}:\n" + \
        "\n".join(problems[:40])
