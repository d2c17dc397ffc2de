"""A development CA with a server and a client certificate (`securekv tls dev-certs DIR`).

Writes into DIR: ca.crt ca.key (the CA), server.crt server.key (for localhost,
127.0.0.1 and ::1), client.crt client.key (CN = the client user name, also as a
SAN URI `user:<name>` and e-mail `<name>@securekv.invalid`, so every
tls-auth-clients-user mode maps it). Keys are ECDSA P-256, unencrypted, mode 0600.
For development and tests only: a real deployment uses its own PKI.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FILES = ("ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "securekv development"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def issue(ca_cert, ca_key, cn: str, days: int, server: bool, sans: list, key=None,
          now: _dt.datetime | None = None):
    """A leaf certificate signed by the CA: (certificate, key)."""
    key = key or _key()
    now = now or _dt.datetime.now(_dt.timezone.utc)
    eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - _dt.timedelta(minutes=5))
         .not_valid_after(now + _dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=True, key_cert_sign=False, crl_sign=False,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                        critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def make_ca(cn: str = "securekv development CA", days: int = 3650):
    key = _key()
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(now + _dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def cert_pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, password: str | None = None) -> bytes:
    enc = (serialization.BestAvailableEncryption(password.encode()) if password
           else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _write(path: str, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def generate(directory: str, client_user: str = "default", days: int = 825,
             hosts: tuple = ("localhost", "127.0.0.1", "::1"), force: bool = False) -> list[str]:
    """Write the CA, server and client files into `directory`; returns their paths.
    Refuses to overwrite existing files unless `force`."""
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, f) for f in FILES]
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists (use --force to replace the files)")
    ca_cert, ca_key = make_ca()
    sans = []
    for h in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    srv_cert, srv_key = issue(ca_cert, ca_key, hosts[0] if hosts else "securekv", days, True,
                              sans)
    cli_cert, cli_key = issue(ca_cert, ca_key, client_user, days, False,
                              [x509.UniformResourceIdentifier(f"user:{client_user}"),
                               x509.RFC822Name(f"{client_user}@securekv.invalid")])
    for path, obj, private in zip(paths, (ca_cert, ca_key, srv_cert, srv_key, cli_cert, cli_key),
                                  (False, True, False, True, False, True)):
        _write(path, key_pem(obj) if private else cert_pem(obj), private)
    return paths


USAGE = """Usage: securekv tls dev-certs DIR [--client-user NAME] [--days N] [--host NAME ...] [--force]

Writes a development CA (ca.crt, ca.key), a server certificate (server.crt,
server.key; localhost, 127.0.0.1, ::1 unless --host is given) and a client
certificate (client.crt, client.key; CN = NAME, default 'default') into DIR.
"""


def cli(args: list[str]) -> int:
    """`securekv tls ...` (the umbrella CLI hands the words after `tls`)."""
    import sys
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    if args[0] != "dev-certs":
        sys.stderr.write(f"securekv tls: unknown command '{args[0]}'\n\n{USAGE}")
        return 2
    rest = args[1:]
    directory = None
    user, days, hosts, force = "default", 825, [], False
    i = 0
    try:
        while i < len(rest):
            a = rest[i]
            if a == "--client-user":
                user = rest[i + 1]
                i += 2
            elif a == "--days":
                days = int(rest[i + 1])
                i += 2
            elif a == "--host":
                hosts.append(rest[i + 1])
                i += 2
            elif a == "--force":
                force = True
                i += 1
            elif directory is None and not a.startswith("--"):
                directory = a
                i += 1
            else:
                raise ValueError(a)
    except (IndexError, ValueError):
        sys.stderr.write(USAGE)
        return 2
    if directory is None or days < 1:
        sys.stderr.write(USAGE)
        return 2
    try:
        paths = generate(directory, user, days, tuple(hosts) or ("localhost", "127.0.0.1", "::1"),
                         force)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"securekv tls dev-certs: {e}\n")
        return 1
    for p in paths:
        print(p)
    return 0
