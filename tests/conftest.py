import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import ServerProcess  # noqa: E402


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
