import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import RawConn, ServerProcess, redis_server_available  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """A securekv server shared by the tests of one module."""
    with ServerProcess() as s:
        yield s


@pytest.fixture
def r(server):
    """A redis-py client on a flushed server (decode_responses off: bytes)."""
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def raw(server):
    conn = server.raw()
    conn.cmd("FLUSHALL")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def ref():
    """A redis-server (the reference) shared by the tests of one module; skips
    the test when redis-server is not installed."""
    if not redis_server_available():
        pytest.skip("redis-server not installed")
    with ServerProcess(kind="redis") as s:
        yield s


@pytest.fixture
def conns(server):
    """conns(resp3=False): a new RawConn to the server (HELLO 3 first if resp3);
    all are closed after the test."""
    made = []

    def make(resp3: bool = False):
        c = RawConn(server.port)
        if resp3:
            c.cmd("HELLO", "3")
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()
