"""securekv's `certonly` ACL rule over real sockets: a certificate-only `nopass`
user is refused by AUTH / HELLO AUTH (plaintext, and TLS without a client
certificate) with the same WRONGPASS as a wrong password, counted as an
authentication failure, and logged in by its client certificate
(tls-auth-clients optional, tls-auth-clients-user CN). Certificates: trustme."""

import os
import shutil

import pytest
import redis
import trustme
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpers import RawConn, ServerProcess, free_port, wait_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl missing")

WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certonly"))
    ca = trustme.CA()
    paths = {"ca": os.path.join(d, "ca.crt")}
    ca.cert_pem.write_to_path(paths["ca"])
    for name, cert in (("server", ca.issue_cert("localhost", "127.0.0.1")),
                       ("svc", ca.issue_cert("svc.example", common_name="svc"))):
        paths[name + ".crt"] = os.path.join(d, name + ".crt")
        paths[name + ".key"] = os.path.join(d, name + ".key")
        cert.cert_chain_pems[0].write_to_path(paths[name + ".crt"])
        cert.private_key_pem.write_to_path(paths[name + ".key"])
    return paths


def tls_client(port, pki, cert=False):
    opts = dict(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=pki["ca"],
                ssl_check_hostname=False, socket_timeout=10, retry=Retry(NoBackoff(), 0))
    if cert:
        opts.update(ssl_certfile=pki["svc.crt"], ssl_keyfile=pki["svc.key"])
    return redis.Redis(**opts)


@pytest.fixture(scope="module")
def srv(pki):
    tls_port = free_port()
    args = ["--tls-port", str(tls_port), "--tls-cert-file", pki["server.crt"],
            "--tls-key-file", pki["server.key"], "--tls-ca-cert-file", pki["ca"],
            "--tls-auth-clients", "optional", "--tls-auth-clients-user", "CN",
            "--requirepass", "secret", "--auth-max-failures", "0",
            "--user", *"svc on nopass certonly ~* +@all".split(),
            "--user", *"other on nopass ~* +@all".split()]
    with ServerProcess(args) as s:
        wait_port(tls_port, s.proc)
        s.tls_port = tls_port
        yield s


def admin(srv):
    return redis.Redis(port=srv.port, password="secret", socket_timeout=10)


def test_refused_over_auth_plaintext(srv):
    a = admin(srv)
    a.acl_log_reset()
    before = a.info("stats")["auth_failures"]
    raw = RawConn(srv.port)
    try:
        # the same reply as a wrong password or an unknown user
        assert raw.cmd(b"AUTH", b"svc", b"x") == WRONGPASS
        assert raw.cmd(b"AUTH", b"svc", b"") == WRONGPASS
        assert raw.cmd(b"AUTH", b"nosuchuser", b"x") == WRONGPASS
        assert raw.cmd(b"HELLO", b"3", b"AUTH", b"svc", b"x") == WRONGPASS
        assert raw.cmd(b"AUTH", b"other", b"x") == b"+OK\r\n"      # plain nopass: as Redis
        assert raw.cmd(b"AUTH", b"svc", b"x") == WRONGPASS          # even when logged in
        assert raw.cmd(b"ACL", b"WHOAMI") == b"$5\r\nother\r\n"
    finally:
        raw.close()
    assert a.info("stats")["auth_failures"] == before + 5
    log = a.acl_log()
    svc = [e for e in log if e["username"] == "svc"]
    assert {(e["reason"], e["object"], e["count"]) for e in svc} == \
        {("auth", "AUTH", 3), ("auth", "HELLO", 1)}


def test_refused_over_tls_without_certificate(srv, pki):
    c = tls_client(srv.tls_port, pki)
    with pytest.raises(redis.AuthenticationError):
        c.execute_command("AUTH", "svc", "anything")
    with pytest.raises(redis.AuthenticationError):
        c.get("k")                      # still not logged in


def test_logged_in_by_client_certificate(srv, pki):
    c = tls_client(srv.tls_port, pki, cert=True)
    assert c.acl_whoami() == "svc"
    assert c.set("k", "v") and c.get("k") == b"v"
    assert "user=svc" in c.execute_command("CLIENT", "INFO").decode()


def test_rendering_and_reset(srv):
    a = admin(srv)
    raw = RawConn(srv.port)
    try:
        raw.cmd(b"AUTH", b"secret")
        g = raw.cmd(b"ACL", b"GETUSER", b"svc")
        assert g.startswith(b"*14\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$6\r\nnopass\r\n")
        assert g.endswith(b"$8\r\ncertonly\r\n:1\r\n")
        assert raw.cmd(b"HELLO", b"3").startswith(b"%")
        assert raw.cmd(b"ACL", b"GETUSER", b"svc").endswith(b"$8\r\ncertonly\r\n#t\r\n")
        assert b"certonly" not in raw.cmd(b"ACL", b"GETUSER", b"other")
    finally:
        raw.close()
    lst = a.acl_list()
    assert "user svc on nopass certonly ~* resetchannels +@all" in lst
    assert "user other on nopass ~* resetchannels +@all" in lst
    with pytest.raises(redis.ResponseError, match="Syntax error"):
        a.execute_command("ACL", "SETUSER", "x", "(certonly)")
    a.execute_command("ACL", "SETUSER", "tmp", "on", "nopass", "certonly")
    raw = RawConn(srv.port)
    try:
        assert raw.cmd(b"AUTH", b"tmp", b"x") == WRONGPASS
        a.execute_command("ACL", "SETUSER", "tmp", "nocertonly")
        assert raw.cmd(b"AUTH", b"tmp", b"x") == b"+OK\r\n"
        a.execute_command("ACL", "SETUSER", "tmp", "certonly", "reset", "on", "nopass")
        assert raw.cmd(b"AUTH", b"tmp", b"x") == b"+OK\r\n"
    finally:
        raw.close()
        a.execute_command("ACL", "DELUSER", "tmp")


def test_throttled_like_any_failure(pki):
    with ServerProcess(["--auth-max-failures", "2", "--auth-lockout-time", "600",
                        "--user", *"svc on nopass certonly ~* +@all".split()]) as s:
        raw = RawConn(s.port)
        try:
            assert raw.cmd(b"AUTH", b"svc", b"x") == WRONGPASS
            assert raw.cmd(b"AUTH", b"svc", b"x") == WRONGPASS
            assert raw.cmd(b"AUTH", b"svc", b"x").startswith(b"-ERR too many failed")
        finally:
            raw.close()


def test_acl_file_round_trip(tmp_path):
    path = tmp_path / "users.acl"
    path.write_bytes(b"user default on nopass ~* &* +@all\n"
                     b"user svc on nopass certonly ~* &* +@all\n")
    with ServerProcess(["--aclfile", str(path)]) as s:
        r = redis.Redis(port=s.port, socket_timeout=10)
        assert "user svc on nopass certonly ~* &* +@all" in r.acl_list()
        assert r.execute_command("ACL", "SAVE")
        assert b"user svc on nopass certonly ~* &* +@all\n" in path.read_bytes()
        assert r.execute_command("ACL", "LOAD")
        raw = RawConn(s.port)
        try:
            assert raw.cmd(b"AUTH", b"svc", b"x") == WRONGPASS
        finally:
            raw.close()


def test_certonly_default_user_is_not_implicit(tmp_path):
    with ServerProcess(["--user", *"default on nopass certonly ~* &* +@all".split()]) as s:
        raw = RawConn(s.port)
        try:
            assert raw.cmd(b"PING").startswith(b"-NOAUTH")
            assert raw.cmd(b"AUTH", b"default", b"x") == WRONGPASS
        finally:
            raw.close()
