"""The tenant registry (`server.tenants`) and the user -> tenant binding.

The ACL side binds users through three calls and nothing else:
  * `assign_user(server, username, tenant_name)` when a user's rules say
    `tenant=<name>` (ACL SETUSER, `user` directive, ACL file); None: back to default;
  * `tenant_name_of_user(server, username)` to render the rule (GETUSER/LIST/SAVE);
  * `bind_user(c, username)` where authentication switches the client's user: it
    moves the connection into the user's tenant and returns None, or an error
    string (the user's tenant does not exist or is full) that AUTH must return.
"""

from __future__ import annotations

from securekv.tenancy.tenant import Tenant


class Registry:
    def __init__(self, server) -> None:
        self.server = server
        self.default = Tenant(server, b"default", server.keyspace)
        self.tenants: dict[bytes, Tenant] = {b"default": self.default}
        self.users: dict[bytes, bytes] = {}      # username -> tenant name (absent: default)
        self.using: dict[int, Tenant] = {}       # client id -> tenant entered with TENANT USE

    def get(self, name: bytes) -> Tenant | None:
        return self.tenants.get(name)

    def create(self, name: bytes) -> Tenant:
        t = self.tenants[name] = Tenant(self.server, name)
        return t

    def drop(self, t: Tenant) -> None:
        del self.tenants[t.name]
        hub = self.server.pubsub
        if hub is not None:
            getattr(hub, "spaces", {}).pop(t.keyspace, None)

    def tenant_for_user(self, username: bytes) -> Tenant | None:
        """The user's tenant; None when it names a tenant that does not exist."""
        name = self.users.get(username)
        if name is None:
            return self.default
        return self.tenants.get(name)


def registry(server) -> Registry:
    return server.tenants


def tenant_for_user(server, username: bytes) -> Tenant | None:
    return server.tenants.tenant_for_user(username)


def assign_user(server, username: bytes, tenant_name: bytes | None) -> None:
    """Bind a user to a tenant (None/default: unbind). Safe before the tenant family
    is set up (the ACL family's startup users): kept until the registry exists."""
    reg = getattr(server, "tenants", None)
    if reg is None:
        pending = server.__dict__.setdefault("pending_tenant_users", {})
        pending[username] = tenant_name
        return
    if tenant_name is None or tenant_name == b"default":
        reg.users.pop(username, None)
    else:
        reg.users[username] = tenant_name


def tenant_name_of_user(server, username: bytes) -> bytes:
    reg = getattr(server, "tenants", None)
    if reg is None:
        return getattr(server, "pending_tenant_users", {}).get(username) or b"default"
    return reg.users.get(username, b"default")


def _username(u) -> bytes:
    if u is None:
        return b"default"
    if isinstance(u, (bytes, bytearray)):
        return bytes(u)
    name = getattr(u, "name", b"default")
    return name.encode() if isinstance(name, str) else name


def bind_user(c, user) -> str | None:
    """Authentication switched c's user: move c into that user's tenant."""
    server = c.server
    reg = getattr(server, "tenants", None)
    if reg is None:
        return None
    name = _username(user)
    t = reg.tenant_for_user(name)
    if t is None:
        return "ERR the tenant of user '%s' does not exist" % name.decode("utf-8", "replace")
    reg.using.pop(c.id, None)
    return switch(c, t)


def switch(c, t: Tenant) -> str | None:
    """Put c in tenant t: its keyspace, the same db index, its stats. Pub/sub
    subscriptions and WATCHed keys of the old tenant are dropped."""
    server = c.server
    reg = server.tenants
    cur = c.tenant or reg.default
    if cur is t:
        server.update_gate(c)
        return None
    if t.maxclients and len(t.clients) >= t.maxclients:
        return ("ERR max number of clients reached for tenant '%s'"
                % t.name.decode("utf-8", "replace"))
    if c.subscriptions or c.psubscriptions or c.ssubscriptions:
        from securekv.commands.pubsub import unsubscribe_all
        unsubscribe_all(c)
    if c.watched:
        from securekv.commands.transactions import unwatch_all
        unwatch_all(c)
    cur.clients.pop(c.id, None)
    if not t.is_default:
        t.clients[c.id] = c
    ks = t.keyspace
    c.db = ks.dbs[c.db.id] if c.db.id < len(ks.dbs) else ks.dbs[0]
    c.keyspace = ks
    c.stats = ks.stats
    c.tenant = None if t.is_default else t
    server.update_gate(c)
    return None


def visible_clients(c) -> dict:
    """The clients c may list, kill or unblock: those of its own tenant (all of
    them while only the default tenant exists)."""
    server = c.server
    reg = getattr(server, "tenants", None)
    if reg is None or len(reg.tenants) == 1:
        return server.clients
    ks = c.keyspace
    return {i: x for i, x in server.clients.items() if x.keyspace is ks}
