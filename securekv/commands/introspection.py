"""COMMAND and its subcommands (server.c: commandCommand, addReplyCommandInfo,
addReplyCommandDocs, getKeysSubcommand, commandListCommand), generated from
the command table.

Reply shapes follow Redis 7.0.15 byte for byte: flags in FLAG_ORDER as
status strings in a set, categories in CATEGORIES order as `@name`, key
specs as maps (notes, flags, begin_search, find_keys), subcommands as an
array of infos (an empty *set* when there are none, as addReplySetLen(c,0)).
Documentation maps: summary, since, group, complexity, doc_flags,
deprecated_since, replaced_by, history (a set of pairs), arguments (an
array of maps, in the field order docs.json stores them, which is
addReplyCommandArgList's), subcommands (a map).

Commands never change after startup, so each command's INFO and DOCS
replies are encoded once per protocol and cached (COMMAND DOCS is what
redis-cli sends on every connect).

Iteration order: Redis walks a hash table (a random order per process);
securekv walks the table in declaration order. Clients must not rely on it.
"""

from __future__ import annotations

from securekv.commands.table import (
    CATEGORIES, COMMANDS, FLAG_ORDER, KEY_FLAG_ORDER, KeyNum, Keyword, Range,
    container, get_keys, subcommand,
)
from securekv.commands.util import help_reply
from securekv.errors import SYNTAX, CommandError
from securekv.net.resp import RSet, Raw, Status, encode_one

from acl.glob import stringmatch

_STATUS: dict[str, Status] = {}


def _st(name: str) -> Status:
    s = _STATUS.get(name)
    if s is None:
        s = _STATUS[name] = Status(name.encode())
    return s


# -- COMMAND INFO ------------------------------------------------------------

def command_flags(cmd) -> RSet:
    fl = cmd.flags
    movable = cmd.movablekeys
    return RSet(_st(f) for f in FLAG_ORDER
                if f in fl or (f == "movablekeys" and movable))


def key_flags(flags) -> RSet:
    return RSet(_st(f) for f in KEY_FLAG_ORDER if f in flags)


def _key_spec(spec) -> dict:
    d = {}
    if spec.notes is not None:
        d[b"notes"] = spec.notes.encode()
    d[b"flags"] = key_flags(spec.flags)
    b = spec.begin
    if type(b) is int:
        d[b"begin_search"] = {b"type": b"index", b"spec": {b"index": b}}
    elif isinstance(b, Keyword):
        d[b"begin_search"] = {b"type": b"keyword",
                              b"spec": {b"keyword": b.keyword.encode(), b"startfrom": b.startfrom}}
    else:
        d[b"begin_search"] = {b"type": b"unknown", b"spec": {}}
    f = spec.find
    if isinstance(f, Range):
        d[b"find_keys"] = {b"type": b"range", b"spec": {
            b"lastkey": f.lastkey, b"keystep": f.keystep, b"limit": f.limit}}
    elif isinstance(f, KeyNum):
        d[b"find_keys"] = {b"type": b"keynum", b"spec": {
            b"keynumidx": f.keynumidx, b"firstkey": f.firstkey, b"keystep": f.keystep}}
    else:
        d[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
    return d


def info_value(cmd) -> list:
    """addReplyCommandInfo as a reply value."""
    cats = cmd.categories
    subs = cmd.subcommands
    return [
        cmd.name.encode(),
        cmd.arity,
        command_flags(cmd),
        cmd.first_key,
        cmd.last_key,
        cmd.key_step,
        RSet(_st("@" + x) for x in CATEGORIES if x in cats),
        RSet(t.encode() for t in cmd.tips),
        RSet(_key_spec(s) for s in cmd.key_specs),
        [info_value(s) for s in subs.values()] if subs else RSet(),
    ]


# -- COMMAND DOCS ------------------------------------------------------------

def _arg_value(arg: dict) -> dict:
    out = {}
    for k, v in arg.items():
        if k == "arguments":
            out[b"arguments"] = [_arg_value(a) for a in v]
        elif k == "flags":
            out[b"flags"] = RSet(_st(x) for x in v)
        elif type(v) is int:
            out[k.encode()] = v
        else:
            out[k.encode()] = str(v).encode()
    return out


def docs_value(cmd) -> dict:
    """addReplyCommandDocs as a reply value."""
    docs = cmd.docs or {}
    d = {b"summary": cmd.summary.encode(), b"since": cmd.since.encode(),
         b"group": cmd.group.encode()}
    if docs.get("complexity"):
        d[b"complexity"] = docs["complexity"].encode()
    if docs.get("doc_flags"):
        d[b"doc_flags"] = RSet(_st(x) for x in docs["doc_flags"])
    if docs.get("deprecated_since"):
        d[b"deprecated_since"] = docs["deprecated_since"].encode()
    if docs.get("replaced_by"):
        d[b"replaced_by"] = docs["replaced_by"].encode()
    if docs.get("history"):
        d[b"history"] = RSet([a.encode(), b.encode()] for a, b in docs["history"])
    if docs.get("arguments"):
        d[b"arguments"] = [_arg_value(a) for a in docs["arguments"]]
    if cmd.subcommands:
        d[b"subcommands"] = {s.name.encode(): docs_value(s) for s in cmd.subcommands.values()}
    return d


_CACHE: dict = {}


def _cached(kind: str, cmd, resp3: bool) -> Raw:
    key = (kind, cmd.id, resp3)
    r = _CACHE.get(key)
    if r is None:
        v = info_value(cmd) if kind == "info" else docs_value(cmd)
        r = _CACHE[key] = Raw(encode_one(v, resp3))
    return r


def lookup_by_name(name: bytes):
    """Redis's lookupCommandBySds: `name` or `parent|sub` (exactly two parts)."""
    parts = name.lower().split(b"|")
    cmd = COMMANDS.get(parts[0])
    if len(parts) == 1 or cmd is None:
        return cmd
    if len(parts) != 2 or cmd.subcommands is None:
        return None
    return cmd.subcommands.get(parts[1])


# -- the commands ------------------------------------------------------------

_command = container("command", -1, "loading stale", "@connection", group="server",
                     since="2.8.13", summary="Get array of Redis command details",
                     tips=["nondeterministic_output_order"])


def command_all(c, argv):
    resp3 = c.resp3
    return [_cached("info", cmd, resp3) for cmd in COMMANDS.values()]


_command.handler = command_all   # COMMAND without a subcommand lists everything


@subcommand("command", "count", 2, "loading stale", "@connection", since="2.8.13",
            summary="Get total number of Redis commands")
def command_count(c, argv):
    return len(COMMANDS)


@subcommand("command", "info", -2, "loading stale", "@connection", since="2.8.13",
            summary="Get array of specific Redis command details, or all when no argument is given.",
            tips=["nondeterministic_output_order"])
def command_info(c, argv):
    if len(argv) == 2:
        return command_all(c, argv)
    resp3 = c.resp3
    out = []
    for name in argv[2:]:
        cmd = lookup_by_name(name)
        out.append(None if cmd is None else _cached("info", cmd, resp3))
    return out


@subcommand("command", "docs", -2, "loading stale", "@connection", since="7.0.0",
            summary="Get array of specific Redis command documentation",
            tips=["nondeterministic_output_order"])
def command_docs(c, argv):
    resp3 = c.resp3
    if len(argv) == 2:
        cmds = list(COMMANDS.values())
    else:
        cmds = [cmd for cmd in map(lookup_by_name, argv[2:]) if cmd is not None]
    # A map, written pairwise: the same command named twice appears twice, as in Redis.
    out = [b"%%%d\r\n" % len(cmds) if resp3 else b"*%d\r\n" % (2 * len(cmds))]
    for cmd in cmds:
        out.append(encode_one(cmd.name.encode()))
        out.append(_cached("docs", cmd, resp3).data)
    return Raw(b"".join(out))


def _list_filter(kind: bytes, arg: bytes):
    if kind == b"module":
        return lambda cmd: False             # securekv has no modules
    if kind == b"aclcat":
        cat = arg.lower().decode("utf-8", "surrogateescape")
        if cat not in CATEGORIES:
            return lambda cmd: False
        return lambda cmd: cat in cmd.categories
    return lambda cmd: stringmatch(arg, cmd.name.encode(), True)


@subcommand("command", "list", -2, "loading stale", "@connection", since="7.0.0",
            summary="Get an array of Redis command names",
            tips=["nondeterministic_output_order"])
def command_list(c, argv):
    flt = None
    i, n = 2, len(argv)
    while i < n:
        if argv[i].lower() == b"filterby" and n - 1 - i == 2:
            kind = argv[i + 1].lower()
            if kind not in (b"module", b"aclcat", b"pattern"):
                raise CommandError(SYNTAX)
            flt = _list_filter(kind, argv[i + 2])
            i += 3
        else:
            raise CommandError(SYNTAX)
    out = []
    for cmd in COMMANDS.values():
        if flt is None or flt(cmd):
            out.append(cmd.name.encode())
        if cmd.subcommands:
            for sub in cmd.subcommands.values():
                if flt is None or flt(sub):
                    out.append(sub.name.encode())
    return out


def _getkeys(c, argv):
    """getKeysSubcommandImpl: [(key, flags)] or an error."""
    target = argv[2:]
    cmd = COMMANDS.get(target[0].lower())
    if cmd is not None and cmd.subcommands is not None and len(target) > 1:
        cmd = cmd.subcommands.get(target[1].lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if cmd.getkeys is None and not cmd.key_specs:
        raise CommandError("ERR The command has no key arguments")
    n = len(target)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    keys = get_keys(cmd, target)
    if not keys and "no_mandatory_keys" not in cmd.flags:
        raise CommandError("ERR Invalid arguments specified for command")
    return [(target[pos], spec) for pos, spec in keys]


@subcommand("command", "getkeys", -4, "loading stale", "@connection", since="2.8.13",
            summary="Extract keys given a full Redis command")
def command_getkeys(c, argv):
    return [k for k, _ in _getkeys(c, argv)]


@subcommand("command", "getkeysandflags", -4, "loading stale", "@connection", since="7.0.0",
            summary="Extract keys and access flags given a full Redis command")
def command_getkeysandflags(c, argv):
    return [[k, key_flags(spec.flags if spec is not None else ())]
            for k, spec in _getkeys(c, argv)]


_COMMAND_HELP = (
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
)


@subcommand("command", "help", 2, "loading stale", "@connection", since="5.0.0",
            summary="Show helpful text about the different subcommands")
def command_help(c, argv):
    return help_reply(argv, _COMMAND_HELP)
