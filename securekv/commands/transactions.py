"""MULTI/EXEC/DISCARD/WATCH/UNWATCH (multi.c).

Queueing happens in the dispatch gate (server.gate): while `c.multi` is a
list, every command not declared with context="multi" is checked (arity,
ACL ...) and appended, and the client gets +QUEUED; a rejected command sets
`c.multi_error`, which makes EXEC answer EXECABORT.

WATCH registers the client in `db.watched[key]` with Redis 7.0's `expired`
flag (the key was logically expired when WATCHed); Database.touch marks the
watchers `dirty_cas`, so EXEC fails (null array) if a watched key changed,
except that deleting a key watched already expired is no change (nor is a
FLUSHDB or SWAPDB that only removes or brings in expired keys). A watched key
that expires between WATCH and EXEC also fails EXEC (isWatchedKeyExpired).

EXEC runs the queued commands through the same `call` as direct commands
(statistics, slow log, propagation), re-checking ACL permissions first like
Redis. Writes of a transaction reach the propagation seam wrapped in
MULTI ... EXEC, so AOF and replicas apply them atomically.
"""

from __future__ import annotations

from securekv.commands.table import KeySpec, Range, command
from securekv.errors import CommandError
from securekv.lifecycle import on_init
from securekv.net.resp import NULL_ARRAY, OK


def unwatch_all(c) -> None:
    watched = c.watched
    if not watched:
        c.watched = None
        c.dirty_cas = False
        return
    for db, key in watched:
        clients = db.watched.get(key)
        if clients is not None:
            clients.pop(c, None)
            if not clients:
                del db.watched[key]
    c.watched = None
    c.dirty_cas = False


def discard_transaction(c) -> None:
    c.multi = None
    c.multi_error = False
    unwatch_all(c)
    c.server.update_gate(c)


def _watched_key_expired(c) -> bool:
    for db, key in c.watched or ():
        if not db.watched[key][c] and db.is_stale(key):
            return True
    return False


@command("multi", 1, "noscript loading stale fast allow_busy", "@transaction",
         group="transactions", since="1.2.0", summary="Mark the start of a transaction block",
         context="multi")
def multi(c, argv):
    if c.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    c.server.update_gate(c)
    return OK


@command("exec", 1, "noscript loading stale skip_slowlog", "@transaction",
         group="transactions", since="1.2.0", summary="Execute all commands issued after MULTI",
         context="multi")
def exec_(c, argv):
    if c.multi is None:
        raise CommandError("ERR EXEC without MULTI")
    if c.multi_error:
        discard_transaction(c)
        raise CommandError("EXECABORT Transaction discarded because of previous errors.")
    if c.dirty_cas or (c.watched and _watched_key_expired(c)):
        discard_transaction(c)
        return NULL_ARRAY
    queued = c.multi
    me = c.last_cmd
    c.multi = None
    unwatch_all(c)
    server = c.server
    server.update_gate(c)
    out = c.out
    out.append(b"*%d\r\n" % len(queued))
    call = server.call
    acl_check = server.acl_check
    # While EXEC runs, CLIENT INFO/LIST show the client as Redis does: flags=x,
    # multi=<queued count>, cmd=exec (client_info_line reads in_exec).
    c.in_exec = len(queued)
    server.begin_transaction_propagation()
    try:
        for cmd, qargv in queued:
            if acl_check is not None:
                err = acl_check(c, cmd, qargv)
                if err is not None:
                    from securekv.dispatch import error_reply
                    error_reply(c, err, cmd, rejected=True)
                    continue
            call(c, cmd, qargv)
    finally:
        c.in_exec = 0
        c.last_cmd = me                 # the queued commands set it; Redis's lastcmd stays exec
        server.end_transaction_propagation(c)
        c.propagate_argv = []           # the writes went above; EXEC itself never does
    from securekv.dispatch import NO_REPLY
    return NO_REPLY


@command("discard", 1, "noscript loading stale fast allow_busy", "@transaction",
         group="transactions", since="2.0.0", summary="Discard all commands issued after MULTI",
         context="multi")
def discard(c, argv):
    if c.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(c)
    return OK


@command("watch", -2, "noscript loading stale fast allow_busy", "@transaction",
         keys=[KeySpec("RO", 1, Range(-1, 1, 0))], group="transactions", since="2.2.0",
         summary="Watch the given keys to determine execution of the MULTI/EXEC block",
         context="multi")
def watch(c, argv):
    if c.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    db = c.db
    if c.watched is None:
        c.watched = []
    for key in argv[1:]:
        clients = db.watched.get(key)
        if clients is None:
            clients = db.watched[key] = {}
        elif c in clients:
            continue
        clients[c] = db.is_stale(key)
        c.watched.append((db, key))
    return OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", "@transaction",
         group="transactions", since="2.2.0", summary="Forget about all watched keys")
def unwatch(c, argv):
    unwatch_all(c)
    return OK


@on_init
def _setup(server) -> None:
    server.disconnect_hooks.append(discard_transaction)
    server.reset_hooks.append(discard_transaction)
