"""Audit log: record encoding, the chain, the writer (rotation, restart, failure and
recovery) and `audit verify` against every kind of tampering."""

import glob
import os
import random
import shutil

import pytest

from securekv.audit import record as R
from securekv.audit.verify import verify
from securekv.audit.writer import Settings, Writer
from securekv.commands.audit import normalise


# -- records --------------------------------------------------------------------------

def test_text_is_lossless():
    for v in (b"plain", "caf\u00e9".encode(), b"\xff\x00\xfe", b"", b"\n\"\\"):
        t = R.text(v)
        assert R.untext(t) == v
    assert R.text(b"\xff") == {"b64": "/w=="}
    assert R.text("x\udcff") == {"b64": "eP8="}          # surrogateescape'd bytes
    assert R.hash_key(b"k")["sha256"] != R.hash_key(b"k", b"0123456789abcdef")["sha256"]


def test_rfc3339():
    assert R.rfc3339(0.0) == "1970-01-01T00:00:00.000000Z"
    assert R.rfc3339(1700000000.9999996) == "2023-11-14T22:13:21.000000Z"
    assert R.parse_time("2023-11-14T22:13:20Z") == 1700000000.0
    assert R.parse_time("1700000000") == 1700000000.0


def test_line_roundtrip_and_canonical_bytes():
    rec = {"seq": 3, "event": "x", "target": {"keys": [R.text(b"\xff"), "\u00e9"]}}
    body = R.canonical(rec)
    chain = R.next_chain(R.ZERO_CHAIN, body)
    line = R.line_for(body, chain)
    assert line.endswith(b"\n")
    assert R.split_line(line[:-1]) == (body, chain)
    parsed = R.parse(line)
    assert parsed["chain"] == chain.hex()
    del parsed["chain"]
    assert R.canonical(parsed) == body
    assert b"\xc3\xa9" in body                # UTF-8, not \u escapes


def test_acl_rules_redacted():
    out = R.redact_acl_rules([b"on", b">secret", b"<old", b"#" + b"a" * 64, b"~k*",
                              b"(+get >pw ~x)"])
    assert out == [b"on", b">***", b"<***", b"#***", b"~k*", b"(+get >*** ~x)"]


def test_normalise_acl_events():
    r = normalise({"type": "auth-failure", "user": b"alice", "client_id": 4,
                   "addr": "10.0.0.1:5000", "object": b"AUTH", "context": "toplevel",
                   "reason": "auth", "outcome": "denied", "time": 5.0}, None)
    assert r["event"] == "auth.failure" and r["outcome"] == "failure"
    assert r["actor"] == {"client_id": 4, "addr": "10.0.0.1", "port": 5000}
    assert r["target"] == {"user": "alice"}
    assert r["details"]["method"] == "AUTH"
    r = normalise({"type": "acl-denied", "reason": "key", "object": b"\xffk", "user": b"u",
                   "client_id": 1, "addr": "[::1]:7", "outcome": "denied"}, None)
    assert r["event"] == "acl.denied" and r["target"]["keys"] == [{"b64": "/2s="}]
    assert r["actor"]["addr"] == "::1" and r["actor"]["port"] == 7
    r = normalise({"type": "tenant-create", "tenant": b"acme", "args": [b"maxmemory", b"1mb"]},
                  {"user": "admin"})
    assert r["event"] == "tenant.change" and r["target"]["tenant"] == "acme"
    assert normalise({"type": "brand-new", "x": b"y"}, None)["event"] == "other.brand-new"
    r = normalise({"type": "tls-certificate-login", "user": b"svc", "mapping": "CN",
                   "outcome": "ok", "client_id": 3, "addr": "1.2.3.4:5"}, None)
    assert r["event"] == "auth.success" and r["actor"]["user"] == "svc"
    assert r["details"] == {"method": "client certificate", "mapping": "CN"}
    r = normalise({"type": "tls-certificate-login", "user": None, "mapping": "CN",
                   "outcome": "unmapped"}, None)
    assert r["event"] == "auth.failure" and "unmapped" in r["reason"]


# -- writer ------------------------------------------------------------------------------

def ev(i, **kw):
    d = {"event": "test.event", "outcome": "success", "time": 1700000000.0 + i,
         "target": {"keys": [R.text(b"key%d" % i)]}}
    d.update(kw)
    return d


def run_writer(path, batches, **kw):
    w = Writer(Settings(path, **kw))
    w.start()
    for b in batches:
        w.submit(b)
    assert w.sync()
    w.close()
    return w


def files_of(path):
    return sorted(glob.glob(path + "*"))


def test_writer_file_mode_header_and_verify(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    w = run_writer(path, [[ev(1), ev(2)], [ev(3)]])
    assert os.stat(path).st_mode & 0o777 == 0o600
    lines = open(path, "rb").read().splitlines()
    assert len(lines) == 4
    hdr = R.parse(lines[0])
    assert hdr["event"] == R.HEADER_EVENT and hdr["seq"] == 1
    assert hdr["details"]["prev_chain"] == "00" * 32 and hdr["details"]["prev_file"] is None
    assert [R.parse(x)["seq"] for x in lines] == [1, 2, 3, 4]
    res = verify([path])
    assert res.ok and res.last_seq == 4 and res.last_chain == w.head[1].hex()
    assert verify([path], head=(4, w.head[1].hex())).ok
    assert verify([path], head=(3, R.parse(lines[2])["chain"])).ok


def test_writer_restart_continues_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    run_writer(path, [[ev(1)]])
    with open(path, "ab") as f:
        f.write(b'{"partial')                      # a crash in the middle of a write
    w = run_writer(path, [[ev(2)]])
    assert w.head[0] == 3
    assert verify([path]).ok


def test_rotation_by_size_keeps_the_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    batches = [[ev(i)] for i in range(40)]
    run_writer(path, batches, rotate_size=1500)
    files = files_of(path)
    assert len(files) > 3
    shuffled = files[:]
    random.Random(1).shuffle(shuffled)
    res = verify(shuffled)
    assert res.ok, res.problem
    assert res.files == len(files)
    # every rotated file's header names the previous file
    heads = {}
    for f in files:
        heads[f] = R.parse(open(f, "rb").readline())
    names = {os.path.basename(f) for f in files}
    for f, h in heads.items():
        prev = h["details"]["prev_file"]
        assert prev is None or prev in names


def test_hmac_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    key = b"k" * 32
    run_writer(path, [[ev(1), ev(2)]], hkey=key)
    assert not verify([path]).ok                       # needs the key
    assert verify([path], key=key).ok
    assert not verify([path], key=b"x" * 32).ok


# -- tampering ----------------------------------------------------------------------------

@pytest.fixture
def log3(tmp_path):
    """A log of three rotated files (about 10 records each)."""
    path = str(tmp_path / "audit.jsonl")
    w = run_writer(path, [[ev(i)] for i in range(30)], rotate_size=2500)
    files = files_of(path)
    assert len(files) >= 3
    order = sorted(files, key=lambda f: R.parse(open(f, "rb").readline())["seq"])
    return order, w.head


def rw(path, fn):
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    lines = fn(lines)
    with open(path, "wb") as f:
        f.write(b"".join(lines))


def forged(line, prev, **changes):
    """`line` with fields changed and a chain value recomputed from `prev`."""
    rec = R.parse(line)
    del rec["chain"]
    rec.update(changes)
    body = R.canonical(rec)
    return R.line_for(body, R.next_chain(prev, body))


def test_intact_multi_file_log_verifies(log3):
    files, head = log3
    assert verify(files, head=(head[0], head[1].hex())).ok


def test_edited_record_is_reported(log3):
    files, _ = log3
    mid = files[1]
    rw(mid, lambda ls: ls[:3] + [ls[3].replace(b"key", b"kez")] + ls[4:])
    res = verify(files)
    assert not res.ok and res.file == mid and res.line == 4
    assert "altered" in res.problem


def test_edited_middle_file_in_any_order(log3):
    files, _ = log3
    rw(files[0], lambda ls: ls[:5] + [ls[5].replace(b'"success"', b'"failure"')] + ls[6:])
    res = verify(files[::-1])
    assert not res.ok and res.file == files[0] and res.line == 6


def test_edited_record_with_recomputed_chain_is_reported(log3):
    files, _ = log3
    mid = files[1]

    def forge(ls):
        prev = bytes.fromhex(R.parse(ls[2])["chain"])
        return ls[:3] + [forged(ls[3], prev, outcome="failure")] + ls[4:]
    rw(mid, forge)
    res = verify(files)
    # line 4 is self-consistent now: the first broken link is line 4 -> line 5
    assert not res.ok and res.file == mid and res.line == 5
    assert "record before it was replaced" in res.problem


def test_deleted_record_is_reported(log3):
    files, _ = log3
    mid = files[1]
    rw(mid, lambda ls: ls[:2] + ls[3:])
    res = verify(files)
    assert not res.ok and res.file == mid and res.line == 3 and "deleted" in res.problem


def test_reordered_records_are_reported(log3):
    files, _ = log3
    mid = files[1]
    rw(mid, lambda ls: ls[:2] + [ls[3], ls[2]] + ls[4:])
    res = verify(files)
    assert not res.ok and res.file == mid and res.line == 3 and "reordered" in res.problem


def test_inserted_record_is_reported(log3):
    files, _ = log3
    mid = files[1]

    rw(mid, lambda ls: ls[:3] + [forged(ls[2], R.ZERO_CHAIN, event="forged")] + ls[3:])
    res = verify(files)
    assert not res.ok and res.file == mid and res.line == 4


def test_truncated_rotated_file_is_reported(log3):
    files, _ = log3
    rw(files[0], lambda ls: ls[:-2])                # the tail of a rotated file
    res = verify(files)
    assert not res.ok and res.file == files[1] and res.line == 1
    assert "truncated" in res.problem


def test_truncated_last_file_needs_the_head(log3):
    files, head = log3
    rw(files[-1], lambda ls: ls[:-1])
    assert verify(files).ok                           # undetectable without the head ...
    res = verify(files, head=(head[0], head[1].hex()))
    assert not res.ok and "truncated" in res.problem  # ... detected with it


def test_cut_line_and_missing_header(log3):
    files, _ = log3
    with open(files[2], "ab") as f:
        f.write(b'{"seq":')
    res = verify(files)
    assert not res.ok and res.file == files[2] and "incomplete" in res.problem
    rw(files[1], lambda ls: ls[1:])
    res = verify(files[:2])
    assert not res.ok and res.file == files[1] and res.line == 1


# -- failure and recovery -------------------------------------------------------------------

def wait_failed(w, value: bool) -> None:
    import time
    for _ in range(200):
        if w.failed == value:
            return
        time.sleep(0.05)
    raise AssertionError(f"writer failed={w.failed}, want {value}")


def writer_in_removable_dir(tmp_path, **kw):
    d = tmp_path / "auditdir"
    d.mkdir()
    path = str(d / "audit.jsonl")
    w = Writer(Settings(path, **kw))
    w.start()
    return d, path, w


def test_fail_closed_keeps_records_until_the_directory_returns(tmp_path):
    d, path, w = writer_in_removable_dir(tmp_path, fail_closed=True)
    w.submit([ev(1)])
    assert w.sync()
    shutil.rmtree(d)
    w.submit([ev(2), ev(3)])      # noticed before writing: never lost in an unlinked file
    assert w.sync()
    wait_failed(w, True)
    assert "No such file" in w.last_error
    assert len(w.pending) == 2
    d.mkdir()
    wait_failed(w, False)
    w.close()
    lines = [R.parse(x) for x in open(path, "rb")]
    assert lines[0]["event"] == R.HEADER_EVENT
    assert lines[0]["details"]["prev_file"] == "audit.jsonl"
    assert [x["event"] for x in lines[1:]] == ["audit.failure", "test.event", "test.event"]
    assert w.dropped == 0
    assert verify([path]).ok


def test_fail_open_drops_and_counts(tmp_path):
    d, path, w = writer_in_removable_dir(tmp_path, fail_closed=False)
    assert w.sync()
    shutil.rmtree(d)
    w.submit([ev(1), ev(2)])
    assert w.sync()
    wait_failed(w, True)
    assert w.dropped == 2 and not w.pending
    w.close()


def test_rotation_by_age(tmp_path):
    import time
    path = str(tmp_path / "audit.jsonl")
    w = Writer(Settings(path, rotate_interval=1))
    w.start()
    w.submit([ev(1)])
    assert w.sync()
    deadline = time.monotonic() + 10
    while w.rotations == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    w.submit([ev(2)])
    assert w.sync()
    w.close()
    files = files_of(path)
    assert len(files) == 2
    assert verify(files).ok
    new = R.parse(open(path, "rb").readline())
    assert new["details"]["reason"] == "rotate-interval"
    assert new["details"]["prev_file"] == os.path.basename([f for f in files if f != path][0])
