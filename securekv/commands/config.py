"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP, as Redis 7.0.15's config.c.

The directive table (securekv/config.py) parses and renders values; this module
implements the command semantics: GET's pattern matching and de-duplication,
SET's all-or-nothing validation, apply and roll back, and the error texts.
Values of secret directives are redacted from SLOWLOG and MONITOR.
"""

from __future__ import annotations

from securekv import config as cfgmod
from securekv.commands.table import container, subcommand
from securekv.commands.util import help_reply
from securekv.config import TABLE, ConfigError, resolve
from securekv.errors import SYNTAX, CommandError
from securekv.lifecycle import on_init
from securekv.net.resp import OK

try:
    from acl.glob import stringmatch
except ImportError:      # pragma: no cover - the ACL library ships acl/glob.py
    import fnmatch

    def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
        if nocase:
            pattern, string = pattern.lower(), string.lower()
        return fnmatch.fnmatchcase(string.decode("latin-1"), pattern.decode("latin-1"))


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _lookup(name: bytes):
    """The directive CONFIG GET/SET know by this name (repeated directives such as
    `user` exist only in config files, as in Redis)."""
    d = resolve(_s(name))
    if d is None or d.repeat:
        return None
    return d


def _entries():
    """Every name CONFIG GET can match: primary names and aliases, not hidden."""
    for name, d in TABLE.items():
        if d.hidden or d.repeat:
            continue
        yield name, d
        for a in d.aliases:
            yield a, d


container("config", -2, "", "", group="server", since="2.0.0",
          summary="A container for server configuration commands")


@subcommand("config", "get", -3, "admin noscript loading stale", "", since="2.0.0",
            summary="Get the values of configuration parameters")
def config_get(c, argv):
    values = c.server.config.values
    matches: dict[bytes, tuple[bytes, object]] = {}     # lower key -> (key shown, directive)
    for pat in argv[2:]:
        if not any(ch in pat for ch in b"[*?"):
            lk = pat.lower()
            if lk in matches:
                continue
            d = _lookup(pat)
            if d is not None:
                matches[lk] = (pat, d)
            continue
        for name, d in _entries():
            key = name.encode()
            if key in matches:
                continue
            if stringmatch(pat, key, True):
                matches[key] = (key, d)
    return {key: d.render(values[d.name]).encode("utf-8", "surrogateescape")
            for key, d in matches.values()}


def _protected_allowed(c) -> bool:
    mode = c.server.config["enable-protected-configs"]
    return mode == "yes" or (mode == "local" and c.is_loopback)


@subcommand("config", "set", -4, "admin noscript loading stale", "", since="2.0.0",
            summary="Set configuration parameters to the given values",
            tips=["request_policy:all_nodes", "response_policy:all_succeeded"],
            redact=lambda argv: redact_config_set(argv))
def config_set(c, argv):
    if len(argv) & 1:
        raise CommandError(SYNTAX)
    server = c.server
    cfg = server.config
    chosen: list = []             # (entry name as Redis reports it, directive)
    invalid_arg = None
    errstr = None
    err_arg = None
    invalid = False
    for i in range(2, len(argv), 2):
        raw = argv[i]
        d = _lookup(raw)
        if d is None:
            if not invalid:
                invalid_arg = raw
                invalid = True
            continue
        if invalid:
            continue
        if not d.mutable or (d.protected and not _protected_allowed(c)):
            errstr = "can't set immutable config" if not d.mutable else "can't set protected config"
            err_arg = raw
            invalid = True
            continue
        entry = _s(raw).lower()
        if any(e == entry for e, _ in chosen):
            errstr = "duplicate parameter"
            err_arg = raw
            invalid = True
            continue
        chosen.append((entry, d))
    if invalid:
        _fail(invalid_arg, err_arg, errstr)
    old = {d.name: cfgmod._copy(cfg.values[d.name]) for _, d in chosen}
    changed: list[tuple] = []
    for (entry, d), i in zip(chosen, range(3, len(argv), 2)):
        try:
            if cfg.set_value(d.name, _s(argv[i])):
                changed.append((entry, d))
        except ConfigError as e:
            _restore(server, old, ())
            _fail(None, entry, e.message)
    applied = []
    for shown, d in changed:
        try:
            applied.append(d.name)
            server.apply(d.name)
        except ConfigError as e:
            server.log_warning(f"Failed applying new configuration. Possibly related to new "
                               f"{shown} setting. Restoring previous settings.")
            _restore(server, old, applied)
            _fail(None, shown, e.message)
    audit = getattr(server, "audit_config_set", None)
    if audit is not None:
        audit(c, [d.name for _, d in changed])
    return OK


def _restore(server, old: dict, applied) -> None:
    cfg = server.config
    for name, v in old.items():
        cfg.values[name] = v
        if name == "dir":
            try:
                cfgmod._parse_dir(v)
            except ConfigError:
                pass
    for name in applied:
        try:
            server.apply(name)
        except ConfigError as e:
            server.log_warning(f"Failed applying restored failed CONFIG SET command: {e.message}")


def _fail(invalid_arg, err_arg, errstr):
    if invalid_arg is not None:
        raise CommandError("ERR Unknown option or number of arguments for CONFIG SET - "
                           f"'{_s(invalid_arg)}'")
    if isinstance(err_arg, bytes):
        err_arg = _s(err_arg)
    if errstr:
        raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{err_arg}') "
                           f"- {errstr}")
    raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{err_arg}')")


@subcommand("config", "resetstat", 2, "admin noscript loading stale", "", since="2.0.0",
            summary="Reset the stats returned by INFO")
def config_resetstat(c, argv):
    server = c.server
    if c.tenant is not None:
        c.stats.reset()         # a tenant's client resets only its tenant's statistics
        return OK
    server.stats.reset()
    for hook in getattr(server, "resetstat_hooks", ()):
        hook()
    return OK


@subcommand("config", "rewrite", 2, "admin noscript loading stale", "", since="2.8.0",
            summary="Rewrite the configuration file with the in memory configuration")
def config_rewrite(c, argv):
    server = c.server
    path = server.config.file
    if path is None:
        raise CommandError("ERR The server is running without a config file")
    try:
        cfgmod.rewrite_file(server.config, path)
    except OSError as e:
        msg = e.strerror or str(e)
        server.log_warning(f"CONFIG REWRITE failed: {msg}")
        raise CommandError(f"ERR Rewriting config file: {msg}") from None
    server.log_warning("CONFIG REWRITE executed with success.")
    return OK


HELP = [
    b"GET <pattern>",
    b"    Return parameters matching the glob-like <pattern> and their values.",
    b"SET <directive> <value>",
    b"    Set the configuration <directive> to <value>.",
    b"RESETSTAT",
    b"    Reset statistics reported by the INFO command.",
    b"REWRITE",
    b"    Rewrite the configuration file.",
]


@subcommand("config", "help", 2, "loading stale", "", since="5.0.0",
            summary="Show helpful text about the different subcommands")
def config_help(c, argv):
    return help_reply(argv, HELP)


# -- redaction of secrets (SLOWLOG, MONITOR) ------------------------------------------

def redact_config_set(argv):
    """CONFIG SET argv with the values of secret directives replaced, as Redis's
    redactClientCommandArgument."""
    out = None
    for i in range(2, len(argv) - 1, 2):
        d = _lookup(argv[i])
        if d is not None and d.secret:
            if out is None:
                out = list(argv)
            out[i + 1] = b"(redacted)"
    return argv if out is None else out


@on_init
def _setup(server):
    renames = server.config["rename-command"]
    if renames:
        _apply_renames(server, renames)


def _apply_renames(server, renames) -> None:
    """rename-command: move a command to a new name, or remove it (empty name)."""
    from securekv.commands import table
    for old, new in renames:
        key = old.lower().encode("utf-8", "surrogateescape")
        cmd = table.COMMANDS.pop(key, None)
        if cmd is None:
            continue
        if new:
            table.COMMANDS[new.lower().encode("utf-8", "surrogateescape")] = cmd
