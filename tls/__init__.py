"""TLS support: a library with no import of securekv (see DESIGN.md).

- tls.context: server/client SSLContexts from the tls-* directive values, with
  secure defaults (TLS 1.2+, forward-secret ciphers only, no renegotiation).
- tls.certs: certificate/key inspection with `cryptography` (clear startup errors).
- tls.clientauth: client certificate -> user name (tls-auth-clients-user).
- tls.devcerts: a development CA and server/client certificates.
"""

from tls.certs import CertInfo, TLSConfigError  # noqa: F401
from tls.context import (TLSSettings, build_client_context, build_server_context,  # noqa: F401
                         file_fingerprint)
