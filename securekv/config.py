"""The directive table: one declaration per directive drives the config file
parser, `--directive value` arguments, CONFIG GET/SET/REWRITE, conf/securekv.conf
and the redaction of secrets.

A directive has a name (Redis's where Redis has one), a type that parses and
renders it (bool yes/no, integer with bounds, memory with Redis's units, enum,
string, or a special parser), a default, whether CONFIG SET may change it at
run time, and an optional apply hook that pushes the new value into the
running server. `Config` holds the current values; the server reads hot ones
from plain attributes that apply hooks keep current, never from this table on
the per-command path.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from securekv.net.resp import split_args


class ConfigError(Exception):
    """A bad directive or value. `message` is Redis's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- value types ---------------------------------------------------------------

def parse_memory(s: str) -> int | None:
    """Redis's memtoull: bytes with optional k/kb/m/mb/g/gb (case-insensitive)."""
    t = s.strip().lower()
    mul = 1
    for suffix, m in (("gb", 1024 ** 3), ("mb", 1024 ** 2), ("kb", 1024),
                      ("g", 1000 ** 3), ("m", 1000 ** 2), ("k", 1000), ("b", 1)):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            mul = m
            break
    if not t or not (t.isdigit() or (t[0] == "-" and t[1:].isdigit())):
        return None
    return int(t) * mul


class Type:
    def parse(self, d: "Directive", s: str) -> Any:
        raise NotImplementedError

    def render(self, d: "Directive", v: Any) -> str:
        return str(v)


class Bool(Type):
    def parse(self, d, s):
        t = s.lower()
        if t == "yes":
            return True
        if t == "no":
            return False
        raise ConfigError("argument must be 'yes' or 'no'")

    def render(self, d, v):
        return "yes" if v else "no"


class Int(Type):
    def __init__(self, lo: int = -(2 ** 63), hi: int = 2 ** 63 - 1, memory: bool = False) -> None:
        self.lo, self.hi, self.memory = lo, hi, memory

    def parse(self, d, s):
        if self.memory:
            v = parse_memory(s)
            if v is None:
                raise ConfigError("argument must be a memory value")
        else:
            try:
                if not s.strip() or s != s.strip():
                    raise ValueError
                v = int(s)
            except ValueError:
                raise ConfigError("argument couldn't be parsed into an integer") from None
        if not self.lo <= v <= self.hi:
            raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
        return v


class Enum(Type):
    def __init__(self, *values: str) -> None:
        self.values = values

    def parse(self, d, s):
        t = s.lower()
        if t in self.values:
            return t
        raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.values)}")


class String(Type):
    def parse(self, d, s):
        return s


class Custom(Type):
    """A directive with its own parser and renderer (save, bind, client-output-buffer-limit...)."""

    def __init__(self, parse: Callable[[str], Any], render: Callable[[Any], str]) -> None:
        self._parse, self._render = parse, render

    def parse(self, d, s):
        return self._parse(s)

    def render(self, d, v):
        return self._render(v)


@dataclass
class Directive:
    name: str
    type: Type
    default: Any
    mutable: bool = True
    doc: str = ""
    apply: Callable[[Any, Any], None] | None = None   # apply(server, value)
    secret: bool = False          # never shown in logs, audit or CONFIG REWRITE diffs
    aliases: tuple = ()
    multi_arg: bool = False       # the file form takes several words (save, bind ...)
    repeat: bool = False          # may appear on many lines, each adds one entry (user ...)
    section: str = "general"

    def parse(self, s: str) -> Any:
        return self.type.parse(self, s)

    def render(self, v: Any) -> str:
        return self.type.render(self, v)


TABLE: dict[str, Directive] = {}
ALIASES: dict[str, str] = {}


def directive(name: str, type: Type, default: Any, **kw) -> Directive:
    d = Directive(name, type, default, **kw)
    if name in TABLE:
        raise ValueError(f"directive {name} declared twice")
    TABLE[name] = d
    for a in d.aliases:
        ALIASES[a] = name
    return d


def resolve(name: str) -> Directive | None:
    n = name.lower()
    return TABLE.get(ALIASES.get(n, n))


# -- special types ---------------------------------------------------------------

def _parse_save(s: str):
    parts = s.split()
    if not parts or (len(parts) == 1 and parts[0] == ""):
        return []
    if len(parts) % 2:
        raise ConfigError("Invalid save parameters")
    out = []
    for i in range(0, len(parts), 2):
        try:
            secs, changes = int(parts[i]), int(parts[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
        if secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        out.append((secs, changes))
    return out


def _render_save(v) -> str:
    return " ".join(f"{a} {b}" for a, b in v)


def _parse_bind(s: str):
    addrs = s.split()
    if not addrs:
        raise ConfigError("Invalid bind address")
    return addrs


CLIENT_CLASSES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}


def _parse_obuf(s: str):
    parts = s.split()
    if not parts or len(parts) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = {}
    for i in range(0, len(parts), 4):
        cls = CLIENT_CLASSES.get(parts[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = parse_memory(parts[i + 1]), parse_memory(parts[i + 2])
        try:
            secs = int(parts[i + 3])
        except ValueError:
            secs = -1
        if hard is None or soft is None or secs < 0 or hard < 0 or soft < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        out[cls] = (hard, soft, secs)
    return out


def _render_obuf(v) -> str:
    parts = []
    for cls, name in (("normal", "normal"), ("replica", "slave"), ("pubsub", "pubsub")):
        h, s, t = v[cls]
        parts.append(f"{name} {h} {s} {t}")
    return " ".join(parts)


def _parse_notify(s: str) -> str:
    allowed = set("gA$lshzxetmdKEn")
    if any(ch not in allowed for ch in s):
        raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return s


NOTIFY_ORDER = "g$lshzxetmdnKE"


def notify_flags_render(s: str) -> str:
    """Redis's keyspaceEventsFlagsToString: canonical order, A for all classes."""
    flags = set(s)
    all_classes = set("g$lshzxetmd")
    out = []
    if "A" in flags or all_classes <= flags:
        out.append("A")
        rest = ""
    else:
        rest = "".join(ch for ch in "g$lshzxetmd" if ch in flags)
    out.append(rest)
    if "n" in flags:
        out.append("n")
    if "K" in flags:
        out.append("K")
    if "E" in flags:
        out.append("E")
    return "".join(out)


def _render_str(v) -> str:
    return v


# -- the table ---------------------------------------------------------------------
# Apply hooks live on the server (`apply_<name>` methods resolved by name at
# set time) so this module never imports the server.

MEM = Int(0, 2 ** 63 - 1, memory=True)

directive("port", Int(0, 65535), 6379, mutable=True, section="network",
          doc="TCP port to listen on; 0 disables the plaintext listener.")
directive("bind", Custom(_parse_bind, " ".join), ["127.0.0.1", "-::1"], mutable=True,
          multi_arg=True, section="network",
          doc="Interfaces to listen on; a leading '-' means the address is optional.")
directive("protected-mode", Bool(), True, section="network",
          doc="Refuse non-loopback clients while the default user has no password.")
directive("tcp-backlog", Int(0, 2 ** 31 - 1), 511, mutable=False, section="network",
          doc="listen() backlog.")
directive("unixsocket", String(), "", mutable=False, section="network",
          doc="Path of a Unix socket to listen on (empty: none).")
directive("unixsocketperm", Int(0, 0o777), 0, mutable=False, section="network",
          doc="Permissions of the Unix socket (octal).")
directive("timeout", Int(0, 2 ** 31 - 1), 0, section="network",
          doc="Close a client idle for this many seconds (0: never).")
directive("tcp-keepalive", Int(0, 2 ** 31 - 1), 300, section="network",
          doc="SO_KEEPALIVE interval in seconds (0: off).")
directive("maxclients", Int(1, 2 ** 31 - 1), 10000, section="clients",
          doc="Maximum simultaneous clients; more get '-ERR max number of clients reached'.")
directive("proto-max-bulk-len", Int(1024 * 1024, 2 ** 63 - 1, memory=True), 512 * 1024 * 1024,
          section="limits", doc="Largest bulk string a client may send.")
directive("client-query-buffer-limit", Int(1024 * 1024, 2 ** 63 - 1, memory=True),
          1024 * 1024 * 1024, section="limits",
          doc="Largest amount of input buffered for one client; a client past it is closed.")
directive("client-output-buffer-limit", Custom(_parse_obuf, _render_obuf),
          {"normal": (0, 0, 0), "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
           "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60)},
          multi_arg=True, section="limits",
          doc="<class> <hard> <soft> <soft-seconds> for normal, replica and pubsub clients.")
directive("databases", Int(1, 2 ** 31 - 1), 16, mutable=False, section="general",
          doc="Number of databases (SELECT 0..databases-1).")
directive("hz", Int(0, 2 ** 31 - 1), 10, section="general",
          doc="Server cron frequency (1..500).")
directive("dynamic-hz", Bool(), True, section="general", doc="Accepted for compatibility.")
directive("loglevel", Enum("debug", "verbose", "notice", "warning", "nothing"), "notice",
          section="general", doc="Log verbosity.")
directive("logfile", String(), "", mutable=False, section="general",
          doc="Log file; empty logs to standard output.")
directive("syslog-enabled", Bool(), False, mutable=False, section="general",
          doc="Syslog is not supported; must be no.")
directive("syslog-ident", String(), "redis", mutable=False, section="general", doc="Accepted.")
directive("syslog-facility", String(), "local0", mutable=False, section="general", doc="Accepted.")
directive("pidfile", String(), "", mutable=False, section="general",
          doc="Write the process id here at startup; removed at shutdown.")
directive("daemonize", Bool(), False, mutable=False, section="general",
          doc="Must be no: run securekv under a supervisor (systemd, docker).")
directive("supervised", Enum("upstart", "systemd", "auto", "no"), "no", mutable=False,
          section="general", doc="Accepted for compatibility.")
directive("dir", String(), ".", section="persistence",
          doc="Working directory for dump, AOF and audit files.")
directive("dbfilename", String(), "dump.rdb", section="persistence", doc="RDB file name.")
directive("save", Custom(_parse_save, _render_save), [(3600, 1), (300, 100), (60, 10000)],
          multi_arg=True, section="persistence", doc="Save points: <seconds> <changes> ...")
directive("appendonly", Bool(), False, section="persistence", doc="Enable the AOF.")
directive("appendfilename", String(), "appendonly.aof", mutable=False, section="persistence",
          doc="Base name of AOF files.")
directive("appenddirname", String(), "appendonlydir", mutable=False, section="persistence",
          doc="Directory of the multi-part AOF.")
directive("appendfsync", Enum("always", "everysec", "no"), "everysec", section="persistence",
          doc="fsync policy of the AOF.")
directive("requirepass", String(), "", secret=True, section="security",
          doc="Password of the default user (Redis compatible).")
directive("enable-debug-command", Enum("no", "yes", "local"), "no", mutable=False,
          section="security", doc="Allow DEBUG: no, yes, or local (loopback clients only).")
directive("notify-keyspace-events", Custom(_parse_notify, notify_flags_render), "",
          section="general", doc="Keyspace notification classes (Redis's flags).")
directive("slowlog-log-slower-than", Int(-1, 2 ** 63 - 1), 10000, section="slowlog",
          doc="Log commands slower than this many microseconds (-1: off, 0: all).")
directive("slowlog-max-len", Int(0, 2 ** 63 - 1), 128, section="slowlog",
          doc="Entries kept in the slow log.")
directive("latency-monitor-threshold", Int(0, 2 ** 63 - 1), 0, section="latency",
          doc="Record events slower than this many milliseconds (0: off).")
directive("maxmemory", MEM, 0, section="memory", doc="Memory limit (0: none).")
directive("maxmemory-policy", Enum("volatile-lru", "volatile-lfu", "volatile-random",
                                   "volatile-ttl", "allkeys-lru", "allkeys-lfu",
                                   "allkeys-random", "noeviction"),
          "noeviction", section="memory", doc="Eviction policy when maxmemory is reached.")
directive("maxmemory-samples", Int(1, 2 ** 31 - 1), 5, section="memory", doc="Eviction samples.")
directive("active-expire-enabled", Bool(), True, section="general",
          doc="Run the active expiry cycle (DEBUG SET-ACTIVE-EXPIRE toggles it).")


class Config:
    """Current directive values, by canonical name."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {n: d.default for n, d in TABLE.items()}
        self.source: dict[str, str] = {}     # name -> where it was last set (for REWRITE)
        self.file: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str) -> Any:
        return self.values[name]

    def render(self, name: str) -> str:
        return TABLE[name].render(self.values[name])

    def set_from_text(self, name: str, args: list[str], origin: str) -> None:
        d = resolve(name)
        if d is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if d.repeat:
            if origin == "CONFIG SET":
                raise ConfigError("can't set repeated directive")
            if d.name not in self.source:
                self.values[d.name] = []
            self.values[d.name].append(d.parse(" ".join(args)) if args else [])
            self.source[d.name] = origin
            return
        if d.multi_arg:
            text = " ".join(args)
        elif len(args) != 1:
            raise ConfigError("wrong number of arguments")
        else:
            text = args[0]
        self.values[d.name] = d.parse(text)
        self.source[d.name] = origin


# -- the config file ---------------------------------------------------------------

class ConfigFileError(Exception):
    """Startup stops: Redis's *** FATAL CONFIG FILE ERROR *** report."""

    def __init__(self, where: str, line_no: int, line: str, reason: str) -> None:
        super().__init__(reason)
        self.where, self.line_no, self.line, self.reason = where, line_no, line, reason

    def report(self, version: str) -> str:
        return (f"\n*** FATAL CONFIG FILE ERROR (Redis {version}) ***\n"
                f"Reading the configuration file, at line {self.line_no}\n"
                f">>> '{self.line}'\n{self.reason}\n")


def load_text(cfg: Config, text: str, where: str, depth: int = 0) -> None:
    """Apply redis.conf-syntax text: one directive per line, `include` files."""
    if depth > 16:
        raise ConfigFileError(where, 0, "include", "include nesting too deep")
    for no, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        argv = split_args(line.encode("utf-8", "surrogateescape"))
        if argv is None:
            raise ConfigFileError(where, no, line, "Unbalanced quotes in configuration line")
        if not argv:
            continue
        args = [a.decode("utf-8", "surrogateescape") for a in argv]
        name = args[0].lower()
        if name == "include":
            if len(args) != 2:
                raise ConfigFileError(where, no, line, "Bad directive or wrong number of arguments")
            try:
                with open(args[1], encoding="utf-8", errors="surrogateescape") as f:
                    load_text(cfg, f.read(), args[1], depth + 1)
            except OSError as e:
                raise ConfigFileError(where, no, line, f"Can't open include file: {e.strerror}") from None
            continue
        try:
            cfg.set_from_text(name, args[1:], where)
        except ConfigError as e:
            raise ConfigFileError(where, no, line, e.message) from None


def argv_to_text(args: list[str]) -> str:
    """redis-server's command line: `--name v1 v2 --other v` becomes config lines."""
    lines: list[str] = []
    cur: list[str] | None = None
    for a in args:
        if a.startswith("--") and len(a) > 2:
            if cur is not None:
                lines.append(" ".join(cur))
            cur = [a[2:]]
        else:
            if cur is None:
                cur = []
            cur.append(_quote(a))
    if cur is not None:
        lines.append(" ".join(cur))
    return "\n".join(lines)


def _quote(s: str) -> str:
    """Quote an argument so split_args reads it back unchanged."""
    if s and not any(ch in s for ch in " \t\r\n\"'\\") and s.isprintable():
        return s
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ord(ch) < 32:
            out.append("\\x%02x" % (ord(ch) & 0xFF))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def load(argv_paths: list[str]) -> Config:
    """Build the startup configuration from redis-server style arguments:
    [config-file | -] [--directive value ...]."""
    cfg = Config()
    args = list(argv_paths)
    text_parts: list[tuple[str, str]] = []
    if args and not args[0].startswith("--"):
        path = args.pop(0)
        if path == "-":
            text_parts.append(("stdin", sys.stdin.read()))
        else:
            try:
                with open(path, encoding="utf-8", errors="surrogateescape") as f:
                    text_parts.append((path, f.read()))
            except OSError as e:
                raise ConfigFileError(path, 0, path, f"Fatal error, can't open config file '{path}': {e.strerror}") from None
            cfg.file = os.path.abspath(path)
    if args:
        text_parts.append(("command line", argv_to_text(args)))
    for where, text in text_parts:
        load_text(cfg, text, where)
    return cfg
