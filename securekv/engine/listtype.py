"""The list value (Redis's quicklist): a deque of bytes elements.

O(1) pushes and pops at both ends; indexing near either end is fast (deque
indexing walks from the nearer end). `mem` is a running estimate of the bytes
held, kept current by the mutators below in O(1) per element (callers report
the returned deltas to the database with db.grow()).
"""

from __future__ import annotations

import collections
from itertools import islice

# Per element: the deque slot plus the bytes object header; per list: the deque.
ELEM_OVERHEAD = 8 + 33
LIST_OVERHEAD = 632


class ListValue(collections.deque):
    __slots__ = ("mem",)

    type_name = b"list"

    def __init__(self, items=()) -> None:
        super().__init__(items)
        self.mem = LIST_OVERHEAD + sum(map(len, self)) + ELEM_OVERHEAD * len(self)

    def encoding(self) -> bytes:
        """OBJECT ENCODING: Redis 7.0 lists are always quicklists."""
        return b"quicklist"

    def copy(self) -> "ListValue":
        return ListValue(self)

    def __copy__(self) -> "ListValue":
        return ListValue(self)

    # -- mutators that keep `mem`; each returns the size delta -------------------

    def push_many(self, items, left: bool) -> int:
        """LPUSH/RPUSH semantics (LPUSH a b c leaves c b a at the head)."""
        if left:
            self.extendleft(items)
        else:
            self.extend(items)
        d = sum(map(len, items)) + ELEM_OVERHEAD * len(items)
        self.mem += d
        return d

    def push(self, item: bytes, left: bool) -> int:
        if left:
            self.appendleft(item)
        else:
            self.append(item)
        d = len(item) + ELEM_OVERHEAD
        self.mem += d
        return d

    def pop_one(self, left: bool) -> bytes:
        v = self.popleft() if left else self.pop()
        self.mem -= len(v) + ELEM_OVERHEAD
        return v

    def pop_many(self, count: int, left: bool) -> list:
        """Up to count elements from one end, in pop order."""
        n = min(count, len(self))
        p = self.popleft if left else self.pop
        out = [p() for _ in range(n)]
        self.mem -= sum(map(len, out)) + ELEM_OVERHEAD * n
        return out

    def set_at(self, index: int, item: bytes) -> int:
        old = self[index]
        self[index] = item
        d = len(item) - len(old)
        self.mem += d
        return d

    def insert_at(self, index: int, item: bytes) -> int:
        self.insert(index, item)
        d = len(item) + ELEM_OVERHEAD
        self.mem += d
        return d

    def replace_all(self, items) -> int:
        """Make the list hold exactly `items` (used by LREM); returns the delta."""
        old = self.mem
        self.clear()
        self.extend(items)
        self.mem = LIST_OVERHEAD + sum(map(len, self)) + ELEM_OVERHEAD * len(self)
        return self.mem - old

    def trim(self, start: int, end: int) -> int:
        """Keep elements start..end (normalized, inclusive; start > end empties)."""
        n = len(self)
        if start > end or start >= n:
            return self.replace_all(())
        ltrim, rtrim = start, n - end - 1
        if ltrim + rtrim <= (end - start + 1):
            removed = 0
            for _ in range(ltrim):
                removed += len(self.popleft())
            for _ in range(rtrim):
                removed += len(self.pop())
            d = -(removed + ELEM_OVERHEAD * (ltrim + rtrim))
            self.mem += d
            return d
        return self.replace_all(self.range(start, end))

    # -- reads --------------------------------------------------------------------

    def range(self, start: int, end: int) -> list:
        """Elements start..end (normalized, inclusive, 0 <= start <= end < len),
        walking from the nearer end."""
        n = len(self)
        if start <= n - 1 - end:
            return list(islice(self, start, end + 1))
        out = list(islice(reversed(self), n - 1 - end, n - start))
        out.reverse()
        return out
