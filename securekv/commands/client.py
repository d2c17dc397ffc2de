"""CLIENT: ID, INFO, LIST, KILL, SETNAME, GETNAME, PAUSE, UNPAUSE, REPLY, NO-EVICT,
UNBLOCK, TRACKING, CACHING, GETREDIR, TRACKINGINFO, HELP (Redis 7.0's
clientCommand in networking.c).

* CLIENT LIST / INFO lines have Redis 7.0's fields in its order; the same
  renderer is `server.client_info_hook`, so log lines describe clients alike.
  Memory fields are estimates of securekv's own buffers (qbuf: request bytes
  buffered, the running request included as in Redis; omem: reply bytes not
  yet sent), not Redis's allocator numbers.
  cmd= is the client's last command as Redis's c->lastcmd: set for rejected
  (arity, NOAUTH, NOPERM ...), queued and CLIENT PAUSE-deferred commands too,
  NULL after an unknown (sub)command, `exec` during and after EXEC (which
  also shows flags=x multi=<queued> while it runs). events=r unless the
  client is closing or securekv stopped reading it for backpressure (Redis
  keeps reading blocked and paused clients, and so shows r).
  tests/integration/test_introspection_parity.py compares all this with Redis.
* CLIENT PAUSE defers commands with `server.pause_blocks` (called by the
  dispatch gate before MULTI queueing, as processCommand): the request goes
  back to the front of the client's `pending` queue and the client stops
  reading; UNPAUSE (or the pause's end) resumes paused clients in the order
  they were paused. WRITE mode defers commands flagged write or may_replicate,
  and EXEC of a transaction holding one (Redis's is_may_replicate_command).
* Client-side caching (TRACKING) is not implemented: TRACKING OFF, GETREDIR,
  TRACKINGINFO and CACHING answer as Redis does for a client without
  tracking; TRACKING ON validates its options like Redis and then refuses.
* CLIENT KILL MAXAGE (Redis 7.4) is accepted in addition to 7.0's filters.
"""

from __future__ import annotations

import time

from securekv.commands.table import container, subcommand
from securekv.commands.util import help_reply, parse_int, subcommand_syntax_error, to_str
from securekv.engine import blocking
from securekv.errors import SYNTAX, CommandError
from securekv.lifecycle import on_init
from securekv.dispatch import NO_REPLY
from securekv.net.resp import OK, RSet, Verbatim, _wire_len
from securekv.tenancy.registry import visible_clients

container("client", -2, "", "", group="connection", since="2.4.0",
          summary="A container for client connection commands")


def _sub(name, arity, flags, since, summary, tips=()):
    return subcommand("client", name, arity, flags, "@connection", since=since,
                      summary=summary, tips=tips)


# -- rendering -----------------------------------------------------------------

def client_type(c) -> str:
    """Redis's getClientType: master, replica (not MONITOR), pubsub or normal."""
    kind = c.kind
    if kind == "master":
        return "master"
    if kind == "replica" and not c.monitor:
        return "replica"
    if c.subscriptions or c.psubscriptions or c.ssubscriptions or kind == "pubsub":
        return "pubsub"
    return "normal"


_TYPES = {b"normal": "normal", b"slave": "replica", b"replica": "replica",
          b"pubsub": "pubsub", b"master": "master"}


def _type_arg(arg: bytes) -> str:
    t = _TYPES.get(arg.lower())
    if t is None:
        raise CommandError("ERR Unknown client type '%s'" % to_str(arg))
    return t


def _flags(c) -> str:
    f = ""
    if c.kind == "replica" or c.monitor:
        f += "O" if c.monitor else "S"
    if c.kind == "master":
        f += "M"
    if c.subscriptions or c.psubscriptions or c.ssubscriptions:
        f += "P"
    if c.multi is not None or c.in_exec:
        f += "x"
    if c.blocked:
        f += "b"
    if c.dirty_cas:
        f += "d"
    if c.close_after_reply:
        f += "c"
    if c.closing:
        f += "A"
    if c.unix:
        f += "U"
    if c.no_evict:
        f += "e"
    return f or "N"


def _user_name(c) -> str:
    u = c.user
    if u is None:
        return "default"
    name = getattr(u, "name", u)
    return to_str(name) if isinstance(name, (bytes, bytearray)) else str(name)


def client_info_line(c, argv=None) -> str:
    """One CLIENT LIST line, Redis 7.0's fields in its order (`argv`: the command
    the client is running, for argv-mem)."""
    server = c.server
    now = server.unixtime
    parser = c.parser
    buf = parser._buf
    qbuf = len(buf) - parser._pos if buf is not None else 0
    if argv:
        # The client running CLIENT LIST/INFO: Redis's query buffer still holds the
        # request being executed (qbuf=26 for CLIENT INFO sent alone); its wire size.
        qbuf += _wire_len(argv)
    multi_mem = sum(len(a) for _cmd, argv in c.multi for a in argv) if c.multi else 0
    t = c.transport
    omem = t.get_write_buffer_size() if t is not None and not c.closing else 0
    obl = sum(len(x) for x in c.out)
    cmd = c.last_cmd
    cmdname = "exec" if c.in_exec else cmd if isinstance(cmd, str) else cmd.name
    # r: Redis keeps reading a client's requests while it is blocked or paused; securekv
    # stops reading only on backpressure (write_paused), which it shows.
    events = "" if c.closing else ("" if c.write_paused else "r") + ("w" if omem else "")
    multi = len(c.multi) if c.multi is not None else c.in_exec or -1
    sub = len(c.subscriptions) if c.subscriptions else 0
    psub = len(c.psubscriptions) if c.psubscriptions else 0
    ssub = len(c.ssubscriptions) if c.ssubscriptions else 0
    tot = qbuf + omem + obl + multi_mem + 1024
    return (f"id={c.id} addr={c.peer()} laddr={c.local()} fd={c.fd} "
            f"name={to_str(c.name)} age={max(0, now - int(c.created))} "
            f"idle={max(0, now - int(c.last_interaction))} flags={_flags(c)} db={c.db.id} "
            f"sub={sub} psub={psub} ssub={ssub} "
            f"multi={multi} qbuf={qbuf} qbuf-free=0 "
            f"argv-mem={sum(map(len, argv)) if argv else 0} multi-mem={multi_mem} rbs=16384 rbp=0 obl={obl} "
            f"oll=0 omem={omem} tot-mem={tot} events={events} cmd={cmdname} "
            f"user={_user_name(c)} redir=-1 resp={c.resp}")


def _lines(clients, me=None, argv=None) -> bytes:
    return "".join(client_info_line(x, argv if x is me else None) + "\n"
                   for x in clients).encode("utf-8", "surrogateescape")


# -- ID, INFO, LIST, SETNAME, GETNAME ---------------------------------------------

@_sub("id", 2, "noscript loading stale", "5.0.0",
      "Returns the client ID for the current connection")
def client_id(c, argv):
    return c.id


@_sub("info", 2, "noscript loading stale", "6.2.0",
      "Returns information about the current client connection.",
      tips=["nondeterministic_output"])
def client_info(c, argv):
    return Verbatim(_lines([c], c, argv))


@_sub("list", -2, "admin noscript loading stale", "2.4.0",
      "Get the list of client connections", tips=["nondeterministic_output"])
def client_list(c, argv):
    n = len(argv)
    clients = visible_clients(c)
    if n == 4 and argv[2].lower() == b"type":
        t = _type_arg(argv[3])
        return Verbatim(_lines((x for x in clients.values() if client_type(x) == t), c, argv))
    if n > 3 and argv[2].lower() == b"id":
        found = []
        for a in argv[3:]:
            cid = parse_int(a, "ERR Invalid client ID")
            x = clients.get(cid)
            if x is not None:
                found.append(x)
        return Verbatim(_lines(found, c, argv))
    if n != 2:
        raise CommandError(SYNTAX)
    return Verbatim(_lines(clients.values(), c, argv))


@_sub("setname", 3, "noscript loading stale", "2.6.9", "Set the current connection name")
def client_setname(c, argv):
    name = argv[2]
    if any(b < 33 or b > 126 for b in name):
        raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
    c.name = bytes(name)
    return OK


@_sub("getname", 2, "noscript loading stale", "2.6.9", "Get the current connection name")
def client_getname(c, argv):
    return c.name or None


# -- KILL ---------------------------------------------------------------------------

def _find_user(server, name: bytes):
    """The ACL user named `name` (the ACL family sets server.acl_get_user), else None."""
    get = getattr(server, "acl_get_user", None)
    if get is not None:
        return get(name)
    return name if name == b"default" else None


def _is_user(c, user) -> bool:
    if c.user is None:
        return user == b"default" or getattr(user, "name", None) in (b"default", "default")
    return c.user is user or c.user == user


@_sub("kill", -3, "admin noscript loading stale", "2.4.0", "Kill the connection of a client")
def client_kill(c, argv):
    server = c.server
    n = len(argv)
    addr = laddr = user = ctype = None
    cid = 0
    maxage = 0
    skipme = True
    if n == 3:
        addr = to_str(argv[2])
        skipme = False          # the old form may kill the caller itself
    else:
        i = 2
        while i < n:
            opt = argv[i].lower()
            if i + 1 >= n:
                raise CommandError(SYNTAX)
            val = argv[i + 1]
            if opt == b"id":
                v = parse_int(val, "ERR client-id should be greater than 0")
                if v < 1:
                    raise CommandError("ERR client-id should be greater than 0")
                cid = v
            elif opt == b"type":
                ctype = _type_arg(val)
            elif opt == b"addr":
                addr = to_str(val)
            elif opt == b"laddr":
                laddr = to_str(val)
            elif opt == b"user":
                user = _find_user(server, val)
                if user is None:
                    raise CommandError("ERR No such user '%s'" % to_str(val))
            elif opt == b"skipme":
                v = val.lower()
                if v == b"yes":
                    skipme = True
                elif v == b"no":
                    skipme = False
                else:
                    raise CommandError(SYNTAX)
            elif opt == b"maxage":
                v = parse_int(val)
                if v < 1:
                    raise CommandError("ERR maxage should be greater than 0")   # Redis 7.4
                maxage = v
            else:
                raise CommandError(SYNTAX)
            i += 2
    killed = 0
    close_self = False
    now = time.time()
    for x in list(visible_clients(c).values()):
        if addr is not None and x.peer() != addr:
            continue
        if laddr is not None and x.local() != laddr:
            continue
        if ctype is not None and client_type(x) != ctype:
            continue
        if cid and x.id != cid:
            continue
        if user is not None and not _is_user(x, user):
            continue
        if maxage and now - x.created < maxage:
            continue
        if x is c:
            if skipme:
                continue
            close_self = True
        else:
            kill(x)
        killed += 1
    if close_self:
        c.close_reason = "killed"
        c.close_after_reply = True
    if n == 3:
        if not killed:
            raise CommandError("ERR No such client")
        return OK
    return killed


def kill(x) -> None:
    """Close client x now (CLIENT KILL), with the close reason "killed"."""
    x.abort("killed")


# -- REPLY, NO-EVICT, HELP ------------------------------------------------------------

@_sub("reply", 3, "noscript loading stale", "3.2.0",
      "Instruct the server whether to reply to commands")
def client_reply(c, argv):
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = 0
        c.skip_next_reply = False
        return OK
    # server.apply_reply_mode drops replies: all of them in mode 1 (OFF); in
    # mode 2 (SKIP) it arms after this command and drops the next one's.
    if mode == b"off":
        c.reply_mode = 1
        return NO_REPLY
    if mode == b"skip":
        if c.reply_mode != 1:
            c.reply_mode = 2
            c.skip_next_reply = False
        return NO_REPLY
    raise CommandError(SYNTAX)


@_sub("no-evict", 3, "admin noscript loading stale", "7.0.0",
      "Set client eviction mode for the current connection")
def client_no_evict(c, argv):
    v = argv[2].lower()
    if v == b"on":
        c.no_evict = True
    elif v == b"off":
        c.no_evict = False
    else:
        raise CommandError(SYNTAX)
    return OK


HELP = (
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
)


@_sub("help", 2, "loading stale", "5.0.0",
      "Show helpful text about the different subcommands")
def client_help(c, argv):
    return help_reply(argv, [h.encode() for h in HELP])


# -- PAUSE, UNPAUSE ---------------------------------------------------------------------

PAUSE_WRITE, PAUSE_ALL = 1, 2


@_sub("pause", -3, "admin noscript loading stale", "2.9.50",
      "Stop processing commands from clients for some time")
def client_pause(c, argv):
    n = len(argv)
    if n > 4:
        raise subcommand_syntax_error(argv)
    kind = PAUSE_ALL
    if n == 4:
        m = argv[3].lower()
        if m == b"write":
            kind = PAUSE_WRITE
        elif m != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    ms = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    if ms <= 2 ** 63 - 1 - int(time.time() * 1000):   # else Redis's end time wraps: no pause
        pause(c.server, time.time() + ms / 1000.0, kind)
    return OK


@_sub("unpause", 2, "admin noscript loading stale", "6.2.0",
      "Resume processing of clients that were paused")
def client_unpause(c, argv):
    unpause(c.server)
    return OK


def pause(server, until: float, kind: int) -> None:
    """Redis's pauseClients: the later end and the stricter kind win."""
    if server.paused_until:
        until = max(until, server.paused_until)
        kind = max(kind, server.pause_kind or 0)
    server.paused_until = until
    server.pause_kind = kind
    server.update_server_gate()
    if server.pause_timer is not None:
        server.pause_timer.cancel()
    server.pause_timer = server.loop.call_later(max(0.0, until - time.time()), _pause_end, server)


def _pause_end(server) -> None:
    server.pause_timer = None
    if server.paused_until and time.time() >= server.paused_until - 0.0005:
        unpause(server)
    elif server.paused_until:
        server.pause_timer = server.loop.call_later(
            max(0.001, server.paused_until - time.time()), _pause_end, server)


def unpause(server) -> None:
    """End the pause; paused clients resume in the order they were paused."""
    if server.pause_timer is not None:
        server.pause_timer.cancel()
        server.pause_timer = None
    server.paused_until = 0.0
    server.pause_kind = None
    server.update_server_gate()
    paused, server.paused_clients = server.paused_clients, []
    for x in paused:
        if x.closing:
            continue
        x.blocked = False
        x.resume()


def _may_replicate(c, cmd) -> bool:
    if cmd.is_write or "may_replicate" in cmd.flags:
        return True
    if cmd.name == "exec" and c.multi:
        return any(q.is_write or "may_replicate" in q.flags for q, _argv in c.multi)
    return False


def pause_blocks(c, cmd, argv) -> bool:
    """The gate's CLIENT PAUSE check: defer argv (True) or let it run (False)."""
    server = c.server
    if c.kind == "replica" and not c.monitor:
        return False
    if time.time() >= server.paused_until:     # ended; the timer resumes the others
        return False
    if server.pause_kind != PAUSE_ALL and not _may_replicate(c, cmd):
        return False
    pending = c.pending
    if pending is None:
        import collections
        pending = c.pending = collections.deque()
    pending.appendleft(argv)
    if not c.blocked:
        c.blocked = True
        server.paused_clients.append(c)
    if not c.reading_paused and c.transport is not None:
        c.reading_paused = True
        c.transport.pause_reading()
    return True


# -- UNBLOCK ---------------------------------------------------------------------------

@_sub("unblock", -3, "admin noscript loading stale", "5.0.0",
      "Unblock a client blocked in a blocking command from a different connection")
def client_unblock(c, argv):
    n = len(argv)
    if n > 4:
        raise subcommand_syntax_error(argv)
    as_error = False
    if n == 4:
        r = argv[3].lower()
        if r == b"error":
            as_error = True
        elif r != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    cid = parse_int(argv[2])
    x = visible_clients(c).get(cid)
    st = x.block_state if x is not None else None
    if st is None:          # not blocked, or only deferred by CLIENT PAUSE
        return 0
    if st.slow is not None:
        # Redis 7.0.15 slow-logs the unblocked call with an empty argv (its argv is
        # gone by then): so does securekv, for tools that compare the two.
        st.slow = (st.slow[0], [], st.slow[2])
    # Statistics as Redis 7.0's clientCommand: updateStatsOnUnblock(target, 0, 0, 1)
    # counts the target's command failed whatever the reason (TIMEOUT included), and
    # the UNBLOCKED error, replied during this call, makes CLIENT UNBLOCK itself a
    # failed call too (call() compares the error count before and after).
    if as_error:
        blocking.unblock(x, CommandError("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
        c.stats.failed_calls[c.last_cmd.id] += 1        # c.last_cmd: this CLIENT UNBLOCK
    else:
        blocking.unblock(x, st.timeout_reply)
        x.stats.failed_calls[st.cmd.id] += 1
    return 1


# -- client-side caching: not implemented; the replies of a client without tracking --------

@_sub("tracking", -3, "noscript loading stale", "6.0.0",
      "Enable or disable server assisted client side caching support")
def client_tracking(c, argv):
    n = len(argv)
    redir = 0
    opts = set()
    prefixes = 0
    j = 3
    while j < n:
        more = n - 1 - j
        o = argv[j].lower()
        if o == b"redirect" and more:
            j += 1
            if redir:
                raise CommandError("ERR A client can only redirect to a single other client")
            redir = parse_int(argv[j])
            if redir not in visible_clients(c):
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif o in (b"bcast", b"optin", b"optout", b"noloop"):
            opts.add(o)
        elif o == b"prefix" and more:
            j += 1
            prefixes += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"on":
        if b"bcast" not in opts and prefixes:
            raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
        if b"bcast" in opts and opts & {b"optin", b"optout"}:
            raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
        if b"optin" in opts and b"optout" in opts:
            raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
        raise CommandError("ERR client-side caching (CLIENT TRACKING) is not supported by this server")
    if mode == b"off":
        return OK
    raise CommandError(SYNTAX)


@_sub("caching", 3, "noscript loading stale", "6.0.0",
      "Instruct the server about tracking or not keys in the next request")
def client_caching(c, argv):
    raise CommandError("ERR CLIENT CACHING can be called only when the client is in tracking "
                       "mode with OPTIN or OPTOUT mode enabled")


@_sub("getredir", 2, "noscript loading stale", "6.0.0",
      "Get tracking notifications redirection client ID if any")
def client_getredir(c, argv):
    return -1


@_sub("trackinginfo", 2, "noscript loading stale", "6.2.0",
      "Return information about server assisted client side caching for the current connection")
def client_trackinginfo(c, argv):
    return {b"flags": RSet([b"off"]), b"redirect": -1, b"prefixes": []}


# -- wiring ------------------------------------------------------------------------------

def _on_disconnect(c) -> None:
    server = c.server
    if c in server.paused_clients:
        server.paused_clients.remove(c)


@on_init
def _setup(server) -> None:
    server.client_info_hook = client_info_line
    server.paused_clients = []
    server.pause_timer = None
    server.pause_blocks = pause_blocks
    server.disconnect_hooks.append(_on_disconnect)

