"""The stream type (Redis's t_stream.c data model).

An entry ID (ms, seq) is kept as one int `ms << 64 | seq`, so IDs compare,
sort and bisect as plain ints. Entries live in two parallel sorted lists,
`ids` and `vals` (each value a flat field, value, ... sequence: a tuple from XADD): range queries
are a bisect, appends are O(1), trimming from the front is one slice delete.

Redis stores entries in listpack "nodes" (of at most stream-node-max-entries
entries, counting XDEL'd ones still inside, and about stream-node-max-bytes).
Approximate trimming (`~`) removes whole nodes only, and XINFO reports the
node count as radix-tree-keys, so the node boundaries are modelled here too:
`node_first` (the master ID of each node), `node_live` (entries not deleted),
`node_total` (entries ever appended to the node), `node_last` (the last ID
appended) and `node_bytes` (the exact listpack size of the node's entries,
deleted ones included, less its header, end byte and the master entry's
live and deleted counts), with `tail_fields`, the master fields of the last
node (None when unknown), so XADD splits nodes by bytes exactly as
streamAppendItem does (lp_bytes + the new fields' and values' lengths >=
stream-node-max-bytes).

Consumer groups: a group has `last_id`, `entries_read` (-1 when unknown), a
PEL (SortedDict id -> NACK) and consumers (dict name -> Consumer, each with
its own PEL sharing the NACK objects), as Redis's streamCG.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from sortedcontainers import SortedDict

from securekv.net.resp import _strict_int

SEQ_MASK = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
INVALID_ENTRIES_READ = -1

# Calibrated against RSS growth (bench/memory_calibration.py, README Memory accounting):
ENTRY_OVERHEAD = 176       # the flat list object (+GC header), the int ID, ids/vals slots
ELEMENT_OVERHEAD = 41      # per field/value: a bytes header (33) + pymalloc rounding
NACK_OVERHEAD = 120


LP_MAX = 1 << 30            # STREAM_LISTPACK_MAX_SIZE


def lp_int_size(v: int) -> int:
    """Bytes of a listpack integer entry (with its backlen)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def lp_size(s) -> int:
    """Bytes of the listpack entry lpAppend makes of s (bytes or int)."""
    if type(s) is int:
        return lp_int_size(s)
    n = len(s)
    if 0 < n <= 20 and (48 <= s[0] <= 57 or s[0] == 45):   # a digit or '-': maybe an integer
        v = _strict_int(s)
        if v is not None:
            return lp_int_size(v)
    if n < 64:
        return n + 2
    if n < 4096:
        h = n + 2
    else:
        h = n + 5
    return h + (1 if h <= 127 else 2 if h < 16383 else 3 if h < 2097151 else
                4 if h < 268435455 else 5)


def fmt_id(i: int) -> bytes:
    """An ID as Redis prints it: `<ms>-<seq>`."""
    return b"%d-%d" % (i >> 64, i & SEQ_MASK)


def incr_id(i: int) -> int | None:
    """streamIncrID: the next ID, or None past the last possible one."""
    return None if i >= MAX_ID else i + 1


def decr_id(i: int) -> int | None:
    """streamDecrID: the previous ID, or None before 0-0."""
    return None if i <= 0 else i - 1


def _flat_size(flat) -> int:
    return sum(map(len, flat))


class NACK:
    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer, now: int) -> None:
        self.delivery_time = now
        self.delivery_count = 1
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, now: int) -> None:
        self.name = name
        self.seen_time = now
        self.pel = SortedDict()


class Group:
    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = SortedDict()          # id -> NACK
        self.consumers: dict = {}        # name -> Consumer

    def sorted_consumers(self):
        """Consumers in Redis's (rax, bytewise) order."""
        return [self.consumers[k] for k in sorted(self.consumers)]


class Stream:
    type_name = b"stream"
    __slots__ = ("ids", "vals", "last_id", "max_deleted", "entries_added", "groups",
                 "node_first", "node_live", "node_total", "node_last", "node_bytes", "mem",
                 "tail_fields")

    def __init__(self) -> None:
        self.ids: list = []
        self.vals: list = []
        self.last_id = 0
        self.max_deleted = 0
        self.entries_added = 0
        self.groups: dict = {}
        self.node_first: list = []
        self.node_live: list = []
        self.node_total: list = []
        self.node_last: list = []
        self.node_bytes: list = []
        self.tail_fields = None
        self.mem = 200

    def encoding(self) -> bytes:
        return b"stream"

    def __len__(self) -> int:
        return len(self.ids)

    def copy(self) -> "Stream":
        s = Stream()
        s.ids = list(self.ids)
        s.vals = [list(v) for v in self.vals]
        s.last_id = self.last_id
        s.max_deleted = self.max_deleted
        s.entries_added = self.entries_added
        s.node_first = list(self.node_first)
        s.node_live = list(self.node_live)
        s.node_total = list(self.node_total)
        s.node_last = list(self.node_last)
        s.node_bytes = list(self.node_bytes)
        s.tail_fields = self.tail_fields
        for name, g in self.groups.items():
            ng = Group(g.last_id, g.entries_read)
            for cname, cons in g.consumers.items():
                nc = Consumer(cname, cons.seen_time)
                ng.consumers[cname] = nc
            for i, nack in g.pel.items():
                nn = NACK(None, nack.delivery_time)
                nn.delivery_count = nack.delivery_count
                if nack.consumer is not None:
                    nc = ng.consumers[nack.consumer.name]
                    nn.consumer = nc
                    nc.pel[i] = nn
                ng.pel[i] = nn
            s.groups[name] = ng
        s.mem = self.mem
        return s

    __copy__ = copy

    # -- IDs -----------------------------------------------------------------

    @property
    def first_id(self) -> int:
        """The recorded first entry ID (0-0 when empty)."""
        return self.ids[0] if self.ids else 0

    def top_id(self) -> int:
        """streamLastValidID: the last entry's ID (0-0 when empty)."""
        return self.ids[-1] if self.ids else 0

    def has(self, i: int) -> bool:
        ids = self.ids
        k = bisect_left(ids, i)
        return k < len(ids) and ids[k] == i

    def get(self, i: int):
        ids = self.ids
        k = bisect_left(ids, i)
        if k < len(ids) and ids[k] == i:
            return self.vals[k]
        return None

    # -- mutation ------------------------------------------------------------

    def append(self, i: int, flat, node_max_entries: int, node_max_bytes: int,
               size: int | None = None) -> int:
        """Append an entry with ID i (> last_id) and field/value sequence flat;
        returns the memory delta. size: the sum of their lengths, when the caller
        has it already."""
        if size is None:
            size = _flat_size(flat)
        n = len(flat)
        total = self.node_total
        nbytes = self.node_bytes
        if not total:
            new_node = True
        elif node_max_entries and total[-1] >= node_max_entries:
            new_node = True
        else:
            nb = nbytes[-1]
            maxb = node_max_bytes if 0 < node_max_bytes <= LP_MAX else LP_MAX
            # lp_bytes = 7 + the master's live and deleted counts (<= 10 bytes
            # each) + nb: computed exactly only when it could reach the limit
            if nb + size + 27 < maxb:
                new_node = False
            else:
                live = self.node_live[-1]
                new_node = 7 + lp_int_size(live) + lp_int_size(total[-1] - live) + nb + size >= maxb
        if new_node:
            fields = tuple(flat[0::2])
            self.node_first.append(i)
            self.node_live.append(1)
            total.append(1)
            self.node_last.append(i)
            self.tail_fields = fields
            # master: nfields, the fields, 0; the entry: flag, 0, 0, values, lp-count
            nbytes.append(lp_int_size(n // 2) + sum(map(lp_size, fields)) + 2
                          + 6 + sum(map(lp_size, flat[1::2])) + lp_int_size(n // 2 + 3))
        else:
            master = self.node_first[-1]
            mf = self.tail_fields
            if mf is None:      # unknown (loaded, or the tail node was dropped)
                k = bisect_left(self.ids, master)
                mf = self.tail_fields = tuple(self.vals[k][0::2]) if k < len(self.ids) else ()
            # the entry: flag, ms and seq deltas from the master ID, then values only
            # (same fields as the master entry) or count, fields and values; lp-count
            dms = (i >> 64) - (master >> 64)
            dseq = (i - master) & SEQ_MASK
            eb = 4 if 0 <= dms <= 127 else 2 + lp_int_size(dms)
            if dseq <= 127:
                eb += 2
            else:
                eb += lp_int_size(dseq - (1 << 64) if dseq >= 1 << 63 else dseq)
            if n == 2 and len(mf) == 1 and flat[0] == mf[0]:
                v = flat[1]
                k = len(v)
                if k < 64 and not (k and (48 <= v[0] <= 57 or v[0] == 45)):
                    eb += k + 4                     # a short string entry, lp-count 4
                else:
                    eb += lp_size(v) + 2
            elif tuple(flat[0::2]) == mf:
                eb += sum(map(lp_size, flat[1::2])) + lp_int_size(n // 2 + 3)
            else:
                eb += lp_int_size(n // 2) + sum(map(lp_size, flat)) + lp_int_size(n + 4)
            self.node_live[-1] += 1
            total[-1] += 1
            self.node_last[-1] = i
            nbytes[-1] += eb
        self.ids.append(i)
        self.vals.append(flat)
        self.last_id = i
        self.entries_added += 1
        delta = ENTRY_OVERHEAD + size + ELEMENT_OVERHEAD * n
        self.mem += delta
        return delta

    def _drop_node(self, n: int) -> None:
        if n == len(self.node_first) - 1:
            self.tail_fields = None
        del self.node_first[n]
        del self.node_live[n]
        del self.node_total[n]
        del self.node_last[n]
        del self.node_bytes[n]

    def delete(self, i: int) -> int:
        """streamDeleteItem: remove entry i; returns the memory delta (0 if absent,
        check with `has` first)."""
        ids = self.ids
        k = bisect_left(ids, i)
        if k >= len(ids) or ids[k] != i:
            return 0
        flat = self.vals[k]
        del ids[k]
        del self.vals[k]
        n = bisect_right(self.node_first, i) - 1
        self.node_live[n] -= 1
        if self.node_live[n] == 0:
            self._drop_node(n)
        delta = -(ENTRY_OVERHEAD + _flat_size(flat) + ELEMENT_OVERHEAD * len(flat))
        self.mem += delta
        return delta

    def _drop_front(self, count: int) -> int:
        if count <= 0:
            return 0
        vals = self.vals
        size = 0
        for k in range(count):
            flat = vals[k]
            size += ENTRY_OVERHEAD + _flat_size(flat) + ELEMENT_OVERHEAD * len(flat)
        del self.ids[:count]
        del vals[:count]
        self.mem -= size
        return -size

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int):
        """streamTrim: MAXLEN (maxlen) or MINID (minid) trimming. Returns
        (entries deleted, memory delta)."""
        deleted = 0
        drop = 0
        while self.node_first:
            length = len(self.ids) - drop
            if maxlen is not None and length <= maxlen:
                break
            live = self.node_live[0]
            if limit and deleted + live > limit:
                break
            if maxlen is not None:
                remove_node = length - live >= maxlen
            else:
                remove_node = self.node_last[0] < minid
            if remove_node:
                self._drop_node(0)
                drop += live
                deleted += live
                continue
            if approx:
                break
            # Delete entries inside the first node one by one.
            ids = self.ids
            nxt = self.node_first[1] if len(self.node_first) > 1 else None
            k = drop
            end = len(ids)
            while k < end:
                if nxt is not None and ids[k] >= nxt:
                    break
                if maxlen is not None:
                    if len(ids) - k <= maxlen:
                        break
                elif ids[k] >= minid:
                    break
                k += 1
            n = k - drop
            self.node_live[0] -= n
            drop = k
            deleted += n
            break
        return deleted, self._drop_front(drop)

    # -- groups --------------------------------------------------------------

    def estimate_entries_read(self, i: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry."""
        if not self.entries_added:
            return 0
        length = len(self.ids)
        if not length and i <= self.last_id:
            return self.entries_added
        if i == self.last_id:
            return self.entries_added
        if i > self.last_id:
            return INVALID_ENTRIES_READ
        first = self.first_id
        if self.max_deleted == 0 or self.max_deleted < first:
            if i < first:
                return self.entries_added - length
            if i == first:
                return self.entries_added - length + 1
        return INVALID_ENTRIES_READ

    def range_has_tombstones(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones."""
        if not self.ids or self.max_deleted == 0:
            return False
        if self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted <= end

    def group_lag(self, g: Group):
        """streamReplyWithCGLag: the lag, or None when it cannot be known."""
        if not self.entries_added:
            return 0
        if g.entries_read != INVALID_ENTRIES_READ and not self.range_has_tombstones(g.last_id):
            return self.entries_added - g.entries_read
        er = self.estimate_entries_read(g.last_id)
        if er != INVALID_ENTRIES_READ:
            return self.entries_added - er
        return None

    def sorted_groups(self):
        return [(k, self.groups[k]) for k in sorted(self.groups)]


def rax_nodes(keys: list) -> int:
    """The node count of a Redis rax holding these 16-byte big-endian keys
    (the radix-tree-nodes of XINFO STREAM), for a tree built by insertions."""
    if not keys:
        return 1
    bkeys = [k.to_bytes(16, "big") for k in keys]

    def count(lo: int, hi: int, depth: int) -> int:
        # Nodes strictly below a node at `depth` covering bkeys[lo:hi].
        if depth == 16:
            return 0
        # Common prefix from depth among the group.
        a, b = bkeys[lo], bkeys[hi - 1]
        d = depth
        while d < 16 and a[d] == b[d]:
            d += 1
        if d > depth:
            # A compressed node spanning depth..d, then the child node.
            return 1 + count(lo, hi, d) if d < 16 else 1
        # A branching node: one child per distinct byte at `depth`.
        n = 0
        i = lo
        while i < hi:
            ch = bkeys[i][depth]
            j = i
            while j < hi and bkeys[j][depth] == ch:
                j += 1
            n += 1 + count(i, j, depth + 1)
            i = j
        return n

    return 1 + count(0, len(bkeys), 0)
