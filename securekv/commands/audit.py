"""The audit log inside the server: which events become records, and how.

Sources of events:
* dispatch: a command whose `Command.audited` is set (computed from
  audit-events whenever it changes) calls `server.audit_command` after it ran,
  with the position of its reply (outcome: an error reply is a failure). Every
  other command pays one attribute test.
* `server.audit_hooks`: the ACL, tenant and other families raise event dicts
  (`{"type": "auth-failure", "user": b"...", "client_id": 7, ...}`);
  `normalise` maps them onto the record schema in one place. Events raised by
  the handler of an audited command (ACL SETUSER, TENANT CREATE ...) are merged
  into that command's record, so one command makes one record.
* connections (`server.connect_hooks`, `server.disconnect_hooks`), CONFIG SET
  (`server.audit_config_set`), start and shutdown.

Records are buffered per loop tick and handed to the writer thread
(securekv/audit/writer.py). While records cannot be written and
audit-on-failure is fail-closed, `server.audit_gate` refuses the commands
that would produce records (-MISCONF) until the writer recovers; CONFIG SET of
audit-* directives stays allowed so an operator can repair the setting.

The writer's backlog is bounded by audit-max-pending-records (checked in
`flush`, once per tick): beyond it fail-closed gates audited commands the same
way until the backlog is down to half, fail-open drops the tick's excess records
and counts them; an audit.failure record summarises the episode once drained.
"""

from __future__ import annotations

import hashlib
import os
import time

import securekv
from securekv.audit import record as R
from securekv.audit.writer import Settings, Writer
from securekv.commands.table import all_commands, get_keys
from securekv.config import TABLE, ConfigError
from securekv.lifecycle import on_init

FAIL_CLOSED = ("MISCONF the audit log cannot be written (%s): commands that are audited are "
               "refused until writing recovers (audit-on-failure fail-closed). See INFO audit.")
ARGS_MAX = 16
ARG_BYTES_MAX = 256

# Commands whose records carry a specific event type (class, event).
SPECIFIC = {
    "config|set": ("config", "config.set"),
    "config|rewrite": ("config", "config.rewrite"),
    "config|resetstat": ("config", "config.resetstat"),
    "acl|setuser": ("acl", "acl.change"),
    "acl|deluser": ("acl", "acl.change"),
    "acl|load": ("acl", "acl.change"),
    "acl|save": ("acl", "acl.change"),
    "tenant|create": ("tenant", "tenant.change"),
    "tenant|set": ("tenant", "tenant.change"),
    "tenant|drop": ("tenant", "tenant.change"),
    "tenant|use": ("tenant", "tenant.use"),
    "auth": ("auth", "auth.command"),          # throttled attempts (others: ACL events)
    "hello": ("auth", "auth.command"),
    "replicaof": ("admin", "replication.change"),
    "slaveof": ("admin", "replication.change"),
    "failover": ("admin", "replication.change"),
}
# Diagnostics that stay allowed while audit fails closed (their records wait in memory).
DIAGNOSTICS = frozenset(("info", "config|get", "client|list", "client|info", "acl|log",
                         "acl|list", "acl|getuser", "acl|users", "slowlog|get", "slowlog|len",
                         "latency|latest", "latency|history", "latency|doctor", "memory|stats",
                         "memory|doctor"))
# ACL/tenant events raised inside the handler of an audited command: merged into it.
MERGED = ("acl-change", "tenant-create", "tenant-set", "tenant-drop", "tenant-use")


def classify(cmd, classes: frozenset):
    """(class, event type) under which this command is recorded, or None."""
    spec = SPECIFIC.get(cmd.name)
    if spec is not None and spec[0] in classes:
        return spec
    if spec is None and cmd.categories & {"admin", "dangerous"} and "admin" in classes:
        return ("admin", "command.admin")
    if "command" in classes:
        return ("command", "command")
    if "write" in classes and cmd.is_write:
        return ("write", "command.write")
    return None


def _keys(cmd, argv):
    """(argv index, flags) of the keys, as the ACL check sees them (SET, BITFIELD ...)."""
    global _keys
    try:
        from securekv.commands.acl import acl_get_keys
        _keys = acl_get_keys
    except ImportError:
        _keys = get_keys
    return _keys(cmd, argv)


def _s(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


class Audit:
    def __init__(self, server) -> None:
        self.server = server
        self.enabled = False
        self.classes: frozenset = frozenset()
        self.kinds: dict = {}            # command id -> (class, event)
        self.scope_users = None          # frozenset of bytes, or None: everyone
        self.scope_tenants = None
        self.keys_mode = "record"
        self.fail_closed = True
        self.hkey: bytes | None = None
        self.buf: list = []
        self.scheduled = False
        self.writer: Writer | None = None
        self.old_writers: list = []
        self.messages: list = []         # log lines from the writer thread
        self.stash: dict = {}            # client id -> [hook events merged into its command]
        self.tls_cache: dict = {}        # client id -> (der, subject, fingerprint)
        self.actors: dict = {}           # client id -> (identity key, actor dict)
        self.config_changed: list | None = None
        self.started = False
        self.max_pending = 100000
        self.overflow = False            # the backlog went over audit-max-pending-records
        self.overflow_since = 0.0
        self.overflow_dropped = 0        # records dropped for the bound (fail-open), total
        self.overflow_episode = 0        # ... in the current episode

    # -- settings ----------------------------------------------------------------------

    def path(self) -> str:
        p = self.server.config["audit-file"]
        return p if os.path.isabs(p) else os.path.join(self.server.config["dir"], p)

    def settings(self) -> Settings:
        cfg = self.server.config
        return Settings(self.path(), cfg["audit-fsync"] == "always", cfg["audit-rotate-size"],
                        cfg["audit-rotate-interval"], self.hkey,
                        cfg["audit-on-failure"] == "fail-closed",
                        {"server": "securekv", "version": securekv.__version__,
                         "pid": self.server.pid}, cfg["audit-max-pending-records"])

    def load_key(self) -> None:
        path = self.server.config["audit-hmac-key-file"]
        if not path:
            self.hkey = None
            return
        try:
            with open(path, "rb") as f:
                key = f.read().strip()
        except OSError as e:
            raise ConfigError(f"can't read audit-hmac-key-file {path}: {e.strerror}") from None
        if len(key) < 16:
            raise ConfigError("audit-hmac-key-file must hold at least 16 bytes")
        self.hkey = key

    def load_classes(self) -> None:
        cfg = self.server.config
        words = cfg["audit-events"].split()
        if "default" in words:
            words += TABLE["audit-events"].default.split()
        self.classes = frozenset(words)
        users, tenants = set(), set()
        for w in cfg["audit-data-scope"].split():
            kind, _, name = w.partition(":")
            (users if kind == "user" else tenants).add(name.encode("utf-8", "surrogateescape"))
        scoped = bool(users or tenants)
        self.scope_users = frozenset(users) if scoped else None
        self.scope_tenants = frozenset(tenants) if scoped else None
        self.keys_mode = cfg["audit-keys"]
        self.fail_closed = cfg["audit-on-failure"] == "fail-closed"
        self.compute_flags()

    def compute_flags(self) -> None:
        self.kinds = {}
        for cmd in all_commands():
            kind = classify(cmd, self.classes) if self.enabled else None
            if kind is not None:
                self.kinds[cmd.id] = kind
            cmd.audited = kind is not None

    # -- start / stop -------------------------------------------------------------------

    def start_writer(self) -> None:
        if self.writer is not None:
            return
        self.writer = Writer(self.settings(), self.messages.append, self.state_changed)
        self.writer.start()

    def stop_writer(self) -> None:
        w = self.writer
        self.writer = None
        if w is not None:
            w.q.put(("close", None))        # the thread writes what is queued, then ends
            self.old_writers.append(w)

    def startup(self) -> None:
        """At server start (the loop runs): open the log, record audit.start."""
        self.started = True
        if self.enabled:
            self.start_writer()
            self.push({"event": "audit.start", "outcome": "success", "time": time.time(),
                       "reason": "server start", "details": self.describe()}, "audit")

    def shutdown(self) -> None:
        if self.enabled:
            self.push({"event": "audit.stop", "outcome": "success", "time": time.time(),
                       "reason": "server shutdown"}, "audit")
        self.flush()
        w = self.writer
        self.writer = None
        if w is not None:
            w.close()
        for w in self.old_writers:
            if w.thread is not None:
                w.thread.join(5)

    def describe(self) -> dict:
        cfg = self.server.config
        return {"file": self.path(), "events": cfg["audit-events"],
                "data_scope": cfg["audit-data-scope"], "keys": cfg["audit-keys"],
                "fsync": cfg["audit-fsync"], "on_failure": cfg["audit-on-failure"],
                "alg": "hmac-sha256" if self.hkey else "sha256", "pid": self.server.pid,
                "version": securekv.__version__}

    # -- buffering ----------------------------------------------------------------------

    def push(self, rec: dict, cls: str | None = None, force: bool = False) -> None:
        if not force and (not self.enabled or (cls is not None and cls not in self.classes)):
            return
        self.buf.append(rec)
        if not self.scheduled:
            loop = self.server.loop
            if loop is not None and self.started:
                self.scheduled = True
                loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        buf = self.buf
        if buf:
            self.buf = []
            if self.writer is None and self.enabled:
                self.start_writer()
            w = self.writer
            if w is not None:
                backlog = w.backlog()
                if backlog + len(buf) > self.max_pending:
                    buf = self.overflowed(buf, backlog)
                if buf:
                    w.submit(buf)
        if not self.enabled and self.writer is not None:
            self.stop_writer()

    def overflowed(self, buf: list, backlog: int) -> list:
        """The backlog would exceed audit-max-pending-records: the records to submit."""
        server = self.server
        if not self.overflow:
            self.overflow = True
            self.overflow_since = time.time()
            self.overflow_episode = 0
            server.log_warning(
                f"audit backlog over audit-max-pending-records ({self.max_pending}): "
                + ("refusing audited commands until it drains" if self.fail_closed
                   else "dropping records until it drains"))
        if self.fail_closed:
            if server.audit_gate is None and self.enabled:
                server.audit_gate = self.gate
                server.update_server_gate()
            return buf              # never drop: the gate stops the producers
        room = max(self.max_pending - backlog, 0)
        dropped = len(buf) - room
        self.overflow_dropped += dropped
        self.overflow_episode += dropped
        return buf[:room]

    def overflow_drained(self, w) -> None:
        self.overflow = False
        self.server.log_notice("audit backlog drained")
        self.push({"event": "audit.failure", "outcome": "failure", "time": time.time(),
                   "reason": "backlog exceeded audit-max-pending-records (%d)" % self.max_pending,
                   "details": {"since": R.rfc3339(self.overflow_since),
                               "dropped": self.overflow_episode,
                               "dropped_total": w.dropped + self.overflow_dropped,
                               "policy": "fail-closed" if self.fail_closed else "fail-open"}},
                  force=True)

    # -- record parts --------------------------------------------------------------------

    def actor(self, c) -> dict:
        """Who: the client's identity now (a shared dict: callers must not modify it)."""
        cached = self.actors.get(c.id)
        key = (c.user, c.authenticated, c.tenant, c.name, getattr(c, "tls_peer", None))
        if cached is not None and cached[0] == key:
            return cached[1]
        a = self._actor(c)
        if len(self.actors) > 100000:
            self.actors.clear()
        self.actors[c.id] = (key, a)
        return a

    def _actor(self, c) -> dict:
        u = c.user
        a = {"user": R.text(u.name) if u is not None else "default", "client_id": c.id,
             "authenticated": bool(c.authenticated)}
        t = c.tenant
        a["tenant"] = R.text(getattr(t, "name", t)) if t is not None else "default"
        if c.unix:
            a["addr"] = R.text("unix:" + str(c.addr[0]))
        else:
            a["addr"], a["port"] = c.addr[0], c.addr[1]
        if c.name:
            a["client_name"] = R.text(c.name)
        der = getattr(c, "tls_peer", None)
        if der:
            cached = self.tls_cache.get(c.id)
            if cached is None or cached[0] is not der:
                cached = (der,) + _cert_ids(der)
                self.tls_cache[c.id] = cached
            a["tls_subject"], a["tls_fingerprint"] = cached[1], cached[2]
        return a

    def key_value(self, key: bytes):
        if self.keys_mode == "hash":
            return R.hash_key(bytes(key), self.hkey)
        return R.text(key)

    def keys_of(self, cmd, argv):
        if self.keys_mode == "omit":
            return None
        try:
            pos = _keys(cmd, argv)
        except Exception:
            return None
        return [self.key_value(argv[i]) for i, _ in pos if i < len(argv)]

    def args_of(self, cmd, argv, first: int) -> list:
        args = self.server.redacted_argv(cmd, argv)[first:]
        out = []
        for a in args[:ARGS_MAX]:
            a = bytes(a)
            if len(a) > ARG_BYTES_MAX:
                out.append({"truncated": len(a), "prefix": R.text(a[:ARG_BYTES_MAX])})
            else:
                out.append(R.text(a))
        if len(args) > ARGS_MAX:
            out.append({"more_args": len(args) - ARGS_MAX})
        return out

    def in_scope(self, c) -> bool:
        if self.scope_users is None:
            return True
        u = c.user
        if (u.name if u is not None else b"default") in self.scope_users:
            return True
        t = c.tenant
        name = getattr(t, "name", t) if t is not None else b"default"
        if isinstance(name, str):
            name = name.encode("utf-8", "surrogateescape")
        return name in self.scope_tenants

    # -- commands ------------------------------------------------------------------------

    def audit_command(self, c, cmd, argv, mark: int) -> None:
        kind = self.kinds.get(cmd.id)
        stash = self.stash.pop(c.id, None) if self.stash else None
        if kind is None:
            return
        cls, event = kind
        out = c.out
        err = None
        if len(out) > mark:
            first = out[mark]
            if first[:1] == b"-":
                err = bytes(first[1:]).split(b"\r\n", 1)[0].decode("utf-8", "replace")
        if event == "auth.command":
            if err is not None and err.startswith("ERR too many failed authentication"):
                if cmd.name == "auth":
                    user = argv[1] if len(argv) == 3 else b"default"
                else:
                    user = next((argv[i + 1] for i in range(2, len(argv) - 2)
                                 if argv[i].lower() == b"auth"), b"default")
                self.push({"event": "auth.throttled", "outcome": "failure", "time": time.time(),
                           "actor": self.actor(c), "target": {"user": R.text(user)},
                           "reason": err, "details": {"method": cmd.name.upper()}}, "auth")
            return
        if event == "config.set" and err is None:
            return          # recorded with its values by config_set()
        if (cls == "write" or cls == "command") and self.scope_users is not None \
                and not self.in_scope(c):
            return
        target = {"command": cmd.name}
        details = None
        if event == "acl.change":
            sub = cmd.name.split("|")[1]
            details = {"action": sub}
            if sub in ("setuser", "deluser") and len(argv) > 2:
                target["user"] = R.text(argv[2]) if sub == "setuser" else \
                    [R.text(a) for a in argv[2:]]
            if sub == "setuser":
                details["rules"] = [R.text(a) for a in R.redact_acl_rules(argv[3:])]
        elif event in ("tenant.change", "tenant.use"):
            if len(argv) > 2:
                target["tenant"] = R.text(argv[2])
            details = {"action": cmd.name.split("|")[1], "args": self.args_of(cmd, argv, 3)}
        elif cmd.key_specs or cmd.getkeys is not None:
            keys = self.keys_of(cmd, argv)
            if keys is not None:
                target["keys"] = keys
        else:
            args = self.args_of(cmd, argv, 2 if cmd.parent is not None else 1)
            if args:
                target["args"] = args
        if stash:
            for ev in stash:
                typ = ev.get("type", "")
                if typ.startswith("tenant-"):
                    event = "tenant." + typ[7:]
                    if ev.get("tenant") is not None:
                        target["tenant"] = R.text(ev["tenant"])
        if c.db is not None and (cls == "write" or cls == "command" or "keys" in target):
            target["db"] = c.db.id
        rec = {"event": event, "outcome": "failure" if err is not None else "success",
               "time": time.time(), "actor": self.actor(c), "target": target}
        if err is not None:
            rec["reason"] = err
        if details:
            rec["details"] = details
        self.push(rec, cls)

    def config_set(self, c, changed: list) -> None:
        """CONFIG SET succeeded (called by the config family after applying)."""
        if not (self.enabled or any(n.startswith("audit-") for n in changed)):
            return
        directives = []
        cfg = self.server.config
        names = list(changed)
        for name in names:
            d = TABLE[name]
            directives.append({"name": name, "value": "(redacted)" if d.secret else
                               R.text(d.render(cfg.values[name]))})
        actor = self.actor(c)
        now = time.time()
        rec = {"event": "config.set", "outcome": "success", "time": now, "actor": actor,
               "target": {"command": "config|set", "directives": directives}}
        audit_changes = [d for d in directives if d["name"].startswith("audit-")]
        if "audit-enabled" in changed:
            if cfg["audit-enabled"]:
                self.push({"event": "audit.start", "outcome": "success", "time": now,
                           "actor": actor, "reason": "CONFIG SET audit-enabled yes",
                           "details": self.describe()}, force=True)
            else:
                self.push(rec, force=True)
                self.push({"event": "audit.stop", "outcome": "success", "time": now,
                           "actor": actor, "reason": "CONFIG SET audit-enabled no"}, force=True)
                return
        self.push(rec, "config")
        if audit_changes:
            self.push({"event": "audit.config", "outcome": "success", "time": now,
                       "actor": actor, "target": {"directives": audit_changes},
                       "details": self.describe()}, "audit")

    # -- connections ---------------------------------------------------------------------

    def connected(self, c, refused) -> None:
        if not self.enabled or "connection" not in self.classes:
            return
        rec = {"event": "connection.open", "time": time.time(), "actor": self.actor(c),
               "details": {"transport": "unix" if c.unix else
                           ("tls" if hasattr(c, "tls_version") else "tcp")}}
        if refused:
            rec["outcome"] = "failure"
            rec["reason"] = refused
        else:
            rec["outcome"] = "success"
        self.push(rec, "connection")

    def disconnected(self, c) -> None:
        self.tls_cache.pop(c.id, None)
        self.stash.pop(c.id, None)
        if not self.enabled or "connection" not in self.classes:
            self.actors.pop(c.id, None)
            return
        actor = self.actor(c)
        self.actors.pop(c.id, None)
        self.push({"event": "connection.close", "outcome": "success", "time": time.time(),
                   "actor": actor, "reason": c.close_reason or "client closed",
                   "details": {"duration_s": round(time.time() - c.created, 3)}},
                  "connection")

    # -- events from other families (server.audit_hooks) ---------------------------------

    def hook(self, ev: dict) -> None:
        if not self.enabled:
            return
        server = self.server
        cl = server.clients.get(ev.get("client_id"))
        typ = ev.get("type", "")
        if cl is not None and typ in MERGED and cl.last_cmd is not None \
                and getattr(cl.last_cmd, "audited", False) and cl.last_cmd.name in SPECIFIC:
            self.stash.setdefault(cl.id, []).append(ev)
            return
        rec = normalise(ev, dict(self.actor(cl)) if cl is not None else None, self)
        if rec is not None:
            self.push(rec, rec.pop("_class"))

    # -- fail-closed ---------------------------------------------------------------------

    def gate(self, c, cmd, argv):
        if not cmd.audited:
            return None
        kind = self.kinds.get(cmd.id)
        if kind is None:
            return None
        if kind[1] == "auth.command" and cmd.name == "hello" and \
                not any(a.lower() == b"auth" for a in argv[2:]):
            return None
        if cmd.name in DIAGNOSTICS:
            return None      # operators must see what is wrong (records are kept)
        if cmd.name == "config|set" and all(
                argv[i].lower().startswith(b"audit-") for i in range(2, len(argv), 2)):
            return None      # let operators repair the audit settings
        if kind[0] in ("write", "command") and not self.in_scope(c):
            return None
        w = self.writer
        if w is None:
            return FAIL_CLOSED % "not running"
        if not w.failed and self.overflow:
            return FAIL_CLOSED % ("backlog over audit-max-pending-records (%d)"
                                  % self.max_pending)
        return FAIL_CLOSED % w.last_error

    def state_changed(self) -> None:
        """From the writer thread: failed/recovered (fail-closed acts at once)."""
        loop = self.server.loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self.cron)
            except RuntimeError:        # the loop is closed (shutdown)
                pass

    def cron(self) -> None:
        server = self.server
        msgs = self.messages
        while msgs:
            server.log_warning(msgs.pop(0))
        w = self.writer
        if self.overflow and (w is None or w.backlog() <= self.max_pending // 2):
            if w is None:
                self.overflow = False
            else:
                self.overflow_drained(w)
        want = self.gate if (w is not None and (w.failed or self.overflow) and self.fail_closed
                             and self.enabled) else None
        if (server.audit_gate is None) != (want is None):
            server.audit_gate = want
            server.update_server_gate()
        if self.old_writers:
            self.old_writers = [w for w in self.old_writers if not w.closed]

    # -- INFO ------------------------------------------------------------------------------

    def info(self, server, c) -> list:
        w = self.writer
        cfg = server.config
        seq, chain = (w.head if w is not None else (0, R.ZERO_CHAIN))
        if not self.enabled:
            status = "disabled"
        elif w is None:
            status = "starting"
        else:
            status = "failed" if w.failed else "ok"
        return [
            ("audit_enabled", int(self.enabled)),
            ("audit_status", status),
            ("audit_file", w.file if w is not None else self.path()),
            ("audit_events", cfg["audit-events"].replace(" ", ",")),
            ("audit_fsync", cfg["audit-fsync"]),
            ("audit_on_failure", cfg["audit-on-failure"]),
            ("audit_chain_alg", "hmac-sha256" if self.hkey else "sha256"),
            ("audit_records_written", w.records if w is not None else 0),
            ("audit_bytes_written", w.bytes if w is not None else 0),
            ("audit_records_dropped", (w.dropped if w is not None else 0)
             + self.overflow_dropped),
            ("audit_records_pending", (w.backlog() if w is not None else 0) + len(self.buf)),
            ("audit_max_pending_records", self.max_pending),
            ("audit_backlog_exceeded", int(self.overflow)),
            ("audit_write_errors", w.write_errors if w is not None else 0),
            ("audit_last_error", (w.last_error if w is not None else "") or "none"),
            ("audit_rotations", w.rotations if w is not None else 0),
            ("audit_last_seq", seq),
            ("audit_last_chain", chain.hex()),
        ]


def _cert_ids(der: bytes) -> tuple:
    fp = hashlib.sha256(der).hexdigest()
    try:
        from cryptography import x509
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except Exception:
        subject = None
    return subject, fp


def normalise(ev: dict, actor: dict | None, audit: Audit | None = None) -> dict | None:
    """One event dict from `server.audit_hooks` -> a record (with "_class"), or None.
    The ACL family raises auth-success, auth-failure, acl-denied, acl-change; the
    tenant family tenant-<action>; the TLS listener tls-certificate-login,
    tls-handshake-failure(-suppressed); unknown types are kept as `other.<type>`."""
    typ = ev.get("type", "")
    if actor is None:
        actor = {}
        if ev.get("client_id") is not None:
            actor["client_id"] = ev["client_id"]
        addr = ev.get("addr")
        if addr:
            host, _, port = str(addr).rpartition(":")
            actor["addr"] = host.strip("[]") or str(addr)
            if port.isdigit():
                actor["port"] = int(port)
    outcome = "success" if ev.get("outcome") in ("ok", "success", None) else "failure"
    t = ev.get("time")
    rec = {"time": t if isinstance(t, (int, float)) else time.time(), "actor": actor,
           "outcome": outcome}
    target: dict = {}
    details: dict = {}
    if typ == "auth-success":
        rec["event"], rec["_class"] = "auth.success", "auth"
        if ev.get("user") is not None:
            actor["user"] = R.text(ev["user"])
        details["method"] = ev.get("method")
    elif typ == "auth-failure":
        rec["event"], rec["_class"] = "auth.failure", "auth"
        rec["outcome"] = "failure"
        target["user"] = R.text(ev.get("user"))
        obj = ev.get("object")
        details["method"] = _s(obj) if obj is not None else ev.get("method")
        rec["reason"] = "invalid username-password pair or user is disabled"
        if ev.get("detail"):
            details["detail"] = _s(ev["detail"])     # e.g. a certificate-only user
    elif typ == "acl-denied":
        rec["event"], rec["_class"] = "acl.denied", "acl"
        rec["outcome"] = "failure"
        why = ev.get("reason")
        obj = ev.get("object")
        if why == "command":
            target["command"] = _s(obj)
            rec["reason"] = "no permission to run the command"
        elif why == "key":
            if audit is not None and audit.keys_mode != "omit":
                target["keys"] = [audit.key_value(obj)]
            elif audit is None:
                target["keys"] = [R.text(obj)]
            rec["reason"] = "no permission to access the key"
        elif why == "channel":
            target["channel"] = R.text(obj)
            rec["reason"] = "no permission to access the channel"
        else:
            rec["reason"] = "denied: %s" % why
        if ev.get("command"):
            target["command"] = _s(ev["command"])
        details["context"] = ev.get("context")
    elif typ == "tls-certificate-login":
        ok = ev.get("outcome") == "ok"
        rec["event"], rec["_class"] = ("auth.success" if ok else "auth.failure"), "auth"
        rec["outcome"] = "success" if ok else "failure"
        if ev.get("user") is not None:
            target["user"] = R.text(ev["user"])
            if ok:
                actor["user"] = R.text(ev["user"])
        details["method"] = "client certificate"
        details["mapping"] = ev.get("mapping")
        if not ok:
            rec["reason"] = "certificate not mapped to an enabled user (%s): AUTH still " \
                "required" % ev.get("outcome")
    elif typ == "tls-handshake-failure":
        rec["event"], rec["_class"] = "tls.handshake-failure", "connection"
        rec["outcome"] = "failure"
        rec["reason"] = ev.get("reason")
        details["error"] = ev.get("error")
        details["transport"] = "tls"
        target["port"] = ev.get("port")
    elif typ == "tls-handshake-failure-suppressed":
        rec["event"], rec["_class"] = "tls.handshake-failure-suppressed", "connection"
        rec["outcome"] = "failure"
        rec["reason"] = "%d failed TLS handshakes not recorded one by one " \
            "(tls-handshake-failure-audit-rate)" % ev.get("count", 0)
        details["count"] = ev.get("count")
        since = ev.get("since")
        if isinstance(since, (int, float)):
            details["since"] = R.rfc3339(since)
        details["reasons"] = ev.get("reasons")
        target["port"] = ev.get("port")
    elif typ == "acl-change":
        rec["event"], rec["_class"] = "acl.change", "acl"
        if ev.get("user"):
            target["user"] = R.text(ev["user"])
        details["action"] = ev.get("action")
    elif typ.startswith("tenant-"):
        action = typ[7:]
        rec["event"] = "tenant.command" if action == "command" else \
            ("tenant.use" if action == "use" else "tenant.change")
        rec["_class"] = "tenant"
        if ev.get("tenant") is not None:
            target["tenant"] = R.text(ev["tenant"])
        if ev.get("command"):
            target["command"] = _s(ev["command"])
        details["action"] = action
        for k in ("args", "argv"):
            if ev.get(k) is not None:
                details["args"] = [R.text(a) for a in ev[k]][:ARGS_MAX]
        if "force" in ev:
            details["force"] = bool(ev["force"])
    else:
        rec["event"], rec["_class"] = "other." + str(typ or "unknown"), "audit"
        for k, v in ev.items():
            if k not in ("type", "time", "client_id", "addr", "outcome"):
                details[k] = R.text(v) if isinstance(v, (bytes, bytearray, str)) else \
                    (v if isinstance(v, (int, float, bool)) or v is None else repr(v))
    if target:
        rec["target"] = target
    details = {k: v for k, v in details.items() if v is not None}
    if details:
        rec["details"] = details
    return rec


# -- installation ----------------------------------------------------------------------------

@on_init
def _setup(server) -> None:
    from securekv.config import claim
    claim("audit-enabled", "audit-file", "audit-events", "audit-data-scope", "audit-keys",
          "audit-fsync", "audit-on-failure", "audit-hmac-key-file", "audit-rotate-size",
          "audit-rotate-interval", "audit-max-pending-records")
    a = server.audit = Audit(server)
    try:
        a.load_key()
    except ConfigError as e:
        raise SystemExit("*** FATAL CONFIG ERROR: " + e.message) from None
    a.enabled = server.config["audit-enabled"]
    a.max_pending = server.config["audit-max-pending-records"]
    a.load_classes()
    if not hasattr(server, "audit_hooks"):
        server.audit_hooks = []
    if not hasattr(server, "connect_hooks"):
        server.connect_hooks = []
    if not hasattr(server, "audit_gate"):
        server.audit_gate = None
    server.audit_hooks.append(a.hook)
    server.connect_hooks.append(a.connected)
    server.disconnect_hooks.append(a.disconnected)
    server.cron_hooks.append(a.cron)
    server.audit_command = a.audit_command
    server.audit_config_set = a.config_set

    async def start(_server):
        a.startup()
    server.start_hooks.insert(0, start)

    base_shutdown = server.shutdown

    async def shutdown():
        await base_shutdown()
        a.shutdown()
    server.shutdown = shutdown

    def apply_enabled(v):
        if v == a.enabled:
            return
        a.enabled = v
        a.compute_flags()
        if v:
            if a.started:
                a.start_writer()
        else:
            server.audit_gate = None
            server.update_server_gate()
            if server.loop is not None and a.started:
                a.scheduled = True
                server.loop.call_soon(a.flush)     # write audit.stop, then close the file
            else:
                a.stop_writer()

    def apply_classes(_v=None):
        a.load_classes()

    def apply_writer(_v=None):
        a.fail_closed = server.config["audit-on-failure"] == "fail-closed"
        a.max_pending = server.config["audit-max-pending-records"]
        if a.writer is not None:
            a.writer.configure(a.settings())

    def apply_key(_v=None):
        a.load_key()
        apply_writer()

    server.apply_audit_enabled = apply_enabled
    server.apply_audit_events = apply_classes
    server.apply_audit_data_scope = apply_classes
    server.apply_audit_keys = apply_classes
    server.apply_audit_file = apply_writer
    server.apply_audit_fsync = apply_writer
    server.apply_audit_on_failure = apply_writer
    server.apply_audit_rotate_size = apply_writer
    server.apply_audit_rotate_interval = apply_writer
    server.apply_audit_max_pending_records = apply_writer
    server.apply_audit_hmac_key_file = apply_key

    from securekv.commands import server as srvmod
    reg = getattr(srvmod, "register_section", None)
    if reg is not None:
        if "audit" not in srvmod.SECTIONS:
            # INFO audit only: INFO all/everything stay Redis's (audit is on by default)
            reg("audit", a_info, "Audit", in_all=lambda s: False)
    else:
        srvmod.SECTIONS.setdefault("audit", a_info)
        srvmod.TITLES.setdefault("audit", "Audit")


def a_info(server, c):
    return server.audit.info(server, c)
