"""Password storage: argon2id (new passwords by default) and SHA-256 hex
(Redis's `#hash`, accepted unchanged), constant-time comparison, and a small
process-local cache of recently verified credentials.

The cache maps (stored hash, HMAC of the password under a per-process random
key) to True: a reconnecting client skips argon2, while nothing in memory is
weaker than the at-rest hash would be across a restart (the key dies with the
process) and entries expire.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import time

try:
    import argon2
    from argon2.low_level import Type
except ImportError:         # pragma: no cover - argon2-cffi is a dependency
    argon2 = None


def sha256_hex(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def verify_argon2(stored: str, password: bytes, hasher=None) -> bool:
    if argon2 is None:
        return False
    h = hasher or argon2.PasswordHasher()
    try:
        return h.verify(stored, password)
    except Exception:
        return False


class Hasher:
    """What `>password` becomes, and verification of any stored form."""

    def __init__(self, algorithm: str = "argon2id", time_cost: int = 2,
                 memory_kib: int = 19456, parallelism: int = 1,
                 cache_size: int = 1024, cache_ttl: float = 300.0) -> None:
        self.algorithm = algorithm
        self.set_params(time_cost, memory_kib, parallelism)
        self._key = os.urandom(32)
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self.cache_size = cache_size
        self.cache_ttl = cache_ttl
        self.hits = 0
        self.verifications = 0

    def set_params(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self.params = (time_cost, memory_kib, parallelism)
        if argon2 is not None:
            self._ph = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                             parallelism=parallelism, type=Type.ID)

    def hash(self, password: bytes) -> str:
        if self.algorithm == "sha256" or argon2 is None:
            return sha256_hex(password)
        return self._ph.hash(password)

    def _ckey(self, stored: str, password: bytes) -> tuple:
        return stored, hmac.new(self._key, password, hashlib.sha256).digest()

    def cached(self, stored: str, password: bytes) -> bool:
        """A verified (stored, password) pair seen recently (cheap, constant time)."""
        if not stored.startswith("$"):
            return False
        k = self._ckey(stored, password)
        t = self._cache.get(k)
        if t is None:
            return False
        if time.monotonic() - t > self.cache_ttl:
            self._cache.pop(k, None)
            return False
        self._cache.move_to_end(k)
        self.hits += 1
        return True

    def matches(self, stored: str, password: bytes) -> bool:
        """Verify one stored hash (argon2 work may run here: call off the loop)."""
        if not stored.startswith("$"):
            return hmac.compare_digest(stored.encode(), sha256_hex(password).encode())
        if self.cached(stored, password):
            return True
        self.verifications += 1
        ok = verify_argon2(stored, password, self._ph if argon2 is not None else None)
        if ok and self.cache_size > 0:
            k = self._ckey(stored, password)
            self._cache[k] = time.monotonic()
            self._cache.move_to_end(k)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return ok

    def forget(self, stored_hashes) -> None:
        """Drop cached verifications of hashes a user no longer has."""
        gone = set(stored_hashes)
        for k in [k for k in self._cache if k[0] in gone]:
            del self._cache[k]

    def needs_slow_path(self, stored_list, password: bytes) -> bool:
        """True when checking `password` may need argon2 work (not all SHA-256
        and no cached verification)."""
        slow = False
        for s in stored_list:
            if not s.startswith("$"):
                continue
            if self.cached(s, password):
                return False
            slow = True
        return slow
