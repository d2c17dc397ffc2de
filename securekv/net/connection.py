"""One client connection: an asyncio.Protocol that is also the client's state.

Fields come in three groups: shared server state (`server`), per-connection
state (transport, parser, identity, protocol version, selected db, flags), and
per-request state (the output chunks of the current read batch).

The flow of a read: `data_received` feeds the RequestParser, executes every
complete request through `dispatch.execute` (each appends its encoded reply to
`out`) and writes the whole batch with one `transport.write` once the loop
iteration has read every ready client (`server.flush_soon`, Redis's beforeSleep:
one wake-up of a peer for several replies). A client that
blocks (BLPOP, CLIENT PAUSE) keeps its remaining requests in `pending` and
stops reading until it is resumed.

Flow control lives in `pause_writing`/`resume_writing`: while the transport
holds more unsent output than its high-water mark, the client is not read
from (backpressure). Output-buffer limits (client-output-buffer-limit) are
checked after each write and close the client like Redis.

Design decisions (measured with bench/compare before and after):

* One read batch may hold thousands of pipelined requests; their replies are
  joined into one write. So that one batch cannot build an unbounded reply
  (GETs of a 1 MB value), the loop looks at the output every OUT_CHECK_CHUNKS
  chunks (one len() per command) and, past OUT_FLUSH_BYTES, writes early. If
  that write pushes the transport past its high-water mark, the rest of the
  batch waits in `pending` and runs from `resume_writing`: the server never
  holds more than about one high-water mark plus one chunk of replies for a
  client that does not read.
* client-output-buffer-limit applies to what the transport has not yet sent
  (Redis's reply list). A class with a hard or soft limit raises the
  transport's high-water mark above that limit, so a client that does not read
  is disconnected at the limit as in Redis rather than paused forever; a class
  without limits (normal, by default) is paused at the default mark instead.
  Clients paused at a soft limit are re-checked by the cron (`obuf_cron`).
* Protocol errors carry bytes (`ProtocolError.message`): Redis quotes the
  offending byte raw.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import time

from securekv.lifecycle import on_init
from securekv.net.resp import ProtocolError, QueryBufferLimit, RequestParser

OUT_CHECK_CHUNKS = 16          # look at the batch's output size every this many chunks
OUT_FLUSH_BYTES = 64 * 1024    # ... and write it early past this many bytes
REPLY_BUF = 16 * 1024          # Redis's per-client reply buffer, not counted by output limits

# Client flags as CLIENT LIST prints them.
FLAG_MULTI = "x"
FLAG_PUBSUB = "P"
FLAG_BLOCKED = "b"
FLAG_MONITOR = "O"
FLAG_DIRTY_CAS = "d"


class Client(asyncio.Protocol):
    __slots__ = (
        # shared
        "server", "stats",
        # connection
        "transport", "parser", "id", "addr", "laddr", "fd", "name", "created",
        "last_interaction", "resp3", "resp", "db", "keyspace", "tenant", "user",
        "authenticated", "closing", "close_after_reply", "reply_mode", "skip_next_reply",
        "pending", "reading_paused", "write_paused", "blocked", "obuf_soft_since",
        "kind", "flags_extra", "no_evict", "lib_name", "lib_ver", "last_cmd",
        "close_reason", "unix", "gated", "must_obey",
        # transactions, pub/sub, blocking (used by later families)
        "multi", "multi_error", "watched", "dirty_cas", "subscriptions", "psubscriptions",
        "ssubscriptions", "block_state", "monitor",
        # per request
        "out", "propagate_argv", "cur_cmd", "in_exec", "push_marks",
    )

    def __init__(self, server, unix: bool = False) -> None:
        self.server = server
        self.stats = server.stats
        self.transport = None
        self.parser = RequestParser(server.proto_max_bulk_len, server.query_buffer_limit)
        self.id = 0
        self.addr = ("?", 0)
        self.laddr = ("?", 0)
        self.fd = -1
        self.unix = unix
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.created = time.time()
        self.last_interaction = self.created
        self.resp3 = False
        self.resp = 2
        self.keyspace = server.keyspace
        self.db = self.keyspace.dbs[0]
        self.tenant = None
        self.user = None
        self.authenticated = True
        # Redis's mustObeyClient: the AOF loader (and a master link) replays what
        # was already accepted once, past limits a client's request would hit.
        self.must_obey = False
        self.closing = False
        self.close_after_reply = False
        self.close_reason = ""
        self.reply_mode = 0          # 0 on, 1 off, 2 skip (CLIENT REPLY)
        self.skip_next_reply = False
        self.pending: collections.deque | None = None
        self.reading_paused = False
        self.write_paused = False
        self.blocked = False
        self.obuf_soft_since = 0.0
        self.kind = "normal"          # normal | pubsub | replica (output-buffer class)
        self.flags_extra = ""
        self.no_evict = False
        self.last_cmd = "NULL"
        self.multi = None             # list of queued (cmd, argv) while in MULTI
        self.multi_error = False
        self.watched = None           # list of (db, key) while WATCHing
        self.dirty_cas = False
        self.subscriptions = None
        self.psubscriptions = None
        self.ssubscriptions = None
        self.block_state = None
        self.monitor = False
        self.out: list = []
        self.push_marks = None        # [(start, end)] of pushes in out under CLIENT REPLY OFF/SKIP
        self.propagate_argv = None
        self.cur_cmd = None
        self.in_exec = 0              # while EXEC runs: how many commands it queued
        self.gated = False            # True while the dispatch gate must look at this client

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        server = self.server
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.fd = sock.fileno()
            if not self.unix:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    ka = server.tcp_keepalive
                    if ka > 0:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                        if hasattr(socket, "TCP_KEEPIDLE"):
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, ka)
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, ka // 3))
                            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
                except OSError:
                    pass
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if self.unix:
            self.addr = (local or "", 0)
            self.laddr = (local or "", 0)
        else:
            self.addr = (peer[0], peer[1]) if peer else ("?", 0)
            self.laddr = (local[0], local[1]) if local else ("?", 0)
        self.apply_obuf_limits()
        server.client_connected(self)

    def apply_obuf_limits(self) -> None:
        """Set the transport's high-water mark for this client's output-buffer class."""
        t = self.transport
        if t is None or self.closing:
            return
        limits = self.server.obuf_limits.get(self.kind)
        if limits is not None and (limits[0] or limits[1]):
            t.set_write_buffer_limits(high=max(limits[0], limits[1]) + 1)
        else:
            t.set_write_buffer_limits()

    def connection_lost(self, exc) -> None:
        self.closing = True
        self.server.client_disconnected(self)

    def pause_writing(self) -> None:
        # Backpressure: the peer is not reading its replies; stop reading its requests.
        self.write_paused = True
        if not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is None or self.closing:
            return
        if self.pending and not self.blocked:
            # The rest of a batch cut short by backpressure (not from inside
            # the transport's callback).
            self.server.loop.call_soon(self.resume)
        elif not self.reading_paused:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        stats = self.stats
        stats.net_input_bytes += len(data)
        self.last_interaction = self.server.unixtime
        parser = self.parser
        # Redis's authRequired(): tighter request limits until authenticated.
        parser.auth_required = not self.authenticated
        try:
            reqs, err = parser.feed(data)
        except QueryBufferLimit:
            self.server.log_warning(
                f"Closing client that reached max query buffer length: {self.describe()}")
            self.abort("query buffer limit")
            return
        if self.pending is not None or self.blocked:
            self._enqueue(reqs, err)
            return
        if err is None and len(reqs) == 1:      # one request (-P 1): no batch bookkeeping
            server = self.server
            server.execute(self, reqs[0])
            server.flush_soon(self)
            return
        execute = self.server.execute
        out = self.out
        check = OUT_CHECK_CHUNKS
        n = len(reqs)
        i = 0
        while i < n:
            execute(self, reqs[i])
            i += 1
            if self.blocked or self.closing or self.close_after_reply:
                break
            if len(out) >= check:
                if sum(map(len, out)) >= OUT_FLUSH_BYTES:
                    self.flush()
                    if self.write_paused or self.closing:
                        break
                check = len(out) + OUT_CHECK_CHUNKS
        if i < n and not (self.closing or self.close_after_reply):
            self._enqueue(reqs[i:], err)
            err = None
        if err is not None and not self.closing and not self.close_after_reply:
            self.protocol_error(err)
        self.server.flush_soon(self)

    def _enqueue(self, reqs, err) -> None:
        if self.pending is None:
            self.pending = collections.deque()
        self.pending.extend(reqs)
        if err is not None:
            self.pending.append(err)
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        """Run requests deferred while blocked (or cut short by backpressure),
        then read again."""
        pending = self.pending
        execute = self.server.execute
        out = self.out
        check = OUT_CHECK_CHUNKS
        while (pending and not self.blocked and not self.closing and not self.close_after_reply
               and not self.write_paused):
            req = pending.popleft()
            if type(req) is ProtocolError:
                self.protocol_error(req)
                break
            execute(self, req)
            if len(out) >= check:
                if sum(map(len, out)) >= OUT_FLUSH_BYTES:
                    self.flush()
                check = len(out) + OUT_CHECK_CHUNKS
        if not self.blocked and not pending and not self.write_paused:
            self.pending = None
            if self.reading_paused and not self.closing:
                self.reading_paused = False
                if not self.write_paused:
                    self.transport.resume_reading()
        self.flush()

    # -- output ---------------------------------------------------------------------

    def flush(self) -> None:
        out = self.out
        if not out:
            if self.close_after_reply and not self.closing:
                self.close_now()
            return
        before = self.server.before_reply
        if before is not None and before(self):
            return                      # held until the AOF's write is on disk (it flushes us)
        data = b"".join(out) if len(out) > 1 else out[0]
        out.clear()
        if self.closing:
            return
        t = self.transport
        limits = self.server.obuf_limits.get(self.kind)
        if limits is not None and limits[0] and len(data) > REPLY_BUF \
                and t.get_write_buffer_size() + len(data) - REPLY_BUF > limits[0]:
            # Redis counts a reply against the hard limit as it accumulates, beyond
            # its 16k reply buffer, before any of it is written: a reply (or a
            # pipeline's replies) over the limit closes the client unanswered.
            self._obuf_close()
            return
        self.stats.net_output_bytes += len(data)
        t.write(data)
        if self.close_after_reply:
            self.close_now()
            return
        if limits is not None and (limits[0] or limits[1]):
            self.check_output_limits(t.get_write_buffer_size(), limits)

    def check_output_limits(self, size: int, limits) -> None:
        hard, soft, secs = limits
        if hard and size > hard:
            self._obuf_close()
        elif soft and size > soft:
            now = time.monotonic()
            if not self.obuf_soft_since:
                self.obuf_soft_since = now
            elif now - self.obuf_soft_since > secs:
                self._obuf_close()
        else:
            self.obuf_soft_since = 0.0

    def _obuf_close(self) -> None:
        self.server.log_warning(
            f"Client {self.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.")
        self.server.stats.client_output_buffer_limit_disconnections += 1
        self.abort("output buffer limit")

    def out_push(self, value) -> None:
        """Append a push (a pub/sub (un)subscribe confirmation) to the current
        output batch (no flush). Under CLIENT REPLY OFF/SKIP its chunks are noted
        in push_marks so that the reply silencing keeps them (Redis's
        CLIENT_PUSHING)."""
        from securekv.net.resp import encode
        out = self.out
        if self.reply_mode:
            start = len(out)
            encode(value, self.resp3, out)
            if self.push_marks is None:
                self.push_marks = []
            self.push_marks.append((start, len(out)))
        else:
            encode(value, self.resp3, out)

    def send_push(self, value) -> None:
        """Deliver an out-of-band reply (pub/sub message, MONITOR line, unblocked reply)."""
        from securekv.net.resp import encode
        encode(value, self.resp3, self.out)
        self.flush()

    def protocol_error(self, err: ProtocolError) -> None:
        self.out.append(b"-ERR Protocol error: %s\r\n" % err.message)
        self.server.count_error("ERR")
        self.server.log_verbose(f"Protocol error ({err}) from client: {self.describe()}")
        self.close_reason = "protocol error"
        self.close_after_reply = True

    def abort(self, reason: str) -> None:
        """Drop the connection now, unsent output included (Redis's freeClient):
        a client that does not read must not keep its buffer, its registry
        entry or its subscriptions until the peer reads (transport.close() would
        wait for that)."""
        self.close_reason = reason
        if not self.closing:
            self.closing = True
            self.out.clear()
            if self.transport is not None:
                self.transport.abort()
        self.server.client_disconnected(self)

    def close_now(self) -> None:
        if not self.closing:
            self.closing = True
            if self.transport is not None:
                self.transport.close()

    # -- introspection --------------------------------------------------------------

    def peer(self) -> str:
        if self.unix:
            return f"{self.addr[0]}:0"
        host, port = self.addr
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def local(self) -> str:
        host, port = self.laddr
        if self.unix:
            return f"{host}:0"
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def describe(self) -> str:
        return self.server.client_info_line(self)

    @property
    def is_loopback(self) -> bool:
        if self.unix:
            return True
        host = self.addr[0]
        return host == "127.0.0.1" or host == "::1" or host.startswith("127.") \
            or host == "::ffff:127.0.0.1"


def obuf_cron(server) -> None:
    """Soft output-buffer limits of clients that stopped getting replies flushed
    (paused by backpressure): Redis re-checks them as their buffers stay full."""
    limits_of = server.obuf_limits
    if not any(lim[1] for lim in limits_of.values()):
        return
    for c in list(server.clients.values()):
        if c.obuf_soft_since and not c.closing and c.transport is not None:
            limits = limits_of.get(c.kind)
            if limits is not None and (limits[0] or limits[1]):
                c.check_output_limits(c.transport.get_write_buffer_size(), limits)


@on_init
def _install(server) -> None:
    server.cron_hooks.append(lambda: obuf_cron(server))
