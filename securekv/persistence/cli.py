"""Offline tools: `securekv rdb info FILE` and `securekv aof check PATH [--fix]`.

rdb info   parses the whole file (checksum verified) and prints the version,
           the aux fields, per database and tenant the keys by type, keys with
           an expire and keys already expired, function libraries. Exit 1 with
           the error and its offset when the file is corrupt or truncated.
aof check  like redis-check-aof: PATH is an AOF directory (appenddirname), its
           manifest, or one AOF file. Each file of the manifest is checked in
           order (an RDB-preamble base through the RDB parser, RESP parts command
           by command, MULTI/EXEC balanced); the first problem is reported with
           its file and offset. --fix truncates a torn tail (a last command cut
           short, or an unfinished MULTI) of the LAST file, as Redis loads with
           aof-load-truncated; damage anywhere else is reported, never "fixed".
"""

from __future__ import annotations

import os
import sys
import time

from securekv.engine.hashtype import HashValue
from securekv.engine.listtype import ListValue
from securekv.engine.settype import SetValue
from securekv.engine.streamtype import Stream
from securekv.engine.zsettype import ZSetValue
from securekv.persistence import rdb
from securekv.persistence.aof import MANIFEST_SUFFIX, AOFError, parse_commands, parse_manifest

USAGE = """Usage: securekv rdb info FILE
       securekv aof check PATH [--fix]     (PATH: AOF directory, manifest or file)"""

_TYPES = {bytes: "string", bytearray: "string", ListValue: "list", HashValue: "hash",
          SetValue: "set", ZSetValue: "zset", Stream: "stream"}


def _s(b: bytes) -> str:
    return b.decode("utf-8", "backslashreplace")


def type_counts(data: dict) -> dict:
    out: dict = {}
    for v in data.values():
        name = _TYPES.get(type(v), type(v).__name__)
        out[name] = out.get(name, 0) + 1
    return out


def rdb_summary(data: bytes) -> list[str]:
    """The lines `rdb info` prints (raises rdb.RDBError)."""
    now = int(time.time() * 1000)
    lim = rdb.Limits()
    lim.ndb = 1 << 20
    res = rdb.load_rdb(data, lim, skip_expired=False)
    crc = data[res.end - 8:res.end]
    lines = [f"rdb_version: {res.version}",
             f"size: {len(data)}",
             "checksum: " + ("none (0)" if crc == b"\0" * 8 or res.version < 5 else "ok")]
    for k, v in res.aux.items():
        lines.append(f"aux {_s(k)}: {_s(v)}")
    if res.functions:
        lines.append(f"function_libraries: {len(res.functions)}")
    sections = [("default", [], res.dbs)] + [(_s(n), w, d) for n, (w, d) in res.tenants.items()]
    total = 0
    for name, words, dbs in sections:
        head = f"tenant {name}"
        if words:
            head += " (" + " ".join(_s(w) for w in words) + ")"
        lines.append(head + ":")
        for dbid in sorted(dbs):
            d, exp = dbs[dbid]
            if not d:
                continue
            total += len(d)
            by_type = " ".join(f"{t}={n}" for t, n in sorted(type_counts(d).items()))
            expired = sum(1 for w in exp.values() if w < now)
            lines.append(f"  db{dbid}: keys={len(d)} expires={len(exp)} already_expired={expired} "
                         f"{by_type}")
    if res.empty_skipped:
        lines.append(f"empty_collections_skipped: {res.empty_skipped}")
    lines.append(f"total_keys: {total}")
    if res.end != len(data):
        lines.append(f"trailing_bytes: {len(data) - res.end} (after offset {res.end})")
    return lines


def rdb_info(args: list[str]) -> int:
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        data = rdb.read_file(args[0])
    except OSError as e:
        print(f"Cannot open {args[0]}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        lines = rdb_summary(data)
    except rdb.RDBError as e:
        print(f"RDB {args[0]} is not valid: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


class Problem:
    """The first problem of one AOF part: kind ("truncated" | "bad" | "multi"),
    offset of the last good byte, and a message."""

    def __init__(self, kind: str, offset: int, msg: str) -> None:
        self.kind, self.offset, self.msg = kind, offset, msg


def check_part(data: bytes) -> tuple[int, Problem | None]:
    """Check one AOF part; returns (commands read, the first problem or None)."""
    pos = 0
    if data[:5] == b"REDIS":
        try:
            pos = rdb.load_rdb(data, _nolimits(), skip_expired=False).end
        except rdb.RDBError as e:
            return 0, Problem("bad", 0, f"RDB preamble: {e}")
    n = 0
    good = pos
    multi_at = -1
    try:
        for argv, end in parse_commands(data, pos):
            name = argv[0].lower()
            if name == b"multi":
                if multi_at >= 0:
                    return n, Problem("bad", good, "nested MULTI")
                multi_at = good
            elif name == b"exec":
                if multi_at < 0:
                    return n, Problem("bad", good, "EXEC without MULTI")
                multi_at = -1
            good = end
            n += 1
    except AOFError as e:
        kind, at = e.args
        if kind == "truncated":
            cut = multi_at if multi_at >= 0 else at
            return n, Problem("truncated", cut, "unexpected end of file (a torn last command)")
        return n, Problem("bad", at, "bad file format (not a RESP command)")
    if multi_at >= 0:
        return n, Problem("multi", multi_at, "unfinished MULTI at the end of the file")
    return n, None


def _nolimits() -> rdb.Limits:
    lim = rdb.Limits()
    lim.ndb = 1 << 20
    return lim


def aof_parts(path: str) -> list[str]:
    """The files to check, in load order."""
    if os.path.isdir(path):
        mans = [f for f in os.listdir(path) if f.endswith(MANIFEST_SUFFIX)
                and not f.startswith("temp-")]
        if len(mans) != 1:
            raise AOFError(f"expected one manifest in {path}, found {len(mans)}")
        path = os.path.join(path, mans[0])
    if not path.endswith(MANIFEST_SUFFIX):
        return [path]
    d = os.path.dirname(path)
    with open(path, "rb") as f:
        base, incr, _hist = parse_manifest(f.read())
    return ([os.path.join(d, base[0])] if base else []) + [os.path.join(d, n) for n, _s in incr]


def aof_check(args: list[str]) -> int:
    fix = "--fix" in args
    rest = [a for a in args if a != "--fix"]
    if len(rest) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        parts = aof_parts(rest[0])
    except (AOFError, OSError, ValueError) as e:
        print(f"Cannot read the AOF manifest: {e}", file=sys.stderr)
        return 1
    status = 0
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        try:
            data = rdb.read_file(p)
        except OSError as e:
            print(f"AOF {p}: cannot open: {e.strerror}")
            return 1
        n, prob = check_part(data)
        name = os.path.basename(p)
        if prob is None:
            print(f"AOF {name} is valid ({n} commands, {len(data)} bytes)")
            continue
        print(f"AOF analyzed: filename={name}, size={len(data)}, ok_up_to={prob.offset}, "
              f"diff={len(data) - prob.offset}")
        print(f"AOF {name}: {prob.msg} at offset {prob.offset}")
        if prob.kind in ("truncated", "multi") and last:
            if fix:
                with open(p, "r+b") as f:
                    f.truncate(prob.offset)
                    f.flush()
                    os.fsync(f.fileno())
                print(f"Successfully truncated AOF {name} to {prob.offset} bytes")
                continue
            print("This is a torn tail: run with --fix to truncate it")
        elif fix:
            print(f"AOF {name} cannot be fixed automatically: the damage is not a torn tail "
                  f"of the last file (make a backup and repair it by hand)")
        status = 1
        if not last or prob.kind == "bad":
            break
    return status


def main(family: str, args: list[str]) -> int:
    sub = args[0] if args else ""
    if family == "rdb" and sub == "info":
        return rdb_info(args[1:])
    if family == "aof" and sub == "check":
        return aof_check(args[1:])
    print(USAGE, file=sys.stderr)
    return 2
