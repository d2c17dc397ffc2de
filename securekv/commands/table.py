"""The command table: every command declared once, beside its implementation.

A command module declares each command with the `command` decorator (or
`container` + `subcommand` for CLIENT, CONFIG, OBJECT ...):

    @command("get", 2, "readonly fast", "@string",
             keys=[KeySpec("RO access", 1)],
             group="string", since="1.0.0", summary="Get the value of a key")
    def get(c, argv): ...

The record is Redis's (src/commands/*.json): arity, flags, explicit ACL
categories (the implied ones come from flags in `implied_categories`, as
Redis's setImplicitACLCategories), key specs (begin_search / find_keys with
RO/RW/OW/RM and access/update/insert/delete flags), group, since, summary,
tips. Everything else reads it: dispatch (arity, flags), COMMAND INFO / DOCS /
GETKEYS, ACL categories and key checks, tenant routing, denyoom quota checks,
propagation and MULTI. Documentation-only fields (complexity, history,
arguments) come from docs.json, generated from Redis 7.0.15 by
tools/gen_command_docs.py; commands Redis lacks declare them inline (`docs=`).

Nothing outside this module keys behaviour on command-name strings.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable

# Redis 7.0's ACL categories, in its order (ACLCommandCategories in acl.c).
from acl.categories import CATEGORIES  # noqa: E402  (the canonical list lives in acl/)

# Command flags in the order COMMAND INFO prints them (addReplyCommandFlags).
FLAG_ORDER = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
    "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
    "fast", "no_auth", "no_mandatory_keys", "no_async_loading",
    "no_multi", "movablekeys", "allow_busy",
)
# Flags that exist but COMMAND INFO hides (may_replicate "on purpose", sentinel,
# only_sentinel, protected). may_replicate: CLIENT PAUSE WRITE defers the command.
HIDDEN_FLAGS = ("may_replicate", "sentinel", "only_sentinel", "protected")

KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
                  "not_key", "incomplete", "variable_flags")

GROUPS = ("generic", "string", "list", "set", "sorted-set", "hash", "pubsub",
          "transactions", "connection", "server", "scripting", "hyperloglog",
          "cluster", "sentinel", "geo", "stream", "bitmap", "module")


# -- key specs ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Keyword:
    """begin_search by keyword: the key follows `keyword`, searched from `startfrom`
    (negative: from the end, backwards)."""
    keyword: str
    startfrom: int


@dataclass(frozen=True, slots=True)
class Range:
    """find_keys by range: keys up to `lastkey` (relative; negative counts from the
    end), every `keystep`-th argument; `limit` divides the rest (0: no limit)."""
    lastkey: int = 0
    keystep: int = 1
    limit: int = 0


@dataclass(frozen=True, slots=True)
class KeyNum:
    """find_keys by a count argument: argument `keynumidx` (relative to the begin
    search) holds the number of keys, the first at `firstkey`, every `keystep`."""
    keynumidx: int
    firstkey: int
    keystep: int = 1


UNKNOWN = None


@dataclass(frozen=True, slots=True)
class KeySpec:
    flags: frozenset
    begin: object            # int (index) | Keyword | None (unknown)
    find: object = Range()   # Range | KeyNum | None (unknown)
    notes: str | None = None

    def __init__(self, flags: str, begin, find=Range(), notes: str | None = None):
        fl = frozenset(flags.split())
        bad = fl - set(KEY_FLAG_ORDER)
        if bad:
            raise ValueError(f"unknown key spec flags {sorted(bad)}")
        object.__setattr__(self, "flags", fl)
        object.__setattr__(self, "begin", begin)
        object.__setattr__(self, "find", find)
        object.__setattr__(self, "notes", notes)

    @property
    def is_write(self) -> bool:
        return bool(self.flags & {"RW", "OW", "RM", "insert", "delete", "update"}) \
            and "RO" not in self.flags

    @property
    def is_read(self) -> bool:
        return "RO" in self.flags or "RW" in self.flags or "access" in self.flags


# -- commands ----------------------------------------------------------------

Handler = Callable[..., object]


@dataclass(eq=False, slots=True)
class Command:
    name: str                   # lower case; "parent|sub" for subcommands
    handler: Handler | None
    arity: int
    flags: frozenset
    categories: frozenset       # explicit + implied, without '@'
    key_specs: tuple = ()
    group: str = "generic"
    since: str = ""
    summary: str = ""
    tips: tuple = ()
    getkeys: Callable | None = None   # getkeys_proc for commands key specs can't describe
    docs: dict | None = None          # documentation fields (complexity, history, arguments ...)
    subcommands: dict | None = None   # bytes (lower) -> Command
    parent: "Command | None" = None
    id: int = -1                # index into per-command statistics and ACL bitsets
    # Derived once at registration (flags test on the hot path is one attribute).
    is_write: bool = False
    is_readonly: bool = False
    denyoom: bool = False
    is_fast: bool = False
    no_auth: bool = False
    protected: bool = False     # DEBUG-like: gated by enable-debug-command
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    movablekeys: bool = False
    # Where the command runs although the client is in a special context:
    # "multi" runs at once inside MULTI (EXEC, DISCARD, WATCH ...), "pubsub" is
    # allowed to a RESP2 client in subscribed mode. Declared with `context=`.
    multi_exempt: bool = False
    pubsub_ok: bool = False
    # redact(argv) -> argv as logs, MONITOR and SLOWLOG may show it (secrets
    # replaced); set by the family that owns the command (AUTH, CONFIG SET ...).
    redact: Callable | None = None
    # Recorded in the audit log (set by the audit log from audit-events; dispatch
    # tests only this attribute, so unaudited commands pay one attribute test).
    audited: bool = False
    # key_extractor(argv) == get_keys(self, argv), built once at registration
    # (see _key_extractor): the ACL check and other per-command key users call it.
    key_extractor: Callable | None = None

    @property
    def fullname(self) -> str:
        return self.name

    @property
    def declared_name(self) -> str:
        """The name within its parent (`kill` for `client|kill`)."""
        return self.name.rsplit("|", 1)[-1]

    def has(self, flag: str) -> bool:
        return flag in self.flags


def implied_categories(flags: frozenset, explicit: frozenset) -> frozenset:
    """Redis's setImplicitACLCategories: the categories a command's flags imply."""
    cats = set(explicit)
    if "write" in flags:
        cats.add("write")
    if "readonly" in flags and "scripting" not in explicit:
        cats.add("read")
    if "admin" in flags:
        cats.update(("admin", "dangerous"))
    if "pubsub" in flags:
        cats.add("pubsub")
    if "fast" in flags:
        cats.add("fast")
    if "blocking" in flags:
        cats.add("blocking")
    if "fast" not in cats:
        cats.add("slow")
    return frozenset(cats)


def _legacy_range(cmd: Command) -> None:
    """Redis's populateCommandLegacyRangeSpec: first/last/step for COMMAND INFO,
    and the movablekeys flag when the specs cannot be expressed as one range."""
    specs = cmd.key_specs
    movable = False
    if not specs:
        return
    if len(specs) == 1 and isinstance(specs[0].begin, int) and isinstance(specs[0].find, Range):
        s = specs[0]
        cmd.first_key = s.begin
        cmd.last_key = s.find.lastkey + s.begin if s.find.lastkey >= 0 else s.find.lastkey
        cmd.key_step = s.find.keystep
        cmd.movablekeys = "incomplete" in s.flags
        return
    first, last, prev_last = None, 0, 0
    for s in specs:
        if not isinstance(s.begin, int) or not isinstance(s.find, Range):
            movable = True
            continue
        if s.find.keystep != 1 or (prev_last and prev_last != s.begin - 1):
            movable = True
            continue
        if "incomplete" in s.flags:
            movable = True
        first = s.begin if first is None else min(first, s.begin)
        abs_last = s.find.lastkey + s.begin if s.find.lastkey >= 0 else s.find.lastkey
        # Redis compares as unsigned: a negative lastkey wins.
        if abs_last < 0 or (last >= 0 and abs_last > last):
            last = abs_last
        prev_last = last
    if first is None:
        cmd.movablekeys = True
        return
    cmd.first_key = first
    cmd.last_key = last
    cmd.key_step = 1
    cmd.movablekeys = movable


# -- the registry ------------------------------------------------------------

COMMANDS: dict[bytes, Command] = {}     # top-level commands by lower-case name
ALL: list[Command] = []                 # every command and subcommand, by id

_DOCS: dict | None = None


def _docs_for(name: str) -> dict | None:
    global _DOCS
    if _DOCS is None:
        path = os.path.join(os.path.dirname(__file__), "docs.json")
        try:
            with open(path, "rb") as f:
                _DOCS = json.load(f)
        except FileNotFoundError:
            _DOCS = {}
    return _DOCS.get(name)


def _make(name: str, handler, arity: int, flags: str, categories: str, keys,
          group, since, summary, tips, getkeys, docs, context: str = "") -> Command:
    fl = frozenset(flags.split())
    bad = fl - set(FLAG_ORDER) - set(HIDDEN_FLAGS)
    if bad:
        raise ValueError(f"{name}: unknown flags {sorted(bad)}")
    explicit = frozenset(c.lstrip("@") for c in categories.split())
    bad = explicit - set(CATEGORIES)
    if bad:
        raise ValueError(f"{name}: unknown ACL categories {sorted(bad)}")
    if group not in GROUPS:
        raise ValueError(f"{name}: unknown group {group}")
    cmd = Command(
        name=name, handler=handler, arity=arity, flags=fl,
        categories=implied_categories(fl, explicit), key_specs=tuple(keys or ()),
        group=group, since=since, summary=summary, tips=tuple(tips or ()),
        getkeys=getkeys, docs=docs if docs is not None else _docs_for(name),
    )
    cmd.is_write = "write" in fl
    cmd.is_readonly = "readonly" in fl
    cmd.denyoom = "denyoom" in fl
    cmd.is_fast = "fast" in fl
    cmd.no_auth = "no_auth" in fl
    cmd.protected = "protected" in fl
    ctx = set(context.split())
    if ctx - {"multi", "pubsub"}:
        raise ValueError(f"{name}: unknown context {sorted(ctx)}")
    cmd.multi_exempt = "multi" in ctx
    cmd.pubsub_ok = "pubsub" in ctx
    _legacy_range(cmd)
    cmd.key_extractor = _key_extractor(cmd)
    cmd.id = len(ALL)
    ALL.append(cmd)
    return cmd


def command(name: str, arity: int, flags: str = "", categories: str = "", *, keys=(),
            group: str = "generic", since: str = "", summary: str = "", tips=(),
            getkeys=None, docs=None, context: str = "", redact=None):
    """Declare a top-level command; decorates its handler `handler(c, argv)`.
    `redact(argv)` -> the argv logs and MONITOR may show (secrets hidden)."""
    def register(fn):
        key = name.lower().encode()
        if key in COMMANDS:
            raise ValueError(f"command {name} declared twice")
        COMMANDS[key] = _make(name.lower(), fn, arity, flags, categories, keys, group,
                              since, summary, tips, getkeys, docs, context)
        COMMANDS[key].redact = redact
        return fn
    return register


def container(name: str, arity: int = -2, flags: str = "", categories: str = "", *,
              group: str = "generic", since: str = "", summary: str = "", tips=(), docs=None):
    """Declare a command that only has subcommands (CLIENT, CONFIG, OBJECT ...)."""
    key = name.lower().encode()
    if key in COMMANDS:
        raise ValueError(f"command {name} declared twice")
    cmd = _make(name.lower(), None, arity, flags, categories, (), group, since, summary,
                tips, None, docs)
    cmd.subcommands = {}
    COMMANDS[key] = cmd
    return cmd


def subcommand(parent: str, name: str, arity: int, flags: str = "", categories: str = "", *,
               keys=(), group: str | None = None, since: str = "", summary: str = "", tips=(),
               getkeys=None, docs=None, context: str = "", redact=None):
    """Declare `parent|name`; the parent must be declared with `container` first."""
    def register(fn):
        p = COMMANDS[parent.lower().encode()]
        full = f"{p.name}|{name.lower()}"
        cmd = _make(full, fn, arity, flags, categories, keys, group or p.group, since,
                    summary, tips, getkeys, docs, context)
        cmd.parent = p
        cmd.redact = redact
        sub = name.lower().encode()
        if sub in p.subcommands:
            raise ValueError(f"subcommand {full} declared twice")
        p.subcommands[sub] = cmd
        return fn
    return register


def lookup(argv: list[bytes]) -> Command | None:
    """Redis's lookupCommand: the command, or the subcommand for containers."""
    name = argv[0]
    cmd = COMMANDS.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            return None
    if cmd.subcommands is not None and len(argv) > 1:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def lookup_name(fullname: bytes) -> Command | None:
    """Look up `name` or `parent|sub` (as ACL rules and COMMAND INFO name them)."""
    parent, _, sub = fullname.lower().partition(b"|")
    cmd = COMMANDS.get(parent)
    if cmd is None or not sub:
        return cmd
    if cmd.subcommands is None:
        return None
    return cmd.subcommands.get(sub)


def all_commands():
    """Every command and subcommand (subcommands after their parent)."""
    for cmd in COMMANDS.values():
        yield cmd
        if cmd.subcommands:
            yield from cmd.subcommands.values()


# -- keys --------------------------------------------------------------------

def _strict_int(b: bytes):
    from securekv.net.resp import _strict_int as si
    return si(b)


def keys_from_specs(cmd: Command, argv: list[bytes]) -> list[tuple[int, KeySpec]] | None:
    """Redis's getKeysUsingKeySpecs: (argv index, spec) for each key, or None when a
    spec is invalid or incomplete for these arguments."""
    argc = len(argv)
    out: list[tuple[int, KeySpec]] = []
    for spec in cmd.key_specs:
        b = spec.begin
        if type(b) is int:
            first = b
        elif isinstance(b, Keyword):
            first = 0
            if b.startfrom > 0:
                rng = range(b.startfrom, argc)
            else:
                rng = range(argc + b.startfrom, 0, -1)
            kw = b.keyword.lower().encode()
            for i in rng:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
            if not first:
                continue
        else:
            return None
        f = spec.find
        if type(f) is Range:
            if f.lastkey >= 0:
                last = first + f.lastkey
            elif not f.limit:
                last = argc + f.lastkey
            else:
                last = first + ((argc - first) // f.limit + f.lastkey)
            step = f.keystep
        elif type(f) is KeyNum:
            if first + f.keynumidx >= argc:
                return None
            n = _strict_int(argv[first + f.keynumidx])
            if n is None or n < 0:
                return None
            first += f.firstkey
            last = first + n - 1
            step = f.keystep
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        i = first
        while i <= last:
            if i >= argc:
                break
            out.append((i, spec))
            i += step
        if "incomplete" in spec.flags:
            return None
    return out


def _key_extractor(cmd: Command):
    """`extract(argv)` returning exactly get_keys(cmd, argv), precomputed per command.

    For the common single `index` + Range spec (GET, SET's cousins, MGET, DEL ...)
    it is a slice-like function without get_keys' generic walk; otherwise it
    calls get_keys. Attributes for callers that specialise further (the ACL
    check): `spec` is the spec of every key it can return (None: it varies),
    `index` the one key position when the spec names a single key and
    len(argv) > index (None otherwise)."""
    def general(argv):
        return get_keys(cmd, argv)
    general.spec = None
    general.index = None
    specs = cmd.key_specs
    if len(specs) != 1:
        return general
    s = specs[0]
    b, f = s.begin, s.find
    if (type(b) is not int or type(f) is not Range
            or s.flags & {"not_key", "variable_flags", "incomplete"}):
        return general
    getkeys = cmd.getkeys
    lastkey, step, limit = f.lastkey, f.keystep, f.limit

    def fallback(argv):             # keys_from_specs found the spec invalid here
        return getkeys(cmd, argv) if getkeys is not None else []

    if lastkey == 0:
        def extract(argv):
            if len(argv) > b:
                return [(b, s)]
            return fallback(argv)
        extract.index = b
    else:
        def extract(argv):
            argc = len(argv)
            if lastkey > 0:
                last = b + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = b + ((argc - b) // limit + lastkey)
            if last >= argc or last < b or b >= argc:
                return fallback(argv)
            return [(i, s) for i in range(b, last + 1, step)]
        extract.index = None
    extract.spec = s if getkeys is None else None
    return extract


def get_keys(cmd: Command, argv: list[bytes]) -> list[tuple[int, KeySpec | None]]:
    """Redis's getKeysFromCommandWithSpecs: positions of the keys in argv."""
    has_key = any("not_key" not in s.flags for s in cmd.key_specs)
    varflags = any("variable_flags" in s.flags for s in cmd.key_specs)
    if has_key and not varflags:
        r = keys_from_specs(cmd, argv)
        if r is not None:
            return r
    if cmd.getkeys is not None:
        return cmd.getkeys(cmd, argv)
    return []
