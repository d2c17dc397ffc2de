"""Pub/sub across real connections: delivery, patterns, RESP3 push, context rules."""

import time


from helpers import RawConn


def read_push(conn):
    return conn.read_reply()


def test_publish_reaches_channel_and_pattern_subscribers(server):
    sub = RawConn(server.port)
    assert sub.cmd("SUBSCRIBE", "news") == b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    psub = RawConn(server.port)
    assert psub.cmd("PSUBSCRIBE", "n*") == b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n"
    pub = RawConn(server.port)
    assert pub.cmd("PUBLISH", "news", "hi") == b":2\r\n"
    assert read_push(sub) == b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    assert read_push(psub) == b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    assert pub.cmd("PUBSUB", "NUMSUB", "news") == b"*2\r\n$4\r\nnews\r\n:1\r\n"
    assert pub.cmd("PUBSUB", "NUMPAT") == b":1\r\n"
    sub.close()
    psub.close()
    # Subscriptions of closed connections disappear.
    deadline = time.monotonic() + 5
    while pub.cmd("PUBLISH", "news", "x") != b":0\r\n":
        assert time.monotonic() < deadline
    pub.close()


def test_resp2_subscribed_context_rejects_other_commands(server):
    c = RawConn(server.port)
    c.cmd("SUBSCRIBE", "a")
    assert c.cmd("GET", "x").startswith(b"-ERR Can't execute 'get'")
    assert c.cmd("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    c.cmd("UNSUBSCRIBE")
    assert c.cmd("PING") == b"+PONG\r\n"
    c.close()


def test_resp3_push_and_commands_while_subscribed(server):
    c = RawConn(server.port)
    c.cmd("HELLO", "3")
    assert c.cmd("SUBSCRIBE", "a") == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    assert c.cmd("GET", "nokey") == b"_\r\n"
    pub = RawConn(server.port)
    assert pub.cmd("PUBLISH", "a", "m") == b":1\r\n"
    assert c.read_reply() == b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
    c.close()
    pub.close()


def test_reset_drops_subscriptions(server):
    c = RawConn(server.port)
    c.cmd("SUBSCRIBE", "zzz")
    assert c.cmd("RESET") == b"+RESET\r\n"
    pub = RawConn(server.port)
    assert pub.cmd("PUBLISH", "zzz", "m") == b":0\r\n"
    c.close()
    pub.close()
