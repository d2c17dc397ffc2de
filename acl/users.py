"""The users registry (Redis's Users rax): names in byte order, the default
user, staged ACL SETUSER, ACL files (LOAD/SAVE, atomic) and `user` config lines.
"""

from __future__ import annotations

import os

from acl.perm import compile_user
from acl.rules import (ERR_DUPLICATE_USER, Catalog, RuleError, User, describe_user, has_spaces,
                       merge_selector_args)


class Users:
    def __init__(self, catalog: Catalog, hasher=None, allchannels_default: bool = False) -> None:
        self.catalog = catalog
        self.hasher = hasher
        self.allchannels_default = allchannels_default
        self.users: dict[bytes, User] = {}
        self.default = self.create_default()
        self.users[b"default"] = self.default

    def new_user(self, name: bytes) -> User:
        return User(name, allchannels=self.allchannels_default)

    def create_default(self) -> User:
        u = self.new_user(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            self.apply(u, op)
        compile_user(self.catalog, u)
        return u

    def apply(self, u: User, op: bytes) -> None:
        u.apply(self.catalog, op, self.hasher, self.allchannels_default)

    def get(self, name: bytes) -> User | None:
        return self.users.get(name)

    def names(self) -> list[bytes]:
        return sorted(self.users)

    def describe(self, u: User) -> bytes:
        return describe_user(self.catalog, u)

    def stage(self, name: bytes, ops: list[bytes]) -> User:
        """Apply ops to a copy of user `name` (or a new user); raises
        RuleError(op, message) on the first bad op. Nothing is changed."""
        cur = self.users.get(name)
        temp = self.new_user(name)
        if cur is not None:
            temp.copy_from(cur)
        for op in ops:
            try:
                self.apply(temp, op)
            except RuleError as e:
                e.op = op
                raise
        return temp

    def commit(self, name: bytes, staged: User) -> User:
        """Install staged rules: an existing user object is updated in place
        (clients keep their reference), else the staged user is added."""
        cur = self.users.get(name)
        if cur is None:
            cur = self.users[name] = staged
        else:
            cur.copy_from(staged)
        compile_user(self.catalog, cur)
        return cur

    def delete(self, name: bytes) -> User | None:
        return self.users.pop(name, None)

    def set_default_password(self, password: bytes | None) -> None:
        """ACLUpdateDefaultUserPassword (requirepass)."""
        self.apply(self.default, b"resetpass")
        if password:
            self.apply(self.default, b">" + password)
        else:
            self.apply(self.default, b"nopass")
        compile_user(self.catalog, self.default)

    # -- config `user` lines ----------------------------------------------------

    def check_config_user(self, args: list[bytes], seen: set) -> str | None:
        """ACLAppendUserForLoading: validate one `user name rules...` line
        (unknown commands are tolerated here as Redis does). Error or None."""
        if not args:
            return "Bad directive or wrong number of arguments"
        name = args[0]
        if name in seen:
            return ERR_DUPLICATE_USER
        merged, bad = merge_selector_args(args[1:])
        if merged is None:
            return "Unmatched parenthesis in acl selector starting at '%s'." % _s(args[1 + bad])
        fake = self.new_user(b"__fakeuser__")
        for op in merged:
            try:
                self.apply(fake, op)
            except RuleError as e:
                if not e.unknown:
                    return e.message
        seen.add(name)
        return None

    def load_config_users(self, lines: list[list[bytes]]) -> str | None:
        """ACLLoadConfiguredUsers: create the users of `user` lines (error or None)."""
        for args in lines:
            name = args[0]
            if has_spaces(name):
                return "Spaces not allowed in ACL usernames"
            merged, bad = merge_selector_args(args[1:])
            if merged is None:
                return "Unmatched parenthesis in acl selector starting at '%s'." % _s(args[1 + bad])
            u = self.users.get(name)
            if u is None:
                u = self.users[name] = self.new_user(name)
            else:
                self.apply(u, b"reset")
            for op in merged:
                try:
                    self.apply(u, op)
                except RuleError as e:
                    return "Error loading ACL rule '%s' for the user named '%s': %s" % (
                        _s(op), _s(name), e.message)
            compile_user(self.catalog, u)
        return None

    # -- ACL files --------------------------------------------------------------

    def load_file(self, path: str, shown: str | None = None):
        """ACLLoadFromFile: (new users dict, None) or (None, Redis's error text).
        Nothing is installed here: the caller swaps on success (atomic)."""
        shown = path if shown is None else shown
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            return None, "Error loading ACLs, opening file '%s': %s" % (path, e.strerror)
        errors = []
        users: dict[bytes, User] = {}
        for i, raw in enumerate(data.split(b"\n"), 1):
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            argv = line.split(b" ")        # sdssplitlen: empty words are no-op rules
            if argv[0] != b"user" or len(argv) < 2:
                errors.append("%s:%d should start with user keyword followed by the username. "
                              % (shown, i))
                continue
            name = argv[1]
            if has_spaces(name):
                errors.append("'%s:%d: username '%s' contains invalid characters. "
                              % (shown, i, _s(name)))
                continue
            if name in users:
                errors.append("WARNING: Duplicate user '%s' found on line %d. " % (_s(name), i))
                continue
            u = users[name] = self.new_user(name)
            merged, _bad = merge_selector_args(argv[2:])
            if merged is None:
                errors.append("%s:%d: Unmatched parenthesis in selector definition." % (shown, i))
                merged = []
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    self.apply(u, op)
                except RuleError as e:
                    errors.append("%s:%d: %s. " % (shown, i, e.message))
        if errors:
            return None, "".join(errors) + ("WARNING: ACL errors detected, no change to the "
                                            "previously active ACL rules was performed")
        return users, None

    def install(self, users: dict[bytes, User]) -> list[User]:
        """Swap in users loaded from a file; the default user object is kept
        (its rules copied). Returns the users that no longer exist as objects
        (their clients must be disconnected, as ACLFreeUsersSet does)."""
        new_default = users.pop(b"default", None)
        if new_default is None:
            new_default = self.create_default()
        self.default.copy_from(new_default)
        compile_user(self.catalog, self.default)
        gone = [u for n, u in self.users.items() if n != b"default"]
        for u in users.values():
            compile_user(self.catalog, u)
        users[b"default"] = self.default
        self.users = users
        return gone

    def save_text(self) -> bytes:
        return b"".join(b"user " + n + b" " + self.describe(self.users[n]) + b"\n"
                        for n in self.names())

    def save_file(self, path: str) -> None:
        """ACLSaveToFile: write a temp file and rename it over (raises OSError)."""
        import time
        tmp = "%s.tmp-%d-%d" % (path, os.getpid(), int(time.time() * 1000))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.write(fd, self.save_text())
            finally:
                os.close(fd)
            os.rename(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")

