"""Permissions compiled from a user's selectors (rebuilt whenever the user
changes), so that a check on the hot path is a few lookups.

`compile_user(catalog, user)` returns an immutable `Perm`; `perm.check(cmd,
argv)` returns None when allowed, else (reason, argv index) with Redis's
reasons (ACL_DENIED_CMD/KEY/CHANNEL) and its choice among selectors: the
command error if no selector allows the command, else the last key or
channel no selector could match (ACLCheckAllUserCommandPerm).

The hot path is `perm.checks[cmd.id]`: None when the command needs no
argument check for this user (allowed outright), else `chk(cmd, argv)`.
Each entry is built on first use. For a user with only the root selector it
is specialised: a constant denial, or a key check on the catalog's
precomputed extractor (one argv index for GET-like commands) against a
verdict cache of recent keys backed by one combined regex per access kind;
users with selectors use the general walk, which shares those matchers.
"""

from __future__ import annotations

import operator

from acl.glob import compile_any, compile_glob
from acl.rules import PERM_R, PERM_W, Catalog, User

OK = 0
DENIED_CMD = 1
DENIED_KEY = 2
DENIED_AUTH = 3
DENIED_CHANNEL = 4

# Redis's ACLDoesCommandHaveChannels: argument forms of channel commands.
#   one: argv[1] is a channel; all: argv[1:] are channels; pattern: argv[1:] are
#   patterns, compared literally with the user's channel patterns.
CHANNEL_FORMS = {"publish": "one", "spublish": "one", "subscribe": "all",
                 "ssubscribe": "all", "psubscribe": "pattern"}

_READ_FLAGS = frozenset(("access",))
_WRITE_FLAGS = frozenset(("insert", "delete", "update"))
_masks: dict = {}


def key_mask(spec) -> int:
    """The permissions a key needs (ACLSelectorCheckKey): read for `access`,
    write for insert/delete/update; 0 (any pattern) otherwise."""
    if spec is None:
        return 0
    m = _masks.get(id(spec))
    if m is None:
        flags = getattr(spec, "flags", spec)
        m = (PERM_R if flags & _READ_FLAGS else 0) | (PERM_W if flags & _WRITE_FLAGS else 0)
        _masks[id(spec)] = m
        _keep.append(spec)          # ids stay valid: keep the spec alive
    return m


_keep: list = []


_KEY_CACHE_MAX = 1024          # verdicts kept per selector and access kind
_KEY_CACHE_LEN = 128           # longer keys are matched every time, not cached


_GLOB_SPECIAL = frozenset(b"*?[\\")


def _plain_test(pats):
    """A C-level key -> bool for patterns that are all `prefix*` or all literal
    (no other glob syntax, non-empty prefix): `key.startswith(prefixes)` or
    `key in literals`, exactly stringmatchlen's answer for them. None otherwise."""
    prefixes, literals = [], []
    for p in pats:
        body = p[:-1] if p[-1:] == b"*" else p
        if _GLOB_SPECIAL.intersection(body):
            return None
        if body is p:
            literals.append(p)
        elif body:
            prefixes.append(body)
        else:
            return None             # a bare `*`: no empty keys, leave it to the regex
    if prefixes and not literals:
        return operator.methodcaller("startswith", tuple(prefixes))
    if literals and not prefixes:
        return frozenset(literals).__contains__
    return None


class KeyVerdicts:
    """Whether a key matches some pattern of a selector granting `mask`. The
    specialised checks read `get(key)`: True/False, or None for "not known yet",
    then call `miss(key)`. `get` is one C call that always answers when every
    pattern is `prefix*` or every pattern literal (`~key:*`, `~a ~b`); otherwise
    it reads a bounded dict of recent verdicts over one combined regex."""

    __slots__ = ("cache", "fullmatch", "get")

    def __init__(self, patterns, mask: int) -> None:
        pats = [p for p, f in patterns if f & mask == mask]
        self.cache: dict = {}
        self.fullmatch = compile_any(pats)
        self.get = (pats and _plain_test(pats)) or self.cache.get

    def miss(self, key) -> bool:
        v = self.fullmatch(key) is not None
        if len(key) <= _KEY_CACHE_LEN and type(key) is bytes:
            cache = self.cache
            if len(cache) >= _KEY_CACHE_MAX:
                cache.clear()
            cache[key] = v
        return v

    def __call__(self, key) -> bool:
        v = self.get(key) if type(key) is bytes else None
        return self.miss(key) if v is None else v


class CompiledSelector:
    __slots__ = ("allcmds", "cmds", "firstargs", "allkeys", "patterns", "allchannels",
                 "channels", "_verdicts")

    def __init__(self, sel) -> None:
        self.allcmds = sel.allcommands
        ids = []
        bits = sel.bits
        i = 0
        while bits:
            if bits & 1:
                ids.append(i)
            bits >>= 1
            i += 1
        self.cmds = frozenset(ids)
        self.firstargs = {cid: frozenset(a.lower() for a in args)
                          for cid, args in sel.firstargs.items()}
        self.allkeys = sel.allkeys
        self.patterns = tuple((p, f) for p, f in sel.patterns)
        self.allchannels = sel.allchannels
        self.channels = tuple((p, compile_glob(p).match) for p in sel.channels)
        self._verdicts = [None, None, None, None]     # by mask (0, R, W, RW), built on use

    def verdicts(self, mask: int) -> KeyVerdicts:
        v = self._verdicts[mask]
        if v is None:
            v = self._verdicts[mask] = KeyVerdicts(self.patterns, mask)
        return v

    def cmd_ok(self, cmd, argv) -> bool:
        """ACLSelectorCheckCmd's command part: the bit, or an allowed first argument."""
        cid = cmd.id
        if self.allcmds or cid in self.cmds or cmd.no_auth:
            return True
        fa = self.firstargs.get(cid)
        return not (fa is None or len(argv) < 2
                    or argv[2 if cmd.parent is not None else 1].lower() not in fa)

    def key_ok(self, key: bytes, mask: int) -> bool:
        if self.allkeys:
            return True
        return self.verdicts(mask)(key)

    def channel_ok(self, channel: bytes, literal: bool) -> bool:
        if self.allchannels:
            return True
        for pat, match in self.channels:
            if (pat == channel) if literal else match(channel):
                return True
        return False


def _deny_cmd(cmd, argv):
    return DENIED_CMD, 0


def _one_key_check(idx: int, kv: KeyVerdicts, general, max_argc=None):
    """The key at argv[idx] (GET, SET, INCR ...) while idx < len(argv) <= max_argc,
    else the general walk."""
    get = kv.get
    miss = kv.miss
    denied = (DENIED_KEY, idx)
    maxc = 1 << 62 if max_argc is None else max_argc

    def chk(cmd, argv):
        if idx < len(argv) <= maxc:
            k = argv[idx]
            v = get(k)
            if v is None:
                v = miss(k)
            return None if v else denied
        return general(cmd, argv)
    return chk


def _keys_check(extract, kv: KeyVerdicts):
    """Every key the extractor returns (MGET, DEL, MSET ...) against one matcher."""
    get = kv.get
    miss = kv.miss

    def chk(cmd, argv):
        for pos, _spec in extract(argv):
            k = argv[pos]
            v = get(k)
            if v is None:
                v = miss(k)
            if not v:
                return DENIED_KEY, pos
        return None
    return chk


class Perm:
    """A user's compiled permissions. `unrestricted`: some selector allows
    every command, key and channel (the dispatch gate can skip the check).
    `checks[cmd.id]`: None (allowed whatever the arguments) or chk(cmd, argv)."""

    __slots__ = ("sels", "unrestricted", "catalog", "single", "checks")

    def __init__(self, catalog: Catalog, user: User) -> None:
        self.catalog = catalog
        self.sels = tuple(CompiledSelector(s) for s in user.selectors)
        self.unrestricted = any(s.allcmds and s.allkeys and s.allchannels for s in self.sels)
        self.single = self.sels[0] if len(self.sels) == 1 else None
        n = catalog.max_id + 1
        self.checks = [None] * n if self.unrestricted else [self._build] * n

    def check(self, cmd, argv):
        """None if allowed, else (reason, argv index of the key/channel or 0)."""
        checks = self.checks
        cid = cmd.id
        chk = checks[cid] if cid < len(checks) else self.general
        return None if chk is None else chk(cmd, argv)

    def _build(self, cmd, argv):
        """First use of cmd: install its specialised check, then run it."""
        chk = self.checks[cmd.id] = self._specialise(cmd)
        return None if chk is None else chk(cmd, argv)

    def _specialise(self, cmd):
        s = self.single
        if s is None:
            return self.general
        cid = cmd.id
        if not (s.allcmds or cid in s.cmds or cmd.no_auth):
            return self.general if cid in s.firstargs else _deny_cmd
        need_keys = not s.allkeys and cid in self.catalog.keyed
        form = None if s.allchannels else CHANNEL_FORMS.get(cmd.name)
        if form is not None:
            return self.general
        if not need_keys:
            return None
        ex = self.catalog.extractor(cmd)
        spec = getattr(ex, "spec", None)
        if spec is None:
            return self.general
        kv = s.verdicts(key_mask(spec))
        idx = ex.index
        if idx is not None:
            return _one_key_check(idx, kv, self.general, getattr(ex, "max_argc", None))
        return _keys_check(ex, kv)

    def general(self, cmd, argv):
        """ACLCheckAllUserCommandPerm over every selector."""
        keys = None
        relevant, last = DENIED_CMD, 0
        for s in self.sels:
            r, idx, keys = self._check_selector(s, cmd, argv, keys)
            if r == OK:
                return None
            if r > relevant or (r == relevant and idx > last):
                relevant, last = r, idx
        return relevant, last

    def _check_selector(self, s, cmd, argv, keys):
        """ACLSelectorCheckCmd: (reason, argv index, keys cache)."""
        if not s.cmd_ok(cmd, argv):
            return DENIED_CMD, 0, keys
        if not s.allkeys and cmd.id in self.catalog.keyed:
            if keys is None:
                keys = self.catalog.get_keys(cmd, argv)
            for pos, spec in keys:
                if not s.key_ok(argv[pos], key_mask(spec)):
                    return DENIED_KEY, pos, keys
        if not s.allchannels:
            form = CHANNEL_FORMS.get(cmd.name)
            if form is not None:
                end = 2 if form == "one" else len(argv)
                literal = form == "pattern"
                for j in range(1, min(end, len(argv))):
                    if not s.channel_ok(argv[j], literal):
                        return DENIED_CHANNEL, j, keys
        return OK, 0, keys

    def full_key_access(self, cmd, argv, mask: int = PERM_R) -> bool:
        """ACLUserCheckCmdWithUnrestrictedKeyAccess: some selector allows this
        call and has `allkeys` or a `*` pattern carrying `mask` (SORT BY/GET)."""
        if self.unrestricted:
            return True
        keys = None
        for s in self.sels:
            r, _idx, keys = self._check_selector(s, cmd, argv, keys)
            if r == OK and (s.allkeys or any(f & mask == mask and p == b"*" for p, f in s.patterns)):
                return True
        return False

    def channel_allowed(self, channel: bytes, literal: bool) -> bool:
        """ACLUserCheckChannelPerm: some selector allows this channel/pattern."""
        return any(s.channel_ok(channel, literal) for s in self.sels)

    def key_allowed(self, key: bytes, mask: int = PERM_R) -> bool:
        """ACLUserCheckKeyPerm: some selector allows this key for `mask`."""
        return any(s.key_ok(key, mask) for s in self.sels)

    @property
    def allkeys(self) -> bool:
        return any(s.allkeys for s in self.sels)


def compile_user(catalog: Catalog, user: User) -> Perm:
    """Compile and attach the user's permissions; returns them."""
    user.perm = Perm(catalog, user)
    return user.perm
