"""Permissions compiled from a user's selectors (rebuilt whenever the user
changes), so that a check on the hot path is a few lookups.

`compile_user(catalog, user)` returns an immutable `Perm`; `perm.check(cmd,
argv)` returns None when allowed, else (reason, argv index) with Redis's
reasons (ACL_DENIED_CMD/KEY/CHANNEL) and its choice among selectors: the
command error if no selector allows the command, else the last key or
channel no selector could match (ACLCheckAllUserCommandPerm).
"""

from __future__ import annotations

from acl.glob import compile_glob
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


class CompiledSelector:
    __slots__ = ("allcmds", "cmds", "firstargs", "allkeys", "keys", "patterns", "allchannels",
                 "channels")

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
        self.keys = tuple((f, compile_glob(p).match) for p, f in sel.patterns)
        self.patterns = tuple((p, f) for p, f in sel.patterns)
        self.allchannels = sel.allchannels
        self.channels = tuple((p, compile_glob(p).match) for p in sel.channels)

    def key_ok(self, key: bytes, mask: int) -> bool:
        if self.allkeys:
            return True
        for flags, match in self.keys:
            if flags & mask == mask and match(key):
                return True
        return False

    def channel_ok(self, channel: bytes, literal: bool) -> bool:
        if self.allchannels:
            return True
        for pat, match in self.channels:
            if (pat == channel) if literal else match(channel):
                return True
        return False


class Perm:
    """A user's compiled permissions. `unrestricted`: some selector allows
    every command, key and channel (the dispatch gate can skip the check)."""

    __slots__ = ("sels", "unrestricted", "catalog", "single")

    def __init__(self, catalog: Catalog, user: User) -> None:
        self.catalog = catalog
        self.sels = tuple(CompiledSelector(s) for s in user.selectors)
        self.unrestricted = any(s.allcmds and s.allkeys and s.allchannels for s in self.sels)
        self.single = self.sels[0] if len(self.sels) == 1 else None

    def check(self, cmd, argv):
        """None if allowed, else (reason, argv index of the key/channel or 0)."""
        if self.unrestricted:
            return None
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
        cid = cmd.id
        if not s.allcmds and cid not in s.cmds and not cmd.no_auth:
            fa = s.firstargs.get(cid)
            if fa is None or len(argv) < 2 or argv[2 if cmd.parent is not None else 1].lower() not in fa:
                return DENIED_CMD, 0, keys
        if not s.allkeys and cid in self.catalog.keyed:
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
