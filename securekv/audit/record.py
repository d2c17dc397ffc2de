"""The audit record: schema, canonical bytes, the chain. Pure functions shared
by the writer (securekv/audit/writer.py) and the review CLI (verify, query).

A record is one JSON object on one line (JSON Lines, UTF-8):

    {"actor":{...},"event":"auth.failure","outcome":"failure","reason":"...",
     "seq":42,"target":{...},"time":"2024-05-01T12:00:00.123456Z","chain":"<64 hex>"}

* Canonical bytes: the object without "chain", keys sorted, no whitespace,
  non-ASCII characters as UTF-8 (json.dumps(sort_keys=True,
  separators=(",", ":"), ensure_ascii=False)). The line is the canonical bytes
  with `,"chain":"<hex>"` inserted before the final `}`: a verifier recovers the
  exact hashed bytes by cutting that suffix, without re-serialising anything.
* Chain: chain(n) = SHA-256(chain(n-1) || canonical(n)) over the raw 32-byte
  previous value (all zero before the very first record), or
  HMAC-SHA-256(key, chain(n-1) || canonical(n)) with audit-hmac-key-file.
* Binary values: a byte string that is valid UTF-8 is a JSON string; any other
  is {"b64": "<base64>"} (lossless). Key names may instead be hashed,
  {"sha256": "<hex>"} (HMAC-SHA-256 with the audit key when one is set), or
  omitted.
* Every file starts with a header record (event "audit.file-start") whose
  details name the previous file and its last chain value; it is chained like
  any other record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

FORMAT_VERSION = 1
ZERO_CHAIN = bytes(32)
HEADER_EVENT = "audit.file-start"
CHAIN_SUFFIX_LEN = len(',"chain":""}') + 64      # bytes after the canonical body's '}'

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def text(v):
    """A byte or text value as JSON: a string when it is valid UTF-8, else {"b64": ...}."""
    if type(v) is str:
        if v.isascii():
            return v
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:          # surrogateescape'd bytes
            v = v.encode("utf-8", "surrogateescape")
    if v is None:
        return None
    v = bytes(v)
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(v).decode("ascii")}


def untext(v) -> bytes | None:
    """The bytes a `text()` value stands for (None for hashed values)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and "b64" in v:
        return base64.b64decode(v["b64"])
    return None


def hash_key(key: bytes, hkey: bytes | None = None) -> dict:
    """A key name recorded as its hash (keyed with the audit HMAC key when set)."""
    if hkey:
        return {"sha256": hmac.new(hkey, key, hashlib.sha256).hexdigest()}
    return {"sha256": hashlib.sha256(key).hexdigest()}


def rfc3339(t: float) -> str:
    """RFC 3339 UTC with microseconds: 2024-05-01T12:00:00.123456Z."""
    sec = int(t)
    us = int(round((t - sec) * 1e6))
    if us >= 1000000:
        sec += 1
        us -= 1000000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06dZ" % us


def parse_time(s: str) -> float:
    """Parse an RFC 3339 timestamp (or a date, or a number of epoch seconds)."""
    import datetime
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    t = s.replace("z", "Z")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def canonical(rec: dict) -> bytes:
    """The record's canonical bytes (no "chain" field)."""
    return _dumps(rec).encode("utf-8")


def next_chain(prev: bytes, body: bytes, hkey: bytes | None = None) -> bytes:
    if hkey:
        return hmac.new(hkey, prev + body, hashlib.sha256).digest()
    return hashlib.sha256(prev + body).digest()


def line_for(body: bytes, chain: bytes) -> bytes:
    """The line written for canonical bytes `body` with its chain value."""
    return body[:-1] + b',"chain":"' + chain.hex().encode("ascii") + b'"}\n'


def split_line(line: bytes) -> tuple[bytes, bytes] | None:
    """(canonical body, chain) of a written line (without its newline), or None
    when the line does not end with a well-formed chain field."""
    if line.endswith(b"\r"):
        return None
    n = len(line)
    if n < CHAIN_SUFFIX_LEN + 2 or not line.endswith(b'"}'):
        return None
    tail = line[n - CHAIN_SUFFIX_LEN:]
    if not tail.startswith(b',"chain":"'):
        return None
    hexval = tail[10:74]
    try:
        chain = bytes.fromhex(hexval.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    if len(chain) != 32:
        return None
    return line[:n - CHAIN_SUFFIX_LEN] + b"}", chain


def parse(line: bytes) -> dict | None:
    """The record of a line (with "chain"), or None if it is not a JSON object."""
    try:
        rec = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) else None


def redact_acl_rules(args):
    """ACL SETUSER rules as an audit record may show them: passwords and hashes
    become `>***`, `<***`, `#***`, `!***`."""
    out = []
    for a in args:
        a = bytes(a)
        if a[:1] in (b">", b"<", b"#", b"!"):
            out.append(a[:1] + b"***")
        elif a[:1] == b"(":
            out.append(b" ".join(x[:1] + b"***" if x[:1] in (b">", b"<", b"#", b"!") else x
                                 for x in a.split(b" ")))
        else:
            out.append(a)
    return out
