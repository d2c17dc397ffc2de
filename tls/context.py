"""Server and client `ssl.SSLContext`s from Redis's tls-* directive values.

`TLSSettings.from_directives(get)` reads the values by directive name;
`build_server_context(settings)` / `build_client_context(settings)` validate
the files first (tls.certs: clear errors) and return a ready context, raising
TLSConfigError otherwise.

Secure defaults, kept whatever the directives say:
* TLS 1.2 and 1.3 only: `tls-protocols` accepts Redis's words but refuses
  TLSv1 and TLSv1.1 with an error.
* TLS 1.2 ciphers: `tls-ciphers` (OpenSSL syntax) is always followed by
  MANDATORY_EXCLUSIONS (no NULL, EXPORT, RC4, 3DES/DES, MD5, anonymous, static
  RSA/DH key exchange, PSK, SRP), and the result is checked to hold only
  forward-secret (ECDHE/DHE) suites.
* TLS 1.3 suites (`tls-ciphersuites`) are set through OpenSSL's
  SSL_CTX_set_ciphersuites (ctypes on the SSL_CTX the ssl module holds: the
  ssl module has no API for it); only the suites OpenSSL defines are accepted.
* Renegotiation and compression off; session cache per tls-session-caching,
  tls-session-cache-size, tls-session-cache-timeout (also via SSL_CTX_ctrl).
"""

from __future__ import annotations

import ctypes
import os
import ssl
from dataclasses import dataclass, fields

from tls.certs import CertInfo, TLSConfigError, check_ca, check_pair, read_file

DEFAULT_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                   "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
                   "DHE-RSA-CHACHA20-POLY1305")
MANDATORY_EXCLUSIONS = ":!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!DES:!MD5:!kRSA:!PSK:!SRP:!kDH:!kECDH"
FORWARD_SECRET_KX = {"kx-ecdhe", "kx-dhe", "kx-any"}
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")
PROTOCOL_WORDS = {"tlsv1": None, "tlsv1.1": None,
                  "tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3}
AUTH_MODES = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}
CA_REQUIRED = ("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
               "tls-replication or tls-auth-clients are enabled!")


@dataclass(frozen=True)
class TLSSettings:
    """The tls-* directive values (field name = directive name without `tls-`)."""
    cert_file: str = ""
    key_file: str = ""
    key_file_pass: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    client_key_file_pass: str = ""
    dh_params_file: str = ""
    ca_cert_file: str = ""
    ca_cert_dir: str = ""
    protocols: str = ""
    ciphers: str = ""
    ciphersuites: str = ""
    auth_clients: str = "yes"
    prefer_server_ciphers: bool = False
    session_caching: bool = True
    session_cache_size: int = 20 * 1024
    session_cache_timeout: int = 300

    @classmethod
    def from_directives(cls, get) -> "TLSSettings":
        """`get(name)` returns a directive's value ("tls-cert-file" ...)."""
        return cls(**{f.name: get("tls-" + f.name.replace("_", "-")) for f in fields(cls)})

    def files(self, server_side: bool = True) -> list[str]:
        """The files a context is built from (watched for rotation)."""
        names = [self.cert_file, self.key_file, self.ca_cert_file, self.dh_params_file]
        if not server_side:
            names += [self.client_cert_file, self.client_key_file]
        return [n for n in names if n]


def parse_protocols(spec: str) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """tls-protocols -> (minimum, maximum). Empty: TLS 1.2 and 1.3."""
    words = spec.split()
    if not words:
        return ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    chosen = set()
    for w in words:
        key = w.lower()
        if key not in PROTOCOL_WORDS:
            raise TLSConfigError("Invalid tls-protocols specified. Use a combination of "
                                 "'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        v = PROTOCOL_WORDS[key]
        if v is None:
            raise TLSConfigError(f"tls-protocols: {w} is insecure and refused by securekv: "
                                 "use TLSv1.2 and/or TLSv1.3")
        chosen.add(v)
    return min(chosen), max(chosen)


# -- OpenSSL calls the ssl module does not expose ---------------------------------------

_SSL_CTRL_SET_SESS_CACHE_SIZE = 42
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
_SSL_SESS_CACHE_OFF = 0
_SSL_SESS_CACHE_SERVER = 2
_libssl = None


def _lib():
    """libssl as the ssl module links it (dlsym on _ssl's handle searches its deps)."""
    global _libssl
    if _libssl is None:
        import _ssl
        lib = ctypes.CDLL(_ssl.__file__)
        lib.SSL_CTX_get_options.restype = ctypes.c_uint64
        lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
        lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                     ctypes.c_void_p]
        lib.SSL_CTX_set_timeout.restype = ctypes.c_long
        lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
        _libssl = lib
    return _libssl


def _ssl_ctx_ptr(ctx: ssl.SSLContext) -> int:
    """The SSL_CTX* inside a CPython SSLContext (the field after PyObject_HEAD),
    checked by reading the options back through OpenSSL."""
    lib = _lib()
    ptr = ctypes.c_void_p.from_address(id(ctx) + 2 * ctypes.sizeof(ctypes.c_void_p)).value
    if not ptr or lib.SSL_CTX_get_options(ptr) != int(ctx.options):
        raise TLSConfigError("cannot reach OpenSSL's SSL_CTX from this Python build")
    return ptr


def set_ciphersuites(ctx: ssl.SSLContext, spec: str) -> None:
    names = [n for n in spec.split(":") if n]
    bad = [n for n in names if n not in TLS13_SUITES]
    if bad or not names:
        raise TLSConfigError(f"tls-ciphersuites: unknown TLS 1.3 suite "
                             f"'{bad[0] if bad else spec}' (known: {', '.join(TLS13_SUITES)})")
    if _lib().SSL_CTX_set_ciphersuites(_ssl_ctx_ptr(ctx), ":".join(names).encode()) != 1:
        raise TLSConfigError(f"tls-ciphersuites: OpenSSL refused '{spec}'")


def set_session_cache(ctx: ssl.SSLContext, enabled: bool, size: int, timeout: int) -> None:
    ptr = _ssl_ctx_ptr(ctx)
    lib = _lib()
    if enabled:
        lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_SERVER, None)
        lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_SIZE, size, None)
        if timeout:
            lib.SSL_CTX_set_timeout(ptr, timeout)
    else:
        lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_OFF, None)


def apply_ciphers(ctx: ssl.SSLContext, spec: str) -> None:
    """tls-ciphers (TLS 1.2), always with the mandatory exclusions, and a check that
    what is left is forward-secret and authenticated."""
    try:
        ctx.set_ciphers((spec or DEFAULT_CIPHERS) + MANDATORY_EXCLUSIONS)
    except ssl.SSLError:
        raise TLSConfigError(f"tls-ciphers: no acceptable cipher in '{spec}' (NULL, EXPORT, "
                             "RC4, 3DES, anonymous and non-forward-secret ciphers are "
                             "always excluded)") from None
    for c in ctx.get_ciphers():
        if c.get("protocol") == "TLSv1.3":
            continue
        if c.get("kea") not in FORWARD_SECRET_KX or c.get("auth") in ("auth-null", None):
            raise TLSConfigError(f"tls-ciphers: '{c['name']}' is not forward-secret")
    if not any(c.get("protocol") != "TLSv1.3" for c in ctx.get_ciphers()):
        raise TLSConfigError(f"tls-ciphers: no acceptable TLS 1.2 cipher in '{spec}'")


def _common(ctx: ssl.SSLContext, s: TLSSettings) -> None:
    ctx.minimum_version, ctx.maximum_version = parse_protocols(s.protocols)
    ctx.options |= (ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_SINGLE_DH_USE
                    | ssl.OP_SINGLE_ECDH_USE)
    apply_ciphers(ctx, s.ciphers)
    if s.ciphersuites:
        set_ciphersuites(ctx, s.ciphersuites)


def _load_chain(ctx, cert, key, password, cert_what, key_what) -> CertInfo:
    info = check_pair(cert_what, cert, key_what, key, password)
    try:
        ctx.load_cert_chain(cert, key or None, password=password or None)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"{cert_what} '{cert}': OpenSSL refused the certificate/key: "
                             f"{e}") from None
    return info


def _load_ca(ctx, s: TLSSettings) -> None:
    check_ca(s.ca_cert_file, s.ca_cert_dir)
    try:
        ctx.load_verify_locations(cafile=s.ca_cert_file or None, capath=s.ca_cert_dir or None)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"tls-ca-cert-file/tls-ca-cert-dir: cannot load CA "
                             f"certificates: {e}") from None


def build_server_context(s: TLSSettings) -> tuple[ssl.SSLContext, CertInfo]:
    """The listener's context and its certificate's summary (or TLSConfigError)."""
    if not s.cert_file:
        raise TLSConfigError("No tls-cert-file configured!")
    if not s.key_file:
        raise TLSConfigError("No tls-key-file configured!")
    mode = AUTH_MODES.get(s.auth_clients)
    if mode is None:
        raise TLSConfigError(f"tls-auth-clients: invalid value '{s.auth_clients}'")
    if mode != ssl.CERT_NONE and not (s.ca_cert_file or s.ca_cert_dir):
        raise TLSConfigError(CA_REQUIRED)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _common(ctx, s)
    if s.prefer_server_ciphers:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if not s.session_caching:
        ctx.options |= ssl.OP_NO_TICKET
    info = _load_chain(ctx, s.cert_file, s.key_file, s.key_file_pass,
                       "tls-cert-file", "tls-key-file")
    if s.ca_cert_file or s.ca_cert_dir:
        _load_ca(ctx, s)
    ctx.verify_mode = mode
    if s.dh_params_file:
        read_file("tls-dh-params-file", s.dh_params_file)
        try:
            ctx.load_dh_params(s.dh_params_file)
        except (ssl.SSLError, OSError) as e:
            raise TLSConfigError(f"tls-dh-params-file '{s.dh_params_file}': cannot load DH "
                                 f"parameters: {e}") from None
    set_session_cache(ctx, s.session_caching, s.session_cache_size, s.session_cache_timeout)
    return ctx, info


def build_client_context(s: TLSSettings) -> ssl.SSLContext:
    """The context for outbound links (replication): verifies the peer against the
    CA (no host name check, as Redis) and presents tls-client-cert-file, or the
    server certificate when that is not set."""
    if not (s.ca_cert_file or s.ca_cert_dir):
        raise TLSConfigError(CA_REQUIRED)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    _common(ctx, s)
    if s.client_cert_file:
        _load_chain(ctx, s.client_cert_file, s.client_key_file, s.client_key_file_pass,
                    "tls-client-cert-file", "tls-client-key-file")
    elif s.cert_file:
        _load_chain(ctx, s.cert_file, s.key_file, s.key_file_pass,
                    "tls-cert-file", "tls-key-file")
    _load_ca(ctx, s)
    return ctx


def file_fingerprint(paths) -> tuple:
    """(path, mtime_ns, size, inode) of each file: a change means rotation."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((p, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append((p, None, None, None))
    return tuple(out)
