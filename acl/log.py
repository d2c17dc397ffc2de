"""The ACL LOG (acl.c addACLLogEntry): newest first, similar entries within
60 s grouped (count bumped, moved to the head), bounded by acllog-max-len."""

from __future__ import annotations

import time

GROUPING_MS = 60000
REASONS = {1: b"command", 2: b"key", 3: b"auth", 4: b"channel"}
CONTEXTS = ("toplevel", "multi", "lua", "module")


class Entry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo",
                 "entry_id", "created")

    def __init__(self, reason, context, obj, username, cinfo, now_ms, entry_id) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime = now_ms
        self.cinfo = cinfo
        self.entry_id = entry_id
        self.created = now_ms

    def matches(self, other: "Entry") -> bool:
        return (self.reason == other.reason and self.context == other.context
                and abs(self.ctime - other.ctime) <= GROUPING_MS
                and self.object == other.object and self.username == other.username)

    def reply(self, now_ms: int) -> dict:
        """Redis 7.0.15's seven fields (a map: flat array in RESP2)."""
        return {
            b"count": self.count,
            b"reason": REASONS.get(self.reason, b"unknown"),
            b"context": self.context.encode(),
            b"object": self.object,
            b"username": self.username,
            b"age-seconds": (now_ms - self.ctime) / 1000,
            b"client-info": self.cinfo,
        }


class AclLog:
    def __init__(self, max_len: int = 128) -> None:
        self.entries: list[Entry] = []      # newest first
        self.max_len = max_len
        self.next_id = 0

    def add(self, reason: int, context: str, obj: bytes, username: bytes, cinfo: bytes,
            now_ms: int | None = None) -> Entry:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        le = Entry(reason, context, obj, username, cinfo, now, self.next_id)
        for i, cur in enumerate(self.entries[:10]):
            if cur.matches(le):
                cur.cinfo = cinfo
                cur.ctime = now
                cur.count += 1
                del self.entries[i]
                self.entries.insert(0, cur)
                return cur
        self.next_id += 1
        self.entries.insert(0, le)
        del self.entries[self.max_len:]
        return le

    def reset(self) -> None:
        self.entries.clear()

    def set_max_len(self, n: int) -> None:
        self.max_len = n            # Redis trims at the next entry
