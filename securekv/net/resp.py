"""RESP request parsing (sans-IO) and reply encoding.

Rules of this module:

* Bytes in, argv lists out. Nothing here touches a socket or a client; the
  connection feeds what it read and executes what comes back, so the parser is
  tested with tables (tests/unit/test_resp.py).
* Requests are parsed exactly as Redis 7.0 does in processMultibulkBuffer and
  processInlineBuffer: the same limits, the same `Protocol error: ...` strings.
  A protocol error is reported after the complete requests before it, which the
  caller still executes (Redis does the same), and then the connection closes.
* Two parsers, one behaviour. `hiredis.Reader` is the fast path for a read that
  starts on a request boundary with `*`: it parses a whole pipeline in C. It
  parses *replies* though, so its output is checked (only flat, non-empty
  arrays of bulk strings pass) and anything else is handed to the Python
  parser, which is the reference and produces Redis's exact error. The Python
  parser also owns every incomplete request: when a read ends mid-request, the
  tail is located by the wire length of the requests hiredis returned and
  moved to the Python parser, which validates the announced lengths *before*
  any body arrives (a hostile `$99999999999` is refused at once, never
  buffered for) and then waits, O(1) per read, until the body is complete.
* Memory is bounded: a request may buffer at most `client-query-buffer-limit`
  bytes, an inline request or a length line at most 64 KiB (PROTO_INLINE_MAX_SIZE).
"""

from __future__ import annotations


import hiredis

from acl.sdsargs import sdssplitargs as split_args  # noqa: F401  (re-exported)

PROTO_INLINE_MAX_SIZE = 64 * 1024
INT_MAX = 2**31 - 1
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384

# What hiredis may not see. hiredis parses *replies*, so:
# 1. It preallocates a list for an announced aggregate (`*N`, `~N`, `>N`, `|N`:
#    PyList_New(N) on calloc'd, lazily mapped memory) and frees it element by
#    element when the reader is dropped: `*2000000000\r\n` cost 16 GB of
#    address space and ~3 s of a blocked loop.
# 2. Inside an array it returns a simple string (`+PING`) or a verbatim string
#    as bytes, indistinguishable from a bulk string, and at top level a set or
#    push (`~`, `>`) as a list and a map as a dict: Redis refuses the first
#    ("expected '$', got '+'") and reads the others as inline commands.
# So (1) a read that announces an aggregate of a million elements or more
# anywhere goes to the Python parser (unanchored because Redis skips the two
# bytes after a bulk unchecked, so a header may follow junk; a false positive
# only costs the Python path). The test is `[*~>|%][0-9]{7}` done as one
# bytes.translate (aggregate types to `*`, digits to `0`) and one find of
# `*0000000`: the same answer as that regex at about a third of its cost on a
# 16-command read (sre tests a character class per byte). (2) What hiredis
# returns is validated after the parse (feed, _check_walk, _check_exact): every
# request must be a flat list of bytes, and the bytes consumed must be what
# Redis would have consumed. The same translate maps `+` and `=` to `+`: a read
# without either byte cannot hold a simple or verbatim string, and every other
# deviation (a top-level set/push/attribute, a nested aggregate, a number, an
# error) either comes back as another type or moves where requests start, which
# the canonical-length walk sees. A read with `+` or `=` is compared byte for
# byte with the canonical encoding of what hiredis returned (a `+PING` and a
# `=8 txt:ABCD` in one request keep its canonical length, so only the bytes
# tell).
_SCAN = bytes.maketrans(b"*~>|%0123456789=", b"*****0000000000+")
_pack = hiredis.pack_command
_join = b"".join


class ProtocolError(Exception):
    """The client broke the protocol: reply `-ERR Protocol error: <msg>` and close.

    `message` is the reply text as bytes (a byte of the request may be quoted
    raw, as Redis's %c does); CR and LF become spaces, as addReplyErrorFormat.
    """

    def __init__(self, message: str | bytes) -> None:
        if isinstance(message, str):
            message = message.encode()
        super().__init__(message.decode("latin-1"))
        self.message = message.replace(b"\r", b" ").replace(b"\n", b" ")


class QueryBufferLimit(Exception):
    """The client exceeded client-query-buffer-limit: close without a reply (as Redis)."""


def _strict_int(b: bytes | bytearray) -> int | None:
    """Redis's string2ll: an optional '-', then digits without leading zeros."""
    if b.isdigit() and len(b) < 19 and (b[0] != 48 or len(b) == 1):
        return int(b)                   # the common case: a small non-negative number
    if not b or len(b) > 20:
        return None
    s = b[1:] if b[:1] == b"-" else b
    if not s.isdigit() or (s[0] == 48 and len(s) > 1):
        return None
    if s == b"0" and len(b) > 1:
        return None
    v = int(b)
    if not -(2**63) <= v < 2**63:
        return None
    return v


def _wire_len(argv: list) -> int:
    """Bytes a request of this argv takes on the wire in canonical RESP."""
    n = len(argv)
    total = 3 + (1 if n < 10 else len(str(n)))
    for a in argv:
        l = len(a)
        total += l + (6 if l < 10 else 7 if l < 100 else 5 + len(str(l)))
    return total


class RequestParser:
    """Turns the bytes a client sends into argv lists.

    `feed(data)` returns `(requests, error)`: the complete requests found, in
    order, and None or the ProtocolError that follows them. Raises
    QueryBufferLimit when one request outgrows `query_buffer_limit`.
    `auth_required` is consulted for Redis's tighter limits on
    unauthenticated clients; the connection keeps it current.
    """

    __slots__ = ("_reader", "_buf", "_pos", "_mbulk", "_bulk", "_args", "_need",
                 "max_bulk_len", "query_buffer_limit", "auth_required", "_dead")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024,
                 query_buffer_limit: int = 1024 * 1024 * 1024) -> None:
        self._reader = hiredis.Reader()
        self._buf: bytearray | None = None   # Python parser owns pending bytes
        self._pos = 0
        self._mbulk = 0          # elements still expected in the current request
        self._bulk = -1          # length of the bulk being read, -1 before its header
        self._args: list[bytes] = []
        self._need = 0           # buffer length needed before trying again
        self._dead = False
        self.max_bulk_len = max_bulk_len
        self.query_buffer_limit = query_buffer_limit
        self.auth_required = False

    # -- public -----------------------------------------------------------

    def feed(self, data: bytes) -> tuple[list[list[bytes]], ProtocolError | None]:
        # The fast path, on a request boundary (the Python parser holds no bytes;
        # a dead parser keeps a non-None _buf so it never gets here).
        if self._buf is None and data[:1] == b"*" and not self.auth_required:
            scan = data.translate(_SCAN)
            if scan.find(b"*0000000") < 0:
                reader = self._reader
                reader.feed(data)
                out: list[list[bytes]] = []
                try:
                    req = reader.gets()
                    while req is not False:
                        # A request is a non-empty flat array of bulk strings. join()
                        # raises TypeError for anything else hiredis may return: an
                        # integer, nil, error or nested array, or a bare bulk string.
                        if type(req) is not list or not req:
                            return self._resync_all(data)
                        _join(req)
                        out.append(req)
                        req = reader.gets()
                except (hiredis.ProtocolError, TypeError):
                    return self._resync_all(data)
                if scan.find(b"+") >= 0:
                    return self._check_exact(data, out)
                if len(out) == 1 and not reader.has_data() and _wire_len(out[0]) == len(data):
                    return out, None                # one whole request: the -P 1 case
                return self._check_walk(data, out)
        return self._feed_slow(data)

    # -- fast path: hiredis ----------------------------------------------

    def _check_walk(self, data: bytes, out: list):
        """Walk the canonical wire lengths of what hiredis returned: every request
        must start with '*', and the walk must land on the end of the read with
        nothing left in hiredis (all complete), or on the '*' of a partial
        request hiredis holds, whose tail goes to the Python parser. Anything
        else: the whole read goes to the Python parser, which is the reference
        and gives Redis's error."""
        pos = 0
        n = len(data)
        for req in out:
            if pos >= n or data[pos] != 42:
                return self._resync_all(data)
            pos += _wire_len(req)
        return self._complete(data, pos, out)

    def _check_exact(self, data: bytes, out: list):
        """The read holds `+` or `=`: what hiredis consumed must be, byte for
        byte, the canonical encoding of the requests it returned."""
        canon = _join([_pack(tuple(req)) for req in out])
        if not data.startswith(canon):
            return self._resync_all(data)
        return self._complete(data, len(canon), out)

    def _complete(self, data: bytes, pos: int, out: list):
        """The requests end at pos: the end of the read, or a partial request."""
        n = len(data)
        if pos == n and not self._reader.has_data():
            return out, None
        if pos >= n or data[pos] != 42 or not self._reader.has_data():
            return self._resync_all(data)
        # The read ends inside a request: hand its tail to the Python parser.
        self._reader = hiredis.Reader()
        self._buf = bytearray()
        self._pos = 0
        more, err = self._feed_slow(memoryview(data)[pos:])
        out.extend(more)
        return out, err

    def _resync_all(self, data: bytes):
        """Parse this whole read with the Python parser (a fresh hiredis reader
        serves the next read on a boundary)."""
        self._reader = hiredis.Reader()
        self._buf = bytearray()
        self._pos = 0
        return self._feed_slow(data)

    # -- reference path: Python, as Redis ---------------------------------

    def _feed_slow(self, data) -> tuple[list[list[bytes]], ProtocolError | None]:
        if self._dead:
            return [], None
        if self._buf is None:
            self._buf = bytearray()
            self._pos = 0
        buf = self._buf
        buf += data
        out: list[list[bytes]] = []
        if len(buf) < self._need:
            self._check_limit(buf)
            return out, None
        self._need = 0
        try:
            while self._pos < len(buf):
                if self._mbulk == 0 and buf[self._pos] != 42:   # '*'
                    req = self._parse_inline(buf)
                else:
                    req = self._parse_multibulk(buf)
                if req is None:
                    break
                if req:
                    out.append(req)
        except ProtocolError as e:
            self._dead = True
            self._buf = bytearray()       # never the fast path again
            return out, e
        if self._pos >= len(buf) and self._mbulk == 0:
            self._buf = None          # back on a boundary: the fast path again
            self._pos = 0
        else:
            if self._pos > 65536 or self._pos * 2 > len(buf):
                del buf[:self._pos]
                if self._need:
                    self._need -= self._pos
                self._pos = 0
            self._check_limit(buf)
        return out, None

    def _check_limit(self, buf: bytearray) -> None:
        if len(buf) - self._pos > self.query_buffer_limit:
            self._dead = True
            self._buf = bytearray()
            raise QueryBufferLimit()

    def _parse_inline(self, buf: bytearray):
        pos = self._pos
        nl = _cfind(buf, 10, pos)
        if nl < 0:
            if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
        args = split_args(bytes(buf[pos:end]))
        if args is None:
            raise ProtocolError("unbalanced quotes in request")
        self._pos = nl + 1
        return args

    def _parse_multibulk(self, buf: bytearray):
        pos = self._pos
        n = len(buf)
        if self._mbulk == 0:
            cr = _cfind(buf, 13, pos)
            if cr < 0:
                if n - pos > PROTO_INLINE_MAX_SIZE:
                    raise ProtocolError("too big mbulk count string")
                return None
            if cr + 1 >= n:
                return None
            ll = _strict_int(buf[pos + 1:cr])
            if ll is None or ll > INT_MAX:
                raise ProtocolError("invalid multibulk length")
            if ll > UNAUTH_MAX_MULTIBULK and self.auth_required:
                raise ProtocolError("unauthenticated multibulk length")
            pos = self._pos = cr + 2
            if ll <= 0:
                return []
            self._mbulk = ll
            self._args = []
        args = self._args
        while self._mbulk:
            if self._bulk == -1:
                cr = _cfind(buf, 13, pos)
                if cr < 0:
                    if n - pos > PROTO_INLINE_MAX_SIZE:
                        raise ProtocolError("too big bulk count string")
                    return None
                if cr + 1 >= n:
                    return None
                if buf[pos] != 36:   # '$'
                    raise ProtocolError(b"expected '$', got '%c'" % buf[pos])
                ll = _strict_int(buf[pos + 1:cr])
                if ll is None or ll < 0 or ll > self.max_bulk_len:
                    raise ProtocolError("invalid bulk length")
                if ll > UNAUTH_MAX_BULK and self.auth_required:
                    raise ProtocolError("unauthenticated bulk length")
                pos = self._pos = cr + 2
                self._bulk = ll
            ll = self._bulk
            if n - pos < ll + 2:
                self._need = pos + ll + 2
                return None
            args.append(bytes(buf[pos:pos + ll]))
            pos = self._pos = pos + ll + 2
            self._bulk = -1
            self._mbulk -= 1
        self._args = []
        return args


def _cfind(buf: bytearray, ch: int, pos: int) -> int:
    """strchr(buf + pos, ch) as Redis does it: a NUL ends the search (-1)."""
    i = buf.find(ch, pos)
    if i > pos and buf.find(0, pos, i) >= 0:
        return -1
    return i


# -- replies ---------------------------------------------------------------
#
# Handlers return plain values and the connection encodes them for its
# protocol (RESP2 or RESP3):
#   bytes/bytearray -> bulk string      int -> integer       None -> null bulk
#   list/tuple      -> array            dict -> map          float -> double
#   bool            -> boolean (RESP2: integer)
#   Status          -> simple string    ErrorReply -> error (inside arrays)
#   RSet            -> set (RESP2: array)    NULL_ARRAY -> null array
#   Verbatim        -> verbatim string (RESP2: bulk)
#   Push            -> push (RESP2: array)   Raw -> pre-encoded bytes
#   BigNumber       -> big number (RESP2: bulk)
#   FlatMap         -> map from alternating keys/values (RESP2: flat array)


class Status:
    __slots__ = ("value", "_enc")

    def __init__(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode()
        self.value = value
        self._enc = b"+" + value + b"\r\n"

    def __repr__(self) -> str:
        return f"Status({self.value!r})"


class ErrorReply:
    """An error as a value (inside EXEC's array, or returned by a handler)."""
    __slots__ = ("message",)

    def __init__(self, message: str | bytes) -> None:
        self.message = message if isinstance(message, bytes) else message.encode()


class RSet(list):
    """A RESP3 set; an array in RESP2."""
    __slots__ = ()


class FlatMap(list):
    """A map given as alternating keys and values (keeps repeated keys, as Redis
    replies such as PUBSUB NUMSUB do): RESP3 map, RESP2 flat array."""
    __slots__ = ()


class Push(list):
    """A RESP3 push message; an array in RESP2."""
    __slots__ = ()


class Verbatim:
    __slots__ = ("fmt", "data")

    def __init__(self, data: bytes, fmt: bytes = b"txt") -> None:
        self.data = data
        self.fmt = fmt


class Raw:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class BigNumber:
    __slots__ = ("digits",)

    def __init__(self, digits: bytes) -> None:
        self.digits = digits


class _NullArray:
    __slots__ = ()


NULL_ARRAY = _NullArray()
OK = Status(b"OK")
QUEUED = Status(b"QUEUED")
PONG = Status(b"PONG")


def format_double(d: float) -> bytes:
    """A double as Redis 7.0 prints it in replies (addReplyDouble: %.17g, inf, -inf)."""
    if d != d:
        return b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d


_BULK_HDR = [b"$%d\r\n" % n for n in range(256)]     # bulk headers of short strings
_BULK_HDR_BARE = [b"$%d" % n for n in range(4096)]   # the same without CRLF (bulk_array)
_bare_hdr = _BULK_HDR_BARE.__getitem__


def bulk_array(v) -> bytes:
    """The RESP array of a list of bytes elements, each shorter than 4096 bytes,
    built by C loops (map, slice assignment, join) rather than a Python one:
    about half the cost of the per-element loop at LRANGE sizes. Raises
    TypeError (an element is not bytes-like) or IndexError (a long element)."""
    parts = [None] * (2 * len(v))
    parts[0::2] = map(_bare_hdr, map(len, v))
    parts[1::2] = v
    return b"*%d\r\n%s\r\n" % (len(v), b"\r\n".join(parts))


def encode(v, resp3: bool, out: list) -> None:
    """Append the encoding of reply value v to out (a list of byte chunks)."""
    t = type(v)
    if t is bytes or t is bytearray or t is memoryview:
        out.append(b"$%d\r\n" % len(v))
        out.append(v)
        out.append(b"\r\n")
    elif t is int:
        out.append(b":%d\r\n" % v)
    elif t is Status:
        out.append(v._enc)
    elif v is None:
        out.append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is list or t is tuple:
        # A flat array of bulk strings (LRANGE, ZRANGE, HKEYS ...; first and last
        # element tell mixed replies such as SCAN's or WITHSCORES's apart cheaply)
        # is built in C by bulk_array; an element it refuses takes the loop below.
        if len(v) > 2 and type(v[0]) is bytes and type(v[-1]) is bytes:
            try:
                out.append(bulk_array(v))
                return
            except (TypeError, IndexError):
                pass
        # One chunk per array (bulk elements inlined): LRANGE/ZRANGE/HGETALL-sized
        # replies would otherwise add 3 chunks per element to the batch output.
        parts = [b"*%d\r\n" % len(v)]
        ap = parts.append
        for x in v:
            tx = type(x)
            if tx is bytes:
                n = len(x)
                ap(_BULK_HDR[n] if n < 256 else b"$%d\r\n" % n)
                ap(x)
                ap(b"\r\n")
            elif tx is Raw:             # elements encoded by the handler (stream entries)
                ap(x.data)
            else:
                encode(x, resp3, parts)
        out.append(b"".join(parts))
    elif t is dict:
        if resp3:
            out.append(b"%%%d\r\n" % len(v))
        else:
            out.append(b"*%d\r\n" % (2 * len(v)))
        for k, x in v.items():
            encode(k, resp3, out)
            encode(x, resp3, out)
    elif t is float:
        if resp3:
            out.append(b",%s\r\n" % format_double(v))
        else:
            s = format_double(v)
            out.append(b"$%d\r\n%s\r\n" % (len(s), s))
    elif t is bool:
        if resp3:
            out.append(b"#t\r\n" if v else b"#f\r\n")
        else:
            out.append(b":1\r\n" if v else b":0\r\n")
    elif t is ErrorReply:
        out.append(b"-%s\r\n" % v.message)
    elif t is RSet:
        out.append((b"~%d\r\n" if resp3 else b"*%d\r\n") % len(v))
        for x in v:
            encode(x, resp3, out)
    elif t is Push:
        out.append((b">%d\r\n" if resp3 else b"*%d\r\n") % len(v))
        for x in v:
            encode(x, resp3, out)
    elif t is FlatMap:
        out.append((b"%%%d\r\n" % (len(v) // 2)) if resp3 else (b"*%d\r\n" % len(v)))
        for x in v:
            encode(x, resp3, out)
    elif v is NULL_ARRAY:
        out.append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is Raw:
        out.append(v.data)
    elif t is Verbatim:
        if resp3:
            out.append(b"=%d\r\n%s:" % (len(v.data) + 4, v.fmt))
        else:
            out.append(b"$%d\r\n" % len(v.data))
        out.append(v.data)
        out.append(b"\r\n")
    elif t is BigNumber:
        if resp3:
            out.append(b"(%s\r\n" % v.digits)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(v.digits), v.digits))
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}")


def encode_one(v, resp3: bool = False) -> bytes:
    out: list = []
    encode(v, resp3, out)
    return b"".join(out)
