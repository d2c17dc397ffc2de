"""TENANT: create, configure, inspect, drop and enter tenants; the `tenant`
directive; the wiring of quotas, eviction, rate limits and audit into the
server (securekv/tenancy has the rules).

    TENANT CREATE <name> [option value ...]
    TENANT SET <name> option value [option value ...]
    TENANT DROP <name> [FORCE]          FORCE is required when it holds data
    TENANT LIST | INFO <name> | USE <name> | HELP

Options: MAXMEMORY <bytes|units> (0: no quota), MAXMEMORY-POLICY <policy|default>
(default: follow maxmemory-policy), MAXCLIENTS <n>, MAXKEYS <n>, MAXOPS <per second>
(0: unlimited), USER <username> (bind that user to the tenant; repeatable).

A client bound to a tenant by its user may only run `TENANT INFO` on its own
tenant. `TENANT USE` is for operators of the default tenant: every command they
run inside the tenant is audited (`server.audit_hooks`).
"""

from __future__ import annotations

from securekv.commands.table import command, container, subcommand  # noqa: F401
from securekv.commands.util import help_reply, parse_int
from securekv.errors import SYNTAX, CommandError
from securekv.lifecycle import on_init
from securekv.net.resp import OK
from securekv.tenancy import evict
from securekv.tenancy.registry import Registry, assign_user, bind_user, switch
from securekv.tenancy.tenant import POLICIES

_DOC = lambda summary, args: {"summary": summary, "since": "1.0.0", "group": "server",  # noqa: E731
                              "complexity": "O(1)", "arguments": args}
_NAME = {"name": "name", "type": "string"}
_OPTS = {"name": "option", "type": "block", "flags": ["optional", "multiple"],
         "arguments": [{"name": "option", "type": "string"}, {"name": "value", "type": "string"}]}

container("tenant", -2, "", "", group="server", since="1.0.0",
          summary="A container for tenant management commands",
          docs=_DOC("A container for tenant management commands", []))


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _name_ok(name: bytes) -> bool:
    return 0 < len(name) <= 64 and all(33 <= ch <= 126 for ch in name)


def apply_options(server, t, pairs: list[bytes], staged: bool = False) -> list:
    """Validate option/value pairs; returns setters (applied only if all parse)."""
    if len(pairs) % 2:
        raise CommandError(SYNTAX)
    from securekv.config import parse_memory
    sets = []
    for i in range(0, len(pairs), 2):
        opt, val = pairs[i].lower(), pairs[i + 1]
        if opt == b"maxmemory":
            n = parse_memory(val.decode("latin-1"))
            if n is None:
                raise CommandError("ERR invalid MAXMEMORY '%s' (bytes or units: 100mb, 1gb ...)"
                                   % _s(val))
            sets.append(("maxmemory", n))
        elif opt == b"maxmemory-policy":
            p = val.decode("latin-1").lower()
            if p == "default":
                p = None
            elif p not in POLICIES:
                raise CommandError("ERR invalid MAXMEMORY-POLICY '%s' (one of %s, default)"
                                   % (_s(val), ", ".join(POLICIES)))
            sets.append(("policy", p))
        elif opt in (b"maxclients", b"maxkeys", b"maxops"):
            n = parse_int(val, "ERR invalid %s '%s' (a non-negative integer)"
                          % (opt.decode().upper(), _s(val)))
            if n < 0:
                raise CommandError("ERR invalid %s '%s' (a non-negative integer)"
                                   % (opt.decode().upper(), _s(val)))
            sets.append((opt.decode(), n))
        elif opt == b"user":
            sets.append(("user", bytes(val)))
        else:
            raise CommandError("ERR unknown TENANT option '%s'" % _s(pairs[i]))
    return sets


def _commit(server, t, sets) -> None:
    for attr, v in sets:
        if attr == "user":
            assign_user(server, v, t.name)
        else:
            setattr(t, attr, v)
    refresh(server)


def _audit(c, action: str, name: bytes, **extra) -> None:
    hooks = getattr(c.server, "audit_hooks", None)
    if hooks:
        from securekv.commands.acl import audit
        ev = {"type": "tenant-" + action, "tenant": name, "client_id": c.id, "addr": c.peer(),
              "outcome": "ok"}
        ev.update(extra)
        audit(c.server, ev)


def _bound(c) -> bool:
    """c is inside a tenant because of its user (not an operator's TENANT USE)."""
    return c.tenant is not None and c.id not in c.server.tenants.using


def _operator(c) -> None:
    if _bound(c):
        raise CommandError("NOPERM tenant users may only run TENANT INFO on their own tenant")


def _tenant(c, name: bytes):
    t = c.server.tenants.get(name)
    if t is None:
        raise CommandError("ERR no such tenant '%s'" % _s(name))
    return t


@subcommand("tenant", "create", -3, "admin noscript loading stale", since="1.0.0",
            summary="Create a tenant",
            docs=_DOC("Create a tenant", [_NAME, _OPTS]))
def tenant_create(c, argv):
    _operator(c)
    server = c.server
    name = bytes(argv[2])
    if not _name_ok(name):
        raise CommandError("ERR invalid tenant name (1-64 printable characters, no spaces)")
    if server.tenants.get(name) is not None:
        raise CommandError("ERR tenant '%s' already exists" % _s(name))
    sets = apply_options(server, None, argv[3:])
    t = server.tenants.create(name)
    _commit(server, t, sets)
    _audit(c, "create", name, args=argv[3:])
    c.propagate_argv = [list(argv)]     # AOF/replicas carry tenant changes
    return OK


@subcommand("tenant", "set", -5, "admin noscript loading stale", since="1.0.0",
            summary="Change a tenant's quota, policy or limits",
            docs=_DOC("Change a tenant's quota, policy or limits", [_NAME, _OPTS]))
def tenant_set(c, argv):
    _operator(c)
    t = _tenant(c, argv[2])
    sets = apply_options(c.server, t, argv[3:])
    _commit(c.server, t, sets)
    if t.maxmemory and t.used_memory() > t.maxmemory:
        # a quota below the usage evicts at once, as CONFIG SET maxmemory does
        evict.evict_to(t, t.maxmemory, t.effective_policy())
    _audit(c, "set", t.name, args=argv[3:])
    c.propagate_argv = [list(argv)]     # AOF/replicas carry tenant changes
    return OK


@subcommand("tenant", "drop", -3, "admin noscript loading stale", since="1.0.0",
            summary="Delete a tenant (FORCE when it holds data)",
            docs=_DOC("Delete a tenant", [_NAME, {"name": "force", "type": "pure-token",
                                                  "token": "FORCE", "flags": ["optional"]}]))
def tenant_drop(c, argv):
    _operator(c)
    server = c.server
    force = False
    if len(argv) == 4 and argv[3].lower() == b"force":
        force = True
    elif len(argv) != 3:
        raise CommandError(SYNTAX)
    t = _tenant(c, argv[2])
    if t.is_default:
        raise CommandError("ERR the default tenant cannot be dropped")
    if t.has_data() and not force:
        raise CommandError("ERR tenant '%s' holds data: use TENANT DROP %s FORCE"
                           % (_s(t.name), _s(t.name)))
    reg = server.tenants
    for cl in list(t.clients.values()):
        if cl.id in reg.using or cl is c:
            reg.using.pop(cl.id, None)
            switch(cl, reg.default)
        else:
            cl.close_reason = "tenant dropped"
            cl.close_now()
    for db in t.keyspace.dbs:
        db.flush()
    reg.drop(t)
    refresh(server)
    _audit(c, "drop", t.name, force=force)
    c.propagate_argv = [list(argv)]     # AOF/replicas carry tenant changes
    return OK


@subcommand("tenant", "list", 2, "admin noscript loading stale", since="1.0.0",
            summary="List the tenants", docs=_DOC("List the tenants", []))
def tenant_list(c, argv):
    _operator(c)
    return list(c.server.tenants.tenants)


def tenant_info_map(server, t) -> dict:
    nclients = (sum(1 for x in server.clients.values() if x.tenant is None)
                if t.is_default else len(t.clients))
    return {
        b"name": t.name,
        b"maxmemory": t.maxmemory,
        b"maxmemory-policy": t.effective_policy().encode(),
        b"policy-inherited": int(t.policy is None),
        b"used-memory": t.used_memory(),
        b"maxclients": t.maxclients,
        b"clients": nclients,
        b"maxkeys": t.maxkeys,
        b"keys": t.nkeys(),
        b"evicted-keys": t.stats.evicted_keys,
        b"maxops": t.maxops,
        b"ops-per-sec": t.ops_rate,
        b"users": sorted(u for u, n in server.tenants.users.items() if n == t.name),
    }


@subcommand("tenant", "info", 3, "loading stale", since="1.0.0",
            summary="Quota, usage, policy, clients, keys, evictions and ops rate of a tenant",
            docs=_DOC("Describe a tenant", [_NAME]))
def tenant_info(c, argv):
    name = bytes(argv[2])
    if _bound(c) and name != c.tenant.name:
        raise CommandError("NOPERM tenant users may only run TENANT INFO on their own tenant")
    return tenant_info_map(c.server, _tenant(c, name))


@subcommand("tenant", "use", 3, "admin noscript loading stale no_multi", since="1.0.0",
            summary="Work inside a tenant (operators; audited)",
            docs=_DOC("Work inside a tenant", [_NAME]))
def tenant_use(c, argv):
    _operator(c)
    server = c.server
    reg = server.tenants
    t = _tenant(c, argv[2])
    err = switch(c, t)
    if err is not None:
        raise CommandError(err)
    if t.is_default:
        reg.using.pop(c.id, None)
    else:
        reg.using[c.id] = t
    server.update_gate(c)
    _audit(c, "use", t.name)
    return OK


_HELP = [
    b"CREATE <name> [<option> <value> ...]",
    b"    Create a tenant. Options: MAXMEMORY <bytes>, MAXMEMORY-POLICY <policy|default>,",
    b"    MAXCLIENTS <n>, MAXKEYS <n>, MAXOPS <commands per second>, USER <username>.",
    b"SET <name> <option> <value> [<option> <value> ...]",
    b"    Change a tenant's options (USER binds a user to the tenant).",
    b"DROP <name> [FORCE]",
    b"    Delete a tenant; FORCE is required when it holds data.",
    b"LIST",
    b"    List the tenants.",
    b"INFO <name>",
    b"    Quota, usage, policy, clients, keys, evictions and ops rate of a tenant.",
    b"USE <name>",
    b"    Work inside a tenant (audited). USE default goes back.",
]


@subcommand("tenant", "help", 2, "loading stale", since="1.0.0",
            summary="Show helpful text about the different subcommands",
            docs=_DOC("Show helpful text about the different subcommands", []))
def tenant_help(c, argv):
    return help_reply(argv, _HELP)


# -- wiring ------------------------------------------------------------------------------

def refresh(server) -> None:
    """Recompute the quota gate and the access-clock tracking after any change."""
    reg = server.tenants
    limited = bool(server.maxmemory) or any(t.maxmemory or t.maxkeys
                                            for t in reg.tenants.values())
    server.oom_check = reg.oom_check if limited else None
    server.update_server_gate()
    for t in reg.tenants.values():
        evict.set_tracking(t)
    for cl in list(server.clients.values()):
        if cl.tenant is not None:
            server.update_gate(cl)


def _load_directives(server) -> None:
    for args in server.config["tenant"]:
        words = [a.encode("utf-8", "surrogateescape") if isinstance(a, str) else a for a in args]
        if not words or not _name_ok(words[0]):
            raise SystemExit("Error in tenant declaration '%s': invalid tenant name"
                             % " ".join(map(str, args)))
        name = words[0]
        t = server.tenants.get(name) or server.tenants.create(name)
        try:
            _commit(server, t, apply_options(server, t, words[1:]))
        except CommandError as e:
            raise SystemExit("Error in tenant declaration '%s': %s"
                             % (" ".join(map(str, args)), e.message[4:])) from None


def tenant_lines(server) -> list[str]:
    """The `tenant` directive lines that recreate the current tenants (CONFIG REWRITE)."""
    from securekv.config import repr_str
    reg = server.tenants
    out = []
    for t in reg.tenants.values():
        words = [_s(t.name)]
        if t.maxmemory:
            words += ["maxmemory", str(t.maxmemory)]
        if t.policy:
            words += ["maxmemory-policy", t.policy]
        for attr in ("maxclients", "maxkeys", "maxops"):
            if getattr(t, attr):
                words += [attr, str(getattr(t, attr))]
        for u, name in reg.users.items():
            if name == t.name:
                plain = all(33 <= ch <= 126 and ch not in b"\"'\\" for ch in u)
                us = u.decode("utf-8", "surrogateescape")
                words += ["user", us if plain and u else repr_str(us)]
        if len(words) > 1 or not t.is_default:
            out.append("tenant " + " ".join(words))
    return out


def _rewrite(server, cfg, state) -> None:
    if cfg is not server.config:
        return
    lines = tenant_lines(server)
    for line in lines:
        state.rewrite_line("tenant", line, True)
    if not lines:
        state.mark("tenant")


@on_init
def _setup(server) -> None:
    from securekv.config import claim
    claim("tenant")
    reg = server.tenants = Registry(server)
    for user, tname in server.__dict__.pop("pending_tenant_users", {}).items():
        assign_user(server, user, tname)      # bound by the ACL family before this ran
    reg.oom_check = evict.make_oom_check(reg)
    base_gate = server.gate
    base_update_gate = server.update_gate

    def gate(c, cmd, argv):
        t = c.tenant
        if t is not None:
            if t.maxops and not t.allow_op():
                from securekv.dispatch import error_reply
                error_reply(c, "ERR tenant '%s' exceeded its command rate limit (maxops %d per "
                            "second)" % (_s(t.name), t.maxops), cmd, rejected=True)
                if c.multi is not None:
                    c.multi_error = True
                return False
            if c.id in reg.using and getattr(server, "audit_hooks", None):
                _audit(c, "command", t.name, command=cmd.name,
                       argv=list(server.redacted_argv(cmd, argv)))
        return base_gate(c, cmd, argv)

    def update_gate(c):
        base_update_gate(c)
        t = c.tenant
        # A rate-limited or TENANT USE client takes the full gate (GATE_ACL_ONLY
        # would let dispatch skip this family's wrapper).
        if c.gated is not True and t is not None and (t.maxops or c.id in reg.using):
            c.gated = True

    server.gate = gate
    server.update_gate = update_gate

    def disconnected(c):
        t = c.tenant
        if t is not None:
            t.clients.pop(c.id, None)
        reg.using.pop(c.id, None)

    def reset(c):
        # RESET: back to the default user, hence to its tenant.
        reg.using.pop(c.id, None)
        if switch(c, reg.tenant_for_user(b"default") or reg.default) is not None:
            switch(c, reg.default)

    server.disconnect_hooks.append(disconnected)
    server.reset_hooks.append(reset)

    def cron():
        evict.tick()
        tenants = reg.tenants
        if len(tenants) > 1:
            if server.active_expire:
                budget = 1000.0 / server.hz * 0.25 / len(tenants)
                for t in tenants.values():
                    if not t.is_default:
                        t.keyspace.active_expire_cycle(budget)
        for t in tenants.values():
            if t.tracking is not None:
                evict.rewrap(t)
        if server.cron_loops % server.hz == 0:
            for t in tenants.values():
                total = sum(t.stats.calls)
                t.ops_rate = total - t.ops_last_total
                t.ops_last_total = total

    server.cron_hooks.append(cron)

    cls = type(server)

    def on_memory_config(name):
        base = getattr(cls, "apply_" + name.replace("-", "_"), None)

        def apply(v):
            if base is not None:
                base(server, v)
            refresh(server)
            if name == "maxmemory" and v and evict.global_used(reg) > v:
                # updateMaxmemory: a limit below the usage evicts at once (from the
                # tenants without a quota: a quota is a reservation)
                evict.evict_global(reg, None)
        setattr(server, "apply_" + name.replace("-", "_"), apply)

    for name in ("maxmemory", "maxmemory-policy", "lfu-log-factor", "lfu-decay-time"):
        on_memory_config(name)
    server.bind_tenant = bind_user
    from securekv.config import REWRITE_EXTRAS
    REWRITE_EXTRAS.append(lambda cfg, state: _rewrite(server, cfg, state))
    _load_directives(server)
    refresh(server)
