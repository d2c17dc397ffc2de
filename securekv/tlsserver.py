"""The TLS listener: the tls-* directives given effect with the tls/ library.

* Startup (`@on_init`): when tls-port (or tls-replication) is set the server
  context is built and validated; a problem becomes a startup error
  (`server.startup_errors`, refused by cli.check_server with a non-zero exit).
* Listening (a start hook, after the plain listeners): one listening socket per
  `bind` address on tls-port, served by `loop.create_server` on a dup of the
  socket with a protocol factory that builds what `create_server(ssl=ctx)`
  builds itself, the loop's SSLProtocol around a TLSClient (handshake timeout:
  tls-handshake-timeout), but keeps the handshake's waiter, so a failure's
  exception and the peer address are known (Handshake records the peer). A new
  context (CONFIG SET of a tls-* directive, or rotated files found by the cron)
  is swapped in by serving a fresh dup with the new context and closing the old
  server: new connections get the new context, established ones keep theirs.
* Handshakes are counted: every accepted connection creates its TLSClient
  before the handshake; connection_made means the handshake succeeded; a
  waiter that ends otherwise (plaintext, random bytes, timeout, refused
  certificate, peer gone) is a failure, classified (`failure_reason`) and
  raised as a `tls-handshake-failure` event through `server.audit_hooks` — at
  most tls-handshake-failure-audit-rate per second, the rest counted and
  summarised once a second in one `tls-handshake-failure-suppressed` event.
* Client certificates: with tls-auth-clients-user other than off, the peer
  certificate is mapped to a user name (tls.clientauth) after the handshake and
  handed to `server.tls_login(c, user, how)` when the ACL side provides it.
* INFO tls: certificate subject/expiry, handshakes, failures, protocol mix.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import weakref

from tls import clientauth
from tls.certs import TLSConfigError
from tls.context import TLSSettings, build_server_context, file_fingerprint

from securekv.commands import server as _info
from securekv.config import ConfigError, claim
from securekv.lifecycle import on_init
from securekv.net.connection import Client

UNABLE = "Unable to update TLS configuration. Check server logs."

claim("tls", "tls-port", "tls-handshake-timeout", "tls-watch-interval", "tls-auth-clients-user",
      "tls-auth-clients-user-map", "tls-handshake-failure-audit-rate")

FILE_DIRECTIVES = ("tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-ca-cert-file",
                   "tls-ca-cert-dir", "tls-dh-params-file", "tls-client-cert-file",
                   "tls-client-key-file", "tls-client-key-file-pass")
CONTEXT_DIRECTIVES = FILE_DIRECTIVES + (
    "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-auth-clients",
    "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
    "tls-session-cache-timeout", "tls-handshake-timeout")


class TLSClient(Client):
    """A client on the TLS port: created at accept time, before the handshake."""
    __slots__ = ("__weakref__", "tls_version", "tls_cipher", "tls_peer", "tls_user", "tls_how")

    def __init__(self, server, state: "TLSState") -> None:
        super().__init__(server)
        self.tls_version = ""
        self.tls_cipher = ""
        self.tls_peer = None
        self.tls_user = None
        self.tls_how = ""
        state.accepted += 1
        state.pending.add(self)

    def connection_made(self, transport) -> None:
        state = self.server.tls
        state.pending.discard(self)
        state.handshakes += 1
        obj = transport.get_extra_info("ssl_object")
        if obj is not None:
            self.tls_version = obj.version() or ""
            cipher = obj.cipher()
            self.tls_cipher = cipher[0] if cipher else ""
            self.tls_peer = obj.getpeercert(binary_form=True)
        super().connection_made(transport)
        if self.tls_peer is not None and state.map_mode != "off" and not self.closing:
            state.certificate_login(self)


_handshake_classes: dict = {}


def handshake_class(loop):
    """The loop's own SSLProtocol (uvloop's or asyncio's), remembering the peer
    address; the data path is the base class's, unchanged."""
    base = asyncio.sslproto.SSLProtocol
    try:
        import uvloop.loop
        if isinstance(loop, uvloop.loop.Loop):
            base = uvloop.loop.SSLProtocol
    except ImportError:
        pass
    cls = _handshake_classes.get(base)
    if cls is None:
        class Handshake(base):
            def connection_made(self, transport):
                self.tls_peer_addr = transport.get_extra_info("peername")
                super().connection_made(transport)
        cls = _handshake_classes[base] = Handshake
    return cls


# ssl.SSLError.reason -> the reason recorded for a failed handshake
NOT_TLS = frozenset(("HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "WRONG_VERSION_NUMBER",
                     "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                     "RECORD_LENGTH_MISMATCH", "LENGTH_MISMATCH", "BAD_PACKET_LENGTH",
                     "UNEXPECTED_RECORD", "BAD_RECORD_TYPE"))
BAD_CERT = frozenset(("CERTIFICATE_VERIFY_FAILED", "TLSV1_ALERT_UNKNOWN_CA",
                      "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
                      "SSLV3_ALERT_CERTIFICATE_REVOKED", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
                      "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "TLSV1_ALERT_ACCESS_DENIED",
                      "TLSV1_ALERT_DECRYPT_ERROR", "CERTIFICATE_UNKNOWN"))
NO_CERT = frozenset(("PEER_DID_NOT_RETURN_A_CERTIFICATE",
                     "TLSV13_ALERT_CERTIFICATE_REQUIRED"))
VERSION = frozenset(("UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE",
                     "TLSV1_ALERT_PROTOCOL_VERSION", "VERSION_TOO_LOW", "VERSION_TOO_HIGH",
                     "WRONG_SSL_VERSION"))
CIPHER = frozenset(("NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE", "NO_SHARED_GROUPS",
                    "SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_SUITABLE_SIGNATURE_ALGORITHM"))


def failure_reason(e: BaseException) -> str:
    """A failed handshake's exception -> plaintext, timeout, bad-certificate,
    no-certificate, protocol-version, no-shared-cipher, closed, or tls-error."""
    if isinstance(e, ssl.SSLError):
        r = e.reason or ""
        if r in NOT_TLS:
            return "plaintext"
        if r in BAD_CERT:
            return "bad-certificate"
        if r in NO_CERT:
            return "no-certificate"
        if r in VERSION:
            return "protocol-version"
        if r in CIPHER:
            return "no-shared-cipher"
        if isinstance(e, ssl.SSLEOFError) or r.startswith("UNEXPECTED_EOF"):
            return "closed"
        return "tls-error"
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)) or "taking longer" in str(e):
        return "timeout"
    if isinstance(e, (ConnectionError, EOFError, BrokenPipeError)):
        return "closed"
    return "tls-error"


class TLSState:
    def __init__(self, server) -> None:
        self.server = server
        self.settings: TLSSettings | None = None
        self.ctx = None
        self.info = None
        self.fingerprint = None
        self.refused_fingerprint = None
        self.socks: list = []          # listening sockets we hold (served through dups)
        self.servers: list = []        # the asyncio servers of the current context
        self.port = 0
        self.accepted = 0
        self.handshakes = 0
        self.pending = weakref.WeakSet()
        self.reloads = 0
        self.reload_failures = 0
        self.last_reload = 0
        self.last_check = 0.0
        self.map_mode = "off"
        self.map_rules: list = []
        self.logins = 0
        self.login_fallbacks = 0
        self.handshake_failures = 0
        self.fail_window = 0           # the second (monotonic) being rate-limited
        self.fail_events = 0           # events raised in it
        self.suppressed = 0            # failures not raised since the last summary
        self.suppressed_total = 0
        self.suppressed_reasons: dict = {}
        self.suppressed_since = 0.0

    # -- configuration ------------------------------------------------------------

    def settings_now(self) -> TLSSettings:
        return TLSSettings.from_directives(self.server.config.__getitem__)

    def in_use(self) -> bool:
        cfg = self.server.config
        return bool(cfg["tls-port"] or cfg["tls-replication"] or cfg["tls-cluster"])

    def build(self):
        """(settings, ctx, info, fingerprint) from the current directives, validated."""
        s = self.settings_now()
        fp = file_fingerprint(s.files())
        ctx, info = build_server_context(s)
        return s, ctx, info, fp

    def configure(self, force: bool = False) -> None:
        """Rebuild the context from the directives (TLSConfigError: nothing changes)."""
        s = self.settings_now()
        if not force and s == self.settings and self.ctx is not None:
            return
        s, ctx, info, fp = self.build()
        self.install(s, ctx, info, fp)

    def install(self, s, ctx, info, fp) -> None:
        self.settings, self.ctx, self.info, self.fingerprint = s, ctx, info, fp
        self.refused_fingerprint = None
        self.reloads += 1
        self.last_reload = int(time.time())
        if self.servers:
            self.server.loop.create_task(self.swap())

    def configure_mapping(self) -> None:
        cfg = self.server.config
        mode = cfg["tls-auth-clients-user"]
        rules = []
        if mode == "map":
            path = cfg["tls-auth-clients-user-map"]
            if not path:
                raise TLSConfigError("tls-auth-clients-user map needs "
                                     "tls-auth-clients-user-map")
            rules = clientauth.load_map(path)
        self.map_mode, self.map_rules = mode, rules

    # -- listeners -------------------------------------------------------------------

    def bind(self, port: int) -> list:
        srv = self.server
        socks = []
        try:
            for addr in srv.config["bind"]:
                s = srv._bind_socket(addr, port, srv.config["tcp-backlog"])
                if s is not None:
                    socks.append(s)
        except OSError:
            for s in socks:
                s.close()
            raise
        return socks

    async def serve(self, socks) -> list:
        srv = self.server
        timeout = float(srv.config["tls-handshake-timeout"])
        out = []
        for s in socks:
            listener = await srv.loop.create_server(self.factory(self.ctx, timeout),
                                                    sock=s.dup())
            srv.listeners.append(listener)
            out.append(listener)
        return out

    def close_servers(self, servers) -> None:
        for listener in servers:
            listener.close()
            if listener in self.server.listeners:
                self.server.listeners.remove(listener)

    async def swap(self) -> None:
        """Serve the held sockets with the current context, then drop the old servers."""
        old = self.servers
        self.servers = await self.serve(self.socks)
        self.close_servers(old)

    async def listen(self, port: int) -> None:
        socks = self.bind(port)
        self.socks, self.port = socks, port
        self.servers = await self.serve(socks)

    def stop_listening(self) -> None:
        self.close_servers(self.servers)
        self.servers = []
        for s in self.socks:
            s.close()
        self.socks, self.port = [], 0

    # -- rotation -------------------------------------------------------------------

    def cron(self) -> None:
        interval = self.server.config["tls-watch-interval"]
        if not interval or self.settings is None:
            return
        now = time.monotonic()
        if now - self.last_check < interval:
            return
        self.last_check = now
        fp = file_fingerprint(self.settings.files())
        if fp == self.fingerprint or fp == self.refused_fingerprint:
            return
        try:
            s, ctx, info, fp2 = self.build()
        except TLSConfigError as e:
            self.refused_fingerprint = fp
            self.reload_failures += 1
            self.server.log_warning(f"TLS files changed but the new ones were refused (keeping "
                                    f"the current certificate): {e}")
            return
        self.install(s, ctx, info, fp2)
        self.server.log_notice(f"TLS files changed: new certificate {info.subject}, valid until "
                               f"{info.not_after:%Y-%m-%d %H:%M:%S} UTC, for new connections")

    # -- handshakes -------------------------------------------------------------------

    def factory(self, ctx, timeout: float):
        srv = self.server
        loop = srv.loop
        cls = handshake_class(loop)

        def make():
            c = TLSClient(srv, self)
            waiter = loop.create_future()
            p = cls(loop, c, ctx, waiter, server_side=True, ssl_handshake_timeout=timeout)
            waiter.add_done_callback(lambda fut: self.handshake_done(fut, c, p))
            return p
        return make

    def handshake_done(self, fut, c, p) -> None:
        exc = None if fut.cancelled() else fut.exception()
        if exc is None and c.transport is not None:
            return                      # connection_made ran: the handshake succeeded
        self.pending.discard(c)
        self.handshake_failures += 1
        self.handshake_failed(getattr(p, "tls_peer_addr", None),
                              exc or ConnectionResetError("closed during the handshake"))

    def handshake_failed(self, peer, e: BaseException) -> None:
        rate = self.server.config["tls-handshake-failure-audit-rate"]
        if rate <= 0 or not getattr(self.server, "audit_hooks", None):
            return
        reason = failure_reason(e)
        now = time.monotonic()
        second = int(now)
        if second != self.fail_window:
            self.summarise()
            self.fail_window, self.fail_events = second, 0
        if self.fail_events >= rate:
            if not self.suppressed:
                self.suppressed_since = time.time()
            self.suppressed += 1
            self.suppressed_total += 1
            self.suppressed_reasons[reason] = self.suppressed_reasons.get(reason, 0) + 1
            return
        self.fail_events += 1
        if not peer:
            addr = "?"
        elif ":" in str(peer[0]):
            addr = "[%s]:%s" % (peer[0], peer[1])
        else:
            addr = "%s:%s" % (peer[0], peer[1])
        self.raise_event({"type": "tls-handshake-failure", "time": time.time(), "addr": addr,
                          "reason": reason, "error": str(e) or type(e).__name__,
                          "port": self.port})

    def summarise(self) -> None:
        """One event for the failures the rate limit kept out of the log."""
        if not self.suppressed:
            return
        ev = {"type": "tls-handshake-failure-suppressed", "time": time.time(),
              "count": self.suppressed, "since": self.suppressed_since,
              "reasons": dict(self.suppressed_reasons), "port": self.port}
        self.suppressed, self.suppressed_reasons = 0, {}
        self.raise_event(ev)

    def summary_cron(self) -> None:
        if self.suppressed and int(time.monotonic()) != self.fail_window:
            self.summarise()

    def raise_event(self, event: dict) -> None:
        for h in list(getattr(self.server, "audit_hooks", None) or ()):
            try:
                h(event)
            except Exception as e:      # an audit sink must not break connections
                self.server.log_warning(f"audit hook failed: {e!r}")

    # -- client certificates ----------------------------------------------------------

    def certificate_login(self, c: TLSClient) -> None:
        """Map the verified peer certificate to a user and log in as it; a name that
        is no enabled user (or no ACL engine) leaves the normal AUTH rules."""
        user, how = clientauth.map_certificate(c.tls_peer, self.map_mode, self.map_rules)
        c.tls_how = how
        outcome = "unmapped"
        if user is not None:
            login = getattr(self.server, "tls_login", None)
            outcome = login(c, user, how) if login is not None else "no-acl"
        if outcome == "ok":
            c.tls_user = user
            self.logins += 1
        else:
            self.login_fallbacks += 1
        hooks = getattr(self.server, "audit_hooks", None)
        if hooks:
            event = {"type": "tls-certificate-login", "time": time.time(), "client_id": c.id,
                     "addr": c.peer(), "user": user, "mapping": how, "outcome": outcome}
            for h in list(hooks):
                try:
                    h(event)
                except Exception as e:      # an audit sink must not break connections
                    self.server.log_warning(f"audit hook failed: {e!r}")

    # -- INFO ---------------------------------------------------------------------

    def failures(self) -> int:
        return self.handshake_failures


def info_section(server, c) -> list:
    st = server.tls
    fields = [("tls_enabled", 1 if st.ctx is not None else 0), ("tls_port", st.port)]
    if st.info is not None:
        fields += [("tls_cert_subject", st.info.subject), ("tls_cert_issuer", st.info.issuer),
                   ("tls_cert_serial", st.info.serial),
                   ("tls_cert_not_after", st.info.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")),
                   ("tls_cert_days_left", st.info.days_left()),
                   ("tls_cert_sha256", st.info.sha256)]
    mix: dict = {}
    for cl in server.clients.values():
        v = getattr(cl, "tls_version", None)
        if v:
            mix[v] = mix.get(v, 0) + 1
    fields += [("tls_auth_clients", server.config["tls-auth-clients"]),
               ("tls_auth_clients_user", server.config["tls-auth-clients-user"]),
               ("tls_connections_accepted", st.accepted),
               ("tls_handshakes", st.handshakes),
               ("tls_handshake_failures", st.failures()),
               ("tls_handshake_failure_events_suppressed", st.suppressed_total),
               ("tls_handshakes_in_progress", len(st.pending)),
               ("tls_connected_clients", sum(mix.values())),
               ("tls_protocols", ",".join(f"{k}={v}" for k, v in sorted(mix.items()))),
               ("tls_certificate_logins", st.logins),
               ("tls_certificate_login_fallbacks", st.login_fallbacks),
               ("tls_context_reloads", max(0, st.reloads - 1)),
               ("tls_context_reload_failures", st.reload_failures),
               ("tls_last_reload", st.last_reload)]
    return fields


_info.register_section("tls", info_section, "TLS", in_all=lambda server: server.tls.ctx is not None)


# -- apply hooks (Server.apply(name) calls server.apply_<name>) ---------------------------

def _apply_context(server):
    def apply(v):
        st = server.tls
        if server.loop is None or not st.in_use():
            return
        try:
            st.configure()
        except TLSConfigError as e:
            server.log_warning(f"Failed to update TLS configuration: {e}")
            raise ConfigError(UNABLE) from None
    return apply


def _apply_port(server):
    def apply(port):
        st = server.tls
        if server.loop is None or port == st.port:
            return
        if port:
            try:
                st.configure()
            except TLSConfigError as e:
                server.log_warning(f"Failed to configure TLS: {e}")
                raise ConfigError(UNABLE) from None
            try:
                socks = st.bind(port)
            except OSError as e:
                server.log_warning(f"Could not bind TLS port {port}: {e.strerror}")
                raise ConfigError("Unable to listen on this port. Check server logs.") from None
        else:
            socks = []
        st.close_servers(st.servers)
        for s in st.socks:
            s.close()
        st.servers, st.socks, st.port = [], socks, port
        if socks:
            async def go():
                st.servers = await st.serve(socks)
            server.loop.create_task(go())
    return apply


def _apply_mapping(server):
    def apply(v):
        try:
            server.tls.configure_mapping()
        except TLSConfigError as e:
            server.log_warning(f"Failed to update TLS configuration: {e}")
            raise ConfigError(str(e)) from None
    return apply


def acl_login(server):
    """server.tls_login(c, name, how) -> outcome, through the ACL family's users:
    "ok" (logged in, audited as auth-success with method tls-certificate),
    "no-user" or "disabled" (the client stays on the normal AUTH rules)."""
    def login(c, name: str, how: str) -> str:
        get = getattr(server, "acl_get_user", None)
        if get is None:
            return "no-acl"
        u = get(name.encode("utf-8", "surrogateescape"))
        if u is None:
            return "no-user"
        if not u.enabled:
            return "disabled"
        from securekv.commands.acl import _auth_done
        _auth_done(c, u, True, u.name, "tls-certificate")
        return "ok"
    return login


@on_init
def setup(server) -> None:
    st = server.tls = TLSState(server)
    if not hasattr(server, "tls_login"):
        server.tls_login = acl_login(server)
    for name in CONTEXT_DIRECTIVES + ("tls-replication", "tls-cluster"):
        setattr(server, "apply_" + name.replace("-", "_"), _apply_context(server))
    server.apply_tls_port = _apply_port(server)
    server.apply_tls_auth_clients_user = _apply_mapping(server)
    server.apply_tls_auth_clients_user_map = _apply_mapping(server)
    errors = getattr(server, "startup_errors", None)
    if errors is None:
        errors = server.startup_errors = []
    try:
        st.configure_mapping()
        if st.in_use():
            st.configure(force=True)
            st.reloads = 1
    except TLSConfigError as e:
        errors.append(f"Failed to configure TLS: {e}")
        return
    server.cron_hooks.append(st.cron)
    server.cron_hooks.append(st.summary_cron)

    async def start(server):
        if server.config["tls-port"]:
            await st.listen(server.config["tls-port"])
            info = st.info
            server.log_notice(f"TLS listening on port {st.port}, certificate {info.subject} "
                              f"valid until {info.not_after:%Y-%m-%d %H:%M:%S} UTC "
                              f"({info.days_left()} days left)")
    server.start_hooks.append(start)
