"""The server: listeners, the clients registry, the cron, startup and shutdown,
and the seams later subsystems plug into (propagation, keyspace events,
pub/sub delivery, ACL and quota checks).

Lifecycle: `Server(config)` builds state; `start()` binds the listeners (and
logs "Ready to accept connections"); `serve_forever()` runs until SHUTDOWN or
SIGTERM/SIGINT; `shutdown()` stops listening, closes clients, removes the
pidfile and logs the goodbye line, as Redis does.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import itertools
import os
import signal
import socket
import sys
import time

import securekv
from securekv import commands as _commands  # noqa: F401  (registers every command)
from securekv.commands.table import ALL
from securekv.config import Config, repr_bytes
from securekv.dispatch import error_reply, make_executor
from securekv.engine import blocking
from securekv.engine.keyspace import Keyspace
from securekv.lifecycle import INIT_HOOKS
from securekv.net.connection import Client
from securekv.stats import Stats
from securekv import tlsserver as _tlsserver  # noqa: F401,E402  (TLS listener hooks)

LOG_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
LOG_MARKS = ".-*#"
# c.gated when the only reason to gate a client is its restricted ACL user (set by
# the ACL family's update_gate): dispatch passes its allowed commands on the
# compiled check alone, since of gate()'s steps only the ACL one applies.
from securekv.dispatch import GATE_ACL_ONLY  # noqa: E402,F401  (defined once, in dispatch)

PROTECTED_MODE_MSG = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from "
    b"the loopback interface. If you want to connect from external computers to Redis you may "
    b"adopt one of the following solutions: 1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    b"same host the server is running, however MAKE SURE Redis is not publicly accessible from "
    b"internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    b"you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. 3) If you "
    b"started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    b"to do one of the above things in order for the server to start accepting connections "
    b"from the outside.\r\n"
)


_repr_arg = repr_bytes      # Redis's sdscatrepr (MONITOR, CLIENT LIST)


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.pid = os.getpid()
        self.start_time = time.time()
        self.unixtime = int(self.start_time)
        self.stats = Stats(len(ALL))
        self.keyspace = Keyspace(self, config["databases"], self.stats)
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.listeners: list = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.flush_pending: list[Client] = []      # clients whose replies go out at the end of the iteration
        self.dirty = 0
        self.gated = False
        self.monitors: list[Client] = []
        self.slowlog: collections.deque = collections.deque(maxlen=config["slowlog-max-len"])
        self.slowlog_next_id = 0
        self.propagation_subscribers: list = []   # callables(client, db id, [argv, ...], keyspace): keyspace.tenant names the tenant
        # Keys expired lazily during a command, (keyspace, db id, DEL/UNLINK argv),
        # propagated with it (Keyspace.on_expired, dispatch.propagate_command).
        self.expired_pending: list = []
        self.pubsub = None                          # set by the pub/sub family
        self.acl_check = None                       # set by the ACL issue: (c, cmd, argv) -> error | None
        self.oom_check = None                       # set by memory/tenants: (c, cmd) -> error | None
        self.write_check = None                     # set by persistence while writes must be refused (MISCONF): (c, cmd) -> error | None
        self.before_reply = None                    # set by the AOF: fn(client) -> True when it holds that client's output until its fsync (it flushes the client later)
        self.shutdown_requested: asyncio.Future | None = None
        self.exit_code = 0
        self.cron_handle = None
        self.cron_loops = 0
        self.active_expire = config["active-expire-enabled"]
        self.last_save = int(self.start_time)
        self.ops_samples: collections.deque = collections.deque(maxlen=16)
        self.latency_events: dict = {}             # event -> [max ms, deque of [time, ms]]
        self.paused_until = 0.0
        self.aof_loading = False           # the AOF is being replayed (persistence sets it)
        self.pause_kind = None
        self._logfile = None
        self.listening_ports: list = []
        self.disconnect_hooks: list = []   # hook(client) when a client goes away
        self.connect_hooks: list = []      # hook(client, refused reason or None) on accept
        self.audit_hooks: list = []        # hook(event dict): security events (audit log)
        self.audit_gate = None             # (c, cmd, argv) -> error | None while audit fails closed
        self.cron_hooks: list = []         # hook() every cron tick
        self.start_hooks: list = []        # async hook(server) after the plain listeners (TLS ...)
        self.reset_hooks: list = []        # hook(client) on RESET (discard MULTI, unsubscribe ...)
        self.exit_hooks: list = []         # hook() as the server shuts down (kill a saving child)
        self.master_host = None            # set by replication
        self.protected_error = None        # fn(c, cmd) -> error | None for "protected" commands
        self.tcp_servers: list = []        # TCP listeners (CONFIG SET port/bind rebinds them)
        self.ready_keys: dict = {}         # (db, key) -> None: keys touched with clients blocked on them
        self.serving_blocked = False
        self.blocked_clients = 0
        self.disconnect_hooks.append(blocking.disconnect)
        self.apply_all()
        self.execute = make_executor(self)
        self.call = self.execute.call
        for hook in INIT_HOOKS:
            hook(self)
        # Again, now that init hooks have edited the command table (rename-command):
        # the executor indexes the table's names when it is built.
        self.execute = make_executor(self)
        self.call = self.execute.call

    # -- configuration -------------------------------------------------------------

    def apply_all(self) -> None:
        for name in self.config.values:
            self.apply(name)

    def apply(self, name: str) -> None:
        """Push a directive's current value into the running server."""
        v = self.config.values[name]
        hook = getattr(self, "apply_" + name.replace("-", "_"), None)
        if hook is not None:
            hook(v)

    def apply_proto_max_bulk_len(self, v):
        self.proto_max_bulk_len = v
        for c in self.clients.values():
            c.parser.max_bulk_len = v

    def apply_client_query_buffer_limit(self, v):
        self.query_buffer_limit = v
        for c in self.clients.values():
            c.parser.query_buffer_limit = v

    def apply_client_output_buffer_limit(self, v):
        self.obuf_limits = dict(v)
        for c in self.clients.values():
            c.apply_obuf_limits()

    def apply_tcp_keepalive(self, v):
        self.tcp_keepalive = v

    def apply_timeout(self, v):
        self.idle_timeout = v

    def apply_maxclients(self, v):
        self.maxclients = v

    def apply_slowlog_log_slower_than(self, v):
        self.slowlog_log_slower_than = v
        self._update_slow_gate()

    def _update_slow_gate(self) -> None:
        """dispatch calls slowlog_add when a command took >= `slowlog_threshold` us:
        the smaller of the slow log's and the latency monitor's thresholds (-1: off),
        so the latency monitor costs the hot path nothing."""
        slow = getattr(self, "slowlog_log_slower_than", -1)
        lat = getattr(self, "latency_threshold", 0) * 1000
        if lat > 0 and (slow < 0 or lat < slow):
            self.slowlog_threshold = lat
        else:
            self.slowlog_threshold = slow

    def apply_slowlog_max_len(self, v):
        reg = getattr(self, "tenants", None)        # tenants keep slow logs of their own
        for owner in (self, *(reg.tenants.values() if reg is not None else ())):
            if owner.slowlog.maxlen != v:   # the newest entries stay (at the left)
                owner.slowlog = collections.deque(itertools.islice(owner.slowlog, v), maxlen=v)

    def apply_hz(self, v):
        self.hz = min(max(v, 1), 500)

    def apply_loglevel(self, v):
        self.loglevel = LOG_LEVELS[v]

    def apply_notify_keyspace_events(self, v):
        self.notify_flags = set(v)
        if "A" in self.notify_flags:
            self.notify_flags |= set("g$lshzxetmd")

    def apply_active_expire_enabled(self, v):
        self.active_expire = v

    def apply_protected_mode(self, v):
        self.protected_mode = v

    def apply_latency_monitor_threshold(self, v):
        self.latency_threshold = v
        self._update_slow_gate()

    def apply_maxmemory(self, v):
        self.maxmemory = v

    def apply_port(self, v):
        if self.loop is not None and self.listeners:
            self.rebind(self.config["bind"], v, "Unable to listen on this port. Check server logs.")

    def apply_bind(self, v):
        if self.loop is not None and self.listeners:
            self.rebind(v, self.config["port"], "Failed to bind to specified addresses.")

    def rebind(self, binds, port, error: str) -> None:
        """CONFIG SET port/bind: bind the new sockets first (on failure nothing
        changes and ConfigError(error) is raised), then swap the TCP listeners."""
        from securekv.config import ConfigError
        socks = []
        if port:
            try:
                for addr in binds:
                    s = self._bind_socket(addr, port, self.config["tcp-backlog"])
                    if s is not None:
                        socks.append(s)
            except OSError as e:
                self.log_warning(f"Could not bind {port}: {e.strerror}")
                for s in socks:
                    s.close()
                raise ConfigError(error) from None
        for srv in self.tcp_servers:
            srv.close()
            if srv in self.listeners:
                self.listeners.remove(srv)
        self.tcp_servers = []
        self.listening_ports = [s.getsockname()[1] for s in socks]

        async def serve(sock):
            srv = await self.loop.create_server(lambda: Client(self), sock=sock)
            self.listeners.append(srv)
            self.tcp_servers.append(srv)
        for s in socks:
            self.loop.create_task(serve(s))

    def _bind_socket(self, addr: str, port: int, backlog: int):
        """A listening TCP socket for one bind address (None: optional and unavailable)."""
        optional = addr.startswith("-")
        host = addr[1:] if optional else addr
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if host == "*":
            host, family = "0.0.0.0", socket.AF_INET
        elif host == "::*":
            host, family = "::", socket.AF_INET6
        s = None
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
            s.listen(backlog)
            s.setblocking(False)
        except OSError as e:
            if s is not None:
                s.close()
            if optional and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT,
                                        errno.EPROTONOSUPPORT):
                return None
            raise
        return s

    # -- logging -------------------------------------------------------------------

    def log(self, level: int, msg: str) -> None:
        if level < self.loglevel:
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
        self._write_log(f"{self.pid}:M {stamp} {LOG_MARKS[level]} {msg}\n")

    def log_raw(self, text: str) -> None:
        """Text as it is (Redis's LL_RAW), at notice level."""
        if self.loglevel <= 2:
            self._write_log(text)

    def _write_log(self, line: str) -> None:
        path = self.config["logfile"]
        if path:
            try:
                with open(path, "a") as f:
                    f.write(line)
            except OSError:
                pass
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    def log_notice(self, msg: str) -> None:
        self.log(2, msg)

    def log_warning(self, msg: str) -> None:
        self.log(3, msg)

    def log_verbose(self, msg: str) -> None:
        self.log(1, msg)

    # -- clients -------------------------------------------------------------------

    def client_connected(self, c: Client) -> None:
        self.stats.total_connections_received += 1
        c.id = self.next_client_id
        self.next_client_id += 1
        if len(self.clients) >= self.maxclients:
            self.stats.rejected_connections += 1
            c.transport.write(b"-ERR max number of clients reached\r\n")
            c.closing = True
            c.transport.close()
            for hook in self.connect_hooks:
                hook(c, "max number of clients reached")
            return
        if self.protected_mode and not c.is_loopback and self.default_user_nopass():
            self.stats.rejected_connections += 1
            c.transport.write(PROTECTED_MODE_MSG)
            c.closing = True
            c.transport.close()
            for hook in self.connect_hooks:
                hook(c, "protected mode")
            return
        self.clients[c.id] = c
        c.authenticated = self.default_user_auto_auth()
        self.update_gate(c)
        for hook in self.connect_hooks:
            hook(c, None)

    # -- replies at the end of the loop iteration ------------------------------------

    def flush_soon(self, c: Client) -> None:
        """Write c's replies once this loop iteration has read every ready client,
        as Redis's beforeSleep (handleClientsWithPendingWrites) does: the writes
        of one iteration go out together, so a peer handling many connections
        (one redis-benchmark, a client pool) is woken once for several replies
        rather than once per reply, which is most of the kernel time per request
        on a VM (measured: bench/compare, -P 1 and -P 16)."""
        pending = self.flush_pending
        if not pending:
            loop = self.loop
            if loop is None:            # no event loop (in-process use): write now
                c.flush()
                return
            loop.call_soon(self._flush_pending)
        pending.append(c)

    def _flush_pending(self) -> None:
        pending = self.flush_pending
        self.flush_pending = []
        for c in pending:
            c.flush()

    def client_disconnected(self, c: Client) -> None:
        if self.clients.pop(c.id, None) is None:
            return
        for hook in self.disconnect_hooks:
            hook(c)
        if c.monitor and c in self.monitors:
            self.monitors.remove(c)

    # -- authentication (the ACL family replaces these with users) -------------------

    def authenticate(self, c: Client, user: bytes | None, password: bytes, method: str) -> str | None:
        """Check credentials; on success mark the client authenticated and return
        None, else return the error reply. Compares in constant time."""
        import hmac
        required = self.config["requirepass"].encode("utf-8", "surrogateescape")
        if user is None or user == b"default":
            if not required:
                if user is None:
                    return ("ERR AUTH <password> called without any password configured for "
                            "the default user. Are you sure your configuration is correct?")
                c.authenticated = True
                self.update_gate(c)
                return None
            if hmac.compare_digest(required, password):
                c.authenticated = True
                self.update_gate(c)
                return None
        return "WRONGPASS invalid username-password pair or user is disabled."

    def deauthenticate(self, c: Client) -> None:
        """RESET: back to the default user, authenticated only if it needs no password."""
        c.authenticated = self.default_user_auto_auth()

    def is_replica(self) -> bool:
        return self.master_host is not None

    def expiring_allowed(self) -> bool:
        """Whether a time already past deletes a key now (Redis's checkAlreadyExpired):
        not on a replica, and not while the AOF is replayed (Redis keeps such keys
        with their past TTL until loading ends, so `PEXPIREAT k <past>` followed by
        `RPUSH k x` in the file rebuilds what Redis had)."""
        return not self.aof_loading and self.master_host is None

    def default_user_nopass(self) -> bool:
        """Protected mode applies while the default user has no password."""
        hook = getattr(self, "default_user_nopass_hook", None)
        if hook is not None:
            return hook()
        return not self.config["requirepass"]

    def default_user_auto_auth(self) -> bool:
        """A new connection starts authenticated as `default` only while that user
        needs no password and is enabled (Redis's authRequired): `ACL SETUSER
        default off` makes every new connection AUTH first."""
        hook = getattr(self, "default_user_auto_auth_hook", None)
        if hook is not None:
            return hook()
        return self.default_user_nopass()

    def update_gate(self, c: Client) -> None:
        """Recompute whether the dispatch gate must examine this client."""
        c.gated = (not c.authenticated or c.multi is not None
                   or (c.resp == 2 and bool(c.subscriptions or c.psubscriptions or c.ssubscriptions))
                   or (c.user is not None and getattr(c.user, "restricted", False))
                   or c.monitor)

    def update_server_gate(self) -> None:
        # acl_check is not here: clients of restricted users are gated one by one
        # (update_gate), so unrestricted users keep the hot path free.
        self.gated = (self.paused_until > 0 or self.oom_check is not None
                      or self.write_check is not None
                      or self.audit_gate is not None)

    def gate(self, c: Client, cmd, argv) -> bool:
        """The checks between arity and call, in Redis's order. False: rejected/queued.
        A rejected or queued command is still the client's last command (CLIENT
        LIST's cmd=: Redis sets it before these checks); one that runs sets it in
        dispatch."""
        if "protected" in cmd.flags and self.protected_error is not None:
            err = self.protected_error(c, cmd)      # DEBUG and enable-debug-command
            if err is not None:
                return self._reject(c, cmd, err)
        if not c.authenticated and not cmd.no_auth:
            return self._reject(c, cmd, "NOAUTH Authentication required.")
        if c.multi is not None and cmd.has("no_multi"):
            return self._reject(c, cmd, "ERR Command not allowed inside a transaction")
        if self.audit_gate is not None:
            err = self.audit_gate(c, cmd, argv)     # audit-on-failure fail-closed
            if err is not None:
                return self._reject(c, cmd, err)
        if self.acl_check is not None:
            err = self.acl_check(c, cmd, argv)
            if err is not None:
                return self._reject(c, cmd, err)
        if self.oom_check is not None:
            # Every command may evict (performEvictions); oom_check returns an error
            # only where Redis refuses: denyoom, queueing inside MULTI, an EXEC
            # with denyoom commands queued.
            err = self.oom_check(c, cmd, argv)
            if err is not None:
                return self._reject(c, cmd, err)
        if self.write_check is not None and (cmd.is_write or cmd.name == "ping"):
            err = self.write_check(c, cmd)          # -MISCONF (persistence errors)
            if err is not None:
                return self._reject(c, cmd, err)
        if c.monitor and (cmd.is_write or cmd.is_readonly or cmd.has("may_replicate")):
            return self._reject(c, cmd, "ERR Replica can't interact with the keyspace", False)
        if (c.resp == 2 and (c.subscriptions or c.psubscriptions or c.ssubscriptions)
                and not cmd.pubsub_ok):
            return self._reject(c, cmd, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / "
                                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
                                "context" % cmd.name, False)
        # CLIENT PAUSE defers before MULTI queueing, as processCommand does.
        if self.paused_until and self.pause_blocks(c, cmd, argv):
            c.last_cmd = cmd
            return False
        if c.multi is not None and not cmd.multi_exempt:
            c.last_cmd = cmd
            c.multi.append((cmd, argv))
            c.out.append(b"+QUEUED\r\n")
            return False
        return True

    @staticmethod
    def _reject(c: Client, cmd, err: str, flag_multi: bool = True) -> bool:
        """gate: reject cmd with err (a rejected call; inside MULTI, with
        `flag_multi`, the transaction will abort)."""
        c.last_cmd = cmd
        error_reply(c, err, cmd, rejected=True)
        if flag_multi and c.multi is not None:
            c.multi_error = True
        return False

    def serve_blocked(self) -> None:
        if not self.serving_blocked:
            blocking.serve_ready_keys(self)

    def pause_blocks(self, c: Client, cmd, argv) -> bool:
        """CLIENT PAUSE: defer this client's command (replaced by the client family)."""
        return False

    def apply_reply_mode(self, c: Client, mark: int) -> None:
        """CLIENT REPLY OFF/SKIP: drop the reply just produced, but not the pushes
        among it (pub/sub confirmations: Redis's CLIENT_PUSHING)."""
        marks = c.push_marks
        c.push_marks = None
        if c.reply_mode == 1:
            drop = True
        elif c.reply_mode == 2:
            drop = c.skip_next_reply
            if drop:
                c.skip_next_reply = False
                c.reply_mode = 0
            else:
                c.skip_next_reply = True
        else:
            return
        if drop:
            out = c.out
            keep = [x for s, e in marks if s >= mark for x in out[s:e]] if marks else ()
            del out[mark:]
            out.extend(keep)

    def count_error(self, code: str) -> None:
        st = self.stats
        st.total_error_replies += 1
        if code in st.errors:
            st.errors[code] += 1
        elif len(st.errors) < 128:
            st.errors[code] = 1

    def client_info_line(self, c: Client) -> str:
        """One CLIENT LIST line (the client family renders the full form)."""
        hook = getattr(self, "client_info_hook", None)
        if hook is not None:
            return hook(c)
        return f"id={c.id} addr={c.peer()} laddr={c.local()} fd={c.fd} name={c.name.decode('utf-8', 'replace')}"

    # -- keyspace events and propagation --------------------------------------------

    def active_expire_lazy_ok(self) -> bool:
        return not self.aof_loading         # keyIsExpired: nothing expires while loading

    def expiry_paused(self) -> bool:
        """While clients are paused (CLIENT PAUSE, any mode) the dataset stays as it
        is: no key is deleted by expiry, lazy or active (Redis's
        checkClientPauseTimeoutAndReturnIfPaused in expireIfNeeded and the
        active cycle); expired keys still read as missing."""
        return time.time() < self.paused_until

    def notify(self, ks: Keyspace, cls: str, event: bytes, key: bytes, dbid: int) -> None:
        """Keyspace notifications (notify-keyspace-events): `cls` is the event's class
        character (g $ l s h z x e t m d n)."""
        flags = self.notify_flags
        if not flags or cls not in flags or self.pubsub is None:
            return
        if "K" in flags:
            self.pubsub.publish(ks, b"__keyspace@%d__:%s" % (dbid, key), event)
        if "E" in flags:
            self.pubsub.publish(ks, b"__keyevent@%d__:%s" % (dbid, event), key)

    prop_batch = None

    def begin_transaction_propagation(self) -> None:
        """EXEC: collect the writes so they propagate as one MULTI ... EXEC."""
        if self.propagation_subscribers and self.prop_batch is None:
            self.prop_batch = []

    def end_transaction_propagation(self, c: Client) -> None:
        batch = self.prop_batch
        self.prop_batch = None
        if not batch:
            return
        writes = [(dbid, argv) for dbid, items in batch for argv in items]
        if len(writes) > 1:
            writes = [(writes[0][0], [b"MULTI"])] + writes + [(writes[-1][0], [b"EXEC"])]
        for dbid, argv in writes:
            for sub in self.propagation_subscribers:
                sub(c, dbid, [argv], c.keyspace)

    # -- slow log and MONITOR ---------------------------------------------------------

    def slowlog_add(self, c: Client, cmd, argv, dur: int) -> None:
        lat = self.latency_threshold
        if lat and dur // 1000 >= lat:
            self.latency_add_sample("fast-command" if cmd.is_fast else "command", dur // 1000,
                                    None if c.tenant is None else c.tenant.latency_events)
        if cmd.has("skip_slowlog") or not 0 <= self.slowlog_log_slower_than <= dur:
            return
        st = c.block_state
        if st is not None:          # it just blocked: logged when served (blocking.unblock)
            st.slow = (cmd, argv, dur)
            return
        args = self.redacted_argv(cmd, argv)
        shown = []
        n = len(args)
        for i, a in enumerate(args[:32]):
            if i == 31 and n > 32:
                shown.append(b"... (%d more arguments)" % (n - 31))
                break
            if len(a) > 128:
                shown.append(a[:128] + b"... (%d more bytes)" % (len(a) - 128))
            else:
                shown.append(a)
        (self.slowlog if c.tenant is None else c.tenant.slowlog).appendleft((self.slowlog_next_id, int(time.time()), dur, shown,
                                 c.peer().encode(), c.name))
        self.slowlog_next_id += 1

    def latency_add_sample(self, event: str, ms: int, events: dict | None = None) -> None:
        """Redis's latencyAddSample: per event the all-time max and up to 160 samples,
        one per second (a later sample in the same second keeps the larger latency).
        `events`: a tenant's own event table (default: the server's)."""
        if events is None:
            events = self.latency_events
        ts = events.get(event)
        now = int(time.time())
        if ts is None:
            ts = events[event] = [0, collections.deque(maxlen=160)]
        if ms > ts[0]:
            ts[0] = ms
        samples = ts[1]
        if samples and samples[-1][0] == now:
            if ms > samples[-1][1]:
                samples[-1][1] = ms
            return
        samples.append([now, ms])

    def redacted_argv(self, cmd, argv):
        """The argv as logs may show it: secrets replaced (the ACL issue extends it)."""
        hook = cmd.redact
        return hook(argv) if hook else argv

    def feed_monitors(self, c: Client, cmd, argv) -> None:
        now = time.time()
        args = self.redacted_argv(cmd, argv)
        line = "+%.6f [%d %s] %s\r\n" % (now, c.db.id, "unix:" + c.addr[0] if c.unix else c.peer(),
                                          " ".join(_repr_arg(a) for a in args))
        data = line.encode()
        for m in list(self.monitors):          # the monitor sees its own commands too
            if not m.closing and m.keyspace is c.keyspace:     # ... and only its tenant's
                m.out.append(data)
                m.flush()

    # -- cron ---------------------------------------------------------------------------

    def cron(self) -> None:
        """hz times a second: time cache, active expiry, client timeouts, stats."""
        self.cron_loops += 1
        now = time.time()
        self.unixtime = int(now)
        if self.active_expire and not (self.paused_until and self.expiry_paused()):
            budget = 1000.0 / self.hz * 0.25
            self.keyspace.active_expire_cycle(budget)
        for hook in self.cron_hooks:
            hook()
        self.ops_samples.append((time.monotonic(), self.stats.total_commands_processed,
                                 self.stats.net_input_bytes, self.stats.net_output_bytes))
        if self.idle_timeout and self.cron_loops % max(1, self.hz // 10) == 0:
            # Redis's clientsCronHandleTimeout: whole seconds, idle > timeout;
            # clients in MULTI are not exempt.
            unixtime, limit = self.unixtime, self.idle_timeout
            for c in list(self.clients.values()):
                if (unixtime - c.last_interaction > limit and not c.blocked
                        and c.kind == "normal" and not c.monitor):
                    self.log_verbose("Closing idle client")
                    c.close_reason = "timeout"
                    c.close_now()
        self.cron_handle = self.loop.call_later(1.0 / self.hz, self.cron)

    # -- lifecycle ----------------------------------------------------------------------

    def _log_banner(self, port: int) -> None:
        """Redis's redisAsciiArt: "Running mode=..." or, with always-show-logo, a
        banner whose "PID: n" line tools (Redis's test framework) wait for."""
        tls_port = self.config.values.get("tls-port", 0)
        if not self.config["always-show-logo"]:
            self.log_notice(f"Running mode=standalone, port={port or tls_port}.")
            return
        self.log_raw("\n".join([
            f"    securekv {securekv.__version__} (Redis {securekv.REDIS_VERSION} compatible) 64 bit",
            "    Running in standalone mode",
            f"    Port: {port or tls_port}",
            f"    PID: {self.pid}", "", ""]))

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.shutdown_requested = self.loop.create_future()
        cfg = self.config
        self.log_notice("oO0OoO0OoO0Oo securekv is starting oO0OoO0OoO0Oo")
        self.log_notice(f"securekv version={securekv.__version__} (Redis {securekv.REDIS_VERSION} "
                        f"compatible), bits=64, pid={self.pid}, just started")
        if cfg.file:
            self.log_notice("Configuration loaded")
        else:
            self.log_warning("Warning: no config file specified, using the default config. "
                             "In order to specify a config file use securekv-server /path/to/securekv.conf")
        port = cfg["port"]
        backlog = cfg["tcp-backlog"]
        if port:
            await self._listen_tcp(cfg["bind"], port, backlog)
        if cfg["unixsocket"]:
            await self._listen_unix(cfg["unixsocket"], cfg["unixsocketperm"], backlog)
        self._log_banner(port)
        for hook in self.start_hooks:
            await hook(self)
        if not self.listeners:
            raise OSError("Configured to not listen anywhere, exiting.")
        pidfile = cfg["pidfile"]
        if pidfile:
            with open(pidfile, "w") as f:
                f.write(f"{self.pid}\n")
        self.log_notice("Server initialized")
        self.log_notice("Ready to accept connections")
        self.cron_handle = self.loop.call_later(1.0 / self.hz, self.cron)

    async def _listen_tcp(self, binds, port, backlog) -> None:
        for addr in binds:
            try:
                sock = self._bind_socket(addr, port, backlog)
            except OSError as e:
                self.log_warning(f"Warning: Could not create server TCP listening socket "
                                 f"{addr}:{port}: {e.strerror}")
                raise
            if sock is None:
                self.log_verbose(f"Skipping optional bind address {addr}")
                continue
            srv = await self.loop.create_server(lambda: Client(self), sock=sock)
            self.listeners.append(srv)
            self.tcp_servers.append(srv)
            self.listening_ports.append(sock.getsockname()[1])

    async def _listen_unix(self, path, perm, backlog) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        srv = await self.loop.create_unix_server(lambda: Client(self, unix=True), path,
                                                 backlog=backlog)
        if perm:
            os.chmod(path, perm)
        self.listeners.append(srv)

    def request_shutdown(self, code: int = 0) -> None:
        if self.shutdown_requested is not None and not self.shutdown_requested.done():
            self.exit_code = code
            self.shutdown_requested.set_result(code)

    async def serve_forever(self) -> int:
        loop = self.loop
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):
                pass
        code = await self.shutdown_requested
        await self.shutdown()
        return code

    def _on_signal(self, sig) -> None:
        name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
        self.log_warning(f"Received {name} scheduling shutdown...")
        # A SIGINT while the final save runs means "now" (Redis: "You insist"): the
        # save is synchronous, so a plain handler, which Python runs between bytecodes
        # of the save, not the loop's.
        prev = signal.signal(signal.SIGINT, self._insist)
        try:
            ok = self.prepare_shutdown_hook()
        finally:
            # None: a handler not set from Python, which cannot be put back (SIG_DFL).
            signal.signal(signal.SIGINT, prev if prev is not None else signal.SIG_DFL)
        if ok is False:
            # Redis's serverCron after a failed prepareForShutdown: keep serving.
            self.log_warning(f"{name} received but errors trying to shut down the server, "
                             f"check the logs for more information")
            return
        self.request_shutdown(0)

    def _insist(self, signum, frame) -> None:
        self.log_warning("You insist... exiting now.")
        try:
            os.unlink(os.path.join(self.config["dir"], "temp-%d.rdb" % os.getpid()))
        except OSError:
            pass
        os._exit(1)

    def prepare_shutdown_hook(self) -> bool:
        """Save on shutdown etc. (persistence fills this in); False: do not exit."""
        return True

    async def shutdown(self) -> None:
        self.log_warning("User requested shutdown...")
        if self.cron_handle is not None:
            self.cron_handle.cancel()
        for hook in self.exit_hooks:
            hook()
        for srv in self.listeners:
            srv.close()
        for c in list(self.clients.values()):
            c.flush()
            c.close_now()
        pidfile = self.config["pidfile"]
        if pidfile:
            self.log_notice("Removing the pid file.")
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        if self.config["unixsocket"]:
            try:
                os.unlink(self.config["unixsocket"])
            except OSError:
                pass
        self.log_warning("securekv is now ready to exit, bye bye...")
        await asyncio.sleep(0)
