"""HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
PFSELFTEST over Redis's own HLL string representation (engine/hll.py)."""

from __future__ import annotations

from securekv.commands.table import KeySpec, Range, command
from securekv.commands.util import notify
from securekv.engine import hll as H
from securekv.errors import WRONGTYPE, CommandError
from securekv.net.resp import OK, Status


def _hll_value(c, key: bytes, read: bool):
    """The HLL string at key or None; Redis's WRONGTYPE errors otherwise."""
    v = c.db.lookup_read(key) if read else c.db.lookup(key)
    if v is None:
        return None
    if type(v) is not bytes and type(v) is not bytearray:
        raise CommandError(WRONGTYPE)
    if not H.is_hll(v):
        raise CommandError(H.WRONGTYPE_HLL_ERR)
    return v


def _max_bytes(c) -> int:
    try:
        return c.server.config["hll-sparse-max-bytes"]
    except KeyError:
        return 3000


def _store(c, key: bytes, h: H.HLL) -> None:
    """Store as a raw-encoded string (Redis creates and unshares HLLs as RAW)."""
    c.db.replace_value(key, bytearray(h.to_bytes()))


@command('pfadd', -2, 'write denyoom fast', '@hyperloglog', keys=[KeySpec('RW insert', 1)],
         group='hyperloglog', since='2.8.9',
         summary='Adds the specified elements to the specified HyperLogLog.')
def pfadd(c, argv):
    key = argv[1]
    db = c.db
    v = _hll_value(c, key, False)
    updated = 0
    created = v is None
    if created:
        v = H.new_sparse()
        updated = 1
    h = H.HLL(v)
    maxb = _max_bytes(c)
    add = h.add
    for ele in argv[2:]:
        r = add(bytes(ele), maxb)
        if r == 1:
            updated += 1
        elif r == -1:
            # Redis leaves the key (and the registers set so far) in place.
            if created:
                db.add(key, bytearray(h.to_bytes()))
            elif updated:
                _store(c, key, h)
            raise CommandError(H.INVALID_HLL_ERR)
    if updated:
        h.invalidate()
        if created:
            db.add(key, bytearray(h.to_bytes()))
        else:
            _store(c, key, h)
        c.server.dirty += updated - 1
        notify(c, "$", b"pfadd", key)
        return 1
    return 0


@command('pfcount', -2, 'readonly may_replicate', '@hyperloglog',
         keys=[KeySpec('RW access', 1, Range(-1, 1, 0),
                       notes='RW because it may change the internal representation of the key, '
                             'and propagate to replicas')],
         group='hyperloglog', since='2.8.9',
         summary='Return the approximated cardinality of the set(s) observed by the HyperLogLog '
                 'at key(s).')
def pfcount(c, argv):
    if len(argv) > 2:
        maxregs = bytearray(H.HLL_REGISTERS)
        for key in argv[1:]:
            v = _hll_value(c, key, True)
            if v is None:
                continue
            if not H.merge_max(maxregs, H.HLL(v)):
                raise CommandError(H.INVALID_HLL_ERR)
        return H.estimate(H.raw_histo(maxregs))
    key = argv[1]
    v = _hll_value(c, key, True)
    if v is None:
        return 0
    card = H.cached_card(v)
    if card is not None:
        return card
    h = H.HLL(v)
    card = h.count()
    if card is None:
        raise CommandError(H.INVALID_HLL_ERR)
    h.set_card(card)
    _store(c, key, h)
    return card


@command('pfmerge', -2, 'write denyoom', '@hyperloglog',
         keys=[KeySpec('RW access insert', 1), KeySpec('RO access', 2, Range(-1, 1, 0))],
         group='hyperloglog', since='2.8.9',
         summary='Merge N different HyperLogLogs into a single one.')
def pfmerge(c, argv):
    maxregs = bytearray(H.HLL_REGISTERS)
    use_dense = False
    for key in argv[1:]:
        v = _hll_value(c, key, True)
        if v is None:
            continue
        h = H.HLL(v)
        if not h.is_sparse:
            use_dense = True
        if not H.merge_max(maxregs, h):
            raise CommandError(H.INVALID_HLL_ERR)
    key = argv[1]
    db = c.db
    v = db.lookup(key)
    created = v is None
    h = H.HLL(H.new_sparse() if created else v)
    if use_dense and not h.to_dense():
        raise CommandError(H.INVALID_HLL_ERR)
    if not h.is_sparse:
        raw = h.raw()
        merged = bytes(map(max, raw, maxregs))
        h.dense = H.raw_to_dense(merged)
    else:
        maxb = _max_bytes(c)
        for j in range(H.HLL_REGISTERS):
            val = maxregs[j]
            if val:
                h.set(j, val, maxb)
    h.invalidate()
    if created:
        db.add(key, bytearray(h.to_bytes()))
    else:
        _store(c, key, h)
    notify(c, "$", b"pfadd", key)
    return OK


@command('pfdebug', 3, 'write denyoom admin', '@hyperloglog', keys=[KeySpec('RW access', 2)],
         group='hyperloglog', since='2.8.9',
         summary='Internal commands for debugging HyperLogLog values')
def pfdebug(c, argv):
    sub = argv[1]
    key = argv[2]
    v = _hll_value(c, key, False)
    if v is None:
        raise CommandError("ERR The specified key does not exist")
    h = H.HLL(v)
    op = sub.lower()
    if op == b"getreg":
        if h.is_sparse:
            if not h.to_dense():
                raise CommandError(H.INVALID_HLL_ERR)
            _store(c, key, h)
        return list(H.dense_to_raw(h.dense))
    if op == b"decode":
        if not h.is_sparse:
            raise CommandError("ERR HLL encoding is not sparse")
        parts = []
        for kind, val, ln in h.ops:
            if kind == H.ZERO:
                parts.append(b"z:%d" % ln)
            elif kind == H.XZERO:
                parts.append(b"Z:%d" % ln)
            else:
                parts.append(b"v:%d,%d" % (val, ln))
        return b" ".join(parts)
    if op == b"encoding":
        return Status(b"sparse" if h.is_sparse else b"dense")
    if op == b"todense":
        if h.is_sparse:
            if not h.to_dense():
                raise CommandError(H.INVALID_HLL_ERR)
            _store(c, key, h)
            return 1
        return 0
    raise CommandError("ERR Unknown PFDEBUG subcommand '%s'"
                       % bytes(sub).decode("utf-8", "surrogateescape"))


@command('pfselftest', 1, 'admin', '@hyperloglog', group='hyperloglog', since='2.8.9',
         summary='An internal command for testing HyperLogLog values')
def pfselftest(c, argv):
    err = H.selftest()
    if err is not None:
        raise CommandError(err)
    return OK
