"""Client-certificate -> user name mapping (tls-auth-clients-user).

Modes:
  off        no mapping (Redis 7.0's behaviour)
  CN         the subject's first Common Name
  SAN-URI    the first subjectAltName URI; a `user:NAME` URI maps to NAME, any
             other URI is taken whole (spiffe://..., urn:...)
  SAN-EMAIL  the first subjectAltName e-mail address, whole
  map        rules from the file named by tls-auth-clients-user-map

The map file: one rule a line, `FIELD PATTERN USER`, words split like a
redis.conf line (shlex: quote patterns with spaces); `#` starts a comment.
FIELD is CN, SAN-URI, SAN-EMAIL, SAN-DNS or SUBJECT (the RFC 4514 subject
string, e.g. "CN=alice,O=Example"); PATTERN is a case-sensitive glob (* ? [..]);
the first rule whose pattern matches any value of its field wins. Example:

    # field      pattern                     user
    CN           alice                       alice
    SAN-URI      spiffe://prod/ns/web/*      web
    SAN-EMAIL    *@ops.example.com           ops
    SUBJECT      "CN=*,O=Backup Team"        backup

`map_certificate(der, mode, rules)` returns (user or None, how) where `how`
names what matched ("CN=alice", "SAN-URI=user:alice", "map:3"), for CLIENT
INFO and the audit log. The server then decides whether the user exists and
is enabled; mapping never authenticates by itself.
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass

from cryptography import x509

from tls.certs import TLSConfigError, common_names, parse_der, read_file, san_values

MODES = ("off", "cn", "san-uri", "san-email", "map")
FIELDS = ("CN", "SAN-URI", "SAN-EMAIL", "SAN-DNS", "SUBJECT")


@dataclass(frozen=True)
class Rule:
    field: str
    pattern: str
    user: str
    line: int


def parse_map(text: str, where: str = "tls-auth-clients-user-map") -> list[Rule]:
    rules = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise TLSConfigError(f"{where}:{no}: {e}") from None
        if not words:
            continue
        if len(words) != 3:
            raise TLSConfigError(f"{where}:{no}: expected 'FIELD PATTERN USER', got "
                                 f"{len(words)} words")
        field = words[0].upper()
        if field not in FIELDS:
            raise TLSConfigError(f"{where}:{no}: unknown field '{words[0]}' (one of "
                                 f"{', '.join(FIELDS)})")
        rules.append(Rule(field, words[1], words[2], no))
    return rules


def load_map(path: str) -> list[Rule]:
    data = read_file("tls-auth-clients-user-map", path)
    return parse_map(data.decode("utf-8", "surrogateescape"), f"tls-auth-clients-user-map '{path}'")


def field_values(cert: x509.Certificate, field: str) -> list[str]:
    if field == "CN":
        return common_names(cert)
    if field == "SAN-URI":
        return san_values(cert, x509.UniformResourceIdentifier)
    if field == "SAN-EMAIL":
        return san_values(cert, x509.RFC822Name)
    if field == "SAN-DNS":
        return san_values(cert, x509.DNSName)
    if field == "SUBJECT":
        return [cert.subject.rfc4514_string()]
    return []


def parse_mode(v: str) -> str:
    m = v.lower()
    if m not in MODES:
        raise TLSConfigError(f"tls-auth-clients-user: '{v}' is not one of off, CN, SAN-URI, "
                             "SAN-EMAIL, map")
    return m


def map_certificate(cert, mode: str, rules: list[Rule] | None = None
                    ) -> tuple[str | None, str]:
    """(user name or None, what matched). `cert` is DER bytes or an x509.Certificate."""
    if mode == "off" or cert is None:
        return None, ""
    if isinstance(cert, (bytes, bytearray)):
        try:
            cert = parse_der(bytes(cert))
        except ValueError:
            return None, "unparsable certificate"
    if mode == "cn":
        names = common_names(cert)
        return (names[0], f"CN={names[0]}") if names else (None, "no CN")
    if mode == "san-uri":
        uris = san_values(cert, x509.UniformResourceIdentifier)
        if not uris:
            return None, "no SAN URI"
        u = uris[0]
        return (u[5:] if u.startswith("user:") else u), f"SAN-URI={u}"
    if mode == "san-email":
        mails = san_values(cert, x509.RFC822Name)
        return (mails[0], f"SAN-EMAIL={mails[0]}") if mails else (None, "no SAN e-mail")
    for rule in rules or ():
        for v in field_values(cert, rule.field):
            if fnmatch.fnmatchcase(v, rule.pattern):
                return rule.user, f"map:{rule.line} {rule.field}={v}"
    return None, "no map rule matched"
