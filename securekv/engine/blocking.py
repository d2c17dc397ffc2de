"""Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...), as Redis's blocked.c.

A blocking command first tries to serve itself like its non-blocking twin.
When it cannot, its handler returns `block(c, keys, timeout, retry,
timeout_reply)`: the client is parked on those keys of its database, stops
executing further pipelined requests (Client.pending keeps them), and the
handler's reply is deferred.

Waking up is driven by the modification signal: Database.touch(key) notes the
key as *ready* when clients wait on it. After the current top-level command
(or EXEC) finishes, dispatch calls `serve_ready_keys`, which visits waiting
clients of each ready key in FIFO order (Redis's fairness) and calls their
`retry(c)`. `retry` runs against the keyspace exactly like the command would
and returns either NOT_READY (keep waiting: the key is empty, missing or of
another type) or the reply; it may set c.propagate_argv to the write it
performed (e.g. BLPOP propagates as LPOP). A reply unblocks the client: it is
encoded and sent, and the client's pending requests run.

Timeouts use the event loop's timer; a timed-out client gets `timeout_reply`
(e.g. NULL_ARRAY for BLPOP). Inside MULTI/EXEC a blocking command never
blocks: it returns timeout_reply at once, as Redis does.
"""

from __future__ import annotations

import collections
import math

from securekv.dispatch import BLOCKED, propagate_command
from securekv.errors import CommandError
from securekv.net.resp import encode

NOT_READY = object()


class BlockState:
    # slow: (cmd, argv, usec) when the call that blocked was slow enough for the slow
    # log; Redis 7.0 logs a blocked command when it is served (unblock), not when it
    # blocks, times out or its client disconnects.
    __slots__ = ("db", "keys", "retry", "timeout_reply", "timer", "cmd", "slow")

    def __init__(self, db, keys, retry, timeout_reply, cmd) -> None:
        self.db = db
        self.keys = keys
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer = None
        self.cmd = cmd
        self.slow = None


def parse_timeout(arg: bytes) -> float:
    """Redis's getTimeoutFromObjectOrReply (seconds, a float): 0 means forever.
    As in C: strtold (hex and inf accepted), milliseconds truncated toward zero
    (so 0.0001 and -0.0001 mean forever), an out-of-range product casts to
    LLONG_MIN and reports "timeout is negative"."""
    try:
        s = bytes(arg)
        if not s or s[:1].isspace() or s[-1:].isspace() or b"_" in s:
            raise ValueError
        if s.lstrip(b"+-")[:2] in (b"0x", b"0X"):
            v = float.fromhex(s.decode())
        else:
            v = float(s)
    except ValueError:
        raise CommandError("ERR timeout is not a float or out of range") from None
    if math.isnan(v):
        raise CommandError("ERR timeout is not a float or out of range")
    ms = v * 1000
    if abs(ms) > 2.0 ** 62 and not math.isinf(v):
        try:        # near the int64 edge: long double precision, i.e. exact here
            from fractions import Fraction
            ms = int(Fraction(s.decode()) * 1000)
        except ValueError:
            pass
    if not -2 ** 63 <= ms < 2 ** 63 or int(ms) < 0:
        raise CommandError("ERR timeout is negative")
    return int(ms) / 1000


def block(c, keys, timeout: float, retry, timeout_reply):
    """Park client c on keys until retry(c) returns a reply or timeout seconds pass
    (0: forever). Returns what the handler must return."""
    if c.in_exec:
        return timeout_reply
    db = c.db
    st = BlockState(db, list(dict.fromkeys(keys)), retry, timeout_reply, c.last_cmd)
    waiting = db.blocking
    for k in st.keys:
        q = waiting.get(k)
        if q is None:
            q = waiting[k] = collections.deque()
        q.append(c)
    server = c.server
    if timeout > 0:
        st.timer = server.loop.call_later(timeout, _timed_out, c, st)
    c.blocked = True
    c.block_state = st
    server.blocked_clients += 1
    return BLOCKED


def _detach(c, st) -> None:
    waiting = st.db.blocking
    for k in st.keys:
        q = waiting.get(k)
        if q is not None:
            try:
                q.remove(c)
            except ValueError:
                pass
            if not q:
                del waiting[k]
    if st.timer is not None:
        st.timer.cancel()
    c.blocked = False
    c.block_state = None
    c.server.blocked_clients -= 1


def unblock(c, reply, slowlog: bool = True) -> None:
    """Wake c with `reply` (a reply value, or a CommandError to send as an error);
    the blocked call goes to the slow log now if it was slow (`slowlog`)."""
    st = c.block_state
    if st is None:
        return
    _detach(c, st)
    if st.slow is not None and slowlog:
        c.server.slowlog_add(c, *st.slow)
    if isinstance(reply, CommandError):
        from securekv.dispatch import error_reply
        error_reply(c, reply.message, st.cmd)
    else:
        encode(reply, c.resp3, c.out)
    c.server.loop.call_soon(c.resume)
    c.flush()


def _timed_out(c, st) -> None:
    if c.block_state is st:
        st.timer = None
        unblock(c, st.timeout_reply, slowlog=False)     # Redis 7.0.15 does not log it


def disconnect(c) -> None:
    st = c.block_state
    if st is not None:
        _detach(c, st)


def serve_ready_keys(server) -> None:
    """Serve clients blocked on keys that were touched (FIFO per key)."""
    ready = server.ready_keys
    server.serving_blocked = True
    try:
        while ready:
            item = next(iter(ready))
            del ready[item]
            db, key = item
            q = db.blocking.get(key)
            if not q:
                continue
            for c in list(q):
                st = c.block_state
                if st is None or st.db is not db or c.closing:
                    continue
                saved_db = c.db
                c.db = db
                dirty = server.dirty
                # The key being served: Redis serves a client from the ready key
                # (not the first of its keys); retry() may read it.
                server.serving_key = key
                try:
                    r = st.retry(c)
                except CommandError as e:
                    r = e
                c.db = saved_db
                if r is NOT_READY:
                    continue
                if (server.dirty != dirty or server.expired_pending) \
                        and server.propagation_subscribers:
                    # its own execution unit (wrapped in MULTI/EXEC when several)
                    propagate_command(server, c, None, False, db.id)
                else:
                    c.propagate_argv = None
                    server.expired_pending.clear()
                unblock(c, r)
    finally:
        server.serving_blocked = False
