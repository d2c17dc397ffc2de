"""SORT and SORT_RO (sort.c) on lists, sets and sorted sets.

The value types are known only by `type_name` and iteration: a list iterates
head to tail (and has `range`), a set replies in `ordered()` order when it has
one (an intset is ascending), a sorted set iterates by score (its `sl` is the
(score, member) ScoreList when present).

Semantics follow Redis 7.0.15 exactly: BY without '*' skips sorting (`nosort`),
'->' dereferences a hash field, GET '#' is the element itself, numeric sorting
parses with strtod (a failure is reported only after loading every score),
ties in numeric order break by comparing the elements as binary strings,
alpha sorting compares as strcoll in the C locale (up to the first NUL) unless
STORE is given (memcmp, as Redis), elements without a BY value sort first.
"""

from __future__ import annotations

import math

from securekv.commands.table import UNKNOWN, KeySpec, command
from securekv.commands.util import parse_int, store_result
from securekv.engine.listtype import ListValue
from securekv.errors import SYNTAX, WRONGTYPE, CommandError

_SORTABLE = (b"list", b"set", b"zset")
_WS = b" \t\n\v\f\r"
_DBL_MIN = 2.2250738585072014e-308


def _cstr(b: bytes) -> bytes:
    """The C string view of b (up to the first NUL), as strchr/strstr see it."""
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


def _strtod(s) -> float | None:
    """`strtod(s, &eptr)` accepted only when it consumes the whole C string, without
    ERANGE or NaN (sortCommandGeneric's check). None when it fails."""
    s = _cstr(bytes(s))
    if not s:
        return 0.0                  # no conversion, but eptr[0] == '\\0'
    t = s.lstrip(_WS)
    if not t or t[-1:] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r") or b"_" in t:
        return None
    body = t.lstrip(b"+-")
    try:
        if body[:2].lower() == b"0x":
            if len(t) - len(body) > 1:
                return None
            v = float.fromhex(t.decode("ascii"))
            mant = body[2:].lower().split(b"p")[0]
        else:
            v = float(t)
            mant = body.lower().split(b"e")[0]
    except (ValueError, UnicodeDecodeError):
        return None
    if math.isnan(v):
        return None
    if math.isinf(v):
        return v if body[:3].lower() == b"inf" else None      # overflow: ERANGE
    if v == 0.0:
        return None if mant.strip(b"0.x") else v               # underflow to zero: ERANGE
    if abs(v) < _DBL_MIN:
        return None                                           # subnormal: ERANGE
    return v


def _by_pattern(db, pattern: bytes, subst: bytes):
    """lookupKeyByPattern: the string (or hash field) the pattern names for subst."""
    if pattern[:1] == b"#" and pattern[1:2] in (b"", b"\0"):
        return subst
    cp = _cstr(pattern)
    p = cp.find(b"*")
    if p < 0:
        return None
    f = cp.find(b"->", p + 1)
    field = None
    if f >= 0 and f + 2 < len(cp):
        field = pattern[f + 2:]
        postfix_len = len(pattern) - p - 1 - (len(field) + 2)
    else:
        postfix_len = len(pattern) - p - 1
    key = pattern[:p] + bytes(subst) + pattern[p + 1:p + 1 + postfix_len]
    o = db.lookup_read(key)
    if o is None:
        return None
    if field is not None:
        if getattr(o, "type_name", None) != b"hash":
            return None
        return o.get(field)
    t = type(o)
    if t is bytes:
        return o
    if t is bytearray:
        return bytes(o)
    return None


def _full_key_access(c, argv) -> bool:
    """ACLUserCheckCmdWithUnrestrictedKeyAccess(user, cmd, argv, CMD_KEY_ACCESS): the ACL
    family may install server.acl_full_key_access(c, argv) -> bool; without it every user has it."""
    check = getattr(c.server, "acl_full_key_access", None)
    return True if check is None else check(c, argv)


def _load(v, tn: bytes, dontsort: bool, desc: bool, start: int, end: int):
    """The elements to sort (sortCommandGeneric's vector) and the adjusted
    (start, end) when a nosort list/zset was loaded as just the LIMIT range."""
    n = len(v)
    if dontsort and tn in (b"list", b"zset") and (start != 0 or end != n - 1):
        if end < start:
            return [], start, end
        if tn == b"list":
            if desc:
                items = v.range(n - 1 - end, n - 1 - start)
                items.reverse()
            else:
                items = v.range(start, end)
        else:
            sl = getattr(v, "sl", None)
            if sl is not None:
                if desc:
                    items = sl.range(n - 1 - end, n - start)[1]
                    items.reverse()
                else:
                    items = sl.range(start, end + 1)[1]
            else:
                allm = list(v)
                items = allm[::-1][start:end + 1] if desc else allm[start:end + 1]
        return items, 0, end - start
    if tn == b"list":
        items = list(v)
        if dontsort and desc:
            items.reverse()
    elif tn == b"set":
        ordered = getattr(v, "ordered", None)
        items = ordered() if ordered is not None else list(v)
    else:
        items = list(v)
        if dontsort and desc:
            items.reverse()
    return items, start, end


def _sort(c, argv, readonly: bool):
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby = storekey = None
    gets = []
    n = len(argv)
    j = 2
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            if b"*" not in _cstr(sortby):
                dontsort = True
            elif not _full_key_access(c, argv):
                raise CommandError("ERR BY option of SORT denied due to insufficient ACL permissions.")
            j += 1
        elif opt == b"get" and left >= 1:
            if not _full_key_access(c, argv):
                raise CommandError("ERR GET option of SORT denied due to insufficient ACL permissions.")
            gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1

    db = c.db
    v = db.lookup_read(argv[1])     # lookupKeyRead, STORE or not (sortCommandGeneric)
    if v is None:
        v = ListValue()
        tn = b"list"
    else:
        tn = getattr(v, "type_name", None)
        if tn not in _SORTABLE:
            raise CommandError(WRONGTYPE)

    if dontsort and tn == b"set" and (storekey is not None or getattr(c, "in_script", False)):
        dontsort, alpha, sortby = False, True, None      # a deterministic order
    if tn == b"zset" and getattr(v, "listpack", False):
        v.listpack = False          # Redis converts sorted sets to skiplist for SORT (sticky)

    vlen = len(v)
    start = limit_start if limit_start > 0 else 0
    end = vlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vlen:
        start, end = vlen - 1, vlen - 2
    if end >= vlen:
        end = vlen - 1

    items, start, end = _load(v, tn, dontsort, desc, start, end)

    if not dontsort and items:
        if alpha:
            if sortby is not None:
                vals = [_by_pattern(db, sortby, e) for e in items]
                if storekey is None:
                    keys = [(0,) if x is None else (1, _cstr(x)) for x in vals]
                else:
                    keys = [(0,) if x is None else (1, x) for x in vals]
                order = sorted(range(len(items)), key=keys.__getitem__, reverse=desc)
                items = [items[i] for i in order]
            elif storekey is None and any(b"\0" in e for e in items):
                items.sort(key=_cstr, reverse=desc)
            else:
                items.sort(reverse=desc)
        else:
            bad = False
            scored = []
            for e in items:
                byval = e if sortby is None else _by_pattern(db, sortby, e)
                if byval is None:
                    score = 0.0
                else:
                    score = _strtod(byval)
                    if score is None:
                        bad = True
                        score = 0.0
                scored.append((score, e))
            if bad:
                raise CommandError("ERR One or more scores can't be converted into double")
            scored.sort(reverse=desc)
            items = [e for _s, e in scored]

    sel = items[start:end + 1] if end >= start else []
    if storekey is None:
        if not gets:
            return sel
        out = []
        for e in sel:
            for g in gets:
                out.append(_by_pattern(db, g, e))
        return out

    if not gets:
        stored = sel
    else:
        stored = []
        for e in sel:
            for g in gets:
                x = _by_pattern(db, g, e)
                stored.append(b"" if x is None else x)
    outputlen = len(stored)
    store_result(c, storekey, ListValue(stored) if outputlen else None, "l", b"sortstore")
    if outputlen:
        c.server.dirty += outputlen - 1
    return outputlen


def _sort_keys(cmd, argv):
    """sortGetKeys: the sorted key, and the last STORE key (scanned as Redis does)."""
    out = [(1, cmd.key_specs[0])]
    store = None
    n = len(argv)
    i = 2
    while i < n:
        a = argv[i].lower()
        if a == b"limit":
            i += 2
        elif a in (b"get", b"by"):
            i += 1
        elif a == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store is not None:
        out.append((store, cmd.key_specs[2]))
    return out


def _sort_ro_keys(cmd, argv):
    """sortROGetKeys: only the sorted key."""
    return [(1, cmd.key_specs[0])]


_BY_GET_NOTE = ("For the optional BY/GET keyword. It is marked 'unknown' because the key "
                "names derive from the content of the key we sort")


@command('sort', -2, 'write denyoom', '@set @sortedset @list @dangerous',
         keys=[KeySpec('RO access', 1),
               KeySpec('RO access', UNKNOWN, UNKNOWN, notes=_BY_GET_NOTE),
               KeySpec('OW update', UNKNOWN, UNKNOWN,
                       notes="For the optional STORE keyword. It is marked 'unknown' because "
                             "the keyword can appear anywhere in the argument array")],
         group='generic', since='1.0.0',
         summary='Sort the elements in a list, set or sorted set',
         getkeys=_sort_keys)
def sort(c, argv):
    return _sort(c, argv, False)


@command('sort_ro', -2, 'readonly', '@set @sortedset @list @dangerous',
         keys=[KeySpec('RO access', 1),
               KeySpec('RO access', UNKNOWN, UNKNOWN, notes=_BY_GET_NOTE)],
         group='generic', since='7.0.0',
         summary='Sort the elements in a list, set or sorted set. Read-only variant of SORT.',
         getkeys=_sort_ro_keys)
def sort_ro(c, argv):
    return _sort(c, argv, True)
