"""MULTI/EXEC/WATCH across real connections."""

from helpers import RawConn


def test_watch_aborts_when_another_client_writes(server):
    a = RawConn(server.port)
    b = RawConn(server.port)
    a.cmd("SET", "w", "1")
    assert a.cmd("WATCH", "w") == b"+OK\r\n"
    b.cmd("SET", "w", "2")
    a.cmd("MULTI")
    a.cmd("SET", "w", "3")
    assert a.cmd("EXEC") == b"*-1\r\n"
    assert a.cmd("GET", "w") == b"$1\r\n2\r\n"
    a.close()
    b.close()


def test_watch_succeeds_without_interference_and_resp3_null(server):
    a = RawConn(server.port)
    a.cmd("WATCH", "v")
    a.cmd("MULTI")
    a.cmd("SET", "v", "x")
    assert a.cmd("EXEC") == b"*1\r\n+OK\r\n"
    a.cmd("HELLO", "3")
    a.cmd("WATCH", "v")
    b = RawConn(server.port)
    b.cmd("SET", "v", "changed")
    a.cmd("MULTI")
    a.cmd("GET", "v")
    assert a.cmd("EXEC") == b"_\r\n"
    a.close()
    b.close()


def test_watched_key_expiring_aborts_exec(server):
    a = RawConn(server.port)
    a.cmd("SET", "e", "1", "PX", "30")
    a.cmd("WATCH", "e")
    import time
    time.sleep(0.06)   # the key's TTL must pass: nothing to poll
    a.cmd("MULTI")
    a.cmd("PING")
    assert a.cmd("EXEC") == b"*-1\r\n"
    a.close()


def test_disconnect_while_in_multi_discards(server):
    a = RawConn(server.port)
    a.cmd("MULTI")
    a.cmd("SET", "gone", "1")
    a.close()
    b = RawConn(server.port)
    assert b.cmd("GET", "gone") == b"$-1\r\n"
    b.close()
