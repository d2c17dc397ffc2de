"""Users, selectors and the Redis 7.0 ACL rule grammar (acl.c: ACLSetUser,
ACLSetSelector, ACLDescribeUser, ACLDescribeSelectorCommandRules).

A `User` holds flags, passwords and a list of `Selector`s (the first is the
root selector). Rules are applied with `User.apply(op)`, which raises
`RuleError` carrying Redis's error text; `describe_user` renders the
canonical form ACL LIST / ACL SAVE print, and `describe_commands` the
command-rule string of one selector (ACL GETUSER's "commands").

Commands are known through a `Catalog` (the server builds one from its
command table): command objects expose `name` (full name, lower case),
`id`, `categories` (names without '@'), `subcommands` (dict of lower-case
bytes -> command, or None), `parent` and `no_auth`.
"""

from __future__ import annotations

import hashlib

from acl.categories import CATEGORIES, category_by_name

# Key pattern permissions (ACL_READ_PERMISSION / ACL_WRITE_PERMISSION).
PERM_R = 1
PERM_W = 2
PERM_RW = 3

# Redis's errno -> ACLSetUserStringError text.
ERR_SYNTAX = "Syntax error"
ERR_UNKNOWN = "Unknown command or category name in ACL"
ERR_KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
                      "and does not have any effect. Try 'resetkeys' to start with an empty list "
                      "of patterns")
ERR_CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
                          "valid and does not have any effect. Try 'resetchannels' to start with "
                          "an empty list of channels")
ERR_NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
ERR_BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
                "hexadecimal characters")
ERR_DUPLICATE_USER = "Duplicate user found. A user can only be defined once in config files"
ERR_FIRSTARG_SUB = "Allowing first-arg of a subcommand is not supported"
ERR_TENANT = "The tenant name must be non-empty and contain no spaces or null characters"


class RuleError(ValueError):
    """A rule that cannot be applied; `str(e)` is Redis's description."""

    def __init__(self, message: str, unknown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unknown = unknown      # ENOENT: unknown command/category (config loading defers it)


class Catalog:
    """What the ACL engine knows of the server's commands.

    `commands`: the top-level command objects in table order; `get_keys(cmd,
    argv)`: (argv index, key-spec flags or None) for each key the command
    touches. Channel arguments are Redis's fixed forms (PUBLISH, SUBSCRIBE ...).
    `key_extractor(cmd)` (optional): None, or a function argv -> the same list
    as get_keys(cmd, argv), precomputed once per command, with attributes
    `spec` (the spec of every key it returns, or None when that varies) and
    `index` (the single key position when len(argv) > index, or None) and
    optionally `max_argc` (index and spec hold only up to that many arguments;
    longer calls take get_keys); the compiled permissions specialise their key
    check with them.
    """

    def __init__(self, commands, get_keys, key_extractor=None) -> None:
        self.top = list(commands)
        self.by_name = {c.name.encode(): c for c in self.top}
        self.get_keys = get_keys
        self.key_extractor = key_extractor
        self.all = []
        for c in self.top:
            self.all.append(c)
            if c.subcommands:
                self.all.extend(c.subcommands.values())
        self.max_id = max((c.id for c in self.all), default=0)
        self.ids = {c.id: c for c in self.all}
        # doesCommandHaveKeys: a getkeys function or a key spec that is a key.
        self.keyed = frozenset(
            c.id for c in self.all
            if getattr(c, "getkeys", None) is not None
            or any("not_key" not in s.flags for s in getattr(c, "key_specs", ())))
        self.by_category: dict[str, list] = {cat: [] for cat in CATEGORIES}
        for c in self.top:
            for cat in c.categories:
                if cat in self.by_category:
                    self.by_category[cat].append(c)

    def extractor(self, cmd):
        """The precomputed key extractor of cmd (see the class doc), or None."""
        return None if self.key_extractor is None else self.key_extractor(cmd)

    def lookup(self, name: bytes):
        """Redis's lookupCommandBySdsLogic (strict): `cmd` or `cmd|sub`."""
        parts = name.split(b"|")
        if len(parts) > 2:
            return None
        base = self.by_name.get(parts[0].lower())
        if base is None:
            return None
        if len(parts) == 1 or not base.subcommands:
            return base if len(parts) == 1 else None
        return base.subcommands.get(parts[1].lower())

    def category_commands(self, cat: str, commands=None):
        """Commands (recursively, subcommands included) in category `cat`."""
        for c in (self.top if commands is None else commands):
            if cat in c.categories:
                yield c
            if c.subcommands:
                yield from self.category_commands(cat, c.subcommands.values())


def sha256_hex(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def valid_sha256_hex(h: bytes) -> bool:
    """Redis's ACLCheckPasswordHash: 64 lower-case hex characters."""
    return len(h) == 64 and all(48 <= b <= 57 or 97 <= b <= 102 for b in h)


def has_spaces(s: bytes) -> bool:
    """Redis's ACLStringHasSpaces: isspace() or NUL anywhere."""
    for b in s:
        if b in b" \t\n\v\f\r\x00":
            return True
    return False


class Selector:
    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "bits", "future",
                 "firstargs", "patterns", "channels")

    def __init__(self, root: bool = False, allchannels: bool = False) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.bits = 0               # bit per command id
        self.future = False         # the reserved "future commands" bit (+@all)
        self.firstargs: dict[int, list[bytes]] = {}
        self.patterns: list[list] = []      # [pattern bytes, PERM_* flags]
        self.channels: list[bytes] = []

    def copy(self) -> "Selector":
        s = Selector.__new__(Selector)
        s.root = self.root
        s.allkeys = self.allkeys
        s.allchannels = self.allchannels
        s.allcommands = self.allcommands
        s.bits = self.bits
        s.future = self.future
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.patterns = [list(p) for p in self.patterns]
        s.channels = list(self.channels)
        return s

    # -- command bits ----------------------------------------------------------

    def has_bit(self, cid: int) -> bool:
        return (self.bits >> cid) & 1 == 1

    def set_bit(self, cid: int, value: bool) -> None:
        if value:
            self.bits |= 1 << cid
        else:
            self.bits &= ~(1 << cid)
            self.allcommands = False

    def change_perm(self, cmd, allow: bool) -> None:
        """ACLChangeSelectorPerm: a command and all its subcommands."""
        self.set_bit(cmd.id, allow)
        self.firstargs.pop(cmd.id, None)
        if cmd.subcommands:
            for sub in cmd.subcommands.values():
                self.set_bit(sub.id, allow)

    def set_category(self, catalog: Catalog, cat: str, allow: bool, commands=None) -> None:
        """ACLSetSelectorCommandBitsForCategoryLogic."""
        for c in (catalog.top if commands is None else commands):
            if cat in c.categories:
                self.change_perm(c, allow)
            if c.subcommands:
                self.set_category(catalog, cat, allow, c.subcommands.values())

    def set_all(self, catalog: Catalog, allow: bool) -> None:
        if allow:
            self.bits = (1 << (catalog.max_id + 1)) - 1
            self.future = True
            self.allcommands = True
        else:
            self.bits = 0
            self.future = False
            self.allcommands = False
        self.firstargs = {}

    # -- ACLSetSelector ----------------------------------------------------------

    def apply(self, catalog: Catalog, op: bytes) -> None:
        low = op.lower()
        if low == b"allkeys" or op == b"~*":
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low == b"allchannels" or op == b"&*":
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low == b"allcommands" or low == b"+@all":
            self.set_all(catalog, True)
        elif low == b"nocommands" or low == b"-@all":
            self.set_all(catalog, False)
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(ERR_CHANNELS_AFTER_ALL)
            pat = op[1:]
            if has_spaces(pat):
                raise RuleError(ERR_SYNTAX)
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(catalog, op)
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = catalog.lookup(op[1:])
            if cmd is None:
                raise RuleError(ERR_UNKNOWN, unknown=True)
            self.change_perm(cmd, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = category_by_name(op[2:])
            if cat is None:
                raise RuleError(ERR_UNKNOWN, unknown=True)
            self.set_category(catalog, cat, op[:1] == b"+")
        else:
            raise RuleError(ERR_SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError(ERR_KEYS_AFTER_ALL)
        flags = 0
        offset = 1
        n = len(op)
        if op[:1] == b"%":
            while offset < n:
                ch = op[offset:offset + 1].upper()
                if ch == b"R" and not flags & PERM_R:
                    flags |= PERM_R
                elif ch == b"W" and not flags & PERM_W:
                    flags |= PERM_W
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(ERR_SYNTAX)
                offset += 1
        else:
            flags = PERM_RW
        pat = op[offset:]
        if has_spaces(pat):
            raise RuleError(ERR_SYNTAX)
        if flags == 0:
            # '%' alone: Redis stores a pattern without permissions (and then
            # cannot render it); refuse it as a syntax error instead.
            raise RuleError(ERR_SYNTAX)
        for p in self.patterns:
            if p[0] == pat:
                p[1] |= flags
                break
        else:
            self.patterns.append([pat, flags])
        self.allkeys = False

    def _allow_command(self, catalog: Catalog, op: bytes) -> None:
        name = op[1:]
        if b"|" not in op:
            cmd = catalog.lookup(name)
            if cmd is None:
                raise RuleError(ERR_UNKNOWN, unknown=True)
            self.change_perm(cmd, True)
            return
        base, _, sub = name.rpartition(b"|")
        cmd = catalog.lookup(base)
        if cmd is None:
            raise RuleError(ERR_UNKNOWN, unknown=True)
        if cmd.parent is not None:
            raise RuleError(ERR_FIRSTARG_SUB)
        if not sub:
            raise RuleError(ERR_SYNTAX)
        if cmd.subcommands:
            cmd = catalog.lookup(name)
            if cmd is None:
                raise RuleError(ERR_UNKNOWN, unknown=True)
            self.change_perm(cmd, True)
        else:
            args = self.firstargs.setdefault(cmd.id, [])
            lsub = sub.lower()
            if not any(a.lower() == lsub for a in args):
                args.append(sub)

    # -- describing ------------------------------------------------------------

    def describe_keys(self) -> bytes:
        if self.allkeys:
            return b"~*"
        return b" ".join(pattern_string(p, f) for p, f in self.patterns)

    def describe_channels(self) -> bytes:
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + c for c in self.channels)


def pattern_string(pat: bytes, flags: int) -> bytes:
    """sdsCatPatternString: ~pat, %R~pat or %W~pat."""
    if flags == PERM_RW:
        return b"~" + pat
    if flags == PERM_R:
        return b"%R~" + pat
    return b"%W~" + pat


def _count_category(catalog: Catalog, bits: int, cat: str) -> tuple[int, int]:
    on = off = 0
    for c in catalog.category_commands(cat):
        if (bits >> c.id) & 1:
            on += 1
        else:
            off += 1
    return on, off


def describe_commands(catalog: Catalog, sel: Selector) -> bytes:
    """ACLDescribeSelectorCommandRules: +@all/-@all, the best-fitting categories,
    then single commands (in table order; Redis uses its dict's order) and
    first-args, so that replaying the rules rebuilds the same bitmap."""
    rules = []
    fake = Selector()
    if sel.future:
        additive = False
        rules.append(b"+@all")
        fake.set_all(catalog, True)
    else:
        additive = True
        rules.append(b"-@all")
        fake.set_all(catalog, False)
    temp = Selector()
    temp.bits = sel.bits
    applied = set()
    while True:
        best = None
        mindiff, maxsame = 1 << 62, 0
        for cat in CATEGORIES:
            if cat in applied:
                continue
            on, off = _count_category(catalog, temp.bits, cat)
            diff, same = (off, on) if additive else (on, off)
            if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                best, mindiff, maxsame = cat, diff, same
        if best is None:
            break
        fake.set_category(catalog, best, additive)
        temp.set_category(catalog, best, not additive)
        rules.append((b"+@" if additive else b"-@") + best.encode())
        applied.add(best)
    _describe_single(catalog, sel, fake, rules, catalog.top)
    return b" ".join(rules)


def _describe_single(catalog, sel, fake, rules, commands) -> None:
    for c in commands:
        userbit = sel.has_bit(c.id)
        if userbit != fake.has_bit(c.id):
            rules.append((b"+" if userbit else b"-") + c.name.encode())
            fake.change_perm(c, userbit)
        if c.subcommands:
            _describe_single(catalog, sel, fake, rules, c.subcommands.values())
        if not userbit:
            for arg in sel.firstargs.get(c.id, ()):
                rules.append(b"+" + c.name.encode() + b"|" + arg)


def describe_selector(catalog: Catalog, sel: Selector) -> bytes:
    """ACLDescribeSelector: keys, channels, command rules."""
    parts = []
    if sel.allkeys:
        parts.append(b"~*")
    else:
        parts.extend(pattern_string(p, f) for p, f in sel.patterns)
    if sel.allchannels:
        parts.append(b"&*")
    else:
        parts.append(b"resetchannels")
        parts.extend(b"&" + c for c in sel.channels)
    parts.append(describe_commands(catalog, sel))
    return b" ".join(parts)


class User:
    """An ACL user: flags, passwords (stored hashes) and selectors.

    `tenant` is securekv's `tenant=<name>` rule, opaque to this library: None
    (the rules do not say), or the name as given (`reset` makes it b"default").
    The server binds the user to that tenant and renders what it has bound.

    `certonly` is securekv's `certonly` rule (`nocertonly` and `reset` clear
    it): the user can only be logged in by a verified TLS client certificate,
    never by AUTH/HELLO with a password or `nopass`. Rendered only when set
    (after Redis's flags), so without it every output is Redis's."""

    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors", "perm",
                 "tenant", "certonly", "__weakref__")

    def __init__(self, name: bytes, allchannels: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize = None        # None, "sanitize-payload" or "skip-sanitize-payload"
        self.passwords: list[str] = []   # sha256 hex or argon2 PHC strings
        self.selectors = [Selector(root=True, allchannels=allchannels)]
        self.perm = None            # the compiled permissions (acl.perm.compile_user)
        self.tenant = None          # the `tenant=<name>` rule (opaque metadata)
        self.certonly = False       # the `certonly` rule: TLS client-certificate login only

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy_from(self, other: "User") -> None:
        """ACLCopyUser: same rules, name kept."""
        self.enabled = other.enabled
        self.nopass = other.nopass
        self.sanitize = other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self.tenant = other.tenant
        self.certonly = other.certonly

    def clone(self) -> "User":
        u = User(self.name)
        u.copy_from(self)
        return u

    def apply(self, catalog: Catalog, op: bytes, hasher=None, allchannels_default=False) -> None:
        """ACLSetUser. `hasher(password) -> stored hash` for `>pw` (SHA-256 when
        None); `matcher(stored, password)` is taken from `hasher.matches` when
        present, for `<pw` with non-SHA-256 hashes."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload":
            self.sanitize = "skip-sanitize-payload"
        elif low == b"sanitize-payload":
            self.sanitize = "sanitize-payload"
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            if op[:1] == b">":
                sha = sha256_hex(op[1:])
                if hasher is not None:
                    if any(hasher.matches(p, op[1:]) for p in self.passwords):
                        self.nopass = False
                        return
                    new = hasher.hash(op[1:])
                else:
                    new = sha
            else:
                if not valid_stored_hash(op[1:]):
                    raise RuleError(ERR_BAD_HASH)
                new = op[1:].decode("ascii")
            if new not in self.passwords:
                self.passwords.append(new)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            if op[:1] == b"<":
                pw = op[1:]
                for i, p in enumerate(self.passwords):
                    if password_matches(p, pw, hasher):
                        del self.passwords[i]
                        return
                raise RuleError(ERR_NO_SUCH_PASSWORD)
            if not valid_stored_hash(op[1:]):
                raise RuleError(ERR_BAD_HASH)
            h = op[1:].decode("ascii")
            if h in self.passwords:
                self.passwords.remove(h)
            else:
                raise RuleError(ERR_NO_SUCH_PASSWORD)
        elif op[:1] == b"(" and op[-1:] == b")":
            sel = Selector(allchannels=allchannels_default)
            for sub in split_args(op[1:-1]):
                sel.apply(catalog, sub)
            self.selectors.append(sel)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low[:7] == b"tenant=":
            name = op[7:]
            if not name or has_spaces(name):
                raise RuleError(ERR_TENANT)
            self.tenant = name
        elif low == b"certonly":
            self.certonly = True
        elif low == b"nocertonly":
            self.certonly = False
        elif low == b"reset":
            self.tenant = b"default"
            self.certonly = False
            self.nopass = False
            self.passwords = []
            root = self.root
            root.allkeys = False
            root.patterns = []
            root.allchannels = allchannels_default
            root.channels = []
            self.enabled = False
            self.sanitize = "sanitize-payload"
            del self.selectors[1:]
            root.set_all(catalog, False)
        else:
            self.root.apply(catalog, op)

    def flags(self) -> list[bytes]:
        """The user flags in ACLUserFlags order."""
        out = [b"on" if self.enabled else b"off"]
        if self.nopass:
            out.append(b"nopass")
        if self.sanitize == "skip-sanitize-payload":
            out.append(b"skip-sanitize-payload")
        elif self.sanitize == "sanitize-payload":
            out.append(b"sanitize-payload")
        return out


def valid_stored_hash(h: bytes) -> bool:
    """A `#hash` rule: SHA-256 hex as Redis, or an argon2id PHC string."""
    if valid_sha256_hex(h):
        return True
    return h.startswith(b"$argon2id$") and not has_spaces(h) and h.count(b"$") == 5


def password_matches(stored: str, password: bytes, hasher=None) -> bool:
    """Does `password` match one stored hash (constant time for SHA-256)?"""
    import hmac
    if not stored.startswith("$"):
        return hmac.compare_digest(stored.encode(), sha256_hex(password).encode())
    if hasher is not None:
        return hasher.matches(stored, password)
    from acl.passwords import verify_argon2
    return verify_argon2(stored, password)


def describe_user(catalog: Catalog, u: User) -> bytes:
    """ACLDescribeUser: flags, #passwords, root selector, (selectors)."""
    parts = list(u.flags())
    if u.certonly:
        parts.append(b"certonly")
    if u.tenant is not None and u.tenant != b"default":
        parts.append(b"tenant=" + u.tenant)
    parts.extend(b"#" + p.encode() for p in u.passwords)
    out = b" ".join(parts) + b" " + describe_selector(catalog, u.root)
    for s in u.selectors[1:]:
        out += b" (" + describe_selector(catalog, s) + b")"
    return out


def merge_selector_args(args: list[bytes]):
    """ACLMergeSelectorArguments: join '(' ... ')' spread over several arguments.
    Returns (merged, None) or (None, index of the unmatched opening argument)."""
    merged = []
    start = -1
    sel = b""
    for j, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            sel = op
            start = j
            continue
        if start != -1:
            sel += b" " + op
            if op[-1:] == b")":
                start = -1
                merged.append(sel)
            continue
        merged.append(op)
    if start != -1:
        return None, start
    return merged, None


def split_args(line: bytes) -> list[bytes]:
    """sdssplitargs as used for selector bodies (quotes honoured)."""
    from acl.sdsargs import sdssplitargs
    out = sdssplitargs(line)
    return [] if out is None else out   # Redis: unbalanced quotes make an empty selector
