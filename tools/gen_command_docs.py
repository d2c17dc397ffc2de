"""Developer tool: read command metadata from a running redis-server 7.0.15.

    python tools/gen_command_docs.py docs PORT
        (re)writes securekv/commands/docs.json: the documentation-only fields
        of COMMAND DOCS (complexity, doc_flags, deprecated_since, replaced_by,
        history, arguments) for every command and subcommand.

    python tools/gen_command_docs.py decl PORT NAME [NAME ...]
        prints `@command(...)` / `@subcommand(...)` declarations (arity, flags,
        categories, key specs, group, since, summary, tips) to paste beside
        the implementation. Implied ACL categories are left out: the table
        derives them from the flags.

Not used at run time; the server never talks to Redis.
"""

from __future__ import annotations

import json
import os
import sys

import socket

import hiredis


class RawClient:
    """A minimal RESP2 client: replies exactly as sent (no redis-py callbacks)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()

    def execute_command(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        while True:
            r = self.reader.gets()
            if r is not False:
                return r
            self.reader.feed(self.sock.recv(1 << 20))

IMPLIED = {"write", "read", "admin", "dangerous", "pubsub", "fast", "slow", "blocking"}


def s(b):
    return b.decode() if isinstance(b, bytes) else b


def pairs(lst):
    return {s(lst[i]): lst[i + 1] for i in range(0, len(lst), 2)}


def conv_args(args):
    out = []
    for a in args:
        d = pairs(a)
        o = {}
        for k, v in d.items():
            if k == "arguments":
                o[k] = conv_args(v)
            elif k == "flags":
                o[k] = [s(x) for x in v]
            elif k == "key_spec_index":
                o[k] = v
            else:
                o[k] = s(v)
        out.append(o)
    return out


def doc_fields(d):
    o = {}
    for k, v in d.items():
        if k in ("summary", "since", "group", "subcommands"):
            continue
        if k == "history":
            o[k] = [[s(a), s(b)] for a, b in v]
        elif k == "arguments":
            o[k] = conv_args(v)
        elif k == "doc_flags":
            o[k] = [s(x) for x in v]
        else:
            o[k] = s(v)
    return o


def all_docs(r):
    raw = r.execute_command("COMMAND", "DOCS")
    out = {}
    for i in range(0, len(raw), 2):
        name = s(raw[i])
        d = pairs(raw[i + 1])
        out[name] = doc_fields(d)
        if "subcommands" in d:
            subs = d["subcommands"]
            for j in range(0, len(subs), 2):
                out[s(subs[j])] = doc_fields(pairs(subs[j + 1]))
    return dict(sorted(out.items()))


def write_docs(port):
    r = RawClient(port)
    docs = all_docs(r)
    path = os.path.join(os.path.dirname(__file__), "..", "securekv", "commands", "docs.json")
    with open(path, "w") as f:
        json.dump(docs, f, indent=0, sort_keys=False)
        f.write("\n")
    print(f"wrote {len(docs)} entries to {os.path.normpath(path)}")


def keyspec_src(spec):
    d = pairs(spec)
    flags = " ".join(s(x) for x in d["flags"])
    bs = pairs(d["begin_search"])
    bspec = pairs(bs["spec"]) if bs["spec"] else {}
    if s(bs["type"]) == "index":
        begin = str(bspec["index"])
    elif s(bs["type"]) == "keyword":
        begin = f'Keyword({s(bspec["keyword"])!r}, {bspec["startfrom"]})'
    else:
        begin = "UNKNOWN"
    fk = pairs(d["find_keys"])
    fspec = pairs(fk["spec"]) if fk["spec"] else {}
    if s(fk["type"]) == "range":
        find = f'Range({fspec["lastkey"]}, {fspec["keystep"]}, {fspec["limit"]})'
    elif s(fk["type"]) == "keynum":
        find = f'KeyNum({fspec["keynumidx"]}, {fspec["firstkey"]}, {fspec["keystep"]})'
    else:
        find = "UNKNOWN"
    notes = f', notes={s(d["notes"])!r}' if "notes" in d else ""
    if find == "Range(0, 1, 0)" and not notes:
        return f'KeySpec({flags!r}, {begin})'
    return f'KeySpec({flags!r}, {begin}, {find}{notes})'


def decl(port, names):
    r = RawClient(port)
    for name in names:
        info = r.execute_command("COMMAND", "INFO", name)[0]
        if info is None:
            print(f"# {name}: unknown to redis")
            continue
        docs = r.execute_command("COMMAND", "DOCS", name)
        d = pairs(docs[1]) if docs else {}
        full = s(info[0])
        arity = info[1]
        flags = " ".join(s(f) for f in info[2] if s(f) != "movablekeys")
        # @dangerous is implied by the admin flag only: keep it on others (FLUSHALL, KEYS).
        implied = IMPLIED if "admin" in flags.split() else IMPLIED - {"dangerous"}
        cats = " ".join(s(c) for c in info[6] if s(c).lstrip("@") not in implied)
        tips = [s(t) for t in info[7]]
        specs = [keyspec_src(k) for k in info[8]]
        head = "@subcommand(%r, %r, " % tuple(full.split("|")) if "|" in full \
            else f"@command({full!r}, "
        parts = [f"{arity}", repr(flags), repr(cats)]
        kw = []
        if specs:
            kw.append("keys=[" + ", ".join(specs) + "]")
        if "|" not in full:
            kw.append(f"group={s(d.get('group', b'generic'))!r}")
        kw.append(f"since={s(d.get('since', b''))!r}")
        kw.append(f"summary={s(d.get('summary', b''))!r}")
        if tips:
            kw.append(f"tips={tips!r}")
        print(head + ", ".join(parts) + ",\n    " + ",\n    ".join(kw) + ")")
        subs = info[9]
        if subs:
            print(f"# {full} has subcommands: " + " ".join(s(x[0]) for x in subs))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("docs", "decl"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "docs":
        write_docs(int(sys.argv[2]))
    else:
        decl(int(sys.argv[2]), sys.argv[3:])
