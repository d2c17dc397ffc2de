"""`securekv audit verify|query|tail`: the reviewer's side of the audit log.

    securekv audit verify PATH... [--head SEQ:VALUE] [--key-file FILE] [--quiet]
    securekv audit query PATH... [--since T] [--until T] [--user U] [--tenant T]
                                 [--event E] [--outcome O] [--client-addr A]
                                 [--command C] [--json]
    securekv audit tail [PATH] [-n N] [--json] [same filters as query]

verify exits 0 only when every file is intact (1: a problem, reported with its
file, line and sequence number; 2: usage). query and tail stream: they never
hold more than one record in memory. Filters take globs (`auth.*`, `10.0.*`);
times are RFC 3339 (`2024-05-01T12:00:00Z`), dates or epoch seconds.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time

from securekv.audit import record as R
from securekv.audit.verify import order_files, verify


def _key(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read().strip()


def cmd_verify(args) -> int:
    head = None
    if args.head:
        seq, _, val = args.head.partition(":")
        try:
            head = (int(seq), val.strip())
            bytes.fromhex(head[1])
        except ValueError:
            print("--head takes SEQ:VALUE (INFO audit: audit_last_seq and audit_last_chain)",
                  file=sys.stderr)
            return 2
    try:
        res = verify(args.paths, head, _key(args.key_file))
    except OSError as e:
        print(f"{e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    if not args.quiet:
        for n in res.notes:
            print("note:", n)
    if res.ok:
        if not args.quiet:
            print(f"OK: {res.records} records in {res.files} file(s), seq {res.first_seq}.."
                  f"{res.last_seq}, chain head {res.last_seq}:{res.last_chain}")
        return 0
    where = res.file + (f":{res.line}" if res.line else "")
    seq = f" (seq {res.seq})" if res.seq is not None else ""
    print(f"BROKEN: {where}{seq}: {res.problem}")
    return 1


# -- filtering -----------------------------------------------------------------------------

def _str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dict):
        if "b64" in v:
            return "b64:" + v["b64"]
        if "sha256" in v:
            return "sha256:" + v["sha256"][:16]
        return json.dumps(v, sort_keys=True)
    if isinstance(v, list):
        return ",".join(_str(x) for x in v)
    return str(v)


def _glob(pattern: str | None, value, fold: bool = False) -> bool:
    if pattern is None:
        return True
    v = _str(value)
    if fold:
        return fnmatch.fnmatchcase(v.lower(), pattern.lower())
    return fnmatch.fnmatchcase(v, pattern)


class Filter:
    def __init__(self, args) -> None:
        self.since = R.rfc3339(R.parse_time(args.since)) if args.since else None
        self.until = R.rfc3339(R.parse_time(args.until)) if args.until else None
        self.user, self.tenant, self.event = args.user, args.tenant, args.event
        self.outcome, self.addr, self.command = args.outcome, args.client_addr, args.command

    def match(self, rec: dict) -> bool:
        t = rec.get("time", "")
        if self.since is not None and t < self.since:
            return False
        if self.until is not None and t > self.until:
            return False
        actor = rec.get("actor") or {}
        target = rec.get("target") or {}
        if self.user is not None and not (_glob(self.user, actor.get("user"))
                                          or _glob(self.user, target.get("user"))):
            return False
        if self.tenant is not None and not (_glob(self.tenant, actor.get("tenant"))
                                            or _glob(self.tenant, target.get("tenant"))):
            return False
        if self.event is not None and not _glob(self.event, rec.get("event")):
            return False
        if self.outcome is not None and rec.get("outcome") != self.outcome:
            return False
        if self.addr is not None:
            a = _str(actor.get("addr"))
            ap = f"{a}:{actor.get('port')}" if actor.get("port") is not None else a
            if not (_glob(self.addr, a) or _glob(self.addr, ap)):
                return False
        if self.command is not None and not _glob(self.command, target.get("command"), True):
            return False
        return True


COLUMNS = ("time", "seq", "event", "outcome", "user", "tenant", "client", "target", "reason")
WIDTHS = (27, 6, 18, 7, 12, 10, 26, 0, 0)     # fixed: the output streams


def _line(cells) -> str:
    out = []
    for c, w in zip(cells, WIDTHS):
        c = c.replace("\n", " ")
        out.append(c.ljust(w) if w else c)
    return "  ".join(out).rstrip()


def _target(rec: dict) -> str:
    t = rec.get("target") or {}
    parts = []
    if "command" in t:
        parts.append(_str(t["command"]).upper())
    if "user" in t:
        parts.append("user=" + _str(t["user"]))
    if "tenant" in t:
        parts.append("tenant=" + _str(t["tenant"]))
    if "directives" in t:
        parts.append(" ".join(f"{d.get('name')}={_str(d.get('value'))}" for d in t["directives"]))
    if "keys" in t:
        parts.append("keys=" + _str(t["keys"]))
    if "channel" in t:
        parts.append("channel=" + _str(t["channel"]))
    if "args" in t:
        parts.append(" ".join(_str(a) for a in t["args"]))
    return " ".join(parts)


def row(rec: dict) -> str:
    a = rec.get("actor") or {}
    client = _str(a.get("addr"))
    if a.get("port") is not None:
        client += f":{a['port']}"
    if a.get("client_id") is not None:
        client += f" #{a['client_id']}"
    cells = (rec.get("time", ""), str(rec.get("seq", "")), rec.get("event", ""),
             rec.get("outcome", ""), _str(a.get("user")), _str(a.get("tenant")), client,
             _target(rec), _str(rec.get("reason")))
    return _line(cells)


def _records(path: str):
    with open(path, "rb") as f:
        for raw in f:
            rec = R.parse(raw)
            if rec is not None:
                yield raw, rec


def _emit(raw: bytes, rec: dict, as_json: bool, out) -> None:
    if as_json:
        out.write(raw.decode("utf-8", "replace").rstrip("\n") + "\n")
    else:
        out.write(row(rec) + "\n")


def cmd_query(args) -> int:
    flt = Filter(args)
    out = sys.stdout
    items, _ = order_files(args.paths)
    n = 0
    if not args.json:
        out.write(_line([c.upper() for c in COLUMNS]) + "\n")
    try:
        for path, _hdr in items:
            for raw, rec in _records(path):
                if flt.match(rec):
                    _emit(raw, rec, args.json, out)
                    n += 1
    except BrokenPipeError:
        return 0
    if not args.json:
        print(f"({n} records)", file=sys.stderr)
    return 0


def cmd_tail(args) -> int:
    """Print the last -n records, then follow the file (across rotation)."""
    flt = Filter(args)
    path = args.path
    out = sys.stdout
    f = None
    ino = None
    buf = b""
    try:
        while f is None:
            try:
                f = open(path, "rb")
                ino = os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                time.sleep(args.interval)
        if args.lines:
            from collections import deque
            last = deque(maxlen=args.lines)
            for raw in f:
                if raw.endswith(b"\n"):
                    rec = R.parse(raw)
                    if rec is not None and flt.match(rec):
                        last.append((raw, rec))
                else:
                    buf = raw
            for raw, rec in last:
                _emit(raw, rec, args.json, out)
        else:
            f.seek(0, os.SEEK_END)
        out.flush()
        while True:
            chunk = f.read()
            if chunk:
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    rec = R.parse(raw)
                    if rec is not None and flt.match(rec):
                        _emit(raw + b"\n", rec, args.json, out)
                out.flush()
                continue
            try:
                st = os.stat(path)
                if st.st_ino != ino:              # rotated: finish the old file, then switch
                    rest = f.read()
                    if rest:
                        buf += rest
                        continue
                    f.close()
                    f = open(path, "rb")
                    ino = os.fstat(f.fileno()).st_ino
                    buf = b""
                    continue
            except FileNotFoundError:
                pass
            time.sleep(args.interval)
    except (KeyboardInterrupt, BrokenPipeError):
        return 0


def _filters(p) -> None:
    p.add_argument("--since", help="records at or after this time (RFC 3339, date, epoch)")
    p.add_argument("--until", help="records at or before this time")
    p.add_argument("--user", help="actor or target user (glob)")
    p.add_argument("--tenant", help="actor or target tenant (glob)")
    p.add_argument("--event", help="event type (glob, e.g. 'auth.*')")
    p.add_argument("--outcome", choices=("success", "failure"))
    p.add_argument("--client-addr", help="client address or address:port (glob)")
    p.add_argument("--command", help="command name (glob, case-insensitive; 'config|set')")
    p.add_argument("--json", action="store_true", help="print the records as JSON Lines")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="securekv audit",
                                description="Verify and search securekv audit logs.")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check the hash chain (exit 0 only when intact)")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.add_argument("--head", help="SEQ:VALUE the server reports (INFO audit: audit_last_seq, "
                   "audit_last_chain): detects a truncated tail")
    v.add_argument("--key-file", help="the audit-hmac-key-file, for HMAC-chained logs")
    v.add_argument("--quiet", "-q", action="store_true")
    q = sub.add_parser("query", help="filter records (a table, or --json)")
    q.add_argument("paths", nargs="+", metavar="PATH")
    _filters(q)
    t = sub.add_parser("tail", help="follow a live audit log")
    t.add_argument("path", nargs="?", default="audit.jsonl", metavar="PATH")
    t.add_argument("-n", "--lines", type=int, default=10, help="print the last N records first")
    t.add_argument("--interval", type=float, default=0.2, help=argparse.SUPPRESS)
    _filters(t)
    return p


def main(argv: list[str]) -> int:
    p = build_parser()
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        if args.cmd == "verify":
            return cmd_verify(args)
        if args.cmd == "query":
            return cmd_query(args)
        return cmd_tail(args)
    except ValueError as e:
        print(f"securekv audit: {e}", file=sys.stderr)
        return 2
