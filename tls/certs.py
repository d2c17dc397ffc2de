"""Certificate and key inspection with `cryptography`: the startup checks that
turn OpenSSL's terse failures into clear errors (unreadable file, not PEM,
encrypted key without or with a wrong passphrase, key not matching the
certificate, expired or not yet valid certificate), and the summary INFO shows.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID


class TLSConfigError(Exception):
    """A TLS setting that cannot be used; the message names the directive and file."""


def read_file(what: str, path: str) -> bytes:
    """The file's bytes, or TLSConfigError naming the directive and the OS error."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise TLSConfigError(f"{what} '{path}': cannot read: {e.strerror or e}") from None


def load_certificates(what: str, path: str, data: bytes | None = None) -> list[x509.Certificate]:
    """Every PEM certificate in the file (leaf first), at least one."""
    if data is None:
        data = read_file(what, path)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise TLSConfigError(f"{what} '{path}': no PEM certificate found in the file")
    return certs


def load_private_key(what: str, path: str, password: str | None, data: bytes | None = None):
    """The PEM private key; a clear error for an encrypted key without or with a
    wrong passphrase (a passphrase given for a clear key is ignored, as OpenSSL does)."""
    if data is None:
        data = read_file(what, path)
    pw = password.encode("utf-8", "surrogateescape") if password else None
    try:
        return serialization.load_pem_private_key(data, pw)
    except TypeError:
        if pw is None:
            raise TLSConfigError(f"{what} '{path}': the private key is encrypted: set "
                                 f"{what}-pass to its passphrase") from None
        try:
            return serialization.load_pem_private_key(data, None)
        except (TypeError, ValueError):
            pass
    except ValueError:
        if pw is not None and b"ENCRYPTED" in data:
            raise TLSConfigError(f"{what} '{path}': wrong passphrase for the private key "
                                 f"({what}-pass)") from None
    except Exception:     # unsupported algorithm etc.
        pass
    raise TLSConfigError(f"{what} '{path}': no valid PEM private key found in the file")


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def not_before(cert: x509.Certificate) -> _dt.datetime:
    try:
        return cert.not_valid_before_utc
    except AttributeError:        # cryptography < 42
        return cert.not_valid_before.replace(tzinfo=_dt.timezone.utc)


def not_after(cert: x509.Certificate) -> _dt.datetime:
    try:
        return cert.not_valid_after_utc
    except AttributeError:
        return cert.not_valid_after.replace(tzinfo=_dt.timezone.utc)


def check_validity(what: str, path: str, cert: x509.Certificate,
                   now: _dt.datetime | None = None) -> None:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    na, nb = not_after(cert), not_before(cert)
    subject = cert.subject.rfc4514_string()
    if now > na:
        raise TLSConfigError(f"{what} '{path}': the certificate ({subject}) expired on "
                             f"{na:%Y-%m-%d %H:%M:%S} UTC")
    if now < nb:
        raise TLSConfigError(f"{what} '{path}': the certificate ({subject}) is not valid "
                             f"before {nb:%Y-%m-%d %H:%M:%S} UTC")


@dataclass(frozen=True)
class CertInfo:
    """What INFO and the logs show of a certificate."""
    subject: str
    issuer: str
    serial: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    sha256: str

    def days_left(self, now: _dt.datetime | None = None) -> int:
        now = now or _dt.datetime.now(_dt.timezone.utc)
        return int((self.not_after - now).total_seconds() // 86400)


def cert_info(cert: x509.Certificate) -> CertInfo:
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                    format(cert.serial_number, "x"), not_before(cert), not_after(cert),
                    hashlib.sha256(der).hexdigest())


def check_pair(cert_what: str, cert_path: str, key_what: str, key_path: str,
               password: str | None) -> CertInfo:
    """Validate a certificate file and its key file as the server will load them;
    returns the leaf certificate's summary."""
    certs = load_certificates(cert_what, cert_path)
    key = load_private_key(key_what, key_path or cert_path, password)
    if _spki(certs[0].public_key()) != _spki(key.public_key()):
        raise TLSConfigError(f"{key_what} '{key_path or cert_path}': the private key does not "
                             f"match the certificate in {cert_what} '{cert_path}'")
    check_validity(cert_what, cert_path, certs[0])
    return cert_info(certs[0])


def check_ca(ca_file: str, ca_dir: str) -> None:
    if ca_file:
        load_certificates("tls-ca-cert-file", ca_file)
    if ca_dir and not os.path.isdir(ca_dir):
        raise TLSConfigError(f"tls-ca-cert-dir '{ca_dir}': not a readable directory")


# -- names in a peer certificate (client-certificate authentication) ------------------

def parse_der(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def common_names(cert: x509.Certificate) -> list[str]:
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if isinstance(a.value, str)]


def san_values(cert: x509.Certificate, kind) -> list[str]:
    """Subject alternative names of one kind (x509.UniformResourceIdentifier,
    x509.RFC822Name, x509.DNSName)."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in ext.value.get_values_for_type(kind)]
