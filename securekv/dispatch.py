"""One command's path, in Redis's order (processCommand in server.c):

 1. lookup in the command table (subcommands of containers included);
    unknown command / unknown subcommand errors, byte-identical to Redis;
 2. arity;
 3. the gate, only when the client or the server is in a special state
    (`c.gated`/`server.gated`): DEBUG protection, authentication, no_multi,
    ACL permission (the `server.acl_check` hook), maxmemory/quota for
    denyoom commands (`server.oom_check` hook), the RESP2 pub/sub context,
    MULTI queueing;
 4. call: run the handler (a plain function: atomic on the loop), encode
    its reply for the client's protocol, count statistics, feed the slow
    log and MONITOR, and hand writes to the propagation seam.

Handlers return a reply value (see net/resp.py) or raise CommandError. A
handler that blocks the client returns BLOCKED and answers later.

The common path takes no locks, logs nothing, raises nothing and awaits
nothing: lookups, one arity test, two flag tests, the call and the encode.
"""

from __future__ import annotations

import time

from securekv.commands.table import COMMANDS
from securekv.errors import CommandError
from securekv.net.resp import _BULK_HDR, Status, encode

BLOCKED = object()      # a handler's reply when the client now waits (BLPOP ...)
GATE_ACL_ONLY = 2       # c.gated: only the user's ACL restrictions need checking
NO_REPLY = object()     # a handler's reply when it wrote its own output (SUBSCRIBE ...)

_perf_ns = time.perf_counter_ns


def _sanitize(msg: str) -> bytes:
    return msg.replace("\r", " ").replace("\n", " ").encode("utf-8", "surrogateescape")


def error_reply(c, msg: str, cmd=None, rejected: bool = False) -> None:
    """Append an error reply and count it (errorstats, failed/rejected calls)."""
    if msg[:1] == "-":
        msg = msg[1:]
    if rejected and cmd is not None and cmd.name == "exec":
        # rejectCommand -> execCommandAbort: a rejected EXEC (arity, NOAUTH,
        # NOPERM ...) answers EXECABORT and discards the transaction, if any.
        msg = "EXECABORT Transaction discarded because of: " + (
            msg[4:] if msg.startswith("ERR ") else msg)
        if c.multi is not None or c.watched:
            from securekv.commands.transactions import discard_transaction
            discard_transaction(c)
    c.out.append(b"-" + _sanitize(msg) + b"\r\n")
    server = c.server
    server.count_error(msg.split(" ", 1)[0])
    if cmd is not None:
        if rejected:
            c.stats.rejected_calls[cmd.id] += 1
        else:
            c.stats.failed_calls[cmd.id] += 1


def unknown_command_error(argv: list[bytes]) -> str:
    """Redis's commandCheckExistence message for a missing (sub)command."""
    name = argv[0]
    base = COMMANDS.get(name.lower())
    if base is not None and base.subcommands is not None and len(argv) > 1:
        sub = argv[1][:128].decode("utf-8", "surrogateescape")
        return f"ERR unknown subcommand '{sub}'. Try {name.decode('utf-8', 'surrogateescape').upper()} HELP."
    args = ""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += "'%s' " % a[: 128 - len(args)].decode("utf-8", "surrogateescape")
    return "ERR unknown command '%s', with args beginning with: %s" % (
        name[:128].decode("utf-8", "surrogateescape"), args)


def propagate_unit(server, c, ks, ops) -> None:
    """Hand one execution unit's writes, [(db id, argv), ...], to the propagation
    subscribers (AOF): inside EXEC into the transaction (server.prop_batch, wrapped
    at its end); otherwise wrapped in MULTI ... EXEC when there are several, as
    Redis 7.0's propagatePendingCommands (SPOP with a count, XREADGROUP/XCLAIM
    claiming several entries, a write after a lazily expired key's DEL ...). The
    MULTI goes with the first write's db, the EXEC with the last's, so no
    SELECT comes between the last write and EXEC."""
    batch = server.prop_batch
    if batch is not None:
        for dbid, argv in ops:
            batch.append((dbid, [argv]))
        return
    if len(ops) > 1:
        ops = [(ops[0][0], [b"MULTI"]), *ops, (ops[-1][0], [b"EXEC"])]
    for sub in server.propagation_subscribers:
        for dbid, argv in ops:
            sub(c, dbid, [argv], ks)


def propagate_command(server, c, argv, moved: bool, dbid=None) -> None:
    """The propagation of one command run by c (or of a blocked client served):
    the keys it found expired, then what it set in c.propagate_argv (its
    rewritten form: a list of argvs, [] for nothing), else argv itself when it
    changed something (`moved`). Only called while someone listens."""
    items = c.propagate_argv
    c.propagate_argv = None
    if items is None:
        items = (argv,) if moved and argv is not None else ()
    if dbid is None:
        dbid = c.db.id
    pend = server.expired_pending
    if pend:
        ops = [(d, a) for _ks, d, a in pend]
        pend.clear()
        ops.extend((dbid, a) for a in items)
    elif len(items) == 1 and server.prop_batch is None:
        a = items[0]
        ks = c.keyspace
        for sub in server.propagation_subscribers:
            sub(c, dbid, [a], ks)
        return
    else:
        ops = [(dbid, a) for a in items]
    if ops:
        propagate_unit(server, c, c.keyspace, ops)


def make_executor(server):
    """Build `execute(c, argv)` with the server's hot state bound as locals.

    `execute(c, argv)` is the whole path; `execute(c, argv, cmd)` skips lookup,
    arity and gate (EXEC runs its queued commands that way: `server.call`).
    One function, not two, because a Python call is a measurable share of a
    GET (bench/micro_dispatch.py).
    """
    # Clients send names in either case; index both so the common lookup is one
    # dict probe (mixed case falls back to lower()).
    fast = {}
    for name, c_ in COMMANDS.items():
        fast[name] = c_
        fast[name.upper()] = c_
    commands_get = fast.get
    lower_get = COMMANDS.get
    perf_ns = _perf_ns
    null2, null3 = b"$-1\r\n", b"_\r\n"
    bulk_hdr = _BULK_HDR
    small_ints = [b":%d\r\n" % i for i in range(1024)]
    pend = server.expired_pending       # keys expired during a command (Keyspace.on_expired)

    def execute(c, argv, cmd=None):
        if cmd is None:
            cmd = commands_get(argv[0])
            if cmd is None:
                cmd = lower_get(argv[0].lower())
                if cmd is None:
                    return reject_unknown(c, argv)
            if cmd.subcommands is not None and len(argv) > 1:
                sub = cmd.subcommands.get(argv[1].lower())
                if sub is None:
                    return reject_unknown(c, argv)
                cmd = sub
            arity = cmd.arity
            n = len(argv)
            if (arity > 0 and arity != n) or n < -arity:
                c.last_cmd = cmd        # CLIENT LIST's cmd=: Redis sets it before checking
                if c.multi is not None:
                    c.multi_error = True
                return error_reply(c, f"ERR wrong number of arguments for '{cmd.name}' command",
                                   cmd, rejected=True)
            gated = c.gated
            if gated or server.gated:
                # A client gated only because its user is restricted (GATE_ACL_ONLY)
                # passes on the user's compiled per-command check alone (acl/perm.py:
                # None when any arguments are allowed); a denial, and every other
                # reason to be gated, takes the full gate (Redis's order, the NOPERM
                # reply and the ACL LOG entry live there).
                u = c.user
                if gated == GATE_ACL_ONLY and u is not None and not server.gated \
                        and not cmd.protected:
                    chk = u.perm.checks[cmd.id]
                    if chk is not None and chk(cmd, argv) is not None \
                            and not server.gate(c, cmd, argv):
                        return None
                elif not server.gate(c, cmd, argv):
                    return None
        out = c.out
        mark = len(out)
        c.last_cmd = cmd
        dirty = server.dirty
        t0 = perf_ns()
        try:
            r = cmd.handler(c, argv)
        except CommandError as e:
            r = None
            error_reply(c, e.message, cmd)
        except Exception as e:          # a bug: answer, log, keep serving
            r = None
            internal_error(c, cmd, e)
        else:
            t = type(r)
            if t is bytes:
                n = len(r)
                if n < 256:             # a table header and two concatenations: cheaper than %
                    out.append(bulk_hdr[n] + r + b"\r\n")
                elif n < 16384:
                    out.append(b"$%d\r\n%s\r\n" % (n, r))
                else:
                    out.append(b"$%d\r\n" % n)
                    out.append(r)
                    out.append(b"\r\n")
            elif t is Status:
                out.append(r._enc)
            elif t is int:
                out.append(small_ints[r] if 0 <= r < 1024 else b":%d\r\n" % r)
            elif r is None:
                out.append(null3 if c.resp3 else null2)
            elif r is BLOCKED or r is NO_REPLY:
                pass
            else:
                encode(r, c.resp3, out)
        dur = (perf_ns() - t0) // 1000
        stats = c.stats
        cid = cmd.id
        stats.calls[cid] += 1
        stats.usec[cid] += dur
        if cmd.audited:                 # audit log: admin/config/ACL ... (audit-events)
            server.audit_command(c, cmd, argv, mark)
        if c.reply_mode:
            server.apply_reply_mode(c, mark)
        if dur >= server.slowlog_threshold >= 0:
            server.slowlog_add(c, cmd, argv, dur)
        # A handler that set c.propagate_argv forces propagation even without a
        # change (Redis's forceCommandPropagation: FLUSHDB/FLUSHALL on empty dbs);
        # keys it found expired (expired_pending, filled only while someone
        # listens) propagate with it. A command that lowered the counter (SAVE,
        # DEBUG LOADAOF reset it) changed nothing: Redis's call() clamps the
        # difference at 0.
        if server.dirty > dirty or c.propagate_argv is not None or pend:
            if server.propagation_subscribers:
                propagate_command(server, c, argv, server.dirty > dirty)
            else:                       # nobody listens (no AOF): nothing to hand over
                c.propagate_argv = None
                pend.clear()
        if server.monitors and not cmd.has("skip_monitor") and not cmd.has("admin"):
            server.feed_monitors(c, cmd, argv)
        if server.ready_keys and not c.in_exec:
            server.serve_blocked()
        return r

    def call(c, cmd, argv):
        """Run one already-checked command (EXEC's queued commands)."""
        return execute(c, argv, cmd)

    def reject_unknown(c, argv):
        c.last_cmd = "NULL"             # CLIENT LIST's cmd=NULL, as Redis's lookup left it
        if c.multi is not None:
            c.multi_error = True
        return error_reply(c, unknown_command_error(argv))

    def internal_error(c, cmd, e):
        server.log_warning(f"Internal error in '{cmd.name}': {e!r}")
        import traceback
        server.log_verbose(traceback.format_exc())
        error_reply(c, f"ERR internal error in '{cmd.name}' ({type(e).__name__})", cmd)

    execute.call = call
    return execute
