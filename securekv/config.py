"""The directive table: one declaration per directive drives the config file
parser, `--directive value` arguments, CONFIG GET/SET/REWRITE, conf/securekv.conf
(tools/gen_conf.py) and the redaction of secrets.

A directive has a name (Redis's where Redis has one), a type that parses and
renders it (bool yes/no, integer with bounds, memory with Redis's units, enum,
string, or a special parser), a default, whether CONFIG SET may change it at
run time, and its documentation. Apply hooks live on the server
(`Server.apply_<name>` methods, resolved by name) so this module never imports
the server. `Config` holds the current values; the server reads hot ones from
plain attributes that apply hooks keep current, never from this table on the
per-command path.

Parsing, error texts, CONFIG GET renderings and CONFIG REWRITE output follow
Redis 7.0.15's config.c (numeric parsing emulates its C integer types).
"""

from __future__ import annotations

import glob as _glob
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from securekv.net.resp import split_args

U64 = 2 ** 64
LLONG_MAX = 2 ** 63 - 1
LLONG_MIN = -(2 ** 63)
INT_MAX = 2 ** 31 - 1
INT_MIN = -(2 ** 31)
UINT_MAX = 2 ** 32 - 1
ULLONG_MAX = U64 - 1


class ConfigError(Exception):
    """A bad directive or value. `message` is Redis's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- C-like number parsing -------------------------------------------------------

_LL_RE = re.compile(r"-?[1-9][0-9]*\Z|0\Z")


def string2ll(s: str) -> int | None:
    """Redis's string2ll: strict decimal, no sign '+', no spaces, no leading zeros."""
    if not _LL_RE.match(s):
        return None
    v = int(s)
    return v if LLONG_MIN <= v <= LLONG_MAX else None


_STRTOLL_RE = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]*)")


def strtoll_full(s: str, base: int = 10) -> int | None:
    """strtoll(s, &end, base) accepted only when *end == '\\0' and errno == 0
    (leading blanks and a sign allowed; the empty string reads as 0)."""
    if s == "":
        return 0
    m = _STRTOLL_RE.match(s)
    digits = m.group(2)
    if base == 8:
        k = 0
        while k < len(digits) and digits[k] < "8":
            k += 1
        digits = digits[:k]
    if not digits or m.start(2) + len(digits) != len(s):
        return None
    v = int(digits, base)
    if m.group(1) == "-":
        v = -v
    if not LLONG_MIN <= v <= LLONG_MAX:
        return None
    return v


def memtoull(s: str) -> int | None:
    """Redis's memtoull: digits with an optional unit b, k (1000), kb (1024),
    m, mb, g, gb (case-insensitive). Overflow saturates, then the unit wraps
    modulo 2**64 as in C. Returns None on error."""
    if s.startswith("-"):
        return None
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        i += 1
    unit = s[i:].lower()
    mul = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
           "g": 1000 ** 3, "gb": 1024 ** 3}.get(unit)
    if mul is None or i >= 128:
        return None
    val = min(int(s[:i]), ULLONG_MAX) if i else 0
    return (val * mul) % U64


def parse_memory(s: str) -> int | None:
    """Bytes from a memory value with Redis's units (None when invalid)."""
    return memtoull(s)


def _signed64(v: int) -> int:
    v %= U64
    return v - U64 if v > LLONG_MAX else v


def format_memory(n: int) -> str:
    """Redis's rewriteConfigFormatMemory: gb/mb/kb when exact."""
    for unit, size in (("gb", 1024 ** 3), ("mb", 1024 ** 2), ("kb", 1024)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def repr_bytes(a: bytes) -> str:
    """Redis's sdscatrepr: a quoted, escaped string (CONFIG REWRITE, MONITOR, CLIENT LIST)."""
    out = ['"']
    for b in a:
        if b == 0x5C or b == 0x22:
            out.append("\\" + chr(b))
        elif b == 10:
            out.append("\\n")
        elif b == 13:
            out.append("\\r")
        elif b == 9:
            out.append("\\t")
        elif b == 7:
            out.append("\\a")
        elif b == 8:
            out.append("\\b")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


def repr_str(s: str) -> str:
    """sdscatrepr of a str value (UTF-8 / surrogateescape bytes)."""
    return repr_bytes(s.encode("utf-8", "surrogateescape"))


# -- value types ---------------------------------------------------------------

class Type:
    kind = "special"

    def parse(self, d: "Directive", s: str) -> Any:
        raise NotImplementedError

    def render(self, d: "Directive", v: Any) -> str:
        return str(v)

    def rewrite(self, d: "Directive", v: Any) -> list[str]:
        """The config-file line(s) for value v (CONFIG REWRITE)."""
        return [f"{d.name} {self.render(d, v)}"]

    def describe(self, d: "Directive") -> str:
        return ""


class Bool(Type):
    kind = "bool"

    def __init__(self, check: Callable[[bool], str | None] | None = None) -> None:
        self.check = check

    def parse(self, d, s):
        t = s.lower()
        if t == "yes":
            v = True
        elif t == "no":
            v = False
        else:
            raise ConfigError("argument must be 'yes' or 'no'")
        if self.check is not None:
            e = self.check(v)
            if e:
                raise ConfigError(e)
        return v

    def render(self, d, v):
        return "yes" if v else "no"

    def describe(self, d):
        return "yes|no"


class Int(Type):
    """A numeric directive with Redis's C-type semantics. `unsigned` bounds are
    compared as unsigned (uint, size_t, unsigned long long); `memory` accepts
    units; `percent` also takes N% (stored negative, as Redis); `octal` is base 8."""
    kind = "integer"

    def __init__(self, lo: int = LLONG_MIN, hi: int = LLONG_MAX, memory: bool = False,
                 unsigned: bool = False, percent: bool = False, octal: bool = False) -> None:
        self.lo, self.hi = lo, hi
        self.memory, self.unsigned, self.percent, self.octal = memory, unsigned, percent, octal
        if memory:
            self.kind = "memory"

    def parse(self, d, s):
        ll = None
        if self.memory:
            v = memtoull(s)
            if v is not None:
                ll = _signed64(v)
        if ll is None and self.percent and len(s) > 1 and s[-1] == "%":
            p = string2ll(s[:-1])
            if p is not None and p >= 0:
                ll = -p
        if ll is None and self.octal:
            ll = strtoll_full(s, 8)
        if ll is None and not (self.memory or self.percent or self.octal):
            ll = string2ll(s)
        if ll is None:
            if self.memory and self.percent:
                raise ConfigError("argument must be a memory or percent value")
            if self.memory:
                raise ConfigError("argument must be a memory value")
            if self.octal:
                raise ConfigError("argument couldn't be parsed as an octal number")
            raise ConfigError("argument couldn't be parsed into an integer")
        if self.unsigned:
            u = ll % U64
            lo, hi = self.lo % U64, self.hi % U64
            if not lo <= u <= hi:
                if self.octal:
                    raise ConfigError(f"argument must be between {lo:o} and {hi:o} inclusive")
                raise ConfigError(f"argument must be between {lo} and {hi} inclusive")
            return u
        if self.percent and ll < 0:
            if ll < self.lo:
                raise ConfigError(f"percentage argument must be less or equal to {-self.lo}")
            return ll
        if not self.lo <= ll <= self.hi:
            raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
        return ll

    def render(self, d, v):
        if self.percent and v < 0:
            return f"{-v}%"
        if self.octal:
            return format(v, "o")
        return str(v)

    def rewrite(self, d, v):
        if self.percent and v < 0:
            return [f"{d.name} {-v}%"]
        if self.memory:
            return [f"{d.name} {format_memory(v)}"]
        return [f"{d.name} {self.render(d, v)}"]

    def describe(self, d):
        if self.memory:
            return "memory (bytes; units k kb m mb g gb)" + (" or N%" if self.percent else "")
        if self.octal:
            return "octal"
        return f"integer {self.lo}..{self.hi}"


class Enum(Type):
    kind = "enum"

    def __init__(self, *values: str, canon: dict | None = None) -> None:
        self.values = values
        self.canon = canon or {}     # a spelling -> the name CONFIG GET shows (relative -> yes)

    def parse(self, d, s):
        t = s.lower()
        if t in self.values:
            return self.canon.get(t, t)
        raise ConfigError(f"argument(s) must be one of the following: {', '.join(self.values)}")

    def describe(self, d):
        return "|".join(self.values)


class String(Type):
    kind = "string"

    def __init__(self, check: Callable[[str], str | None] | None = None,
                 empty_is_null: bool = False) -> None:
        self.check = check
        self.empty_is_null = empty_is_null

    def parse(self, d, s):
        if self.check is not None:
            err = self.check(s)
            if err:
                raise ConfigError(err)
        return s

    def rewrite(self, d, v):
        return [f"{d.name} {repr_str(v)}"]

    def describe(self, d):
        return "string"


class Custom(Type):
    """A directive with its own parser and renderer (save, bind,
    client-output-buffer-limit ...). With argv=True the parser receives the
    list of words (Redis's MULTI_ARG_CONFIG), else one string."""
    kind = "special"

    def __init__(self, parse: Callable, render: Callable[[Any], str],
                 rewrite: Callable | None = None, argv: bool = False) -> None:
        self._parse, self._render, self._rewrite, self.argv = parse, render, rewrite, argv

    def parse(self, d, s):
        return self._parse(s)

    def render(self, d, v):
        return self._render(v)

    def rewrite(self, d, v):
        if self._rewrite is not None:
            return self._rewrite(d, v)
        return [f"{d.name} {self._render(v)}"]


@dataclass
class Directive:
    name: str
    type: Type
    default: Any
    mutable: bool = True
    doc: str = ""
    apply: Callable[[Any, Any], None] | None = None   # unused: hooks are Server.apply_<name>
    secret: bool = False          # never logged, audited or shown in REWRITE diffs
    aliases: tuple = ()
    multi_arg: bool = False       # the file form takes several words (save, bind ...)
    repeat: bool = False          # may appear on many lines, each adds one entry (user ...)
    section: str = "general"
    protected: bool = False       # CONFIG SET needs enable-protected-configs (dir, dbfilename)
    hidden: bool = False          # CONFIG GET only by exact name; not in CONFIG GET *
    compat: bool = False          # accepted for compatibility; no effect yet
    redis: bool = True            # a Redis 7.0 directive (False: securekv's own)
    fixup: Callable[[Any], Any] | None = None   # normalise after validation (hz clamp)
    combine: Callable[[Any, Any, bool], Any] | None = None   # (old, new, first) -> value
    always_rewrite: bool = False  # REWRITE writes it even at its default (Redis's force=1)
    on_set: Callable[[Any], Any] | None = None  # CONFIG SET only: adjust or refuse (apply step)

    def parse(self, s: str) -> Any:
        return self.type.parse(self, s)

    def parse_args(self, args: list[str]) -> Any:
        """Parse the words of a config line or a split CONFIG SET value."""
        t = self.type
        if isinstance(t, Custom) and t.argv:
            v = t._parse(args)
        elif self.multi_arg:
            v = t.parse(self, " ".join(args))
        else:
            v = t.parse(self, args[0])
        if self.fixup is not None:
            v = self.fixup(v)
        return v

    def render(self, v: Any) -> str:
        return self.type.render(self, v)


TABLE: dict[str, Directive] = {}
ALIASES: dict[str, str] = {}

# Redis 7.0 ignores these obsolete directives in a config file (with one argument).
DEPRECATED = ("list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands")

# Directive names a subsystem has given effect to (see `claim`); used at startup
# to refuse non-default values nobody honours yet (cli.check_startup_config).
CLAIMED: set[str] = set()


def claim(*names: str) -> None:
    """Called by a subsystem (ACL, TLS, replication ...) to say it implements these."""
    CLAIMED.update(names)


def directive(name: str, type: Type, default: Any, **kw) -> Directive:
    d = Directive(name, type, default, **kw)
    if name in TABLE or name in ALIASES:
        raise ValueError(f"directive {name} declared twice")
    TABLE[name] = d
    for a in d.aliases:
        ALIASES[a] = name
    return d


def resolve(name: str) -> Directive | None:
    n = name.lower()
    return TABLE.get(ALIASES.get(n, n))


# -- special types ---------------------------------------------------------------

def _words(v: str) -> list[str]:
    """CONFIG SET's split of a multi-word value (sdssplitlen on single spaces)."""
    return v.split(" ") if v else []


def _parse_save(args):
    if len(args) == 1 and args[0] == "":
        args = []
    if len(args) % 2:
        raise ConfigError("Invalid save parameters")
    out = []
    for i in range(0, len(args), 2):
        secs, changes = strtoll_full(args[i]), strtoll_full(args[i + 1])
        if secs is None or changes is None or secs < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        out.append((secs, changes & 0xFFFFFFFF if changes > INT_MAX else changes))
    return out


def _render_save(v) -> str:
    return " ".join(f"{a} {b}" for a, b in v)


def _rewrite_save(d, v):
    if not v:
        return ['save ""']
    return [f"save {a} {b}" for a, b in v]


def _combine_save(old, new, first):
    # In a file, the first `save` line replaces the defaults, later ones add points;
    # `save ""` clears them wherever it stands (setConfigSaveOption); CONFIG SET replaces.
    return new if first or not new else old + new


def _parse_bind(args):
    if len(args) > 16:
        raise ConfigError("Too many bind addresses specified.")
    if len(args) == 1 and args[0] == "":
        return []
    return list(args)


def _rewrite_bind(d, v):
    return [f"bind {' '.join(v) if v else repr_str('')}"]


CLIENT_CLASSES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}
OBUF_ORDER = ("normal", "replica", "pubsub")
OBUF_DEFAULTS = {"normal": (0, 0, 0), "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
                 "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60)}


def _parse_obuf(args):
    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = {}
    for i in range(0, len(args), 4):
        cls = CLIENT_CLASSES.get(args[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(args[i + 1]), memtoull(args[i + 2])
        secs = strtoll_full(args[i + 3]) if args[i + 3] else None
        if args[i + 3] == "":
            secs = 0
        if hard is None or soft is None or secs is None or secs < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit "
                              "configuration.")
        out[cls] = (hard, soft, secs)
    return out


def _combine_obuf(old, new, first):
    merged = dict(old)
    merged.update(new)
    return merged


def _render_obuf(v) -> str:
    parts = []
    for cls, name in (("normal", "normal"), ("replica", "slave"), ("pubsub", "pubsub")):
        h, s, t = v[cls]
        parts.append(f"{name} {h} {s} {t}")
    return " ".join(parts)


def _rewrite_obuf(d, v):
    return [f"client-output-buffer-limit {cls} {format_memory(v[cls][0])} "
            f"{format_memory(v[cls][1])} {v[cls][2]}" for cls in OBUF_ORDER]


def _obuf_forced(v) -> list[bool]:
    return [v[cls] != OBUF_DEFAULTS[cls] for cls in OBUF_ORDER]


NOTIFY_CLASSES = "g$lshzxetd"      # the classes 'A' stands for (Redis's NOTIFY_ALL)
NOTIFY_ORDER = NOTIFY_CLASSES + "nKEm"


def _parse_notify(s: str) -> str:
    flags = set()
    for ch in s:
        if ch not in "Ag$lshzxetdmKEn":
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        flags.update(NOTIFY_CLASSES if ch == "A" else ch)
    return "".join(ch for ch in NOTIFY_ORDER if ch in flags)


def notify_flags_render(s: str) -> str:
    """Redis's keyspaceEventsFlagsToString: A for all classes (then n is not
    shown), the classes in Redis's order, then K, E, m."""
    flags = set(s)
    if "A" in flags:
        flags |= set(NOTIFY_CLASSES)
    out = []
    if set(NOTIFY_CLASSES) <= flags:
        out.append("A")
    else:
        out.extend(ch for ch in NOTIFY_CLASSES + "n" if ch in flags)
    out.extend(ch for ch in "KEm" if ch in flags)
    return "".join(out)




def _parse_oom_values(args):
    if len(args) != 3:
        raise ConfigError("wrong number of arguments")
    out = []
    for a in args:
        v = strtoll_full(a)
        if v is None or not -2000 <= v <= 2000:
            raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 "
                              "and 2000.")
        out.append(v)
    return out


_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity)\Z",
                       re.IGNORECASE)


def _trim_double(x: float) -> str:
    s = "%f" % x
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _parse_percentiles(args):
    if len(args) == 1 and args[0] == "":
        return []
    out = []
    for a in args:
        if not _FLOAT_RE.match(a):
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
        x = float(a)
        if x > 100.0 or x < 0.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit "
                              "between [0.0,100.0]")
        out.append(x)
    return out


def _rewrite_percentiles(d, v):
    return [d.name + (" " + " ".join(_trim_double(x) for x in v) if v else ' ""')]


def _parse_replicaof(args):
    if len(args) != 2:
        raise ConfigError("wrong number of arguments")
    if args[0].lower() == "no" and args[1].lower() == "one":
        return None
    port = strtoll_full(args[1])
    if port is None or not 0 <= port <= 65535:
        raise ConfigError("Invalid master port")
    return (args[0], port)


def _rewrite_replicaof(d, v):
    return [] if v is None else [f"replicaof {v[0]} {v[1]}"]


def _parse_dir(s: str) -> str:
    try:
        os.chdir(s)
    except OSError as e:
        raise ConfigError(e.strerror or str(e)) from None
    return os.getcwd()


def _render_dir(v) -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""


def _basename_check(what: str, kind: str, allow_empty: bool = True):
    def check(s: str) -> str | None:
        if not allow_empty and s == "":
            return f"{what} can't be empty"
        if "/" in s:
            return f"{what} can't be a path, just a {kind}"
        return None
    return check


def _hostname_check(s: str) -> str | None:
    if len(s) >= 256:
        return "Hostnames must be less than 256 characters"
    for ch in s:
        if not (ch.isascii() and (ch.isalnum() or ch in "-.")):
            return "Hostnames may only contain alphanumeric characters, hyphens or dots"
    return None


_TITLE_VARS = {"{title}", "{listen-addr}", "{server-mode}", "{port}", "{tls-port}",
               "{unixsocket}", "{config-file}"}


def _title_check(s: str) -> str | None:
    ok = True
    i = 0
    while i < len(s):
        if s[i] == "{":
            j = s.find("}", i)
            if j < 0 or s[i:j + 1] not in _TITLE_VARS:
                ok = False
                break
            i = j + 1
        else:
            i += 1
    if not ok or not s.strip():
        return "template format is invalid or contains unknown variables"
    return None


def _no_defrag(v: bool) -> str | None:
    if v:
        return ("Active defragmentation cannot be enabled: it requires a Redis server compiled "
                "with a modified Jemalloc like the one shipped by default with the Redis source "
                "distribution")
    return None


def _tls_on_set(v):
    """TLS directives that turn TLS on fail at run time until TLS exists (Redis's
    applyTlsCfg failing without certificates)."""
    if v and "tls" not in CLAIMED:
        raise ConfigError("Unable to update TLS configuration. Check server logs.")
    return v


def _hz_clamp(v: int) -> int:
    return min(max(v, 1), 500)


# -- the table ---------------------------------------------------------------------
# Redis 7.0.15's directives (names, types, bounds, defaults, immutability as
# `CONFIG GET *` and CONFIG SET of that server show them), then securekv's own.

MEM = Int(0, ULLONG_MAX, memory=True, unsigned=True)
COMPAT = ("Accepted for compatibility with redis.conf: CONFIG GET/SET round-trip it, "
          "but it has no effect yet.")


def compat(name: str, type: Type, default: Any, doc: str = "", **kw) -> Directive:
    """A Redis directive of a subsystem securekv does not have yet."""
    text = (doc + " " if doc else "") + COMPAT
    return directive(name, type, default, doc=text, compat=True, **kw)


def _int(lo=0, hi=INT_MAX):
    return Int(lo, hi)


def _size(lo=0, hi=LLONG_MAX, memory=False):
    return Int(lo, hi, memory=memory, unsigned=True)


# network
directive("bind", Custom(_parse_bind, " ".join, _rewrite_bind, argv=True), ["127.0.0.1", "-::1"],
          multi_arg=True, section="network",
          doc="Addresses to listen on, space separated; a leading '-' marks an address as "
              "optional (skipped when the interface does not exist). '*' means every IPv4 "
              "address, '::*' every IPv6 address. securekv's default is loopback only "
              "(Redis's is '* -::*'). CONFIG SET rebinds the listeners at once.")
directive("bind-source-addr", String(empty_is_null=True), "", section="network",
          doc="Source address for outgoing connections (replication). " + COMPAT, compat=True)
directive("port", Int(0, 65535), 6379, section="network",
          doc="TCP port to listen on; 0 disables the TCP listener. CONFIG SET moves the "
              "listeners to the new port at once.")
directive("protected-mode", Bool(), True, section="network",
          doc="While the default user has no password, accept clients only from loopback "
              "addresses and Unix sockets; others get a -DENIED error.")
directive("tcp-backlog", _int(), 511, mutable=False, section="network",
          doc="Backlog of the listen() call (the kernel caps it at somaxconn).")
directive("unixsocket", String(empty_is_null=True), "", mutable=False, section="network",
          doc="Path of a Unix socket to listen on (empty: none).")
directive("unixsocketperm", Int(0, 0o777, unsigned=True, octal=True), 0, mutable=False,
          section="network", doc="Permissions of the Unix socket, in octal (0: umask default).")
directive("timeout", _int(), 0, section="network",
          doc="Close a client idle for this many seconds (0: never).")
directive("tcp-keepalive", _int(), 300, section="network",
          doc="Send TCP keepalives to clients every this many seconds (0: off).")
directive("socket-mark-id", Int(0, UINT_MAX, unsigned=True), 0, mutable=False,
          section="network", doc="SO_MARK of listening sockets. " + COMPAT, compat=True)

# general
directive("daemonize", Bool(), False, mutable=False, section="general",
          doc="Must be no: securekv refuses to start with 'daemonize yes'. Run it in the "
              "foreground under a supervisor (systemd, docker, runit).")
directive("supervised", Enum("upstart", "systemd", "auto", "no"), "no", mutable=False,
          section="general", doc="Supervision interaction (upstart/systemd notify). " + COMPAT,
          compat=True)
directive("pidfile", String(empty_is_null=True), "", mutable=False, section="general",
          doc="Write the process id to this file once listening; removed at shutdown.")
directive("loglevel", Enum("debug", "verbose", "notice", "warning"), "notice", section="general",
          doc="Log verbosity: debug, verbose, notice or warning.")
directive("logfile", String(), "", mutable=False, section="general",
          doc="Log file; empty logs to standard output. Startup fails when it cannot be "
              "opened. Passwords never appear in the log.")
directive("syslog-enabled", Bool(), False, mutable=False, section="general",
          doc="Must be no: syslog is not supported (securekv refuses to start); use logfile.")
directive("syslog-ident", String(), "redis", mutable=False, section="general",
          doc="Syslog identity. " + COMPAT, compat=True)
directive("syslog-facility", Enum("user", "local0", "local1", "local2", "local3", "local4",
                                  "local5", "local6", "local7"), "local0", mutable=False,
          section="general", doc="Syslog facility. " + COMPAT, compat=True)
directive("crash-log-enabled", Bool(), True, section="general", doc="Log a crash report. " + COMPAT,
          compat=True)
directive("crash-memcheck-enabled", Bool(), True, section="general",
          doc="Run a memory check on crash. " + COMPAT, compat=True)
directive("databases", Int(1, INT_MAX), 16, mutable=False, section="general",
          doc="Number of databases (SELECT 0 .. databases-1).")
directive("always-show-logo", Bool(), False, mutable=False, section="general",
          doc="Show the ASCII logo at startup. " + COMPAT, compat=True)
directive("set-proc-title", Bool(), True, mutable=False, section="general",
          doc="Change the process title. " + COMPAT, compat=True)
directive("proc-title-template", String(_title_check), "{title} {listen-addr} {server-mode}",
          section="general", doc="Process title template. " + COMPAT, compat=True)
directive("hz", Int(0, INT_MAX), 10, section="general", fixup=_hz_clamp,
          doc="Server cron frequency: active expiry, client timeouts, statistics. Values "
              "outside 1..500 are clamped.")
directive("dynamic-hz", Bool(), True, section="general",
          doc="Scale hz with the number of clients. " + COMPAT, compat=True)
directive("enable-protected-configs", Enum("no", "yes", "local"), "no", mutable=False,
          section="security",
          doc="Allow CONFIG SET of protected directives (dir, dbfilename): no, yes, or local "
              "(loopback and Unix socket clients only).")
directive("enable-debug-command", Enum("no", "yes", "local"), "no", mutable=False,
          section="security", doc="Allow DEBUG: no, yes, or local (loopback clients only).")
directive("enable-module-command", Enum("no", "yes", "local"), "no", mutable=False,
          section="security", doc="Allow MODULE. Modules are not supported: securekv never "
                                  "loads one.")
directive("ignore-warnings", String(), "", section="general",
          doc="Startup warnings to silence. " + COMPAT, compat=True)
directive("disable-thp", Bool(), True, mutable=False, section="general",
          doc="Disable transparent huge pages. " + COMPAT, compat=True)
directive("shutdown-timeout", _int(), 10, section="general",
          doc="Seconds SHUTDOWN waits for replicas to catch up. " + COMPAT, compat=True)
directive("shutdown-on-sigint", Custom(lambda a: _parse_shutdown_flags(a),
                                       lambda v: " ".join(v), argv=True), ["default"],
          multi_arg=True, section="general", compat=True,
          doc="Shutdown flags on SIGINT: default, or any of save, nosave, now, force. " + COMPAT)
directive("shutdown-on-sigterm", Custom(lambda a: _parse_shutdown_flags(a),
                                        lambda v: " ".join(v), argv=True), ["default"],
          multi_arg=True, section="general", compat=True,
          doc="Shutdown flags on SIGTERM: default, or any of save, nosave, now, force. " + COMPAT)


def _parse_shutdown_flags(args):
    allowed = ("default", "save", "nosave", "now", "force")
    if not args or (len(args) == 1 and args[0] == ""):
        raise ConfigError("argument(s) must be one of the following: " + ", ".join(allowed))
    out = []
    for a in args:
        t = a.lower()
        if t not in allowed:
            raise ConfigError("argument(s) must be one of the following: " + ", ".join(allowed))
        if t not in out:
            out.append(t)
    if "default" in out and len(out) > 1:
        out.remove("default")
    order = [f for f in allowed if f in out]
    return order


# limits and clients
directive("maxclients", Int(1, UINT_MAX, unsigned=True), 10000, section="clients",
          doc="Maximum simultaneous clients; more get '-ERR max number of clients reached'.")
directive("proto-max-bulk-len", Int(1024 * 1024, LLONG_MAX, memory=True), 512 * 1024 * 1024,
          section="limits", doc="Largest bulk string a client may send.")
directive("client-query-buffer-limit", _size(1024 * 1024, LLONG_MAX, memory=True),
          1024 * 1024 * 1024, section="limits",
          doc="Largest amount of unparsed input buffered for one client; a client past it "
              "is disconnected.")
directive("client-output-buffer-limit",
          Custom(_parse_obuf, _render_obuf, _rewrite_obuf, argv=True), dict(OBUF_DEFAULTS),
          multi_arg=True, combine=_combine_obuf, section="limits",
          doc="<class> <hard> <soft> <soft-seconds>: disconnect a client whose pending output "
              "passes <hard>, or stays above <soft> for <soft-seconds>. Classes: normal, "
              "replica (alias slave), pubsub; 0 disables a limit. Several classes may be given "
              "on one line; the others keep their values.")
directive("maxmemory-clients", Int(-100, LLONG_MAX, memory=True, percent=True), 0,
          section="clients", compat=True,
          doc="Evict clients when their buffers together pass this (bytes, or N% of "
              "maxmemory; 0: off). " + COMPAT)
directive("tracking-table-max-keys", _size(), 1000000, section="clients", compat=True,
          doc="Keys remembered for client-side caching. " + COMPAT)

# security
directive("requirepass", String(empty_is_null=True), "", secret=True, section="security",
          doc="Password of the default user (Redis's requirepass). Never written to logs.")
directive("aclfile", String(), "", mutable=False, section="security",
          doc="File with ACL users (ACL LOAD / ACL SAVE). " + COMPAT, compat=True)
directive("acllog-max-len", Int(0, LLONG_MAX), 128, section="security",
          doc="Entries kept in the ACL LOG.")
directive("acl-pubsub-default", Enum("allchannels", "resetchannels"), "resetchannels",
          section="security",
          doc="Channel permissions of new users: resetchannels (none) or allchannels.")
directive("user", Custom(lambda a: list(a), lambda v: "", argv=True), [], repeat=True,
          hidden=True, section="security",
          doc="user <name> [rules ...]: declare an ACL user (repeatable). securekv refuses to "
              "start with user lines until the ACL subsystem gives them effect.")
directive("acl-password-hash", Enum("argon2id", "sha256"), "argon2id", section="security",
          redis=False,
          doc="What new ACL passwords (>password, requirepass) are stored as: argon2id, or "
              "sha256 as Redis does. #<sha256> rules are accepted either way.")
directive("acl-argon2-time-cost", Int(1, 100), 2, section="security", redis=False,
          doc="argon2id iterations for new password hashes.")
directive("acl-argon2-memory-cost", Int(8, 4194304), 19456, section="security", redis=False,
          doc="argon2id memory in KiB for new password hashes.")
directive("acl-argon2-parallelism", Int(1, 64), 1, section="security", redis=False,
          doc="argon2id lanes for new password hashes.")
directive("auth-max-failures", Int(0, INT_MAX), 10, section="security", redis=False,
          doc="Failed authentications allowed per client address (and per username) within "
              "auth-failure-window before further attempts are refused for auth-lockout-time "
              "seconds; 0 disables throttling.")
directive("auth-failure-window", Int(1, INT_MAX), 60, section="security", redis=False,
          doc="Seconds over which failed authentications are counted.")
directive("auth-lockout-time", Int(0, INT_MAX), 60, section="security", redis=False,
          doc="Seconds an address (or username) is refused after too many failures.")
directive("acl-filter-keyspace", Bool(), True, section="security", redis=False,
          doc="KEYS, SCAN and RANDOMKEY show a restricted user only the keys its read "
              "patterns allow (Redis shows every key name). Users with allkeys are unaffected.")
directive("rename-command", Custom(lambda a: list(a), lambda v: "", argv=True), [], repeat=True,
          hidden=True, section="security",
          doc="rename-command <command> <new-name>: rename a command; an empty new name "
              "disables it (repeatable).")
directive("tenant", Custom(lambda a: list(a), lambda v: "", argv=True), [], repeat=True,
          hidden=True, section="security", redis=False,
          doc="tenant <name> [maxmemory <bytes>] [maxmemory-policy <policy>] [maxclients <n>] "
              "[maxkeys <n>] [maxops <per-second>] [user <username>] ...: declare a tenant "
              "with its own keyspace, quota and limits (repeatable; see TENANT HELP). A tenant "
              "has its own databases, pub/sub channels and statistics; its users (`user`, or "
              "the ACL rule tenant=<name>) see nothing else. Options, all optional: maxmemory "
              "is the tenant's quota on its dataset estimate (memory units: 100mb, 1gb; 0, the "
              "default: no quota, the tenant shares the global maxmemory pool); "
              "maxmemory-policy is how it evicts at its quota (the maxmemory-policy names; "
              "default: the global maxmemory-policy; noeviction refuses denyoom commands "
              "with an -OOM error naming the tenant); maxclients caps its connections, "
              "maxkeys refuses commands that would add a key once it holds that many, maxops "
              "caps its commands per second (each 0, the default: unlimited); user binds an "
              "ACL user to it (repeatable). The global maxmemory applies on top: when it is "
              "exceeded only tenants without a quota and the writing tenant are evicted, "
              "never a tenant under its quota (a quota is a reservation). Example: tenant "
              "acme maxmemory 100mb maxmemory-policy allkeys-lru maxkeys 1000000 user acme-app. "
              "CONFIG REWRITE writes the running tenants back as tenant lines.")

# persistence
directive("dir", Custom(_parse_dir, _render_dir, lambda d, v: [f"dir {repr_str(_render_dir(v))}"]),
          ".", protected=True, section="persistence",
          always_rewrite=True,
          doc="Working directory (dump, AOF and audit files). The server changes into it; "
              "CONFIG GET shows the absolute path. Protected: see enable-protected-configs.")
directive("dbfilename", String(_basename_check("dbfilename", "filename")), "dump.rdb",
          protected=True, section="persistence", doc="RDB file name, inside dir.")
directive("save", Custom(_parse_save, _render_save, _rewrite_save, argv=True),
          [(3600, 1), (300, 100), (60, 10000)], multi_arg=True, combine=_combine_save,
          section="persistence", always_rewrite=True,
          doc="Snapshot when at least <changes> writes happened in <seconds>: pairs of "
              "<seconds> <changes>; save \"\" disables snapshots.")
directive("stop-writes-on-bgsave-error", Bool(), True, section="persistence",
          doc="Refuse writes after a failed background save.")
directive("rdbcompression", Bool(), True, section="persistence", doc="LZF-compress RDB strings.")
directive("rdbchecksum", Bool(), True, mutable=False, section="persistence",
          doc="Write and check the RDB CRC64 checksum.")
directive("rdb-del-sync-files", Bool(), False, section="persistence", compat=True,
          doc="Delete RDB files used only for replication. " + COMPAT)
directive("rdb-save-incremental-fsync", Bool(), True, section="persistence", compat=True,
          doc="fsync the RDB every 4 MB while saving. " + COMPAT)
directive("sanitize-dump-payload", Enum("no", "yes", "clients"), "no", section="persistence",
          doc="Deep-check RESTORE payloads and RDB files: no, yes or clients.")
directive("appendonly", Bool(), False, section="persistence", doc="Enable the append-only file.")
directive("appendfilename", String(_basename_check("appendfilename", "filename", False)),
          "appendonly.aof", mutable=False, section="persistence",
          doc="Base name of the AOF files.")
directive("appenddirname", String(_basename_check("appenddirname", "dirname", False)),
          "appendonlydir", mutable=False, section="persistence",
          doc="Directory of the multi-part AOF, inside dir.")
directive("appendfsync", Enum("everysec", "always", "no"), "everysec", section="persistence",
          doc="fsync policy of the AOF: always (no acknowledged write lost), everysec (at "
              "most about a second lost), no (the kernel decides).")
directive("no-appendfsync-on-rewrite", Bool(), False, section="persistence", compat=True,
          doc="Skip fsync while a rewrite runs. " + COMPAT)
directive("auto-aof-rewrite-percentage", _int(), 100, section="persistence", compat=True,
          doc="Rewrite the AOF when it grew by this percentage (0: never). " + COMPAT)
directive("auto-aof-rewrite-min-size", Int(0, LLONG_MAX, memory=True), 64 * 1024 * 1024,
          section="persistence", compat=True,
          doc="Smallest AOF that is rewritten automatically. " + COMPAT)
directive("aof-load-truncated", Bool(), True, section="persistence",
          doc="Load a truncated AOF (logging it) instead of refusing to start.")
directive("aof-use-rdb-preamble", Bool(), True, section="persistence",
          doc="Start rewritten AOFs with an RDB preamble.")
directive("aof-timestamp-enabled", Bool(), False, section="persistence",
          doc="Write a '#TS:<unix time>' annotation line into the AOF whenever the second "
              "changes between writes (and at the top of a rewritten RESP base); loading "
              "skips them.")
directive("aof-rewrite-incremental-fsync", Bool(), True, section="persistence", compat=True,
          doc="fsync every 4 MB during AOF rewrites. " + COMPAT)
directive("aof-disable-auto-gc", Bool(), False, section="persistence", compat=True,
          doc="Keep history AOF files. " + COMPAT)

# replication (all for compatibility until the replication issue)
directive("replicaof", Custom(_parse_replicaof, lambda v: "" if v is None else f"{v[0]} {v[1]}",
                              _rewrite_replicaof, argv=True), None, mutable=False,
          multi_arg=True, aliases=("slaveof",), section="replication", always_rewrite=True,
          doc="replicaof <host> <port>: start as a replica of that master (use REPLICAOF at "
              "run time). securekv refuses to start with it until replication is implemented.")
directive("masterauth", String(empty_is_null=True), "", secret=True, section="replication",
          compat=True, doc="Password used to authenticate to the master. " + COMPAT)
directive("masteruser", String(empty_is_null=True), "", secret=True, section="replication",
          compat=True, doc="User name used to authenticate to the master. " + COMPAT)
for _name, _alias, _type, _def, _doc in (
        ("replica-serve-stale-data", "slave-serve-stale-data", Bool(), True,
         "Serve (possibly stale) data while the link to the master is down."),
        ("replica-read-only", "slave-read-only", Bool(), True, "Replicas refuse writes."),
        ("replica-lazy-flush", "slave-lazy-flush", Bool(), False,
         "Free the old dataset in the background on full sync."),
        ("replica-ignore-maxmemory", "slave-ignore-maxmemory", Bool(), True,
         "Replicas do not evict on their own."),
        ("replica-priority", "slave-priority", _int(), 100, "Priority for promotion (0: never)."),
        ("replica-announce-ip", "slave-announce-ip", String(empty_is_null=True), "",
         "Address announced to the master."),
        ("replica-announce-port", "slave-announce-port", Int(0, 65535), 0,
         "Port announced to the master."),
        ("repl-ping-replica-period", "repl-ping-slave-period", _int(1), 10,
         "Seconds between pings to replicas."),
        ("min-replicas-to-write", "min-slaves-to-write", _int(), 0,
         "Refuse writes with fewer good replicas than this (0: off)."),
        ("min-replicas-max-lag", "min-slaves-max-lag", _int(), 10,
         "Lag in seconds for a replica to count as good."),
        ("cluster-replica-validity-factor", "cluster-slave-validity-factor", _int(), 10,
         "Cluster: replica data age factor for failover."),
        ("cluster-replica-no-failover", "cluster-slave-no-failover", Bool(), False,
         "Cluster: never fail over this replica."),
):
    compat(_name, _type, _def, _doc, aliases=(_alias,),
           section="cluster" if _name.startswith("cluster") else "replication")
for _name, _type, _def, _doc in (
        ("replica-announced", Bool(), True, "Sentinel lists this replica."),
        ("repl-diskless-sync", Bool(), True, "Send the RDB to replicas over the socket."),
        ("repl-diskless-sync-delay", _int(), 5, "Seconds to wait for more replicas."),
        ("repl-diskless-sync-max-replicas", _int(), 0, "Start early with this many replicas."),
        ("repl-diskless-load", Enum("disabled", "on-empty-db", "swapdb"), "disabled",
         "How a replica loads the RDB from the master."),
        ("repl-timeout", _int(1), 60, "Replication timeout in seconds."),
        ("repl-disable-tcp-nodelay", Bool(), False, "Disable TCP_NODELAY on the replica link."),
        ("repl-backlog-size", Int(1, LLONG_MAX, memory=True), 1024 * 1024,
         "Size of the replication backlog (CONFIG SET raises it to at least 16kb)."),
        ("repl-backlog-ttl", Int(0, LLONG_MAX), 3600,
         "Free the backlog after this many seconds without replicas."),
        ("replica-ignore-disk-write-errors", Bool(), False,
         "Keep replicating after a disk write error."),
        ("propagation-error-behavior", Enum("ignore", "panic", "panic-on-replicas"), "ignore",
         "What to do when a propagated command fails on a replica."),
):
    compat(_name, _type, _def, _doc, section="replication")

TABLE["repl-backlog-size"].on_set = lambda v: max(v, 16 * 1024)

# memory and eviction
directive("maxmemory", MEM, 0, section="memory",
          doc="Memory limit for data (0: none). When it is reached, maxmemory-policy decides.")
directive("maxmemory-policy", Enum("volatile-lru", "volatile-lfu", "volatile-random",
                                   "volatile-ttl", "allkeys-lru", "allkeys-lfu",
                                   "allkeys-random", "noeviction"),
          "noeviction", section="memory",
          doc="Eviction policy at maxmemory: noeviction refuses writes with -OOM.")
directive("maxmemory-samples", Int(1, INT_MAX), 5, section="memory",
          doc="Keys sampled per eviction.")
directive("maxmemory-eviction-tenacity", Int(0, 100), 10, section="memory",
          doc="How hard one eviction cycle tries (0..100).")
directive("lfu-log-factor", _int(), 10, section="memory", doc="LFU counter logarithm factor.")
directive("lfu-decay-time", _int(), 1, section="memory", doc="LFU counter decay in minutes.")
directive("active-expire-effort", Int(1, 10), 1, section="memory",
          doc="Effort of the active expiry cycle (1..10).")
for _name in ("lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del",
              "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush"):
    compat(_name, Bool(), False, "Free memory in a background thread.", section="memory")
directive("oom-score-adj", Enum("no", "yes", "relative", "absolute", canon={"relative": "yes"}),
          "no",
          section="memory", compat=True,
          doc="Set the process oom_score_adj: no, yes (relative), relative or absolute. "
              + COMPAT)
directive("oom-score-adj-values",
          Custom(_parse_oom_values, lambda v: " ".join(map(str, v)), argv=True), [0, 200, 800],
          multi_arg=True, section="memory", compat=True,
          doc="oom_score_adj of master, replica and background child. " + COMPAT)
directive("jemalloc-bg-thread", Bool(), True, section="memory", compat=True,
          doc="jemalloc background purging. " + COMPAT)
directive("activerehashing", Bool(), True, section="memory", compat=True,
          doc="Incremental rehashing in the cron. " + COMPAT)
directive("activedefrag", Bool(_no_defrag), False, section="memory",
          doc="Active defragmentation: not available in securekv, so 'yes' is refused (as by "
              "a Redis built without jemalloc's defrag support).")
for _name, _type, _def in (
        ("active-defrag-ignore-bytes", _size(1, LLONG_MAX, memory=True), 100 * 1024 * 1024),
        ("active-defrag-threshold-lower", Int(0, 1000), 10),
        ("active-defrag-threshold-upper", Int(0, 1000), 100),
        ("active-defrag-cycle-min", Int(1, 99), 1),
        ("active-defrag-cycle-max", Int(1, 99), 25),
        ("active-defrag-max-scan-fields", Int(1, LLONG_MAX), 1000),
):
    compat(_name, _type, _def, "Active defragmentation tuning.", section="memory")

# threads and CPU affinity
compat("io-threads", Int(1, 128), 1, "I/O threads.", mutable=False, section="threads")
compat("io-threads-do-reads", Bool(), False, "Read and parse in I/O threads.", mutable=False,
       section="threads")
for _name in ("server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist"):
    compat(_name, String(empty_is_null=True), "", "CPU affinity list.", mutable=False,
           section="threads")

# scripting and limits of commands
directive("busy-reply-threshold", Int(0, LLONG_MAX), 5000, aliases=("lua-time-limit",),
          section="scripting",
          doc="Milliseconds a script or function may run before other clients get -BUSY.")

# slow log and latency
directive("slowlog-log-slower-than", Int(-1, LLONG_MAX), 10000, section="slowlog",
          doc="Log commands slower than this many microseconds (-1: off, 0: all).")
directive("slowlog-max-len", Int(0, LLONG_MAX), 128, section="slowlog",
          doc="Entries kept in the slow log.")
directive("latency-monitor-threshold", Int(0, LLONG_MAX), 0, section="latency",
          doc="Record events slower than this many milliseconds (0: off).")
directive("latency-tracking", Bool(), True, section="latency",
          doc="Track per-command latency percentiles (INFO latencystats).")
directive("latency-tracking-info-percentiles",
          Custom(_parse_percentiles, lambda v: " ".join(_trim_double(x) for x in v),
                 _rewrite_percentiles, argv=True), [50.0, 99.0, 99.9], multi_arg=True,
          section="latency", always_rewrite=True,
          doc="Percentiles INFO latencystats reports.")

# keyspace events and data structures
directive("notify-keyspace-events", Custom(_parse_notify, notify_flags_render,
                                           lambda d, v: [f"{d.name} {repr_str(v)}"]), "",
          section="general",
          doc="Keyspace notification classes: K keyspace, E keyevent, g generic, $ string, "
              "l list, s set, h hash, z zset, x expired, e evicted, t stream, m key miss, "
              "d module, n new key, A alias for g$lshzxetd. Empty: off.")
for _name, _alias, _type, _def in (
        ("hash-max-listpack-entries", "hash-max-ziplist-entries", _size(), 512),
        ("hash-max-listpack-value", "hash-max-ziplist-value", _size(memory=True), 64),
        ("zset-max-listpack-entries", "zset-max-ziplist-entries", _size(), 128),
        ("zset-max-listpack-value", "zset-max-ziplist-value", _size(memory=True), 64),
        ("list-max-listpack-size", "list-max-ziplist-size", Int(INT_MIN, INT_MAX), -2),
):
    directive(_name, _type, _def, aliases=(_alias,), section="data",
              doc="Small-encoding threshold (OBJECT ENCODING reports listpack below it).")
directive("set-max-intset-entries", _size(), 512, section="data",
          doc="Largest set of integers kept as an intset.")
directive("list-compress-depth", _int(), 0, section="data", compat=True,
          doc="Quicklist nodes left uncompressed at each end (0: none compressed). " + COMPAT)
directive("hll-sparse-max-bytes", _size(memory=True), 3000, section="data",
          doc="Largest sparse HyperLogLog representation.")
directive("stream-node-max-bytes", _size(memory=True), 4096, section="data",
          doc="Largest stream listpack node.")
directive("stream-node-max-entries", Int(0, LLONG_MAX), 100, section="data",
          doc="Most entries in a stream listpack node.")

# cluster (not supported: accepted so a redis.conf loads)
directive("cluster-enabled", Bool(), False, mutable=False, section="cluster",
          doc="Must be no: cluster mode is not supported (securekv refuses to start).")
for _name, _type, _def, _mut in (
        ("cluster-config-file", String(), "nodes.conf", False),
        ("cluster-port", Int(0, 65535), 0, False),
        ("cluster-node-timeout", Int(0, LLONG_MAX), 15000, True),
        ("cluster-migration-barrier", _int(), 1, True),
        ("cluster-allow-replica-migration", Bool(), True, True),
        ("cluster-require-full-coverage", Bool(), True, True),
        ("cluster-allow-reads-when-down", Bool(), False, True),
        ("cluster-allow-pubsubshard-when-down", Bool(), True, True),
        ("cluster-link-sendbuf-limit", MEM, 0, True),
        ("cluster-announce-ip", String(empty_is_null=True), "", True),
        ("cluster-announce-hostname", String(_hostname_check, empty_is_null=True), "", True),
        ("cluster-announce-port", Int(0, 65535), 0, True),
        ("cluster-announce-bus-port", Int(0, 65535), 0, True),
        ("cluster-announce-tls-port", Int(0, 65535), 0, True),
        ("cluster-preferred-endpoint-type", Enum("ip", "hostname", "unknown-endpoint"), "ip",
         True),
):
    compat(_name, _type, _def, "Cluster mode.", mutable=_mut, section="cluster")

# TLS (given effect by securekv/tlsserver.py with the tls/ library). CONFIG SET of
# any of these rebuilds the context for new connections while TLS is in use.
directive("tls-port", Int(0, 65535), 0, section="tls", on_set=_tls_on_set,
          doc="TLS port (0: none). The plaintext `port` and `tls-port` may listen at once; "
              "`port 0` leaves TLS only. CONFIG SET moves the TLS listener.")
for _name, _type, _def, _secret, _doc in (
        ("tls-cert-file", String(empty_is_null=True), "", False,
         "Server certificate (PEM, may hold the chain). Checked at startup: readable, "
         "currently valid, matching tls-key-file."),
        ("tls-key-file", String(empty_is_null=True), "", False, "Server private key (PEM)."),
        ("tls-key-file-pass", String(empty_is_null=True), "", True,
         "Passphrase of an encrypted tls-key-file."),
        ("tls-client-cert-file", String(empty_is_null=True), "", False,
         "Certificate for outbound TLS links (replication); tls-cert-file when unset."),
        ("tls-client-key-file", String(empty_is_null=True), "", False,
         "Private key of tls-client-cert-file."),
        ("tls-client-key-file-pass", String(empty_is_null=True), "", True,
         "Passphrase of an encrypted tls-client-key-file."),
        ("tls-dh-params-file", String(empty_is_null=True), "", False,
         "DH parameters for DHE ciphers (optional; ECDHE needs none)."),
        ("tls-ca-cert-file", String(empty_is_null=True), "", False,
         "CA certificates (PEM) that verify client certificates; required unless "
         "tls-auth-clients is no."),
        ("tls-ca-cert-dir", String(empty_is_null=True), "", False,
         "A directory of hashed CA certificates (c_rehash), instead of or besides "
         "tls-ca-cert-file."),
        ("tls-protocols", String(empty_is_null=True), "", False,
         "Protocols to enable: 'TLSv1.2', 'TLSv1.3' or both (the default). TLSv1 and TLSv1.1 "
         "are refused."),
        ("tls-ciphers", String(empty_is_null=True), "", False,
         "TLS 1.2 cipher list (OpenSSL syntax). NULL, EXPORT, RC4, 3DES, anonymous and "
         "non-forward-secret ciphers are always excluded; the default is ECDHE/DHE with "
         "AES-GCM or ChaCha20-Poly1305."),
        ("tls-ciphersuites", String(empty_is_null=True), "", False,
         "TLS 1.3 suites, colon separated (OpenSSL's default when empty)."),
        ("tls-auth-clients", Enum("no", "yes", "optional"), "yes", False,
         "Client certificates: yes (required), optional (verified when sent), no."),
        ("tls-prefer-server-ciphers", Bool(), False, False,
         "Prefer the server's cipher order over the client's."),
        ("tls-session-caching", Bool(), True, False,
         "TLS session resumption (server-side cache and tickets)."),
        ("tls-session-cache-size", _int(), 20 * 1024, False,
         "Sessions kept in the cache."),
        ("tls-session-cache-timeout", _int(), 300, False,
         "Seconds a cached session stays valid."),
):
    directive(_name, _type, _def, secret=_secret, section="tls", doc=_doc)
for _name in ("tls-replication", "tls-cluster"):
    compat(_name, Bool(), False, "TLS for replication / cluster bus links.", section="tls",
           on_set=_tls_on_set)
directive("tls-handshake-timeout", Int(1, 3600), 10, section="tls", redis=False,
          doc="Seconds a TLS handshake may take before the connection is dropped (slow or "
              "half-open handshakes never block other clients).")
directive("tls-handshake-failure-audit-rate", Int(0, 1000000), 10, section="tls", redis=False,
          doc="Most tls.handshake-failure audit records per second (peer address and reason: "
              "plaintext, timeout, bad certificate ...); failures beyond it are counted and "
              "summarised in one tls.handshake-failure-suppressed record, so a flood of "
              "garbage connections cannot flood the audit log. 0: none recorded (INFO tls "
              "still counts them).")
directive("tls-watch-interval", Int(0, 86400), 10, section="tls", redis=False,
          doc="Seconds between checks of the certificate, key and CA files for changes "
              "(rotation on disk). Changed files are validated before use; a bad one is "
              "refused and logged and the running context kept. 0: no checks.")
directive("tls-auth-clients-user", Enum("off", "cn", "san-uri", "san-email", "map"), "off",
          section="tls", redis=False,
          doc="Log a client in as the ACL user its verified certificate names: off, CN, "
              "SAN-URI (user:NAME, or the whole URI), SAN-EMAIL, or map (rules from "
              "tls-auth-clients-user-map). A name that is no enabled user falls back to the "
              "normal AUTH rules.")
directive("tls-auth-clients-user-map", String(empty_is_null=True), "", section="tls",
          redis=False,
          doc="Mapping file for tls-auth-clients-user map: lines 'FIELD PATTERN USER', FIELD "
              "one of CN SAN-URI SAN-EMAIL SAN-DNS SUBJECT, PATTERN a glob; the first match "
              "wins.")

# audit log (given effect by securekv/commands/audit.py with securekv/audit/)
AUDIT_CLASSES = ("connection", "auth", "acl", "config", "tenant", "admin", "audit", "write",
                 "command")


def _audit_events_check(v: str) -> str | None:
    bad = [w for w in v.split() if w not in AUDIT_CLASSES and w != "default"]
    if bad:
        return f"unknown audit event class '{bad[0]}' (known: {' '.join(AUDIT_CLASSES)})"
    return None


def _audit_scope_check(v: str) -> str | None:
    for w in v.split():
        kind, _, name = w.partition(":")
        if kind not in ("user", "tenant") or not name:
            return f"audit-data-scope entries are user:NAME or tenant:NAME, not '{w}'"
    return None


directive("audit-enabled", Bool(), True, section="audit", redis=False,
          doc="Write the tamper-evident audit log (JSON Lines, hash-chained). CONFIG SET "
              "audit-enabled no writes an audit.stop record first.")
directive("audit-file", String(lambda s: None if s else "audit-file can't be empty"),
          "audit.jsonl", section="audit", redis=False, protected=True,
          doc="The audit log, relative to dir unless absolute. Opened append-only with mode "
              "0600. Protected (a path the server writes to): see enable-protected-configs.")
directive("audit-events", String(_audit_events_check),
          "connection auth acl config tenant admin audit", section="audit", redis=False,
          doc="Event classes recorded: connection (open/close with reason), auth (success, "
              "failure, throttling), acl (denials, ACL SETUSER/DELUSER/LOAD/SAVE), config "
              "(CONFIG SET/REWRITE/RESETSTAT, secrets redacted), tenant (tenant changes), admin "
              "(commands in @admin or @dangerous: FLUSHALL, SHUTDOWN, DEBUG, CLIENT KILL, KEYS, "
              "REPLICAOF ...), audit (audit start/stop/settings, write failures), and the "
              "data-access classes write (every write command) and command (every command), "
              "limited by audit-data-scope.")
directive("audit-data-scope", String(_audit_scope_check), "", section="audit", redis=False,
          doc="Limit the write/command classes to these users and tenants: a space-separated "
              "list of user:NAME and tenant:NAME (empty: everyone).")
directive("audit-keys", Enum("record", "hash", "omit"), "record", section="audit", redis=False,
          doc="Key names in records: record (escaped losslessly), hash (SHA-256, keyed with "
              "the audit HMAC key when set) or omit.")
directive("audit-fsync", Enum("always", "everysec"), "everysec", section="audit", redis=False,
          doc="fsync the audit file after every batch (always) or about once a second "
              "(everysec). Writes and fsyncs happen in a background thread.")
directive("audit-on-failure", Enum("fail-closed", "fail-open"), "fail-closed", section="audit",
          redis=False,
          doc="When records cannot be written (disk full, file or directory removed, I/O "
              "error): fail-closed refuses commands that would be audited (-MISCONF) until "
              "writing recovers; fail-open keeps serving and counts dropped records. Both log "
              "the failure and show it in INFO audit.")
directive("audit-hmac-key-file", String(empty_is_null=True), "", section="audit", redis=False,
          protected=True,
          doc="A file holding a secret key (at least 16 bytes): the chain becomes "
              "HMAC-SHA-256, so only the key holder can recompute it. Changing it rotates the "
              "file.")
directive("audit-rotate-size", _size(0, LLONG_MAX, memory=True), 100 * 1024 * 1024,
          section="audit", redis=False,
          doc="Rotate the audit file when it reaches this size (0: never). Rotated files are "
              "named <audit-file>.<UTC time>-<last sequence number>.")
directive("audit-rotate-interval", Int(0, INT_MAX), 86400, section="audit", redis=False,
          doc="Rotate the audit file when it is this many seconds old (0: never).")
directive("audit-max-pending-records", Int(1, INT_MAX), 100000, section="audit", redis=False,
          doc="Most records waiting for the writer thread (a bound on memory when audited "
              "commands outrun the disk). Beyond it audit-on-failure applies: fail-closed "
              "refuses audited commands (-MISCONF) until the backlog is down to half; "
              "fail-open drops and counts records. Either way an audit.failure record tells "
              "what happened once the backlog drains.")

# Redis's hidden directives (CONFIG GET by exact name only)
for _name, _type, _def in (
        ("rdb-key-save-delay", Int(INT_MIN, INT_MAX), 0),
        ("key-load-delay", Int(INT_MIN, INT_MAX), 0),
        ("use-exit-on-panic", Bool(), False),
        ("watchdog-period", _int(), 0),
        ("loading-process-events-interval-bytes", Int(1024, INT_MAX), 2 * 1024 * 1024),
):
    compat(_name, _type, _def, "Testing aid.", hidden=True, section="testing")

# securekv's own directives
directive("active-expire-enabled", Bool(), True, section="general", redis=False,
          doc="Run the active expiry cycle (DEBUG SET-ACTIVE-EXPIRE toggles it).")
directive("scan-max-cursors", Int(1, 2 ** 31 - 1), 64, section="general", redis=False,
          doc="SCAN cursors kept alive at once (each holds the key list of its database; "
              "the least recently used is dropped and its scan restarts from the start).")
directive("random-reply-max-count", Int(1, 2 ** 63 - 1), 1_000_000, section="general", redis=False,
          doc="The largest number of draws SRANDMEMBER, HRANDFIELD and ZRANDMEMBER make for a "
              "negative count (repeats allowed, so the reply's size is set by the count, not by "
              "the data). Redis 7.0 has no limit and runs out of memory on a count like "
              "-9223372036854775807; past this limit the command is refused.")


class Config:
    """Current directive values, by canonical name."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {n: _copy(d.default) for n, d in TABLE.items()}
        self.source: dict[str, str] = {}     # name -> where it was last set
        self.file: str | None = None          # absolute path of the config file

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str) -> Any:
        return self.values[name]

    def render(self, name: str) -> str:
        return TABLE[name].render(self.values[name])

    def set_from_text(self, name: str, args: list[str], origin: str) -> None:
        """Apply one config-file line (`name` lower case, `args` its words)."""
        d = resolve(name)
        if d is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if d.repeat:
            if d.name == "user" and not args:
                raise ConfigError("Bad directive or wrong number of arguments")
            if d.name == "rename-command":
                _check_rename(args)
            self.values[d.name] = self.values[d.name] + [d.parse_args(args)]
            self.source[d.name] = origin
            return
        if not d.multi_arg and len(args) != 1:
            raise ConfigError("wrong number of arguments")
        if d.multi_arg and len(args) == 1 and args[0]:
            # Redis splits a lone argument of a multi-arg directive on spaces, so
            # `--save "3600 1"` and `--client-output-buffer-limit "normal 1mb 0 0"` work.
            words = split_args(args[0].encode("utf-8", "surrogateescape"))
            if words is None:
                raise ConfigError("Unbalanced quotes in configuration line")
            args = [w.decode("utf-8", "surrogateescape") for w in words]
        v = d.parse_args(args)
        if d.combine is not None:
            v = d.combine(self.values[d.name], v, d.name not in self.source)
        self.values[d.name] = v
        self.source[d.name] = origin

    def set_value(self, name: str, value: str) -> bool:
        """CONFIG SET of one directive (validated, not applied). True if it changed."""
        d = TABLE[name]
        args = _words(value) if d.multi_arg else [value]
        v = d.parse_args(args)
        if d.combine is not None:
            v = d.combine(self.values[name], v, True)
        if d.on_set is not None:
            v = d.on_set(v)
        if v == self.values[name] and name != "dir":
            return False
        self.values[name] = v
        self.source[name] = "CONFIG SET"
        return True


def _copy(v):
    if isinstance(v, list):
        return list(v)
    if isinstance(v, dict):
        return dict(v)
    return v


def _check_rename(args):
    if len(args) != 2:
        raise ConfigError("Bad directive or wrong number of arguments")
    import securekv.commands  # noqa: F401  (registers every command)
    from securekv.commands.table import COMMANDS
    if args[0].lower().encode("utf-8", "surrogateescape") not in COMMANDS:
        raise ConfigError("No such command in rename-command")


# -- the config file ---------------------------------------------------------------

class ConfigFileError(Exception):
    """Startup stops: Redis's *** FATAL CONFIG FILE ERROR *** report (line_no None:
    a check after reading, reported without a line, as Redis)."""

    def __init__(self, where: str, line_no: int | None, line: str, reason: str) -> None:
        super().__init__(reason)
        self.where, self.line_no, self.line, self.reason = where, line_no, line, reason

    def report(self, version: str) -> str:
        out = f"\n*** FATAL CONFIG FILE ERROR (Redis {version}) ***\n"
        if self.line_no is not None:
            out += f"Reading the configuration file, at line {self.line_no}\n>>> '{self.line}'\n"
        return out + f"{self.reason}\n"


class ConfigOpenError(Exception):
    """A config (or include) file can't be opened: Redis logs one line and exits 1."""

    def __init__(self, path: str, strerror: str) -> None:
        super().__init__(strerror)
        self.path, self.strerror = path, strerror

    def report(self) -> str:
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + \
            ".%03d" % (int(now * 1000) % 1000)
        return (f"{os.getpid()}:C {stamp} # Fatal error, can't open config file "
                f"'{self.path}': {self.strerror}\n")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            return f.read()
    except OSError as e:
        raise ConfigOpenError(path, e.strerror or str(e)) from None


def read_config_file(path: str) -> str:
    """Redis's loadServerConfig file step: a path with * ? [ is a glob (no match:
    nothing), else the file must open."""
    if any(ch in path for ch in "*?["):
        return "".join(_read(p) for p in sorted(_glob.glob(path)))
    return _read(path)


def load_text(cfg: Config, text: str, where: str = "", depth: int = 0) -> None:
    """Apply redis.conf-syntax text (Redis's loadServerConfigFromString)."""
    if depth > 32:
        raise ConfigFileError(where, None, "", "include nesting too deep")
    for no, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r\n")
        if not line or line.startswith("#"):
            continue
        argv = split_args(line.encode("utf-8", "surrogateescape"))
        if argv is None:
            raise ConfigFileError(where, no, line, "Unbalanced quotes in configuration line")
        if not argv:
            continue
        args = [a.decode("utf-8", "surrogateescape") for a in argv]
        name = args[0].lower()
        try:
            if resolve(name) is None:
                if name in DEPRECATED and len(args) == 2:
                    continue
                if name == "include" and len(args) == 2:
                    load_text(cfg, read_config_file(args[1]), args[1], depth + 1)
                    continue
                if name == "sentinel":
                    if len(args) != 1:
                        raise ConfigError("sentinel directive while not in sentinel mode")
                    continue
                if name == "loadmodule" and len(args) >= 2:
                    raise ConfigError("Modules are not supported by securekv")
                if "." in name:
                    if len(args) != 2:
                        raise ConfigError("Module config specified without value")
                    raise ConfigError("Module configs are not supported by securekv")
            cfg.set_from_text(name, args[1:], where)
        except ConfigError as e:
            raise ConfigFileError(where, no, line, e.message) from None


def argv_to_text(args: list[str]) -> str:
    """redis-server's command line after the file: `--name v1 v2 --other v` becomes
    config lines, values quoted as sdscatrepr (Redis's main())."""
    options = ""
    handled_last = True
    n = len(args)
    for j, a in enumerate(args):
        if handled_last and a.startswith("--"):
            if options:
                options += "\n"
            options += a[2:] + " "
            words = split_args(a.encode("utf-8", "surrogateescape"))
            if words is not None and len(words) == 1:
                handled_last = False
                if a.lower() == "--save" and (j == n - 1 or args[j + 1].startswith("--")):
                    options += '""'
                    handled_last = True
            else:
                handled_last = True
        else:
            options += repr_str(a) + " "
            handled_last = True
    return options


def load(argv_paths: list[str], stdin_text: str | None = None) -> Config:
    """Build the startup configuration from redis-server style arguments:
    [config-file] [--directive value ...] (plus config text read from stdin)."""
    args = list(argv_paths)
    path = args.pop(0) if args and not args[0].startswith("-") else None
    return load_config(path, args, stdin_text)


def load_config(path: str | None, options: list[str], stdin_text: str | None = None) -> Config:
    """Redis's loadServerConfig: the file, then stdin, then the command-line
    options, parsed as one text (line numbers run across all three)."""
    cfg = Config()
    text = ""
    if path is not None:
        text = read_config_file(path)
        cfg.file = os.path.abspath(path)
    if stdin_text is not None:
        text += stdin_text
    opts = argv_to_text(options)
    if opts:
        text += "\n" + opts
    load_text(cfg, text, cfg.file or "")
    logfile = cfg["logfile"]
    if logfile:
        try:
            with open(logfile, "a"):
                pass
        except OSError as e:
            raise ConfigFileError("", None, "", f"Can't open the log file: {e.strerror}") from None
    return cfg


# -- CONFIG REWRITE ----------------------------------------------------------------

REWRITE_SIGNATURE = "# Generated by CONFIG REWRITE"

# Extra rewriters for repeated directives owned by other subsystems:
# fn(config, state) using state.rewrite_line / state.mark (e.g. the ACL issue's `user`).
REWRITE_EXTRAS: list[Callable] = []


class RewriteState:
    """Redis's rewriteConfigState: the old file's lines and where each option is."""

    def __init__(self, text: str | None) -> None:
        self.lines: list[str] = []
        self.option_lines: dict[str, list[int]] = {}
        self.rewritten: set[str] = set()
        self.needs_signature = True
        if not text:
            return
        for raw in text.split("\n"):
            line = raw.strip("\r\n\t ")
            if not line or line.startswith("#"):
                if self.needs_signature and line == REWRITE_SIGNATURE:
                    self.needs_signature = False
                self.lines.append(line)
                continue
            argv = split_args(line.encode("utf-8", "surrogateescape"))
            name = argv[0].decode("utf-8", "surrogateescape").lower() if argv else None
            if argv is None or (resolve(name) is None and name not in (
                    "include", "rename-command", "user", "loadmodule", "sentinel")):
                self.lines.append("# ??? " + line)
                continue
            d = resolve(name)
            if d is not None:
                name = d.name
            elif "slave" in name:
                name = name.replace("slave", "replica", 1)
            self.option_lines.setdefault(name, []).append(len(self.lines))
            self.lines.append(line)
        # sdssplitlen leaves an empty last line after the final newline; Redis
        # keeps it (it is collapsed with other blank runs).

    def mark(self, option: str) -> None:
        self.rewritten.add(option)

    def rewrite_line(self, option: str, line: str, force: bool) -> None:
        self.mark(option)
        lines = self.option_lines.get(option)
        if not lines and not force:
            return
        if lines:
            self.lines[lines.pop(0)] = line
            if not lines:
                del self.option_lines[option]
        else:
            if self.needs_signature:
                self.lines.append(REWRITE_SIGNATURE)
                self.needs_signature = False
            self.lines.append(line)

    def remove_orphaned(self) -> None:
        for option, lines in self.option_lines.items():
            if option not in self.rewritten:
                continue
            for i in lines:
                self.lines[i] = ""
            lines.clear()

    def content(self) -> str:
        out = []
        was_empty = False
        for line in self.lines:
            if not line:
                if was_empty:
                    continue
                was_empty = True
            else:
                was_empty = False
            out.append(line + "\n")
        return "".join(out)


def rewrite_text(cfg: Config, old_text: str | None, force_all: bool = False) -> str:
    """The new content of the config file (Redis's rewriteConfig steps 1-4);
    force_all writes every directive, defaults included (DEBUG
    CONFIG-REWRITE-FORCE-ALL)."""
    state = RewriteState(old_text)
    for name, d in TABLE.items():
        v = cfg.values[name]
        if d.repeat:
            continue
        t = d.type
        if name == "client-output-buffer-limit":
            for line, force in zip(_rewrite_obuf(d, v), _obuf_forced(v)):
                state.rewrite_line(name, line, force or force_all)
            continue
        if name == "bind" and v == d.default and not force_all:
            state.mark(name)
            continue
        if isinstance(t, String) and t.empty_is_null and v == "":
            state.mark(name)
            continue
        lines = t.rewrite(d, v)
        if not lines:
            state.mark(name)
            continue
        force = force_all or d.always_rewrite or v != d.default
        if isinstance(t, String) and t.empty_is_null:
            force = True        # Redis's default for these is NULL: any value is written
        for line in lines:
            state.rewrite_line(name, line, force)
        state.mark(name)
    for extra in REWRITE_EXTRAS:
        extra(cfg, state)
    state.remove_orphaned()
    return state.content()


def rewrite_file(cfg: Config, path: str, force_all: bool = False) -> None:
    """Rewrite `path` in place, atomically (temp file, fsync, rename)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    content = rewrite_text(cfg, old, force_all)
    import tempfile
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o644 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- documentation (conf/securekv.conf) --------------------------------------------

SECTIONS = (
    ("network", "NETWORK"), ("security", "SECURITY"), ("audit", "AUDIT LOG"),
    ("general", "GENERAL"),
    ("clients", "CLIENTS"), ("limits", "LIMITS"), ("memory", "MEMORY MANAGEMENT"),
    ("persistence", "PERSISTENCE"), ("replication", "REPLICATION"), ("tls", "TLS"),
    ("scripting", "SCRIPTING"), ("slowlog", "SLOW LOG"), ("latency", "LATENCY"),
    ("data", "DATA STRUCTURES"), ("threads", "THREADS"), ("cluster", "CLUSTER"),
    ("testing", "TESTING"),
)


def default_line(d: Directive) -> str:
    """The directive at its default, as a config-file line."""
    if d.repeat:
        return {"user": "user <name> [rules ...]",
                "rename-command": "rename-command <command> <new-name>"}.get(d.name, d.name)
    if d.name == "dir":
        return "dir ./"
    if d.name == "replicaof":
        return "replicaof <masterip> <masterport>"
    t = d.type
    if isinstance(t, String):
        return f"{d.name} {repr_str(d.default)}" if d.default == "" or " " in d.default \
            else f"{d.name} {d.default}"
    lines = t.rewrite(d, d.default)
    return "\n".join(lines)
