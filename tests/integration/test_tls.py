"""TLS over real sockets: redis-py with ssl, redis-cli --tls, openssl s_client;
tls-auth-clients modes, refused protocols and ciphers, fault inputs on the TLS
port, TLS-only servers, startup refusals, INFO tls, certificate rotation by
CONFIG SET and on disk. Certificates come from trustme."""

import datetime as dt
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

import pytest
import redis
import trustme
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpers import ROOT, free_port, wait_port
from helpers import ServerProcess as _ServerProcess


class ServerProcess(_ServerProcess):
    """Also waits for the TLS port (bound by a start hook after the plain port)."""

    def start(self):
        super().start()
        a = self.command_line()
        if "--tls-port" in a:
            wait_port(int(a[len(a) - 1 - a[::-1].index("--tls-port") + 1]), self.proc)
        return self

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl missing")


class PKI:
    def __init__(self, d, name="ca"):
        self.dir = d
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("localhost", "127.0.0.1")
        self.client = self.ca.issue_cert("client.example", common_name="alice")
        self.paths = {}
        for fname, blob in ((f"{name}.crt", self.ca.cert_pem),
                            (f"{name}-server.crt", self.server.cert_chain_pems[0]),
                            (f"{name}-server.key", self.server.private_key_pem),
                            (f"{name}-client.crt", self.client.cert_chain_pems[0]),
                            (f"{name}-client.key", self.client.private_key_pem)):
            p = os.path.join(d, fname)
            blob.write_to_path(p)
            self.paths[fname.split("-", 1)[-1] if "-" in fname else "ca"] = p

    @property
    def ca_file(self):
        return self.paths["ca"]

    def server_der(self):
        return ssl.PEM_cert_to_DER_cert(self.server.cert_chain_pems[0].bytes().decode())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("tls")))


def tls_args(pki, tls_port, *extra):
    return ["--tls-port", str(tls_port), "--tls-cert-file", pki.paths["server.crt"],
            "--tls-key-file", pki.paths["server.key"], "--tls-ca-cert-file", pki.ca_file, *extra]


def tls_client(port, pki, cert=True, **kw):
    opts = dict(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=pki.ca_file,
                ssl_check_hostname=False, socket_timeout=10,
                retry=Retry(NoBackoff(), 0))
    if cert:
        opts.update(ssl_certfile=pki.paths["client.crt"], ssl_keyfile=pki.paths["client.key"])
    opts.update(kw)
    return redis.Redis(**opts)


def info_tls(r):
    return r.info("tls")


@pytest.fixture(scope="module")
def tls_server(pki):
    port = free_port()
    with ServerProcess(tls_args(pki, port, "--tls-handshake-timeout", "2")) as s:
        s.tls_port = port
        yield s


def presented_cert(port):
    """The DER certificate the TLS port presents to a new connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw) as s:
                return s.getpeercert(binary_form=True)
        except ssl.SSLError:
            return None


def test_redis_py_with_client_certificate(tls_server, pki):
    r = tls_client(tls_server.tls_port, pki)
    assert r.ping()
    r.set(b"k", b"v" * 100000)
    assert r.get(b"k") == b"v" * 100000
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.incr(b"n")
    assert pipe.execute()[-1] == 500
    r.close()


def test_plain_and_tls_listeners_share_data(tls_server, pki):
    plain = tls_server.client()
    plain.set(b"shared", b"1")
    assert tls_client(tls_server.tls_port, pki).get(b"shared") == b"1"


def test_certificate_required_by_default(tls_server, pki):
    r = tls_client(tls_server.tls_port, pki, cert=False)
    with pytest.raises(redis.ConnectionError):
        r.ping()


def test_redis_cli_tls(tls_server, pki):
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli missing")
    base = ["redis-cli", "-p", str(tls_server.tls_port), "--tls", "--cacert", pki.ca_file]
    out = subprocess.run(base + ["--cert", pki.paths["client.crt"], "--key",
                                 pki.paths["client.key"], "SET", "cli", "ok"],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "OK"
    out = subprocess.run(base + ["--cert", pki.paths["client.crt"], "--key",
                                 pki.paths["client.key"], "GET", "cli"],
                         capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "ok"
    # without a client certificate the server refuses
    out = subprocess.run(base + ["PING"], capture_output=True, text=True, timeout=20)
    assert "PONG" not in out.stdout


def s_client(port, *args, data=b"PING\r\nQUIT\r\n"):
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-ign_eof",
                        *args], input=data, capture_output=True, timeout=20)
    return p.stdout.decode("latin-1") + p.stderr.decode("latin-1")


@pytest.mark.parametrize("proto", ["-tls1", "-tls1_1"])
def test_old_protocols_refused(tls_server, pki, proto):
    out = s_client(tls_server.tls_port, proto, "-cipher", "ALL:@SECLEVEL=0", "-cert",
                   pki.paths["client.crt"], "-key", pki.paths["client.key"])
    assert "+PONG" not in out
    assert "Cipher is (NONE)" in out or "no peer certificate available" in out


@pytest.mark.parametrize("cipher", ["AES128-SHA", "DES-CBC3-SHA", "RC4-SHA", "NULL-SHA256",
                                    "ADH-AES128-SHA"])
def test_weak_ciphers_refused(tls_server, pki, cipher):
    out = s_client(tls_server.tls_port, "-tls1_2", "-cipher", cipher + ":@SECLEVEL=0",
                   "-cert", pki.paths["client.crt"], "-key", pki.paths["client.key"])
    assert "+PONG" not in out


def test_tls12_and_tls13_accepted(tls_server, pki):
    for proto, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        out = s_client(tls_server.tls_port, proto, "-cert", pki.paths["client.crt"], "-key",
                       pki.paths["client.key"], "-CAfile", pki.ca_file)
        assert "+PONG" in out and name in out


def test_fault_inputs_counted_and_server_responsive(tls_server, pki):
    r = tls_client(tls_server.tls_port, pki)
    before = info_tls(r)["tls_handshake_failures"]
    bad = 0
    for payload in (b"PING\r\n", b"*1\r\n$4\r\nPING\r\n", os.urandom(4096),
                    b"\x16\x03\x01\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10) as s:
            try:
                s.sendall(payload)
                s.recv(100)      # the server closes (maybe after an alert)
            except OSError:
                pass
        bad += 1
    # 200 half-open handshakes: connected, never finishing
    socks = [socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10)
             for _ in range(200)]
    for s in socks[:100]:
        s.sendall(b"\x16\x03\x01")            # a truncated record header
    assert r.ping()                         # others are served meanwhile
    assert tls_server.client().ping()
    for s in socks:
        s.close()
    bad += 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = info_tls(r)
        if info["tls_handshake_failures"] >= before + bad:
            break
        time.sleep(0.05)
    assert info["tls_handshake_failures"] >= before + bad
    assert r.ping() and tls_server.alive()


def test_half_open_handshake_times_out(tls_server, pki):
    with socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=15) as s:
        s.sendall(b"\x16\x03\x01")
        t0 = time.monotonic()
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b"" and time.monotonic() - t0 < 12     # tls-handshake-timeout 2


def test_info_tls(tls_server, pki):
    r = tls_client(tls_server.tls_port, pki)
    info = info_tls(r)
    assert info["tls_enabled"] == 1 and info["tls_port"] == tls_server.tls_port
    assert info["tls_cert_days_left"] > 300
    assert info["tls_handshakes"] >= 1 and info["tls_protocols"]["TLSv1.3"] >= 1
    assert "tls_enabled" not in tls_server.client().info()          # not a default section
    assert "tls_enabled" in tls_server.client().info("everything")


def test_client_list_unchanged(tls_server, pki):
    r = tls_client(tls_server.tls_port, pki)
    line = r.execute_command("CLIENT", "INFO").decode()
    assert line.startswith("id=") and "tls" not in line


@pytest.mark.parametrize("mode", ["no", "optional", "yes"])
def test_auth_clients_modes(pki, mode):
    port = free_port()
    with ServerProcess(tls_args(pki, port, "--tls-auth-clients", mode)):
        with_cert = tls_client(port, pki)
        assert with_cert.ping()
        without = tls_client(port, pki, cert=False)
        if mode == "yes":
            with pytest.raises(redis.ConnectionError):
                without.ping()
        else:
            assert without.ping()
        # a certificate from another CA is refused unless tls-auth-clients is no
        other = trustme.CA().issue_cert("mallory")
        d = os.path.join(pki.dir, "other")
        os.makedirs(d, exist_ok=True)
        other.cert_chain_pems[0].write_to_path(os.path.join(d, "c.crt"))
        other.private_key_pem.write_to_path(os.path.join(d, "c.key"))
        foreign = tls_client(port, pki, ssl_certfile=os.path.join(d, "c.crt"),
                             ssl_keyfile=os.path.join(d, "c.key"))
        if mode == "no":
            assert foreign.ping()
        else:
            with pytest.raises(redis.ConnectionError):
                foreign.ping()


def test_tls_only_server(pki):
    port = free_port()
    s = ServerProcess(tls_args(pki, port, "--port", "0"), port=port)
    with s:
        assert tls_client(port, pki).ping()
        assert tls_client(port, pki).config_get("port") == {"port": "0"}
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=port, socket_timeout=5).ping()


def run_server(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, "-m", "securekv", "server", "--port", "0",
                           "--save", "", *args], capture_output=True, text=True, timeout=30,
                          env=env)


def test_startup_refusals(pki, tmp_path):
    port = str(free_port())
    p = pki.paths
    r = run_server("--tls-port", port, "--tls-cert-file", str(tmp_path / "missing.crt"),
                   "--tls-key-file", p["server.key"], "--tls-ca-cert-file", pki.ca_file)
    assert r.returncode == 1 and "cannot read: No such file or directory" in r.stderr
    r = run_server("--tls-port", port, "--tls-cert-file", p["server.crt"],
                   "--tls-key-file", p["client.key"], "--tls-ca-cert-file", pki.ca_file)
    assert r.returncode == 1 and "does not match the certificate" in r.stderr
    r = run_server("--tls-port", port, "--tls-cert-file", p["server.crt"],
                   "--tls-key-file", p["server.key"])
    assert r.returncode == 1 and "Either tls-ca-cert-file or tls-ca-cert-dir" in r.stderr
    r = run_server("--tls-port", port, "--tls-cert-file", p["server.crt"],
                   "--tls-key-file", p["server.key"], "--tls-ca-cert-file", pki.ca_file,
                   "--tls-protocols", "TLSv1.1 TLSv1.2")
    assert r.returncode == 1 and "TLSv1.1 is insecure" in r.stderr
    # encrypted key, wrong passphrase
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(pki.server.private_key_pem.bytes(), None)
    enc = tmp_path / "enc.key"
    enc.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"sesame")))
    r = run_server("--tls-port", port, "--tls-cert-file", p["server.crt"],
                   "--tls-key-file", str(enc), "--tls-key-file-pass", "wrong",
                   "--tls-ca-cert-file", pki.ca_file)
    assert r.returncode == 1 and "wrong passphrase" in r.stderr
    assert "wrong" not in r.stderr.replace("wrong passphrase", "")       # never echoed
    # expired certificate
    expired = pki.ca.issue_cert("localhost", not_after=dt.datetime.now(dt.timezone.utc)
                                - dt.timedelta(days=1),
                                not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    expired.cert_chain_pems[0].write_to_path(str(tmp_path / "exp.crt"))
    expired.private_key_pem.write_to_path(str(tmp_path / "exp.key"))
    r = run_server("--tls-port", port, "--tls-cert-file", str(tmp_path / "exp.crt"),
                   "--tls-key-file", str(tmp_path / "exp.key"), "--tls-ca-cert-file",
                   pki.ca_file)
    assert r.returncode == 1 and "expired on" in r.stderr


def test_encrypted_key_with_passphrase(pki, tmp_path):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(pki.server.private_key_pem.bytes(), None)
    enc = tmp_path / "enc.key"
    enc.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"sesame")))
    port = free_port()
    args = tls_args(pki, port, "--tls-key-file", str(enc), "--tls-key-file-pass", "sesame")
    with ServerProcess(args) as s:
        assert tls_client(port, pki).ping()
        assert s.client().config_get("tls-key-file-pass") == {"tls-key-file-pass": "sesame"}


def test_config_set_rotation(pki, tmp_path):
    port = free_port()
    new = PKI(str(tmp_path), "new")
    with ServerProcess(tls_args(pki, port, "--tls-ca-cert-file", pki.ca_file)) as s:
        admin = s.client()
        old_conn = tls_client(port, pki)
        assert old_conn.ping()
        assert presented_cert(port) == pki.server_der()
        # new server certificate from a new CA; keep accepting the old clients' CA
        both = tmp_path / "both.crt"
        both.write_bytes(open(pki.ca_file, "rb").read() + open(new.ca_file, "rb").read())
        assert admin.config_set("tls-cert-file", new.paths["server.crt"],
                                "tls-key-file", new.paths["server.key"],
                                "tls-ca-cert-file", str(both))
        deadline = time.monotonic() + 10
        while presented_cert(port) != new.server_der() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert presented_cert(port) == new.server_der()
        assert old_conn.ping()                 # established connections keep working
        assert tls_client(port, new).ping()
        # a bad file is refused, the running context stays
        bad = tmp_path / "bad.crt"
        bad.write_text("not a certificate")
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
            admin.config_set("tls-cert-file", str(bad))
        assert admin.config_get("tls-cert-file") == {"tls-cert-file":
                                                      new.paths["server.crt"]}
        assert presented_cert(port) == new.server_der()
        assert "cannot" in s.output() or "no PEM certificate" in s.output()
        # the TLS port moves
        port2 = free_port()
        assert admin.config_set("tls-port", port2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if tls_client(port2, new).ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        assert tls_client(port2, new).ping()
        with pytest.raises(redis.ConnectionError):
            tls_client(port, new).ping()
        assert old_conn.ping()


def test_config_set_tls_without_certificates_fails_like_redis():
    with ServerProcess() as s:
        r = s.client()
        with pytest.raises(redis.ResponseError) as e:
            r.config_set("tls-port", free_port())
        assert "Unable to update TLS configuration. Check server logs." in str(e.value)
        assert r.config_set("tls-cert-file", "/nonexistent")     # unused while TLS is off
        assert "tls_enabled" not in r.info("everything")           # INFO as Redis's
        assert r.info("tls")["tls_enabled"] == 0


def test_rotation_on_disk(pki, tmp_path):
    port = free_port()
    d = tmp_path / "live"
    d.mkdir()
    crt, key = d / "server.crt", d / "server.key"
    shutil.copy(pki.paths["server.crt"], crt)
    shutil.copy(pki.paths["server.key"], key)
    args = tls_args(pki, port, "--tls-cert-file", str(crt), "--tls-key-file", str(key),
                    "--tls-watch-interval", "1")
    with ServerProcess(args) as s:
        old_conn = tls_client(port, pki)
        assert old_conn.ping()
        # a corrupt replacement is refused and logged; the old certificate stays
        crt.write_text("garbage")
        deadline = time.monotonic() + 15
        while "refused" not in s.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "TLS files changed but the new ones were refused" in s.output()
        assert presented_cert(port) == pki.server_der()
        assert old_conn.ping()
        # a good replacement (same CA) is picked up for new connections
        fresh = pki.ca.issue_cert("localhost", "127.0.0.1")
        fresh.private_key_pem.write_to_path(str(key))
        fresh.cert_chain_pems[0].write_to_path(str(crt))
        fresh_der = ssl.PEM_cert_to_DER_cert(fresh.cert_chain_pems[0].bytes().decode())
        deadline = time.monotonic() + 15
        while presented_cert(port) != fresh_der and time.monotonic() < deadline:
            time.sleep(0.05)
        assert presented_cert(port) == fresh_der
        assert old_conn.ping()
        assert tls_client(port, pki).info("tls")["tls_context_reloads"] >= 1


# -- client-certificate authentication (tls-auth-clients-user) ---------------------------

def issue_client(pki, d, cn):
    cert = pki.ca.issue_cert(f"{cn}.example", common_name=cn)
    crt, key = os.path.join(d, f"{cn}.crt"), os.path.join(d, f"{cn}.key")
    cert.cert_chain_pems[0].write_to_path(crt)
    cert.private_key_pem.write_to_path(key)
    return dict(ssl_certfile=crt, ssl_keyfile=key)


ACL_ARGS = ["--requirepass", "secret", "--user", *"alice on >alicepw ~* +@all".split(),
            "--user", *"carol off >carolpw ~* +@all".split(),
            "--user", *"reader on nopass ~* +@read +acl|whoami".split()]


def test_certificate_login_cn(pki, tmp_path):
    port = free_port()
    args = tls_args(pki, port, "--tls-auth-clients-user", "CN", "--tls-auth-clients",
                    "optional", *ACL_ARGS)
    with ServerProcess(args) as s:
        alice = tls_client(port, pki, **issue_client(pki, str(tmp_path), "alice"))
        assert alice.acl_whoami() == "alice"
        assert alice.set("k", "v")
        # no such user, disabled user, no certificate: the normal AUTH rules
        for cn in ("bob", "carol"):
            c = tls_client(port, pki, **issue_client(pki, str(tmp_path), cn))
            with pytest.raises(redis.AuthenticationError):
                c.get("k")
        anon = tls_client(port, pki, cert=False)
        with pytest.raises(redis.AuthenticationError):
            anon.get("k")
        assert tls_client(port, pki, cert=False, password="secret").get("k") == b"v"
        info = alice.info("tls")
        assert info["tls_certificate_logins"] == 1
        assert info["tls_certificate_login_fallbacks"] >= 2
        line = alice.execute_command("CLIENT", "LIST").decode()
        assert "user=alice" in line
        assert s.alive()


def test_certificate_login_map_file(pki, tmp_path):
    port = free_port()
    mapfile = tmp_path / "users.map"
    mapfile.write_text("# field pattern user\nCN  app-*  reader\nCN  alice  alice\n")
    args = tls_args(pki, port, "--tls-auth-clients-user", "map",
                    "--tls-auth-clients-user-map", str(mapfile), *ACL_ARGS)
    with ServerProcess(args) as s:
        app = tls_client(port, pki, **issue_client(pki, str(tmp_path), "app-7"))
        assert app.acl_whoami() == "reader"
        with pytest.raises(redis.exceptions.NoPermissionError):
            app.set("k", "v")
        assert tls_client(port, pki, **issue_client(pki, str(tmp_path), "alice")).acl_whoami() \
            == "alice"
        # a bad map file is refused by CONFIG SET; off turns the mapping off
        bad = tmp_path / "bad.map"
        bad.write_text("XX a b\n")
        admin = tls_client(port, pki, password="secret")
        with pytest.raises(redis.ResponseError, match="unknown field"):
            admin.config_set("tls-auth-clients-user-map", str(bad))
        admin.config_set("tls-auth-clients-user", "off")
        c = tls_client(port, pki, **issue_client(pki, str(tmp_path), "alice"))
        with pytest.raises(redis.AuthenticationError):
            c.get("k")
        assert s.alive()


def test_mapping_file_error_at_startup(pki, tmp_path):
    r = run_server("--tls-port", str(free_port()), "--tls-cert-file", pki.paths["server.crt"],
                   "--tls-key-file", pki.paths["server.key"], "--tls-ca-cert-file", pki.ca_file,
                   "--tls-auth-clients-user", "map")
    assert r.returncode == 1 and "tls-auth-clients-user map needs" in r.stderr


# -- the conf/ examples with `securekv tls dev-certs` -------------------------------------

@pytest.mark.parametrize("name", ["tls.conf", "mtls.conf"])
def test_conf_examples(tmp_path, name):
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli missing")
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "securekv", "tls", "dev-certs", "certs"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    tls_port = free_port()
    args = ["--tls-port", str(tls_port)]
    if name == "tls.conf":
        args += ["--port", str(free_port())]
    s = ServerProcess(args, port=tls_port, cwd=str(tmp_path))
    s.conf_text = open(os.path.join(ROOT, "conf", name)).read()
    s.command_line = lambda: [sys.executable, "-m", "securekv", "server",
                              os.path.join(ROOT, "conf", name), *args]
    with s:
        cli = ["redis-cli", "-p", str(tls_port), "--tls", "--cacert", "certs/ca.crt"]
        if name == "mtls.conf":
            cli += ["--cert", "certs/client.crt", "--key", "certs/client.key"]
        out = subprocess.run(cli + ["ACL", "WHOAMI"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=20)
        assert out.stdout.strip() == "default", out


def audit_records(path, pred):
    import json
    out = []
    if os.path.exists(path):
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    rec = json.loads(line)
                    if pred(rec):
                        out.append(rec)
    return out


def poll(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < deadline, "timed out polling"
        time.sleep(0.02)


def send_and_close(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(payload)
            s.recv(100)
        except OSError:
            pass


def test_handshake_failures_are_audited(pki):
    """Plaintext bytes, a missing client certificate and a timeout on the TLS port
    each make a tls.handshake-failure record with the peer address and the reason."""
    port = free_port()
    with ServerProcess(tls_args(pki, port, "--tls-handshake-timeout", "1")) as s:
        path = os.path.join(s.dir, "audit.jsonl")
        r = s.client()
        before = int(info_tls(r)["tls_handshake_failures"])    # wait_port's probe
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            local_port = sock.getsockname()[1]
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            try:
                sock.recv(100)
            except OSError:
                pass
        recs = poll(lambda: audit_records(path, lambda x: x["event"] == "tls.handshake-failure"
                                          and x["actor"].get("port") == local_port))
        rec = recs[0]
        assert rec["outcome"] == "failure" and rec["reason"] == "plaintext", rec
        assert rec["actor"] == {"addr": "127.0.0.1", "port": local_port}
        assert rec["target"] == {"port": port}
        assert rec["details"]["transport"] == "tls" and rec["details"]["error"]
        # no client certificate while tls-auth-clients is yes
        ctx = ssl.create_default_context(cafile=pki.ca_file)
        ctx.check_hostname = False
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            try:
                with ctx.wrap_socket(sock) as t:
                    t.sendall(b"PING\r\n")
                    t.recv(100)
            except (OSError, ssl.SSLError):
                pass
        # a handshake that never finishes: the timeout
        half = socket.create_connection(("127.0.0.1", port), timeout=10)
        half.sendall(b"\x16\x03\x01")
        reasons = lambda: {r["reason"] for r in audit_records(
            path, lambda r: r["event"] == "tls.handshake-failure")}
        poll(lambda: {"plaintext", "no-certificate", "timeout"} <= reasons())
        half.close()
        assert tls_client(port, pki).ping()
        assert int(info_tls(r)["tls_handshake_failures"]) == before + 3


def test_handshake_failure_records_are_rate_limited(pki):
    """A flood of garbage connections: at most tls-handshake-failure-audit-rate
    records a second, the rest counted in tls.handshake-failure-suppressed."""
    port = free_port()
    with ServerProcess(tls_args(pki, port, "--tls-handshake-failure-audit-rate", "1")) as s:
        path = os.path.join(s.dir, "audit.jsonl")
        r = s.client()
        n0 = int(info_tls(r)["tls_handshake_failures"])    # wait_port's probe
        n = 30
        for i in range(n):
            send_and_close(port, b"GET / HTTP/1.1\r\n\r\n" if i % 2 else os.urandom(64))
        poll(lambda: int(info_tls(r)["tls_handshake_failures"]) == n0 + n)
        n += n0

        def counted():
            single = audit_records(path, lambda x: x["event"] == "tls.handshake-failure")
            summ = audit_records(path,
                                 lambda x: x["event"] == "tls.handshake-failure-suppressed")
            if len(single) + sum(x["details"]["count"] for x in summ) == n:
                return single, summ
            return None
        single, summ = poll(counted)
        assert summ and len(single) < n
        assert summ[0]["outcome"] == "failure" and summ[0]["target"] == {"port": port}
        assert set(summ[0]["details"]["reasons"]) <= {"plaintext", "tls-error", "closed"}
        assert int(info_tls(r)["tls_handshake_failure_events_suppressed"]) == n - len(single)
        # 0: nothing recorded, still counted
        assert r.config_set("tls-handshake-failure-audit-rate", 0)
        before = len(audit_records(path, lambda x: x["event"].startswith("tls.handshake")))
        send_and_close(port, b"PING\r\n")
        poll(lambda: int(info_tls(r)["tls_handshake_failures"]) == n + 1)
        assert r.ping()
        assert len(audit_records(path, lambda x: x["event"].startswith("tls.handshake"))) \
            == before
