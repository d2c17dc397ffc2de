"""COMMAND and its subcommands over real sockets: every command in the table
renders, counts agree, RESP3 shapes, and (when redis-server is installed) the
containers' INFO/DOCS equal Redis's up to subcommand order."""

import hiredis
import pytest

from helpers import RawConn, ServerProcess, encode_command, redis_server_available


def parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


def test_every_command_renders(raw):
    names = parse(raw.cmd("COMMAND", "LIST"))
    assert names and all(isinstance(n, bytes) for n in names)
    top = [n for n in names if b"|" not in n]
    assert parse(raw.cmd("COMMAND", "COUNT")) == len(top)
    infos = parse(raw.cmd("COMMAND", "INFO", *names))
    assert [i[0] for i in infos] == names
    docs = parse(raw.cmd("COMMAND", "DOCS", *names))
    assert docs[0::2] == names
    everything = parse(raw.cmd("COMMAND"))
    assert sorted(i[0] for i in everything) == sorted(top)
    assert len(parse(raw.cmd("COMMAND", "DOCS"))) == 2 * len(top)


def test_info_shape(raw):
    (info,) = parse(raw.cmd("COMMAND", "INFO", "get"))
    name, arity, flags, first, last, step, cats, tips, specs, subs = info
    assert (name, arity, first, last, step) == (b"get", 2, 1, 1, 1)
    assert flags == [b"readonly", b"fast"]
    assert cats == [b"@read", b"@string", b"@fast"]
    assert subs == []
    (spec,) = specs
    assert spec[:2] == [b"flags", [b"RO", b"access"]]
    (slow,) = parse(raw.cmd("COMMAND", "INFO", "slowlog"))
    assert sorted(s[0] for s in slow[9]) == [b"slowlog|get", b"slowlog|help", b"slowlog|len",
                                              b"slowlog|reset"]


def test_resp3_sets_and_maps(raw):
    raw.cmd("HELLO", "3")
    r = raw.cmd("COMMAND", "INFO", "get")
    assert r.startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n")
    assert r.endswith(b"~0\r\n")      # no subcommands: an empty set, as Redis
    d = raw.cmd("COMMAND", "DOCS", "get")
    assert d.startswith(b"%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n")
    assert raw.cmd("COMMAND", "INFO", "nosuch") == b"*1\r\n_\r\n"


def test_docs_repeats_and_unknown(raw):
    assert parse(raw.cmd("COMMAND", "DOCS", "nosuch")) == []
    d = parse(raw.cmd("COMMAND", "DOCS", "ping", "ping"))
    assert d[0] == d[2] == b"ping"


def test_getkeys(raw):
    assert parse(raw.cmd("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")) == [b"a", b"b"]
    assert parse(raw.cmd("COMMAND", "GETKEYSANDFLAGS", "get", "k")) == [[b"k", [b"RO", b"access"]]]
    assert raw.cmd("COMMAND", "GETKEYS", "nosuch", "x") == b"-ERR Invalid command specified\r\n"
    assert raw.cmd("COMMAND", "GETKEYS", "ping", "x") == \
        b"-ERR The command has no key arguments\r\n"
    assert raw.cmd("COMMAND", "GETKEYS", "get", "a", "b") == \
        b"-ERR Invalid number of arguments specified for command\r\n"


def test_list_filters(raw):
    strings = parse(raw.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"))
    assert b"get" in strings and b"ping" not in strings
    assert parse(raw.cmd("COMMAND", "LIST", "FILTERBY", "pattern", "SLOWLOG|*")) == \
        parse(raw.cmd("COMMAND", "LIST", "FILTERBY", "pattern", "slowlog|*"))    # nocase
    assert set(parse(raw.cmd("COMMAND", "LIST", "FILTERBY", "pattern", "slowlog|*"))) == \
        {b"slowlog|get", b"slowlog|len", b"slowlog|reset", b"slowlog|help"}
    assert parse(raw.cmd("COMMAND", "LIST", "FILTERBY", "module", "x")) == []


def _norm(x):
    if isinstance(x, list):
        return sorted((_norm(i) for i in x), key=repr)
    return x


@pytest.mark.skipif(not redis_server_available(), reason="redis-server not installed")
def test_containers_match_redis_up_to_order(server):
    with ServerProcess(kind="redis") as redis:
        a, b = RawConn(redis.port), server.raw()
        for proto in ("2", "3"):
            a.cmd("HELLO", proto)
            b.cmd("HELLO", proto)
            for name in ("command", "slowlog", "latency"):
                for kind in ("INFO", "DOCS"):
                    ra = a.cmd("COMMAND", kind, name)
                    rb = b.cmd("COMMAND", kind, name)
                    assert len(ra) == len(rb), (kind, name)
                    assert _norm(parse(ra)) == _norm(parse(rb)), (kind, name)
        a.close()
        b.close()


def test_pipelined_command_docs(server):
    # What redis-cli sends on connect, pipelined with another command.
    c = server.raw()
    c.send(encode_command("COMMAND", "DOCS") + encode_command("PING"))
    docs = parse(c.read_reply())
    assert len(docs) > 10
    assert c.read_reply() == b"+PONG\r\n"
    c.close()
