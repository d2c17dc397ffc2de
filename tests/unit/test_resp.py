"""RequestParser and split_args, table-driven (sans-IO: no server).

Expected outputs were taken from redis-server 7.0.15 over a raw socket (see
tests/integration/test_protocol.py, which compares the live servers).
"""

import os
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from securekv.net.resp import (  # noqa: E402
    ProtocolError, QueryBufferLimit, RequestParser, encode_one, split_args,
)


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def parse_all(data, chunks=None, fast=True, **kw):
    """Feed data (whole, or in the given chunk sizes); return (requests, error bytes)."""
    p = RequestParser(**kw)
    if not fast:
        p._buf = bytearray()      # start on the Python path
    reqs, err = [], None
    pieces = [data] if chunks is None else chunks
    for piece in pieces:
        r, e = p.feed(piece)
        reqs.extend(r)
        if e is not None:
            err = e.message
            break
    return reqs, err


# -- protocol errors: every string of processMultibulkBuffer/processInlineBuffer ----

ERRORS = [
    (b"*x\r\n", [], b"invalid multibulk length"),
    (b"*\r\n", [], b"invalid multibulk length"),
    (b"*01\r\n$4\r\nPING\r\n", [], b"invalid multibulk length"),
    (b"*+1\r\n$4\r\nPING\r\n", [], b"invalid multibulk length"),
    (b"*1 \r\n$4\r\nPING\r\n", [], b"invalid multibulk length"),
    (b"*3000000000\r\n", [], b"invalid multibulk length"),
    (b"*1\n$4\r\nPING\r\n", [], b"invalid multibulk length"),
    (b"*1\r\n$-1\r\n", [], b"invalid bulk length"),
    (b"*1\r\n$\r\n", [], b"invalid bulk length"),
    (b"*1\r\n$04\r\nPING\r\n", [], b"invalid bulk length"),
    (b"*1\r\n$4 \r\nPING\r\n", [], b"invalid bulk length"),
    (b"*2\r\n$99999999999\r\n", [], b"invalid bulk length"),
    (b"*1\r\n$536870913\r\n", [], b"invalid bulk length"),
    (b"*1\r\nfoo\r\n", [], b"expected '$', got 'f'"),
    (b"*1\r\n+PING\r\n", [], b"expected '$', got '+'"),
    (b"*1\r\n=8\r\ntxt:PING\r\n", [], b"expected '$', got '='"),
    (b"*1\r\n:1\r\n", [], b"expected '$', got ':'"),
    (b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", [], b"expected '$', got '*'"),
    (b"*1\r\n\r\n", [], b"expected '$', got ' '"),            # CR shown as a space
    (b"*1\r\n\n\r\n", [], b"expected '$', got ' '"),
    (b"*1\r\n\xff\r\n", [], b"expected '$', got '\xff'"),    # the raw byte, as %c
    (b'"unbalanced\r\n', [], b"unbalanced quotes in request"),
    (b'SET a "b"c\r\n', [], b"unbalanced quotes in request"),
    (b"ECHO 'it's'\r\n", [], b"unbalanced quotes in request"),
    (b"ECHO 'it\\'s'\r\n", [[b"ECHO", b"it's"]], None),
    (b'ECHO "a\\"\r\n', [], b"unbalanced quotes in request"),
    (b'ECHO a"b c"d\r\n', [], b"unbalanced quotes in request"),
    (b"PING\r\n*1\r\n$x\r\n", [[b"PING"]], b"invalid bulk length"),
    (b"x" * 65537, [], b"too big inline request"),
    (b"*" + b"1" * 65537, [], b"too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 65537, [], b"too big bulk count string"),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "python"])
@pytest.mark.parametrize("data,reqs,err", ERRORS, ids=[repr(e[0][:24]) for e in ERRORS])
def test_protocol_errors(data, reqs, err, fast):
    assert parse_all(data, fast=fast) == (reqs, err)


def test_unauthenticated_limits():
    p = RequestParser()
    p.auth_required = True
    assert p.feed(b"*11\r\n")[1].message == b"unauthenticated multibulk length"
    p = RequestParser()
    p.auth_required = True
    assert p.feed(b"*1\r\n$16385\r\n")[1].message == b"unauthenticated bulk length"
    p = RequestParser()
    p.auth_required = True
    assert p.feed(b"*10\r\n$16384\r\n") == ([], None)


def test_query_buffer_limit():
    p = RequestParser(query_buffer_limit=1024 * 1024)
    p.feed(b"*1\r\n$10000000\r\n")
    with pytest.raises(QueryBufferLimit):
        for _ in range(20):
            p.feed(b"x" * 65536)


# -- requests that parse ------------------------------------------------------------

OK_CASES = [
    (b"*1\r\n$4\r\nPING\r\n", [[b"PING"]]),
    (b"*-1\r\nPING\r\n", [[b"PING"]]),
    (b"*0\r\nPING\r\n", [[b"PING"]]),
    (b"*1\r\n$4\r\nPINGxx", [[b"PING"]]),               # Redis skips the 2 bytes unchecked
    (b"*1\r\n$4\rxPING\r\n", [[b"PING"]]),              # and the byte after a header's CR
    (b"*1\rx$4\r\nPING\r\n", [[b"PING"]]),
    (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [[b"ECHO", b""]]),
    (b"*2\r\n$4\r\nECHO\r\n$1\r\n\x00\r\n", [[b"ECHO", b"\x00"]]),
    (b"\r\n\r\nPING\r\n", [[b"PING"]]),
    (b"PING\n", [[b"PING"]]),
    (b" \r\n", []),
    (b"*1\r\n$4\r\nPING\r\n~1\r\n$4\r\nPING\r\n", [[b"PING"], [b"~1"], [b"$4"], [b"PING"]]),
    (b"*1\r\n$4\r\nPING\r\n>1\r\n", [[b"PING"], [b">1"]]),
    (b"*1\r\n$4\r\nPING\r\n%1\r\n", [[b"PING"], [b"%1"]]),
    (b"*1\r\n$4\r\nPING\r\n|1\r\n+a\r\n", [[b"PING"], [b"|1"], [b"+a"]]),
    (b"*1\r\n$4\r\nPING\r\n:1\r\n_\r\n", [[b"PING"], [b":1"], [b"_"]]),
    # a NUL ends a line for Redis's strchr(): nothing parses, it waits
    (b"ECHO a\x00b\r\n", []),
    (b"*1\x00\r\n", []),
    (b"*1\r\n$4\x00\r\nPING\r\n", []),
    (b'ECHO "a\x00"\r\n', []),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "python"])
@pytest.mark.parametrize("data,reqs", OK_CASES, ids=[repr(c[0][:24]) for c in OK_CASES])
def test_requests(data, reqs, fast):
    assert parse_all(data, fast=fast) == (reqs, None)


def test_huge_announced_array_stays_off_hiredis():
    # Two billion elements announced: accepted as Redis does (<= INT_MAX), no
    # memory taken, and never handed to hiredis (which would preallocate them).
    p = RequestParser()
    assert p.feed(b"*1\r\n$4\r\nPING\r\n*2000000000\r\n") == ([[b"PING"]], None)
    assert p._buf is not None and p._mbulk == 2000000000
    assert p._reader.len() == 0 if hasattr(p._reader, "len") else True


# -- inline quoting (sdssplitargs) -------------------------------------------------

SPLIT = [
    (b"", []),
    (b"   ", []),
    (b"a b  c", [b"a", b"b", b"c"]),
    (b'"a b"', [b"a b"]),
    (b'"a\\x41\\n"', [b"aA\n"]),
    (b'"\\x4g"', [b"x4g"]),
    (b'"\\q"', [b"q"]),
    (b'"\\n\\r\\t\\b\\a\\\\\\""', [b"\n\r\t\b\a\\\""]),
    (b"'it\\'s x'", [b"it's x"]),
    (b"'a\\nb'", [b"a\\nb"]),
    (b'""', [b""]),
    (b"''", [b""]),
    (b'a"b c"', [b"ab c"]),
    (b'"a"b', None),
    (b"'a'b", None),
    (b'"abc', None),
    (b"'abc", None),
    (b'"a\\"', None),
    (b"a\x0bb", [b"a\x0bb"]),          # a bare token ends only at space \n \r \t
    (b"\x0b\x0ca", [b"a"]),            # but isspace() blanks are skipped between tokens
    (b'"x"\x0b', [b"x"]),
    (b"a\tb\rc\nd", [b"a", b"b", b"c", b"d"]),
    (b"a\x00b c", [b"a"]),             # a NUL ends the line (this once looped forever)
    (b'"a\x00"', None),
]


@pytest.mark.parametrize("line,args", SPLIT, ids=[repr(s[0]) for s in SPLIT])
def test_split_args(line, args):
    assert split_args(line) == args


def test_split_args_is_the_acl_implementation():
    from acl.sdsargs import sdssplitargs
    assert split_args is sdssplitargs     # one sdssplitargs for inline commands, config and ACL


# -- partial reads ------------------------------------------------------------------

PIPELINE = (enc("SET", "k", "v" * 40) + enc("GET", "k") + b"PING\r\n" + enc("ECHO", b"a\r\nb")
            + enc("MSET", *["x"] * 12) + b'ECHO "q \\x41"\r\n' + enc("ECHO", b"") + enc("PING"))
PIPELINE_REQS = parse_all(PIPELINE)[0]


def test_pipeline_reference():
    assert len(PIPELINE_REQS) == 8
    assert PIPELINE_REQS[2] == [b"PING"] and PIPELINE_REQS[5] == [b"ECHO", b"q A"]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "python"])
def test_split_at_every_byte(fast):
    for i in range(len(PIPELINE) + 1):
        got = parse_all(PIPELINE, [PIPELINE[:i], PIPELINE[i:]], fast=fast)
        assert got == (PIPELINE_REQS, None), i


def test_one_byte_at_a_time():
    chunks = [PIPELINE[i:i + 1] for i in range(len(PIPELINE))]
    assert parse_all(PIPELINE, chunks) == (PIPELINE_REQS, None)


def test_three_way_splits():
    n = len(PIPELINE)
    for i in range(0, n, 7):
        for j in range(i, n, 5):
            got = parse_all(PIPELINE, [PIPELINE[:i], PIPELINE[i:j], PIPELINE[j:]])
            assert got == (PIPELINE_REQS, None), (i, j)


# -- hiredis fast path == Python parser ------------------------------------------------

_arg = st.binary(max_size=20) | st.sampled_from([b"\r\n", b"*3\r\n", b"$", b"+OK", b"\x00"])
_request = st.lists(_arg, min_size=1, max_size=5).map(lambda a: enc(*a))
_junk = st.sampled_from([
    b"PING\r\n", b'ECHO "a b"\r\n', b"*0\r\n", b"*-1\r\n", b"*1\r\n+PING\r\n", b"~1\r\n",
    b"*1\r\n$-1\r\n", b"*x\r\n", b"$4\r\nPING\r\n", b":1\r\n", b"\r\n", b"*1\r\n:1\r\n",
    b"*2\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n", b"'q\r\n", b"%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    b"*1\r\n$04\r\nPING\r\n", b"*2\r\n+PING\r\n=8\r\ntxt:ABCD\r\n", b"*1\r\n=8\r\ntxt:PING\r\n",
])
_stream = st.lists(_request | _junk, min_size=1, max_size=8).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(data=_stream, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=4))
def test_fast_path_agrees_with_python(data, cuts):
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks, prev = [], 0
    for p in points + [len(data)]:
        chunks.append(data[prev:p])
        prev = p
    chunks = [c for c in chunks if c] or [data]
    reference = parse_all(data, fast=False)
    assert parse_all(data, chunks, fast=True) == reference
    assert parse_all(data, chunks, fast=False) == reference


def test_noncanonical_reads_of_canonical_length_go_to_python():
    # A simple string (3 bytes shorter) and a verbatim string (3 bytes longer) in
    # one request keep its canonical length; Redis refuses the `+`.
    data = b"*2\r\n+PING\r\n=8\r\ntxt:ABCD\r\n"
    assert parse_all(data, fast=True) == parse_all(data, fast=False) == (
        [], b"expected '$', got '+'")
    # A read that ends where the canonical walk ends by chance, with hiredis still
    # holding a partial request (found by test_fast_path_agrees_with_python).
    data = b"*1\r\n+PING\r\n*1\r\n+PING\r\n"
    assert parse_all(data, [data[:14], data[14:]], fast=True) == parse_all(data, fast=False)


def test_junk_crlf_then_set_agrees_with_python():
    # After junk in place of a bulk's CRLF (which Redis skips unchecked) hiredis
    # reads a following set header as an array; the canonical-length walk of the
    # fast path notices and hands the read to the Python parser.
    data = b"*1\r\n$4\r\nPINGxx~1\r\n$4\r\nPING\r\n"
    assert parse_all(data, fast=True) == parse_all(data, fast=False)


def test_junk_crlf_then_map_or_huge_array_is_safe():
    for data in (b"*1\r\n$4\r\nPINGxx%1\r\n$1\r\na\r\n$1\r\nb\r\n",
                 b"*1\r\n$4\r\nPINGxx*2000000000\r\n",
                 b"*1\r\n$4\r\nPINGxx~2000000000\r\n"):
        assert parse_all(data, fast=True) == parse_all(data, fast=False)


# -- reply encoding ------------------------------------------------------------------

def test_encode_shapes():
    from securekv.net.resp import NULL_ARRAY, RSet, Status, Verbatim
    assert encode_one(None) == b"$-1\r\n" and encode_one(None, True) == b"_\r\n"
    assert encode_one(NULL_ARRAY) == b"*-1\r\n" and encode_one(NULL_ARRAY, True) == b"_\r\n"
    assert encode_one({b"a": 1}) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert encode_one({b"a": 1}, True) == b"%1\r\n$1\r\na\r\n:1\r\n"
    assert encode_one(RSet([b"x"]), True) == b"~1\r\n$1\r\nx\r\n"
    assert encode_one(True) == b":1\r\n" and encode_one(False, True) == b"#f\r\n"
    assert encode_one(1.5) == b"$3\r\n1.5\r\n" and encode_one(1.5, True) == b",1.5\r\n"
    assert encode_one(float("inf"), True) == b",inf\r\n"
    assert encode_one(Verbatim(b"hi")) == b"$2\r\nhi\r\n"
    assert encode_one(Verbatim(b"hi"), True) == b"=6\r\ntxt:hi\r\n"
    assert encode_one(Status(b"OK")) == b"+OK\r\n"


def test_protocol_error_message_is_bytes():
    e = ProtocolError(b"expected '$', got '\r'")
    assert e.message == b"expected '$', got ' '"
