"""tls/: contexts from directive values, secure defaults, startup checks,
client-certificate mapping, the development CA."""

import datetime as dt
import os
import ssl
import socket
import threading

import pytest
import trustme
from cryptography import x509

from tls import certs, clientauth, devcerts
from tls.context import (CA_REQUIRED, TLSSettings, apply_ciphers, build_client_context,
                         build_server_context, file_fingerprint, parse_protocols)
from tls.certs import TLSConfigError


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = devcerts.make_ca()
    srv, srv_key = devcerts.issue(ca_cert, ca_key, "localhost", 30, True,
                                  [x509.DNSName("localhost")])
    cli, cli_key = devcerts.issue(ca_cert, ca_key, "alice", 30, False,
                                  [x509.RFC822Name("alice@example.com"),
                                   x509.UniformResourceIdentifier("https://x.example/alice")])
    other = trustme.CA().issue_cert("localhost")
    paths = {}
    for name, blob in (("ca.crt", devcerts.cert_pem(ca_cert)), ("s.crt", devcerts.cert_pem(srv)),
                       ("s.key", devcerts.key_pem(srv_key)), ("c.crt", devcerts.cert_pem(cli)),
                       ("c.key", devcerts.key_pem(cli_key)),
                       ("o.key", other.private_key_pem.bytes())):
        (d / name).write_bytes(blob)
        paths[name] = str(d / name)
    paths["dir"] = d
    return paths


def settings(pki, **kw):
    base = dict(cert_file=pki["s.crt"], key_file=pki["s.key"], ca_cert_file=pki["ca.crt"])
    base.update(kw)
    return TLSSettings(**base)


def test_from_directives_reads_every_field():
    values = {"tls-cert-file": "a", "tls-auth-clients": "optional", "tls-session-caching": False}
    s = TLSSettings.from_directives(lambda n: values.get(n, TLSSettings.__dataclass_fields__[
        n[4:].replace("-", "_")].default))
    assert s.cert_file == "a" and s.auth_clients == "optional" and s.session_caching is False


def test_protocols():
    assert parse_protocols("") == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    assert parse_protocols("TLSv1.3") == (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
    assert parse_protocols("tlsv1.2") == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    for weak in ("TLSv1", "TLSv1.1 TLSv1.2"):
        with pytest.raises(TLSConfigError, match="insecure"):
            parse_protocols(weak)
    with pytest.raises(TLSConfigError, match="Invalid tls-protocols"):
        parse_protocols("SSLv3")


def test_server_context_defaults(pki):
    ctx, info = build_server_context(settings(pki))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.options & ssl.OP_NO_RENEGOTIATION and ctx.options & ssl.OP_NO_COMPRESSION
    for c in ctx.get_ciphers():
        if c["protocol"] != "TLSv1.3":
            assert c["kea"] in ("kx-ecdhe", "kx-dhe"), c
            assert "NULL" not in c["name"] and "RC4" not in c["name"] and "3DES" not in c["name"]
    assert info.subject == "CN=localhost,O=securekv development" and info.days_left() >= 29


@pytest.mark.parametrize("spec", ["RC4-SHA", "AES128-SHA", "NULL-SHA256", "aNULL",
                                  "DES-CBC3-SHA", "EXP"])
def test_weak_ciphers_refused(spec):
    with pytest.raises(TLSConfigError, match="tls-ciphers"):
        apply_ciphers(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), spec)


def test_all_ciphers_filtered_to_forward_secret():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    apply_ciphers(ctx, "ALL:eNULL")
    assert {c["kea"] for c in ctx.get_ciphers()} <= {"kx-ecdhe", "kx-dhe", "kx-any"}


def test_ciphersuites_and_options(pki):
    ctx, _ = build_server_context(settings(pki, ciphersuites="TLS_CHACHA20_POLY1305_SHA256",
                                           prefer_server_ciphers=True, session_caching=False))
    names = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"]
    assert names == ["TLS_CHACHA20_POLY1305_SHA256"]
    assert ctx.options & ssl.OP_CIPHER_SERVER_PREFERENCE and ctx.options & ssl.OP_NO_TICKET
    with pytest.raises(TLSConfigError, match="unknown TLS 1.3 suite"):
        build_server_context(settings(pki, ciphersuites="TLS_FOO"))


def test_auth_clients_modes(pki):
    for mode, want in (("no", ssl.CERT_NONE), ("optional", ssl.CERT_OPTIONAL),
                       ("yes", ssl.CERT_REQUIRED)):
        assert build_server_context(settings(pki, auth_clients=mode))[0].verify_mode == want
    # Redis: a CA is needed unless tls-auth-clients is no
    build_server_context(settings(pki, auth_clients="no", ca_cert_file=""))
    with pytest.raises(TLSConfigError) as e:
        build_server_context(settings(pki, ca_cert_file=""))
    assert str(e.value) == CA_REQUIRED


def test_startup_errors(pki, tmp_path):
    with pytest.raises(TLSConfigError, match="No tls-cert-file configured"):
        build_server_context(settings(pki, cert_file=""))
    with pytest.raises(TLSConfigError, match="tls-cert-file '/nonexistent.crt': cannot read: "
                                             "No such file or directory"):
        build_server_context(settings(pki, cert_file="/nonexistent.crt"))
    with pytest.raises(TLSConfigError, match="does not match the certificate"):
        build_server_context(settings(pki, key_file=pki["o.key"]))
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(TLSConfigError, match="no PEM certificate"):
        build_server_context(settings(pki, cert_file=str(junk)))
    with pytest.raises(TLSConfigError, match="no valid PEM private key"):
        build_server_context(settings(pki, key_file=str(junk)))
    with pytest.raises(TLSConfigError, match="tls-ca-cert-file"):
        build_server_context(settings(pki, ca_cert_file=str(junk)))
    with pytest.raises(TLSConfigError, match="tls-ca-cert-dir"):
        build_server_context(settings(pki, ca_cert_dir=str(junk)))


def test_encrypted_key(pki, tmp_path):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(open(pki["s.key"], "rb").read(), None)
    enc = tmp_path / "enc.key"
    enc.write_bytes(devcerts.key_pem(key, "sesame"))
    build_server_context(settings(pki, key_file=str(enc), key_file_pass="sesame"))
    with pytest.raises(TLSConfigError, match="encrypted: set tls-key-file-pass"):
        build_server_context(settings(pki, key_file=str(enc)))
    with pytest.raises(TLSConfigError, match="wrong passphrase"):
        build_server_context(settings(pki, key_file=str(enc), key_file_pass="nope"))
    # a passphrase for a clear key is ignored, as OpenSSL does
    build_server_context(settings(pki, key_file_pass="unused"))


def test_expired_and_future_certificates(tmp_path):
    ca_cert, ca_key = devcerts.make_ca()
    now = dt.datetime.now(dt.timezone.utc)
    for name, start, match in (("old", now - dt.timedelta(days=30), "expired on"),
                               ("new", now + dt.timedelta(days=30), "not valid before")):
        cert, key = devcerts.issue(ca_cert, ca_key, name, 10 if name == "old" else 10, True,
                                   [x509.DNSName("localhost")], now=start)
        (tmp_path / f"{name}.crt").write_bytes(devcerts.cert_pem(cert))
        (tmp_path / f"{name}.key").write_bytes(devcerts.key_pem(key))
        with pytest.raises(TLSConfigError, match=match):
            build_server_context(TLSSettings(cert_file=str(tmp_path / f"{name}.crt"),
                                             key_file=str(tmp_path / f"{name}.key"),
                                             auth_clients="no"))


def test_dh_params(pki, tmp_path):
    with pytest.raises(TLSConfigError, match="tls-dh-params-file"):
        build_server_context(settings(pki, dh_params_file=str(tmp_path / "none.pem")))


def test_client_context(pki):
    ctx = build_client_context(settings(pki, client_cert_file=pki["c.crt"],
                                        client_key_file=pki["c.key"]))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and not ctx.check_hostname
    with pytest.raises(TLSConfigError):
        build_client_context(settings(pki, ca_cert_file=""))


def _handshake(server_ctx, client_ctx):
    """One in-memory handshake: (server SSLObject, error or None)."""
    a, b = socket.socketpair()
    result = {}

    def serve():
        try:
            s = server_ctx.wrap_socket(a, server_side=True)
            result["peer"] = s.getpeercert(binary_form=True)
            result["version"] = s.version()
            s.close()
        except (ssl.SSLError, OSError) as e:
            result["error"] = e
    t = threading.Thread(target=serve)
    t.start()
    try:
        c = client_ctx.wrap_socket(b, server_hostname="localhost")
        c.close()
    except (ssl.SSLError, OSError) as e:
        result.setdefault("client_error", e)
    t.join(10)
    a.close()
    b.close()
    return result


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_handshakes(pki):
    server_ctx, _ = build_server_context(settings(pki))
    client = ssl.create_default_context(cafile=pki["ca.crt"])
    client.load_cert_chain(pki["c.crt"], pki["c.key"])
    res = _handshake(server_ctx, client)
    assert res["version"] == "TLSv1.3" and res["peer"]
    # no client certificate with tls-auth-clients yes: refused
    res = _handshake(server_ctx, ssl.create_default_context(cafile=pki["ca.crt"]))
    assert "error" in res
    # TLS 1.1 client refused
    old = ssl.create_default_context(cafile=pki["ca.crt"])
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        old.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    res = _handshake(server_ctx, old)
    assert "error" in res


def test_fingerprint_changes(tmp_path):
    p = tmp_path / "f"
    p.write_text("a")
    fp = file_fingerprint([str(p), str(tmp_path / "missing")])
    assert fp[1][1] is None
    p.write_text("bb")
    assert file_fingerprint([str(p), str(tmp_path / "missing")]) != fp


# -- client certificate mapping ----------------------------------------------------------

def test_map_modes(pki):
    der = ssl.PEM_cert_to_DER_cert(open(pki["c.crt"]).read())
    assert clientauth.map_certificate(der, "off") == (None, "")
    assert clientauth.map_certificate(der, "cn") == ("alice", "CN=alice")
    assert clientauth.map_certificate(der, "san-email") == ("alice@example.com",
                                                           "SAN-EMAIL=alice@example.com")
    assert clientauth.map_certificate(der, "san-uri")[0] == "https://x.example/alice"
    assert clientauth.map_certificate(None, "cn") == (None, "")
    assert clientauth.map_certificate(b"junk", "cn") == (None, "unparsable certificate")


def test_map_file(pki):
    rules = clientauth.parse_map("""
        # comment
        CN        bob          bob
        SAN-URI   https://x.example/*   web   # trailing comment
        SUBJECT   "CN=alice,*"  alice2
    """)
    assert [r.user for r in rules] == ["bob", "web", "alice2"]
    der = ssl.PEM_cert_to_DER_cert(open(pki["c.crt"]).read())
    user, how = clientauth.map_certificate(der, "map", rules)
    assert user == "web" and how.startswith("map:4 SAN-URI=")
    assert clientauth.map_certificate(der, "map", rules[:1]) == (None, "no map rule matched")
    with pytest.raises(TLSConfigError, match=":2: unknown field"):
        clientauth.parse_map("\nFOO a b")
    with pytest.raises(TLSConfigError, match="expected 'FIELD PATTERN USER'"):
        clientauth.parse_map("CN a")
    with pytest.raises(TLSConfigError, match="not one of"):
        clientauth.parse_mode("dn")
    assert clientauth.parse_mode("SAN-URI") == "san-uri"


def test_dev_certs(tmp_path):
    d = tmp_path / "certs"
    assert devcerts.cli(["dev-certs", str(d), "--client-user", "app"]) == 0
    assert sorted(os.listdir(d)) == sorted(devcerts.FILES)
    assert os.stat(d / "server.key").st_mode & 0o077 == 0
    assert devcerts.cli(["dev-certs", str(d)]) == 1          # refuses to overwrite
    s = TLSSettings(cert_file=str(d / "server.crt"), key_file=str(d / "server.key"),
                    ca_cert_file=str(d / "ca.crt"))
    server_ctx, info = build_server_context(s)
    assert info.subject == "CN=localhost,O=securekv development"
    client = ssl.create_default_context(cafile=str(d / "ca.crt"))
    client.load_cert_chain(str(d / "client.crt"), str(d / "client.key"))
    res = _handshake(server_ctx, client)
    assert res.get("version") == "TLSv1.3"
    user = clientauth.map_certificate(res["peer"], "san-uri")
    assert user[0] == "app"
    assert clientauth.map_certificate(res["peer"], "cn")[0] == "app"
    assert devcerts.cli([]) == 2 and devcerts.cli(["bogus"]) == 2


def test_certs_helpers(pki):
    cs = certs.load_certificates("x", pki["ca.crt"])
    assert len(cs) == 1 and certs.cert_info(cs[0]).issuer == certs.cert_info(cs[0]).subject
