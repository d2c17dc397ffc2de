"""Audit log against a real server: the records real scenarios write (wrong
password, NOPERM, ACL SETUSER with a password, CONFIG SET requirepass, FLUSHALL,
CLIENT KILL, protocol error), no secret anywhere in the file, `securekv audit
verify/query` on the live log, runtime settings, and fail-closed when the audit
directory disappears (then recovery)."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import redis

from helpers import ROOT, RawConn, ServerProcess

SECRET = "Sup3r-Secret-Pa55"


def audit_cli(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "securekv", "audit", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def records(path):
    out = []
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def wait_for(path, pred, timeout=10.0):
    """Poll the audit file until a record satisfies pred; return it."""
    deadline = time.monotonic() + timeout
    while True:
        for rec in records(path):
            if pred(rec):
                return rec
        if time.monotonic() > deadline:
            raise AssertionError("no such audit record; have:\n" +
                                 "\n".join(json.dumps(r) for r in records(path)[-15:]))
        time.sleep(0.02)


def info_audit(c):
    return {k: v for k, v in c.info("audit").items()}


def wait_status(c, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while info_audit(c)["audit_status"] != status:
        assert time.monotonic() < deadline, info_audit(c)
        time.sleep(0.05)


@pytest.fixture
def srv():
    with ServerProcess(["--enable-protected-configs", "yes"]) as s:
        s.audit = os.path.join(s.dir, "audit.jsonl")
        yield s


def test_wrong_password_and_requirepass_change(srv):
    c = srv.client()
    assert c.config_set("requirepass", SECRET)
    c.close()
    bad = RawConn(srv.port)
    assert bad.cmd("AUTH", "nope").startswith(b"-WRONGPASS")
    assert bad.cmd("HELLO", "3", "AUTH", "default", "wrong2").startswith(b"-WRONGPASS")
    bad.close()
    rec = wait_for(srv.audit, lambda r: r["event"] == "config.set")
    assert rec["target"]["directives"] == [{"name": "requirepass", "value": "(redacted)"}]
    assert rec["outcome"] == "success" and rec["actor"]["user"] == "default"
    fails = []
    wait_for(srv.audit, lambda r: r["event"] == "auth.failure"
             and r["details"]["method"] == "HELLO")
    fails = [r for r in records(srv.audit) if r["event"] == "auth.failure"]
    assert [f["details"]["method"] for f in fails] == ["AUTH", "HELLO"]
    f = fails[0]
    assert f["outcome"] == "failure" and f["target"] == {"user": "default"}
    assert f["actor"]["addr"] == "127.0.0.1" and isinstance(f["actor"]["port"], int)
    assert f["actor"]["authenticated"] is False
    assert f["reason"] == "invalid username-password pair or user is disabled"
    good = srv.client(password=SECRET)
    assert good.ping()
    wait_for(srv.audit, lambda r: r["event"] == "auth.success")
    good.close()
    with open(srv.audit, "rb") as fh:
        assert SECRET.encode() not in fh.read()


def test_acl_setuser_password_and_noperm(srv):
    c = srv.client()
    c.execute_command("ACL", "SETUSER", "alice", "on", ">" + SECRET, "~app:*", "+get", "+set")
    a = srv.client(username="alice", password=SECRET)
    assert a.set("app:1", "x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        a.get("other")
    with pytest.raises(redis.exceptions.NoPermissionError):
        a.flushall()
    rec = wait_for(srv.audit, lambda r: r["event"] == "acl.change")
    assert rec["target"]["user"] == "alice" and rec["details"]["action"] == "setuser"
    assert rec["details"]["rules"] == ["on", ">***", "~app:*", "+get", "+set"]
    d = wait_for(srv.audit, lambda r: r["event"] == "acl.denied"
                 and r["target"].get("command") == "flushall")
    assert d["actor"]["user"] == "alice" and d["outcome"] == "failure"
    k = wait_for(srv.audit, lambda r: r["event"] == "acl.denied" and "keys" in r["target"])
    assert k["target"]["keys"] == ["other"]
    ok = wait_for(srv.audit, lambda r: r["event"] == "auth.success"
                  and r["actor"]["user"] == "alice")
    assert ok["details"]["method"] == "HELLO" or ok["details"]["method"] == "AUTH"
    # one command, one record: the ACL family's event merged into the command's
    assert len([r for r in records(srv.audit) if r["event"] == "acl.change"]) == 1
    c.execute_command("ACL", "DELUSER", "alice")
    wait_for(srv.audit, lambda r: r["event"] == "acl.change"
             and r["details"]["action"] == "deluser")
    with open(srv.audit, "rb") as fh:
        assert SECRET.encode() not in fh.read()
    a.close()
    c.close()


def test_flushall_kill_and_protocol_error(srv):
    c = srv.client()
    c.set(b"\xffbin", b"v")
    assert c.flushall()
    victim = RawConn(srv.port)
    victim.cmd("CLIENT", "SETNAME", "victim")
    vid = int(victim.cmd("CLIENT", "ID")[1:-2])
    assert c.client_kill_filter(_id=vid) == 1
    bad = RawConn(srv.port)
    bad.send(b"*1\r\n$x\r\n")
    assert b"Protocol error" in bad.read_until_closed()
    rec = wait_for(srv.audit, lambda r: r["event"] == "command.admin"
                   and r["target"]["command"] == "flushall")
    assert rec["outcome"] == "success"
    kill = wait_for(srv.audit, lambda r: r["event"] == "command.admin"
                    and r["target"]["command"] == "client|kill")
    assert kill["target"]["args"] == ["ID", str(vid)]
    closed = wait_for(srv.audit, lambda r: r["event"] == "connection.close"
                      and r["actor"]["client_id"] == vid)
    assert closed["reason"] == "killed" and closed["actor"]["client_name"] == "victim"
    wait_for(srv.audit, lambda r: r["event"] == "connection.close"
             and r.get("reason") == "protocol error")
    c.close()


def test_failed_admin_command_and_binary_keys(srv):
    c = srv.client()
    c.config_set("audit-events", "default write")
    c.config_set("audit-keys", "record")
    c.set(b"\xff\x00k", b"v")
    with pytest.raises(redis.exceptions.ResponseError):
        c.execute_command("DEBUG", "NOSUCHSUB")
    w = wait_for(srv.audit, lambda r: r["event"] == "command.write")
    assert w["target"]["keys"] == [{"b64": "/wBr"}] and w["target"]["command"] == "set"
    d = wait_for(srv.audit, lambda r: r["event"] == "command.admin"
                 and r["target"]["command"] == "debug")
    assert d["outcome"] == "failure" and d["reason"].startswith("ERR")
    c.config_set("audit-keys", "hash")
    c.set("plain", "v")
    h = wait_for(srv.audit, lambda r: r["event"] == "command.write"
                 and isinstance(r["target"]["keys"][0], dict)
                 and "sha256" in r["target"]["keys"][0])
    import hashlib
    assert h["target"]["keys"] == [{"sha256": hashlib.sha256(b"plain").hexdigest()}]
    ac = wait_for(srv.audit, lambda r: r["event"] == "audit.config")
    assert ac["target"]["directives"][0]["name"] == "audit-events"
    c.close()


def test_verify_and_query_the_live_log(srv):
    c = srv.client()
    c.flushdb()
    c.config_set("requirepass", SECRET)
    c.execute_command("AUTH", SECRET)
    wait_for(srv.audit, lambda r: r["event"] == "auth.success")
    info = info_audit(c)
    assert info["audit_status"] == "ok" and info["audit_enabled"] == 1
    head = f"{info['audit_last_seq']}:{info['audit_last_chain']}"
    p = audit_cli("verify", srv.audit, "--head", head)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("OK:")
    p = audit_cli("verify", srv.audit, "--head", f"{info['audit_last_seq'] + 1000}:" + "0" * 64)
    assert p.returncode == 1 and "truncated" in p.stdout
    p = audit_cli("query", srv.audit, "--event", "config.*", "--json")
    assert p.returncode == 0
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert lines and all(x["event"].startswith("config.") for x in lines)
    p = audit_cli("query", srv.audit, "--command", "FLUSHDB", "--outcome", "success",
                  "--client-addr", "127.0.0.*")
    assert p.returncode == 0 and "FLUSHDB" in p.stdout and "command.admin" in p.stdout
    # tamper with the live file: verify reports it
    with open(srv.audit, "rb") as fh:
        data = fh.read()
    with open(os.path.join(srv.dir, "copy.jsonl"), "wb") as fh:
        fh.write(data.replace(b'"FLUSHDB', b'"FLUSHD_', 1).replace(b'"flushdb"', b'"flushd_"', 1))
    p = audit_cli("verify", os.path.join(srv.dir, "copy.jsonl"))
    assert p.returncode == 1 and "BROKEN" in p.stdout
    c.close()


def test_audit_stop_start_at_runtime(srv):
    c = srv.client()
    c.config_set("audit-enabled", "no")
    stop = wait_for(srv.audit, lambda r: r["event"] == "audit.stop")
    assert stop["reason"] == "CONFIG SET audit-enabled no"
    assert info_audit(c)["audit_status"] == "disabled"
    c.flushall()
    c.config_set("audit-enabled", "yes")
    wait_for(srv.audit, lambda r: r["event"] == "audit.start"
             and r.get("reason") == "CONFIG SET audit-enabled yes")
    c.flushall()
    wait_for(srv.audit, lambda r: r["event"] == "command.admin"
             and r["target"]["command"] == "flushall")
    flushes = [r for r in records(srv.audit) if r.get("target", {}).get("command") == "flushall"]
    assert len(flushes) == 1             # the one while disabled was not recorded
    assert audit_cli("verify", srv.audit).returncode == 0
    c.close()


def test_restart_continues_the_chain(tmp_path):
    d = str(tmp_path)
    with ServerProcess(cwd=d) as s:
        s.client().flushall()
        wait_for(os.path.join(d, "audit.jsonl"), lambda r: r["event"] == "command.admin")
    with ServerProcess(cwd=d) as s:
        s.client().flushall()
        path = os.path.join(d, "audit.jsonl")
        wait_for(path, lambda r: r["event"] == "audit.start" and r["seq"] > 5)
    starts = [r for r in records(path) if r["event"] == "audit.start"]
    stops = [r for r in records(path) if r["event"] == "audit.stop"]
    assert len(starts) == 2 and len(stops) == 2
    assert audit_cli("verify", path).returncode == 0


def removable_audit_dir(tmp_path):
    adir = tmp_path / "auditdir"
    adir.mkdir()
    return adir, str(adir / "audit.jsonl")


def remove_and_wait(c, adir, path):
    wait_for(path, lambda r: r["event"] == "audit.start")
    shutil.rmtree(adir)
    wait_status(c, "failed")


def test_fail_closed_when_the_directory_is_removed(tmp_path):
    adir, path = removable_audit_dir(tmp_path)
    with ServerProcess(["--audit-file", path, "--audit-fsync", "always"]) as s:
        c = s.client()
        c.set("k", "v")
        remove_and_wait(c, adir, path)
        info = info_audit(c)
        assert "No such file or directory" in info["audit_last_error"]
        with pytest.raises(redis.exceptions.ResponseError) as e:
            c.flushall()
        assert "the audit log cannot be written" in str(e.value)
        assert c.get("k") == b"v"           # commands that are not audited keep working
        raw = RawConn(s.port)
        assert raw.cmd("FLUSHALL").startswith(b"-MISCONF the audit log cannot be written")
        assert c.exists("k") == 1
        adir.mkdir()
        wait_status(c, "ok")
        assert c.flushall()
        raw.close()
        rec = wait_for(path, lambda r: r["event"] == "command.admin"
                       and r["target"]["command"] == "flushall")
        recs = records(path)
        assert recs[0]["event"] == "audit.file-start"
        assert recs[0]["details"]["prev_file"] == "audit.jsonl"
        failure = [r for r in recs if r["event"] == "audit.failure"]
        assert failure and "No such file" in failure[0]["reason"]
        assert rec["seq"] > failure[0]["seq"]
        c.close()
    assert audit_cli("verify", path).returncode == 0


def test_fail_open_keeps_serving(tmp_path):
    adir, path = removable_audit_dir(tmp_path)
    with ServerProcess(["--audit-file", path, "--audit-on-failure", "fail-open"]) as s:
        c = s.client()
        remove_and_wait(c, adir, path)
        assert c.flushall()
        deadline = time.monotonic() + 10
        while int(info_audit(c)["audit_records_dropped"]) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        c.close()


def test_audit_file_mode(srv):
    c = srv.client()
    c.ping()
    wait_for(srv.audit, lambda r: r["event"] == "connection.open")
    assert os.stat(srv.audit).st_mode & 0o777 == 0o600
    c.close()


def test_throttled_authentication(tmp_path):
    with ServerProcess(["--requirepass", SECRET, "--auth-max-failures", "2"]) as s:
        path = os.path.join(s.dir, "audit.jsonl")
        c = RawConn(s.port)
        assert c.cmd("AUTH", "x").startswith(b"-WRONGPASS")
        assert c.cmd("AUTH", "y").startswith(b"-WRONGPASS")
        assert c.cmd("AUTH", SECRET).startswith(b"-ERR too many failed")
        rec = wait_for(path, lambda r: r["event"] == "auth.throttled")
        assert rec["target"] == {"user": "default"} and rec["outcome"] == "failure"
        assert rec["details"]["method"] == "AUTH"
        c.close()
        with open(path, "rb") as fh:
            assert SECRET.encode() not in fh.read()


class FifoReader:
    """Reads a FIFO in a thread (the audit writer's open and writes block until then)."""

    def __init__(self, path):
        import threading
        self.path, self.data = path, b""
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        with open(self.path, "rb") as f:
            while True:
                chunk = f.read1(65536)
                if not chunk:
                    return
                self.data += chunk

    def records(self):
        return [json.loads(x) for x in self.data.splitlines()]


@pytest.mark.parametrize("policy", ["fail-closed", "fail-open"])
def test_backlog_bound(tmp_path, policy):
    """audit-max-pending-records: the writer is stalled on a FIFO nobody reads, so
    the backlog only grows; fail-closed refuses audited commands until it drains,
    fail-open drops and counts; an audit.failure record tells afterwards."""
    with ServerProcess(["--enable-protected-configs", "yes", "--audit-on-failure", policy,
                        "--audit-events", "default command"]) as s:
        c = s.client()
        fifo = os.path.join(s.dir, "stalled.fifo")
        os.mkfifo(fifo)
        assert c.config_set("audit-max-pending-records", 50)
        assert c.config_set("audit-file", fifo)     # the writer blocks opening it
        raw = RawConn(s.port)
        raw.send(b"PING\r\n" * 200)
        assert [raw.read_reply() for _ in range(200)] == [b"+PONG\r\n"] * 200
        info = info_audit(c)
        assert info["audit_backlog_exceeded"] == 1
        assert info["audit_max_pending_records"] == 50
        if policy == "fail-closed":
            assert info["audit_records_pending"] >= 200
            assert info["audit_records_dropped"] == 0
            reply = raw.cmd("PING")
            assert reply.startswith(b"-MISCONF the audit log cannot be written (backlog over "
                                    b"audit-max-pending-records (50))"), reply
        else:
            assert info["audit_records_pending"] <= 50
            assert info["audit_records_dropped"] >= 150
            assert raw.cmd("PING") == b"+PONG\r\n"
        reader = FifoReader(fifo)
        deadline = time.monotonic() + 10
        while info_audit(c)["audit_backlog_exceeded"]:
            assert time.monotonic() < deadline, info_audit(c)
            time.sleep(0.02)
        assert raw.cmd("PING") == b"+PONG\r\n"
        assert c.config_set("audit-file", "after.jsonl")     # the writer closes the FIFO
        reader.thread.join(10)
        recs = reader.records()
        pings = [r for r in recs if r["event"] == "command" and r["target"]["command"] == "ping"]
        fail = [r for r in recs if r["event"] == "audit.failure"]
        assert len(fail) == 1, fail
        assert fail[0]["reason"] == "backlog exceeded audit-max-pending-records (50)"
        assert fail[0]["details"]["policy"] == policy
        if policy == "fail-closed":
            assert fail[0]["details"]["dropped"] == 0 and len(pings) >= 201
        else:
            assert fail[0]["details"]["dropped"] >= 150 and len(pings) <= 52
        raw.close()
        c.close()
