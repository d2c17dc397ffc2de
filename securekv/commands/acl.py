"""ACL commands, AUTH, and the server side of the acl/ engine.

The engine (acl/) knows commands through a Catalog built from the command
table; this module owns the server's users (`server.acl`), installs
`server.acl_check` (the dispatch gate calls it only for clients whose user
is restricted: see `update_gate`), `server.authenticate` (AUTH, HELLO AUTH),
requirepass, `user` config lines and aclfile, the ACL LOG, brute-force
throttling, keyspace filtering helpers and the audit hooks
(`server.audit_hooks`: callables receiving one dict per event).

Password verification that needs argon2 runs in a thread: AUTH parks the
client like a blocked client and answers when the thread is done.

securekv's `tenant=<name>` rule (acl/ keeps it as opaque user metadata) binds
a user to a tenant through securekv/tenancy/registry.py: SETUSER, DELUSER,
ACL LOAD and `user` lines push it (`tenant=default` and `reset` unbind; users
without the rule keep their binding), GETUSER/LIST/SAVE render what the
registry holds (GETUSER adds a `tenant` field only for a non-default tenant,
so without tenants every reply is Redis's). The default user stays in the
default tenant.

securekv's `certonly` rule (acl/rules.py) marks a user certificate-only: AUTH
and HELLO AUTH refuse it with the same WRONGPASS as a wrong password (nothing
tells a client the user exists), counted as an authentication failure (ACL
LOG, throttling, an auth-failure audit event whose `detail` names
certificate-only); only a verified TLS client certificate
(securekv/tlsserver.py acl_login -> `_auth_done`, method tls-certificate) logs
it in. A certonly default user is never logged in implicitly either.
GETUSER adds a `certonly` field only when set; LIST/SAVE put the word after
Redis's flags.

The hot path: a client whose only reason to be gated is a restricted user has
c.gated == GATE_ACL_ONLY and dispatch.execute passes its allowed commands on the
user's compiled per-command check (acl/perm.py) without the rest of the gate;
denials take the full gate, whose ACL step replies NOPERM and logs.
"""

from __future__ import annotations

import collections
import os
import time

from acl.categories import CATEGORIES, category_by_name
from acl.log import AclLog
from acl.passwords import Hasher
from acl.perm import (DENIED_AUTH, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, PERM_R,
                      compile_user)
from acl.rules import Catalog, RuleError, has_spaces, merge_selector_args, password_matches
from acl.users import Users
from securekv.commands.bitmaps import bitfield_getkeys
from securekv.commands.server import REDACTED, redact_auth, redact_hello, register_info
from securekv.commands.strings import set_getkeys
from securekv.commands.table import (ALL, COMMANDS, command, container, get_keys,
                                     keys_from_specs, lookup, subcommand)
from securekv.commands.util import help_reply, parse_int, subcommand_syntax_error, to_str
from securekv.errors import CommandError, wrong_arity
from securekv.lifecycle import on_init
from securekv.net.resp import OK
from securekv.tenancy.registry import assign_user, tenant_name_of_user

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPERM_CMD = "NOPERM this user has no permissions to run the '%s' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = ("NOPERM this user has no permissions to access one of the channels used "
                  "as arguments")
NOPERM_EXEC = ("NOPERM ACLs rules changed between the moment the transaction was accumulated "
               "and the EXEC call. This command is no longer allowed for the following "
               "reason: %s")
EXEC_REASONS = {DENIED_CMD: "no permission to execute the command or subcommand",
                DENIED_KEY: "no permission to touch the specified keys",
                DENIED_CHANNEL: "no permission to access one of the channels used as arguments"}
NO_ACLFILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to "
              "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
              "(assuming you have a Redis configuration file set) in order to store users in "
              "the Redis configuration.")
THROTTLED = "ERR too many failed authentication attempts, try again later"


# -- keys of commands whose key flags depend on the arguments ----------------------
# (Redis's setGetKeys / bitfieldGetKeys: SET without GET only writes its key,
# BITFIELD with only GET subcommands only reads it.)

_F_OW_UPDATE = frozenset(("OW", "update"))


def _set_keys(argv):
    return [(i, spec.flags) for i, spec in set_getkeys(None, argv)]


def _bitfield_keys(argv):
    return [(i, spec.flags) for i, spec in bitfield_getkeys(None, argv)]


_VARKEYS = {"set": _set_keys, "bitfield": _bitfield_keys}


def acl_get_keys(cmd, argv):
    """(argv index, key flags) of each key, as Redis's ACL check sees them."""
    f = _VARKEYS.get(cmd.name)
    if f is not None:
        return f(argv) if len(argv) > 1 else []
    r = get_keys(cmd, argv)
    if not r and cmd.key_specs and cmd.getkeys is None:
        r = keys_from_specs(cmd, argv) or []
    return r


def _plain_set_keys(argv):
    return _set_keys(argv) if len(argv) > 1 else []


# A plain `SET key value` only writes its key: the ACL check specialises on it.
_plain_set_keys.index, _plain_set_keys.spec, _plain_set_keys.max_argc = 1, _F_OW_UPDATE, 3


def _acl_extractor(cmd):
    """The table's precomputed key extractor, where it agrees with acl_get_keys."""
    if cmd.name == "set":
        return _plain_set_keys
    if cmd.name in _VARKEYS or cmd.getkeys is not None:
        return None
    return cmd.key_extractor


def build_catalog() -> Catalog:
    """The ACL catalog from the original command table (renames don't matter)."""
    return Catalog([c for c in ALL if c.parent is None], acl_get_keys, _acl_extractor)


# -- server state ---------------------------------------------------------------------

class Throttle:
    """Failed authentications per address and per username: past `max_failures`
    within `window` seconds, that address/username is refused for `lockout`."""

    def __init__(self) -> None:
        self.max_failures = 10
        self.window = 60
        self.lockout = 60
        self.fails: dict = {}           # key -> deque of failure times
        self.locked: dict = {}          # key -> unlock time
        self.refused = 0

    def blocked(self, addr: str, user: bytes) -> bool:
        if not self.max_failures:
            return False
        now = time.monotonic()
        for k in (("a", addr), ("u", user)):
            t = self.locked.get(k)
            if t is not None:
                if now < t:
                    self.refused += 1
                    return True
                del self.locked[k]
        return False

    def failed(self, addr: str, user: bytes) -> None:
        if not self.max_failures:
            return
        now = time.monotonic()
        for k in (("a", addr), ("u", user)):
            q = self.fails.get(k)
            if q is None:
                if len(self.fails) > 100000:
                    self.fails.clear()
                q = self.fails[k] = collections.deque()
            q.append(now)
            while q and q[0] < now - self.window:
                q.popleft()
            if len(q) >= self.max_failures:
                self.locked[k] = now + self.lockout
                q.clear()

    def succeeded(self, addr: str) -> None:
        self.fails.pop(("a", addr), None)

    def cron(self) -> None:
        now = time.monotonic()
        for k in [k for k, t in self.locked.items() if t <= now]:
            del self.locked[k]
        for k in [k for k, q in self.fails.items() if not q or q[-1] < now - self.window]:
            del self.fails[k]


class AclState:
    def __init__(self, server) -> None:
        self.server = server
        cfg = server.config
        self.catalog = build_catalog()
        self.hasher = Hasher(cfg["acl-password-hash"], cfg["acl-argon2-time-cost"],
                             cfg["acl-argon2-memory-cost"], cfg["acl-argon2-parallelism"])
        self.users = Users(self.catalog, self.hasher,
                           cfg["acl-pubsub-default"] == "allchannels")
        self.log = AclLog(cfg["acllog-max-len"])
        self.throttle = Throttle()
        self.filter_keyspace = cfg["acl-filter-keyspace"]
        self.auth_failures = 0
        self.auth_successes = 0
        self.denied = [0, 0, 0, 0, 0]      # by reason (DENIED_CMD/KEY/AUTH/CHANNEL)
        self.executor = None

    @property
    def default(self):
        return self.users.default

    def user_of(self, c):
        u = c.user
        return self.users.default if u is None else u


def _addr(c) -> str:
    return "unix" if c.unix else c.addr[0]


def audit(server, event: dict) -> None:
    """Raise an audit event (the audit issue subscribes via server.audit_hooks)."""
    hooks = server.audit_hooks
    if hooks:
        event.setdefault("time", time.time())
        for h in list(hooks):
            try:
                h(event)
            except Exception as e:      # an audit sink must not break commands
                server.log_warning(f"audit hook failed: {e!r}")


def _cinfo(c) -> bytes:
    return c.server.client_info_line(c).encode("utf-8", "surrogateescape")


def log_denial(c, reason: int, context: str, obj: bytes, username: bytes | None = None,
               detail: str | None = None) -> None:
    server = c.server
    st = server.acl
    uname = username if username is not None else st.user_of(c).name
    st.denied[reason] += 1
    st.log.add(reason, context, obj, uname, _cinfo(c))
    ev = {"type": "acl-denied" if reason != DENIED_AUTH else "auth-failure",
          "reason": {1: "command", 2: "key", 3: "auth", 4: "channel"}[reason],
          "context": context, "object": obj, "user": uname,
          "client_id": c.id, "addr": c.peer(), "outcome": "denied"}
    if detail is not None:
        ev["detail"] = detail
    audit(server, ev)


# -- the check --------------------------------------------------------------------------

def make_acl_check(server):
    st = server.acl

    def acl_check(c, cmd, argv):
        u = c.user
        chk = (st.users.default if u is None else u).perm.checks[cmd.id]
        if chk is None:             # allowed whatever the arguments (acl/perm.py)
            return None
        r = chk(cmd, argv)
        if r is None:
            return None
        reason, idx = r
        c.last_cmd = cmd            # Redis sets c->cmd before the check: CLIENT INFO shows it
        if c.in_exec:
            log_denial(c, reason, "multi", argv[idx] if reason != DENIED_CMD else cmd.name.encode())
            return NOPERM_EXEC % EXEC_REASONS[reason]
        ctx = "multi" if c.multi is not None else "toplevel"
        if reason == DENIED_CMD:
            log_denial(c, reason, ctx, cmd.name.encode())
            return NOPERM_CMD % cmd.name
        log_denial(c, reason, ctx, argv[idx])
        return NOPERM_KEY if reason == DENIED_KEY else NOPERM_CHANNEL

    return acl_check


def user_restricted(server, c) -> bool:
    u = c.user
    return not (server.acl.users.default if u is None else u).perm.unrestricted


def key_visible(c, key: bytes) -> bool:
    """Keyspace filtering (acl-filter-keyspace): may c's user read this key name?"""
    u = c.user
    perm = (c.server.acl.users.default if u is None else u).perm
    return perm.key_allowed(key, PERM_R)


def keyspace_filter(c):
    """None when c sees every key, else a predicate key -> visible (KEYS/SCAN/RANDOMKEY)."""
    server = c.server
    st = getattr(server, "acl", None)
    if st is None or not st.filter_keyspace:
        return None
    u = c.user
    perm = (st.users.default if u is None else u).perm
    if perm.allkeys:
        return None
    return lambda key: perm.key_allowed(key, PERM_R)


def channel_allowed(c, channel: bytes, pattern: bool = False) -> bool:
    u = c.user
    perm = (c.server.acl.users.default if u is None else u).perm
    return perm.unrestricted or perm.channel_allowed(channel, pattern)


# -- authentication -----------------------------------------------------------------------

def _auth_done(c, u, ok: bool, user: bytes, method: str) -> str | None:
    server = c.server
    st = server.acl
    addr = _addr(c)
    if ok:
        terr = server.bind_tenant(c, u)      # the user's tenant (securekv/tenancy/registry.py)
        if terr is not None:
            return terr
        st.throttle.succeeded(addr)
        st.auth_successes += 1
        c.user = u
        c.authenticated = True
        server.update_gate(c)
        audit(server, {"type": "auth-success", "user": user, "client_id": c.id,
                       "addr": c.peer(), "method": method, "outcome": "ok"})
        return None
    st.throttle.failed(addr, user)
    st.auth_failures += 1
    log_denial(c, DENIED_AUTH, "multi" if c.multi is not None else "toplevel",
               b"AUTH" if method == "AUTH" else b"HELLO", username=user,
               detail=CERTONLY_DETAIL if u is not None and u.enabled and u.certonly else None)
    return WRONGPASS


CERTONLY_DETAIL = "certificate-only user: password and nopass authentication refused"


def _precheck(c, user: bytes):
    """(user object or None, decided result or None). decided: True/False."""
    st = c.server.acl
    u = st.users.get(user)
    if u is None or not u.enabled or u.certonly:    # certonly: TLS client certificate only
        return u, False
    if u.nopass:
        return u, True
    return u, None


def _fast_verify(st, u, password: bytes):
    """True/False when SHA-256 entries or the cache decide, None when argon2 is needed."""
    slow = False
    for p in u.passwords:
        if p.startswith("$"):
            if st.hasher.cached(p, password):
                return True
            slow = True
        elif password_matches(p, password):
            return True
    return None if slow else False


def authenticate(c, user: bytes, password: bytes, method: str) -> str | None:
    """server.authenticate: synchronous (HELLO AUTH; argon2 on the loop if uncached)."""
    st = c.server.acl
    if st.throttle.blocked(_addr(c), user):
        return THROTTLED
    u, ok = _precheck(c, user)
    if ok is None:
        ok = _fast_verify(st, u, password)
        if ok is None:
            ok = any(st.hasher.matches(p, password) for p in u.passwords)
    return _auth_done(c, u, ok, user, method)


def authenticate_deferred(c, user: bytes, password: bytes, method: str, then=None):
    """AUTH and HELLO AUTH (server.authenticate_then): like authenticate, but argon2
    work goes to a thread and the client is parked. On success the reply is
    `then(c)` (OK without it; it may raise CommandError). Returns the reply,
    raises CommandError, or returns BLOCKED (answered when the thread is done)."""
    server = c.server
    st = server.acl
    if st.throttle.blocked(_addr(c), user):
        raise CommandError(THROTTLED)
    u, ok = _precheck(c, user)
    if ok is None:
        ok = _fast_verify(st, u, password)
    if ok is None and (c.in_exec or server.loop is None):
        ok = any(st.hasher.matches(p, password) for p in u.passwords)
    if ok is not None:
        err = _auth_done(c, u, ok, user, method)
        if err is not None:
            raise CommandError(err)
        return OK if then is None else then(c)
    from securekv.engine import blocking
    hashes = [p for p in u.passwords if p.startswith("$")]
    r = blocking.block(c, [], 0, lambda c: blocking.NOT_READY, None)

    def work():
        return any(st.hasher.matches(p, password) for p in hashes)

    def finish(fut):
        try:
            res = fut.result()
        except Exception:
            res = False

        def on_loop():
            if c.closing or c.block_state is None:
                return
            # Rules may have changed meanwhile: the user must still exist and be enabled.
            cur = st.users.get(user)
            good = res and cur is u and u.enabled and not u.certonly
            err = _auth_done(c, u, good, user, method)
            if err is not None:
                reply = CommandError(err)
            elif then is None:
                reply = OK
            else:
                try:
                    reply = then(c)
                except CommandError as e:
                    reply = e
            blocking.unblock(c, reply)
        server.loop.call_soon_threadsafe(on_loop)

    if st.executor is None:
        from concurrent.futures import ThreadPoolExecutor
        st.executor = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),
                                         thread_name_prefix="argon2")
    st.executor.submit(work).add_done_callback(finish)
    return r


@command("auth", -2, "noscript loading stale fast no_auth allow_busy", "@connection",
         group="connection", since="1.0.0", summary="Authenticate to the server",
         redact=redact_auth)
def auth(c, argv):
    if len(argv) > 3:
        raise CommandError("ERR syntax error")
    st = c.server.acl
    if len(argv) == 2:
        if st.default.nopass:
            raise CommandError("ERR AUTH <password> called without any password configured "
                               "for the default user. Are you sure your configuration is "
                               "correct?")
        return authenticate_deferred(c, b"default", argv[1], "AUTH")
    return authenticate_deferred(c, argv[1], argv[2], "AUTH")


# -- ACL --------------------------------------------------------------------------------

def redact_setuser(argv):
    """ACL SETUSER: every argument after the subcommand is hidden."""
    return argv[:2] + [REDACTED] * (len(argv) - 2)


container("acl", -2, "", "", group="server", since="6.0.0",
          summary="A container for Access List Control commands ")


def _acl_changed(server, what: str, user: bytes, c=None) -> None:
    audit(server, {"type": "acl-change", "action": what, "user": user,
                   "client_id": c.id if c is not None else None,
                   "addr": c.peer() if c is not None else None, "outcome": "ok"})


def _clients_of(server, u):
    st = server.acl
    for cl in list(server.clients.values()):
        cu = cl.user if cl.user is not None else st.users.default
        if cu is u:
            yield cl


def _kill_pubsub_if_needed(server, staged, original) -> None:
    """ACLKillPubsubClientsIfNeeded: disconnect subscribers whose channels are revoked."""
    if any(s.allchannels for s in staged.selectors):
        return
    upcoming = [ch for s in staged.selectors for ch in s.channels]
    orig = [ch for s in original.selectors for ch in s.channels]
    if all(ch in upcoming for ch in orig) and not any(s.allchannels for s in original.selectors):
        return
    from acl.glob import stringmatch
    for cl in list(_clients_of(server, original)):
        if not (cl.subscriptions or cl.psubscriptions or cl.ssubscriptions):
            continue
        kill = False
        for pat in (cl.psubscriptions or ()):
            if pat not in upcoming:
                kill = True
                break
        if not kill:
            for chans in (cl.subscriptions or (), cl.ssubscriptions or ()):
                for ch in chans:
                    if not any(stringmatch(p, ch) for p in upcoming):
                        kill = True
                        break
                if kill:
                    break
        if kill:
            cl.close_reason = "acl pubsub permission revoked"
            if cl is server_current(server):
                cl.close_after_reply = True
            else:
                cl.close_now()


# -- tenant=<name>: the user's tenant (acl/ keeps it as opaque user metadata) -----------
# The tenant registry is the source of truth (TENANT SET ... USER binds users too):
# rules push their tenant= to it, renderings read it back.

ERR_DEFAULT_TENANT = "The default user always belongs to the default tenant"


def _sync_tenant(server, u) -> None:
    """u.tenant <- the registry's binding of u (None: the default tenant)."""
    t = tenant_name_of_user(server, u.name)
    u.tenant = None if t == b"default" else t


def _push_tenant(server, u) -> None:
    """A tenant= (or reset) in u's rules -> the registry; then u.tenant is normalised."""
    if u.tenant is not None:
        assign_user(server, u.name, u.tenant)
        if u.tenant == b"default":
            u.tenant = None


def _bad_default_tenant(u) -> bool:
    return u.name == b"default" and u.tenant not in (None, b"default")


def server_current(server):
    return getattr(server, "_acl_current", None)


@subcommand("acl", "setuser", -3, "admin noscript loading stale", "", since="6.0.0",
            summary="Modify or create the rules for a specific ACL user", redact=redact_setuser)
def acl_setuser(c, argv):
    server = c.server
    st = server.acl
    name = argv[2]
    if has_spaces(name):
        raise CommandError("ERR Usernames can't contain spaces or null characters")
    merged, bad = merge_selector_args(argv[3:])
    if merged is None:
        raise CommandError("ERR Unmatched parenthesis in acl selector starting at '%s'."
                           % to_str(argv[3 + bad]))
    cur = st.users.get(name)
    if cur is not None:
        _sync_tenant(server, cur)
    try:
        staged = st.users.stage(name, merged)
    except RuleError as e:
        raise CommandError("ERR Error in ACL SETUSER modifier '%s': %s"
                           % (to_str(e.op), e.message)) from None
    if _bad_default_tenant(staged):
        raise CommandError("ERR Error in ACL SETUSER modifier 'tenant=%s': %s"
                           % (to_str(staged.tenant), ERR_DEFAULT_TENANT))
    if cur is not None:
        server._acl_current = c
        try:
            _kill_pubsub_if_needed(server, staged, cur)
        finally:
            server._acl_current = None
        old = set(cur.passwords)
    u = st.users.commit(name, staged)
    _push_tenant(server, u)
    if cur is not None:
        st.hasher.forget(old - set(u.passwords))
        for cl in _clients_of(server, u):
            server.update_gate(cl)
    _acl_changed(server, "setuser", name, c)
    return OK


def _drop_user_clients(server, u, current=None) -> None:
    """ACLFreeUserAndKillClients: clients of a removed user are closed."""
    for cl in list(server.clients.values()):
        if cl.user is u:
            cl.user = None
            cl.authenticated = False
            server.update_gate(cl)
            cl.close_reason = "user deleted"
            if cl is current:
                cl.close_after_reply = True
            else:
                cl.close_now()


@subcommand("acl", "deluser", -3, "admin noscript loading stale", "", since="6.0.0",
            summary="Remove the specified ACL users and the associated rules")
def acl_deluser(c, argv):
    server = c.server
    st = server.acl
    for name in argv[2:]:
        if name == b"default":
            raise CommandError("ERR The 'default' user cannot be removed")
    n = 0
    for name in argv[2:]:
        u = st.users.delete(name)
        if u is not None:
            n += 1
            st.hasher.forget(u.passwords)
            assign_user(server, name, None)
            _drop_user_clients(server, u, c)
            _acl_changed(server, "deluser", name, c)
    return n


def _selector_reply(cat, s):
    from acl.rules import describe_commands
    return {b"commands": describe_commands(cat, s), b"keys": s.describe_keys(),
            b"channels": s.describe_channels()}


@subcommand("acl", "getuser", 3, "admin noscript loading stale", "", since="6.0.0",
            summary="Get the rules for a specific ACL user")
def acl_getuser(c, argv):
    from securekv.net.resp import RSet
    st = c.server.acl
    u = st.users.get(argv[2])
    if u is None:
        return None
    out = {b"flags": RSet(u.flags()),
           b"passwords": [p.encode() for p in u.passwords]}
    out.update(_selector_reply(st.catalog, u.root))
    out[b"selectors"] = [_selector_reply(st.catalog, s) for s in u.selectors[1:]]
    _sync_tenant(c.server, u)
    if u.tenant is not None:            # securekv's tenant=<name> (absent: as Redis)
        out[b"tenant"] = u.tenant
    if u.certonly:                      # securekv's certonly (absent: as Redis)
        out[b"certonly"] = True
    return out


@subcommand("acl", "list", 2, "admin noscript loading stale", "", since="6.0.0",
            summary="List the current ACL rules in ACL config file format")
def acl_list(c, argv):
    users = c.server.acl.users
    _sync_tenants(c.server)
    return [b"user " + n + b" " + users.describe(users.get(n)) for n in users.names()]


@subcommand("acl", "users", 2, "admin noscript loading stale", "", since="6.0.0",
            summary="List the username of all the configured ACL rules")
def acl_users(c, argv):
    return c.server.acl.users.names()


@subcommand("acl", "whoami", 2, "noscript loading stale", "", since="6.0.0",
            summary="Return the name of the user associated to the current connection")
def acl_whoami(c, argv):
    return c.server.acl.user_of(c).name


@subcommand("acl", "cat", -2, "noscript loading stale", "", since="6.0.0",
            summary="List the ACL categories or the commands inside a category")
def acl_cat(c, argv):
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    if len(argv) == 2:
        return [x.encode() for x in CATEGORIES]
    cat = category_by_name(argv[2])
    if cat is None:
        raise CommandError("ERR Unknown category '%s'" % to_str(argv[2][:128]))
    return [x.name.encode() for x in c.server.acl.catalog.category_commands(cat)]


@subcommand("acl", "genpass", -2, "noscript loading stale", "", since="6.0.0",
            summary="Generate a pseudorandom secure password to use for ACL users")
def acl_genpass(c, argv):
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    bits = 256
    if len(argv) == 3:
        bits = parse_int(argv[2])
    if bits <= 0 or bits > 4096:
        raise CommandError("ERR ACL GENPASS argument must be the number of bits for the "
                           "output password, a positive number up to 4096")
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@subcommand("acl", "log", -2, "admin noscript loading stale", "", since="6.0.0",
            summary="List latest events denied because of ACLs in place")
def acl_log(c, argv):
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    log = c.server.acl.log
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            log.reset()
            return OK
        count = max(parse_int(argv[2]), 0)
    now = int(time.time() * 1000)
    return [e.reply(now) for e in log.entries[:count]]


@subcommand("acl", "dryrun", -4, "admin noscript loading stale", "", since="7.0.0",
            summary="Returns whether the user can execute the given command without "
                    "executing the command.")
def acl_dryrun(c, argv):
    st = c.server.acl
    u = st.users.get(argv[2])
    if u is None:
        raise CommandError("ERR User '%s' not found" % to_str(argv[2]))
    args = argv[3:]
    cmd = lookup(args)
    if cmd is None:
        raise CommandError("ERR Command '%s' not found" % to_str(argv[3]))
    if (cmd.arity > 0 and cmd.arity != len(args)) or len(args) < -cmd.arity:
        raise wrong_arity(cmd.name)
    if u.perm is None:
        compile_user(st.catalog, u)
    r = u.perm.check(cmd, args)
    if r is None:
        return OK
    reason, idx = r
    if reason == DENIED_CMD:
        return b"This user has no permissions to run the '%s' command" % cmd.name.encode()
    what = b"key" if reason == DENIED_KEY else b"channel"
    return b"This user has no permissions to access the '%s' %s" % (args[idx], what)


def _aclfile(server) -> str:
    return server.config["aclfile"]


@subcommand("acl", "load", 2, "admin noscript loading stale", "", since="6.0.0",
            summary="Reload the ACLs from the configured ACL file")
def acl_load(c, argv):
    server = c.server
    path = _aclfile(server)
    if not path:
        raise CommandError(NO_ACLFILE)
    err = load_acl_file(server, path, current=c)
    if err is not None:
        raise CommandError("ERR " + err)
    _acl_changed(server, "load", b"", c)
    return OK


def _sync_tenants(server) -> None:
    for u in server.acl.users.users.values():
        _sync_tenant(server, u)


def load_acl_file(server, path: str, current=None) -> str | None:
    st = server.acl
    users, err = st.users.load_file(path)
    if err is not None:
        return err
    if b"default" in users and _bad_default_tenant(users[b"default"]):
        return ERR_DEFAULT_TENANT + ". WARNING: ACL errors detected, no change to the " \
            "previously active ACL rules was performed"
    gone = st.users.install(users)
    for u in gone:
        if u.name not in st.users.users:
            assign_user(server, u.name, None)
    for u in st.users.users.values():
        _push_tenant(server, u)
    for u in gone:
        _drop_user_clients(server, u, current)
    for cl in list(server.clients.values()):
        server.update_gate(cl)
    return None


@subcommand("acl", "save", 2, "admin noscript loading stale", "", since="6.0.0",
            summary="Save the current ACL rules in the configured ACL file")
def acl_save(c, argv):
    server = c.server
    path = _aclfile(server)
    if not path:
        raise CommandError(NO_ACLFILE)
    try:
        _sync_tenants(server)
        server.acl.users.save_file(path)
    except OSError as e:
        server.log_warning(f"Writing ACL file for ACL SAVE: {e.strerror}")
        raise CommandError("ERR There was an error trying to save the ACLs. Please check the "
                           "server logs for more information") from None
    return OK


ACL_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]


@subcommand("acl", "help", 2, "loading stale", "", since="6.0.0",
            summary="Show helpful text about the different subcommands")
def acl_help(c, argv):
    return help_reply(argv, ACL_HELP)


# HELLO's AUTH option carries a password too (declared in connection.py).
COMMANDS[b"hello"].redact = redact_hello


# -- setup --------------------------------------------------------------------------------

def _startup_users(server) -> None:
    st = server.acl
    cfg = server.config
    if cfg["requirepass"]:
        st.users.set_default_password(cfg["requirepass"].encode("utf-8", "surrogateescape"))
    lines = [[a.encode("utf-8", "surrogateescape") if isinstance(a, str) else a for a in args]
             for args in cfg["user"]]
    if lines and cfg["aclfile"]:
        raise SystemExit(
            "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
            "file path is invalid. This setup is very likely to lead to configuration errors "
            "and security holes, please define either an ACL file or declare users directly in "
            "your redis.conf, but not both.")
    seen: set = set()
    for args in lines:
        err = st.users.check_config_user(args, seen)
        if err is not None:
            raise SystemExit("Error in user declaration '%s': %s" % (to_str(args[0]), err))
    err = st.users.load_config_users(lines)
    if err is not None:
        raise SystemExit(err)
    if _bad_default_tenant(st.users.default):
        raise SystemExit("Error in user declaration 'default': " + ERR_DEFAULT_TENANT)
    for u in st.users.users.values():
        _push_tenant(server, u)
    if cfg["aclfile"]:
        err = load_acl_file(server, cfg["aclfile"])
        if err is not None:
            raise SystemExit("Aborting Redis startup because of ACL errors: " + err)


@on_init
def _setup(server) -> None:
    from securekv.config import claim
    from securekv.server import GATE_ACL_ONLY
    claim("user", "aclfile", "requirepass", "acl-pubsub-default", "acllog-max-len")
    if not hasattr(server, "audit_hooks"):
        server.audit_hooks = []
    st = server.acl = AclState(server)
    _startup_users(server)
    server.acl_get_user = st.users.get

    def full_key_access(c, argv=None):
        u = c.user
        perm = (st.users.default if u is None else u).perm
        if perm.unrestricted:
            return True
        cmd = c.last_cmd
        if argv is None or isinstance(cmd, str):
            return perm.allkeys
        return perm.full_key_access(cmd, argv)

    server.acl_full_key_access = full_key_access
    server.keyspace_filter = keyspace_filter

    def authenticate_(c, user, password, method):
        return authenticate(c, user, password, method)

    def default_user_auto_auth():
        d = st.users.default
        return d.nopass and d.enabled and not d.certonly

    def deauthenticate(c):
        c.user = None
        c.authenticated = default_user_auto_auth()

    def default_user_nopass():
        d = st.users.default
        return d.nopass and not d.certonly

    server.authenticate = authenticate_
    server.authenticate_then = authenticate_deferred
    server.deauthenticate = deauthenticate
    server.default_user_nopass_hook = default_user_nopass
    server.default_user_auto_auth_hook = default_user_auto_auth
    server.acl_check = make_acl_check(server)
    base_update_gate = server.update_gate

    def update_gate(c):
        base_update_gate(c)
        if not c.gated:
            u = c.user
            if not (st.users.default if u is None else u).perm.unrestricted:
                c.gated = GATE_ACL_ONLY     # dispatch runs only the compiled check (dispatch.py)

    server.update_gate = update_gate
    server.update_server_gate()

    def apply_requirepass(v):
        st.users.set_default_password(v.encode("utf-8", "surrogateescape") if v else None)
        for cl in list(server.clients.values()):
            server.update_gate(cl)

    def apply_password_hash(_v=None):
        cfg = server.config
        st.hasher.algorithm = cfg["acl-password-hash"]
        st.hasher.set_params(cfg["acl-argon2-time-cost"], cfg["acl-argon2-memory-cost"],
                             cfg["acl-argon2-parallelism"])

    def apply_throttle(_v=None):
        cfg = server.config
        st.throttle.max_failures = cfg["auth-max-failures"]
        st.throttle.window = cfg["auth-failure-window"]
        st.throttle.lockout = cfg["auth-lockout-time"]

    def apply_filter(v):
        st.filter_keyspace = v

    def apply_pubsub_default(v):
        st.users.allchannels_default = v == "allchannels"

    server.apply_requirepass = apply_requirepass
    server.apply_acl_password_hash = apply_password_hash
    server.apply_acl_argon2_time_cost = apply_password_hash
    server.apply_acl_argon2_memory_cost = apply_password_hash
    server.apply_acl_argon2_parallelism = apply_password_hash
    server.apply_auth_max_failures = apply_throttle
    server.apply_auth_failure_window = apply_throttle
    server.apply_auth_lockout_time = apply_throttle
    server.apply_acl_filter_keyspace = apply_filter
    server.apply_acl_pubsub_default = apply_pubsub_default
    server.apply_acllog_max_len = st.log.set_max_len
    apply_throttle()
    server.cron_hooks.append(st.throttle.cron)
    register_info("stats", _info_stats)


def _info_stats(server, c) -> dict:
    """INFO stats: denials as Redis 7.2 names them, then securekv's authentication counters."""
    st = server.acl
    th = st.throttle
    return {
        "acl_access_denied_auth": st.denied[DENIED_AUTH],
        "acl_access_denied_cmd": st.denied[DENIED_CMD],
        "acl_access_denied_key": st.denied[DENIED_KEY],
        "acl_access_denied_channel": st.denied[DENIED_CHANNEL],
        "auth_successes": st.auth_successes,
        "auth_failures": st.auth_failures,
        "auth_throttled_attempts": th.refused,
        "auth_locked_out": len(th.locked),
        "auth_argon2_verifications": st.hasher.verifications,
        "auth_argon2_cache_hits": st.hasher.hits,
    }
