"""Generate conf/securekv.conf from the directive table (securekv/config.py).

    python tools/gen_conf.py            # write conf/securekv.conf
    python tools/gen_conf.py --check    # exit 1 if the committed file differs

Every directive appears with its documentation and its default value, commented
out (the file as shipped changes nothing). tests/unit/test_config.py checks that
the committed file equals this output, so the two never drift.
"""

from __future__ import annotations

import os
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from securekv.config import SECTIONS, TABLE, default_line  # noqa: E402

OUT = os.path.join(ROOT, "conf", "securekv.conf")

HEADER = """\
# securekv configuration file
#
# This file documents every directive securekv understands, each with its
# default value. Everything below is commented out: the file as shipped
# changes nothing, and securekv started without a file behaves the same.
# It is generated from the directive table (tools/gen_conf.py): edit the
# table's documentation, not this file.
#
# Syntax: this is redis.conf syntax, and a redis.conf for Redis 7.0 loads
# unchanged.
#   - One directive per line: name, then its value(s). Names are
#     case-insensitive. Lines starting with '#' are comments.
#   - Values with spaces are quoted: "..." understands \\n \\r \\t \\" \\\\ \\xHH,
#     '...' only \\'.
#   - Memory values take units: 1k = 1000 bytes, 1kb = 1024, likewise m/mb,
#     g/gb, case-insensitive (1GB = 1gb).
#   - include /path/to/other.conf reads another file at that point (relative
#     paths are relative to the working directory the server was started
#     in; a pattern with * ? [ includes every match). A directive given
#     twice: the last one wins (save, client-output-buffer-limit, user and
#     rename-command accumulate).
#   - The command line overrides the file: securekv-server securekv.conf
#     --port 7777 --loglevel verbose. "securekv-server -" (or a trailing "-")
#     also reads directives from standard input.
#   - An unknown directive or a bad value stops startup with Redis's
#     "*** FATAL CONFIG FILE ERROR ***" report (line and reason), exit code 1.
#   - CONFIG GET / CONFIG SET use the same names at run time; CONFIG REWRITE
#     writes the running configuration back into the file it was loaded from,
#     keeping comments and unknown lines.
#
# Secure by default: securekv listens on the loopback interface only
# (bind 127.0.0.1 -::1; Redis listens on every interface) and runs in
# protected mode: while the default user has no password, only loopback
# and Unix-socket clients may connect. To serve other hosts, set a password
# (requirepass or ACL users) and bind the interfaces you mean.
#
# Directives marked "accepted for compatibility" belong to subsystems that
# securekv does not have yet: they load, and CONFIG GET/SET round-trip them,
# but they change nothing. Where pretending would be unsafe (daemonize,
# syslog, cluster, replicaof, aclfile, tls-port, user, loadmodule), securekv
# refuses to start with a non-default value instead, and says why.
"""


def render() -> str:
    out = [HEADER]
    for key, title in SECTIONS:
        ds = [d for d in TABLE.values() if d.section == key]
        if not ds:
            continue
        out.append("\n" + "#" * 20 + f" {title} " + "#" * max(2, 58 - len(title)) + "\n")
        for d in ds:
            out.append("")
            doc = d.doc.strip()
            notes = []
            if not d.mutable:
                notes.append("Set at startup only (CONFIG SET refuses it).")
            if d.aliases:
                notes.append("Also accepted as: " + ", ".join(d.aliases) + ".")
            if d.secret:
                notes.append("Secret: never logged.")
            text = " ".join([doc] + notes).strip()
            for line in textwrap.wrap(text, 76):
                out.append("# " + line)
            for line in default_line(d).split("\n"):
                out.append("# " + line)
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        try:
            with open(OUT, encoding="utf-8") as f:
                same = f.read() == text
        except FileNotFoundError:
            same = False
        if not same:
            sys.stderr.write("conf/securekv.conf is out of date: run python tools/gen_conf.py\n")
            return 1
        return 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
