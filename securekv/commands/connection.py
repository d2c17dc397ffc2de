"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET.

AUTH and the AUTH option of HELLO authenticate through `server.authenticate`
(the ACL family replaces the requirepass-only default).
"""

from __future__ import annotations

from securekv import REDIS_VERSION
from securekv.commands.table import command
from securekv.errors import DB_INDEX, NOT_INTEGER, CommandError, wrong_arity
from securekv.net.resp import OK, PONG, Status, _strict_int


def valid_client_name(name: bytes) -> bool:
    """Redis's validateClientName: printable ASCII without spaces."""
    return all(33 <= b <= 126 for b in name)


@command("ping", -1, "fast", "@connection", group="connection", since="1.0.0",
         summary="Ping the server", tips=["request_policy:all_shards", "response_policy:all_succeeded"],
         context="pubsub")
def ping(c, argv):
    if len(argv) > 2:
        raise wrong_arity("ping")
    if c.resp == 2 and (c.subscriptions or c.psubscriptions or c.ssubscriptions):
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return PONG if len(argv) == 1 else argv[1]


@command("echo", 2, "loading stale fast", "@connection", group="connection", since="1.0.0",
         summary="Echo the given string")
def echo(c, argv):
    return argv[1]


@command("quit", -1, "noscript loading stale fast no_auth allow_busy", "@connection",
         group="connection", since="1.0.0", summary="Close the connection",
         context="multi pubsub")
def quit_(c, argv):
    c.close_reason = "quit"
    c.close_after_reply = True
    return OK


@command("select", 2, "loading stale fast", "@connection", group="connection", since="1.0.0",
         summary="Change the selected database for the current connection")
def select(c, argv):
    idx = _strict_int(argv[1])
    if idx is None or not -(2 ** 31) <= idx < 2 ** 31:
        raise CommandError(NOT_INTEGER)
    dbs = c.keyspace.dbs
    if idx < 0 or idx >= len(dbs):
        raise CommandError(DB_INDEX)
    c.db = dbs[idx]
    return OK


@command("hello", -1, "noscript loading stale fast no_auth allow_busy", "@connection",
         group="connection", since="6.0.0", summary="Handshake with Redis")
def hello(c, argv):
    ver = 0
    i = 1
    if len(argv) >= 2:
        ver = _strict_int(argv[1])
        if ver is None:
            raise CommandError("ERR Protocol version is not an integer or out of range")
        if ver < 2 or ver > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        i = 2
    auths = []
    name = syntax = None
    n = len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt == b"auth" and more >= 2:
            auths.append((argv[i + 1], argv[i + 2]))
            i += 3
        elif opt == b"setname" and more:
            name = argv[i + 1]
            i += 2
        else:
            # Redis authenticates each AUTH option as it parses it: a syntax
            # error after a good AUTH leaves the client authenticated.
            syntax = "ERR Syntax error in HELLO option '%s'" % argv[i].decode(
                "utf-8", "surrogateescape")
            if not auths:
                raise CommandError(syntax)
            break
    server = c.server
    if not auths:
        return _hello_reply(c, ver, name, None)
    for user, password in auths[:-1]:
        err = server.authenticate(c, user, password, "HELLO")
        if err is not None:
            raise CommandError(err)
    user, password = auths[-1]
    then = getattr(server, "authenticate_then", None)
    if then is None:
        err = server.authenticate(c, user, password, "HELLO")
        if err is not None:
            raise CommandError(err)
        return _hello_reply(c, ver, name, syntax)
    # The ACL family may verify the password in a thread (argon2) and answer later.
    return then(c, user, password, "HELLO", lambda c: _hello_reply(c, ver, name, syntax))


def _hello_reply(c, ver, name, syntax):
    """HELLO after its AUTH options: the rest of the handshake and the reply."""
    if syntax is not None:
        raise CommandError(syntax)
    server = c.server
    if not c.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time")
    if name is not None:
        if not valid_client_name(name):
            raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
        c.name = name
    if ver:
        c.resp = ver
        c.resp3 = ver == 3
        server.update_gate(c)
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if server.is_replica() else b"master",
        b"modules": [],
    }


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", "@connection",
         group="connection", since="6.2.0", summary="Reset the connection",
         context="multi pubsub")
def reset(c, argv):
    server = c.server
    for hook in server.reset_hooks:
        hook(c)
    c.resp = 2
    c.resp3 = False
    c.db = c.keyspace.dbs[0]
    c.name = b""
    c.reply_mode = 0
    c.skip_next_reply = False
    c.no_evict = False
    server.deauthenticate(c)
    server.update_gate(c)
    return Status(b"RESET")
