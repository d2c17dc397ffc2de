"""HyperLogLog in Redis's own representation (hyperloglog.c), so values move
byte for byte between Redis and securekv.

A value is a plain string: the 16-byte header `HYLL`, the encoding byte (0
dense, 1 sparse), three unused bytes, the cached cardinality (8 bytes, little
endian; the top bit of the last byte set means "invalid, recompute"), then
the registers:

* dense: 16384 6-bit registers packed LSB first (12288 bytes);
* sparse: run-length opcodes ZERO `00xxxxxx` (1..64 zero registers), XZERO
  `01xxxxxx yyyyyyyy` (1..16384 zero registers), VAL `1vvvvvxx` (1..4
  registers of value 1..32).

Sparse updates follow Redis's in-place algorithm exactly (split the opcode
covering the register, then merge adjacent equal VALs scanning at most five
opcodes from the previous one), because the resulting bytes depend on the
order of updates, and promote to dense past `hll-sparse-max-bytes` or for a
register value above 32. The estimator is Redis >= 5's (Ertl's improved
estimator, hllSigma/hllTau over the register histogram).

Speed: the hash is MurmurHash64A over 8-byte words read with one cached
struct unpack per element; dense decoding/encoding of all registers is done
with big-int bit arithmetic over the whole array (no per-register Python
loop), so PFCOUNT of a dense HLL costs a few big-int operations and 64
bytes.count calls.
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_P_MASK = HLL_REGISTERS - 1
HLL_BITS = 6
HLL_REGISTER_MAX = (1 << HLL_BITS) - 1
HLL_HDR_SIZE = 16
HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) // 8
HLL_DENSE = 0
HLL_SPARSE = 1
HLL_MAX_ENCODING = 1
HLL_ALPHA_INF = 0.721347520444481703680

SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384

SEED = 0xADC83B19
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1

INVALID_HLL_ERR = "INVALIDOBJ Corrupted HLL object detected"
WRONGTYPE_HLL_ERR = "WRONGTYPE Key is not a valid HyperLogLog string value."

# Opcode kinds in the decoded sparse form: [kind, value, runlen].
ZERO, XZERO, VAL = 0, 1, 2

_unpackers: dict = {}


def murmur64a(data: bytes, seed: int = SEED) -> int:
    """MurmurHash64A as Redis's (endian-neutral) version."""
    n = len(data)
    m = _M
    h = (seed ^ (n * m)) & _MASK
    nb = n >> 3
    if nb:
        up = _unpackers.get(nb)
        if up is None:
            up = _unpackers[nb] = struct.Struct("<%dQ" % nb).unpack_from
        for k in up(data):
            k = (k * m) & _MASK
            k ^= k >> 47
            h ^= (k * m) & _MASK
            h = (h * m) & _MASK
    if n & 7:
        h ^= int.from_bytes(data[nb << 3:], "little")
        h = (h * m) & _MASK
    h ^= h >> 47
    h = (h * m) & _MASK
    return h ^ (h >> 47)


def pat_len(ele: bytes):
    """hllPatLen: (register index, run length of zeros + 1) for an element."""
    h = murmur64a(ele)
    index = h & HLL_P_MASK
    h = (h >> HLL_P) | (1 << HLL_Q)
    return index, (h & -h).bit_length()


# -- header ---------------------------------------------------------------------

def is_hll(v) -> bool:
    """isHLLObjectOrReply's checks on a string value."""
    if len(v) < HLL_HDR_SIZE or v[:4] != b"HYLL":
        return False
    enc = v[4]
    if enc > HLL_MAX_ENCODING:
        return False
    if enc == HLL_DENSE and len(v) != HLL_DENSE_SIZE:
        return False
    return True


def new_sparse() -> bytes:
    """createHLLObject: an empty sparse HLL (XZERO:16384)."""
    return b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"


def cached_card(v) -> int | None:
    """The cached cardinality, or None when the cache is invalid."""
    if v[15] & 0x80:
        return None
    return int.from_bytes(v[8:16], "little")


# -- dense registers (big-int vectorised) ----------------------------------------------

def _rep(byte: int, n: int) -> int:
    return int.from_bytes(bytes([byte]) * n, "little")


_N4 = HLL_REGISTERS // 4          # 4096 groups of 3 bytes / 4 registers
_M03 = _rep(0x03, _N4)
_M0F = _rep(0x0F, _N4)
_M3F = _rep(0x3F, _N4)


def dense_to_raw(regs) -> bytes:
    """12288 packed bytes -> 16384 register bytes."""
    regs = bytes(regs[:HLL_REGISTERS * 6 // 8])
    b0 = int.from_bytes(regs[0::3], "little")
    b1 = int.from_bytes(regs[1::3], "little")
    b2 = int.from_bytes(regs[2::3], "little")
    r0 = b0 & _M3F
    r1 = ((b0 >> 6) & _M03) | ((b1 & _M0F) << 2)
    r2 = ((b1 >> 4) & _M0F) | ((b2 & _M03) << 4)
    r3 = (b2 >> 2) & _M3F
    out = bytearray(HLL_REGISTERS)
    out[0::4] = r0.to_bytes(_N4, "little")
    out[1::4] = r1.to_bytes(_N4, "little")
    out[2::4] = r2.to_bytes(_N4, "little")
    out[3::4] = r3.to_bytes(_N4, "little")
    return bytes(out)


def raw_to_dense(raw) -> bytearray:
    """16384 register bytes (each <= 63) -> 12288 packed bytes."""
    raw = bytes(raw)
    r0 = int.from_bytes(raw[0::4], "little")
    r1 = int.from_bytes(raw[1::4], "little")
    r2 = int.from_bytes(raw[2::4], "little")
    r3 = int.from_bytes(raw[3::4], "little")
    b0 = r0 | ((r1 & _M03) << 6)
    b1 = ((r1 >> 2) & _M0F) | ((r2 & _M0F) << 4)
    b2 = ((r2 >> 4) & _M03) | (r3 << 2)
    out = bytearray(HLL_REGISTERS * 6 // 8)
    out[0::3] = b0.to_bytes(_N4, "little")
    out[1::3] = b1.to_bytes(_N4, "little")
    out[2::3] = b2.to_bytes(_N4, "little")
    return out


def dense_get(p, off: int, regnum: int) -> int:
    """HLL_DENSE_GET_REGISTER on buffer p with the registers at offset off."""
    bit = regnum * HLL_BITS
    b = off + (bit >> 3)
    fb = bit & 7
    b1 = p[b + 1] if b + 1 < len(p) else 0
    return ((p[b] >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX


def dense_set(p: bytearray, off: int, regnum: int, val: int) -> None:
    """HLL_DENSE_SET_REGISTER (the byte after the last register is the sds
    terminator in Redis: writes past the end are dropped)."""
    bit = regnum * HLL_BITS
    b = off + (bit >> 3)
    fb = bit & 7
    fb8 = 8 - fb
    p[b] = (p[b] & ~(HLL_REGISTER_MAX << fb) & 0xFF) | ((val << fb) & 0xFF)
    if b + 1 < len(p):
        p[b + 1] = (p[b + 1] & ~(HLL_REGISTER_MAX >> fb8) & 0xFF) | (val >> fb8)


# -- sparse opcodes ------------------------------------------------------------------

def sparse_decode(v, start: int = HLL_HDR_SIZE) -> list:
    """The opcodes of a sparse representation as [kind, value, runlen] lists."""
    ops = []
    p = start
    end = len(v)
    while p < end:
        b = v[p]
        if b & 0x80:
            ops.append([VAL, ((b >> 2) & 0x1F) + 1, (b & 3) + 1])
            p += 1
        elif b & 0x40:
            lo = v[p + 1] if p + 1 < end else 0
            ops.append([XZERO, 0, (((b & 0x3F) << 8) | lo) + 1])
            p += 2
        else:
            ops.append([ZERO, 0, (b & 0x3F) + 1])
            p += 1
    return ops


def sparse_encode(ops) -> bytearray:
    out = bytearray()
    for kind, val, ln in ops:
        if kind == VAL:
            out.append(0x80 | ((val - 1) << 2) | (ln - 1))
        elif kind == XZERO:
            l = ln - 1
            out.append((l >> 8) | 0x40)
            out.append(l & 0xFF)
        else:
            out.append(ln - 1)
    return out


def _zero_op(ln: int) -> list:
    return [XZERO, 0, ln] if ln > SPARSE_ZERO_MAX_LEN else [ZERO, 0, ln]


def sparse_histo(ops, reghisto: list) -> bool:
    """hllSparseRegHisto; returns False when the opcodes don't cover exactly
    HLL_REGISTERS registers."""
    idx = 0
    for kind, val, ln in ops:
        idx += ln
        reghisto[val] += ln
    return idx == HLL_REGISTERS


def sparse_to_raw(ops):
    """The registers of a sparse HLL as bytes, or None if corrupted (hllSparseToDense's
    validation)."""
    raw = bytearray(HLL_REGISTERS)
    idx = 0
    for kind, val, ln in ops:
        if kind == VAL:
            if idx + ln > HLL_REGISTERS:
                return None
            raw[idx:idx + ln] = bytes([val]) * ln
        idx += ln
    if idx != HLL_REGISTERS:
        return None
    return raw


# -- the estimator ---------------------------------------------------------------------

def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if zp == z:
            return z / 3


def estimate(reghisto: list) -> int:
    """hllCount's estimate from a 64-slot register histogram."""
    m = float(HLL_REGISTERS)
    z = m * _tau((m - reghisto[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += reghisto[j]
        z *= 0.5
    z += m * _sigma(reghisto[0] / m)
    e = HLL_ALPHA_INF * m * m / z
    f = math.floor(e)
    return int(f + 1 if e - f >= 0.5 else f)


def raw_histo(raw) -> list:
    raw = bytes(raw)
    return [raw.count(b) for b in _SINGLE]


_SINGLE = [bytes([i]) for i in range(64)]


# -- an HLL being worked on --------------------------------------------------------------

class HLL:
    """A decoded HLL string: header + dense packed registers or sparse opcodes."""

    __slots__ = ("hdr", "dense", "ops", "size", "starts", "tail")

    def __init__(self, v) -> None:
        self.hdr = bytearray(v[:HLL_HDR_SIZE])
        if v[4] == HLL_DENSE:
            self.dense = bytearray(v[HLL_HDR_SIZE:])
            self.ops = None
            self.size = 0
            self.tail = None
        else:
            self.dense = None
            self.ops = sparse_decode(v)
            self.size = len(v) - HLL_HDR_SIZE
            # First register of each opcode (bisected to find the opcode to edit).
            starts = []
            first = 0
            nbytes = 0
            for op in self.ops:
                starts.append(first)
                first += op[2]
                nbytes += 2 if op[0] == XZERO else 1
            self.starts = starts
            # A corrupted string ending in half an XZERO opcode: Redis edits in
            # place and keeps that one byte; keep it while the opcode is unchanged.
            self.tail = (self.ops[-1], self.ops[-1][2]) if nbytes > self.size else None

    @property
    def is_sparse(self) -> bool:
        return self.ops is not None

    def to_bytes(self) -> bytes:
        if self.ops is None:
            return bytes(self.hdr) + bytes(self.dense)
        enc = sparse_encode(self.ops)
        tail = self.tail
        if tail is not None and self.ops and self.ops[-1] is tail[0] and tail[0][2] == tail[1]:
            del enc[-1]
        return bytes(self.hdr) + bytes(enc)

    def invalidate(self) -> None:
        self.hdr[15] |= 0x80

    def set_card(self, card: int) -> None:
        self.hdr[8:16] = card.to_bytes(8, "little")

    def raw(self):
        """All registers as 16384 bytes (None: corrupted sparse)."""
        if self.ops is None:
            return dense_to_raw(self.dense)
        return sparse_to_raw(self.ops)

    def to_dense(self) -> bool:
        """hllSparseToDense: False if the sparse form is corrupted."""
        if self.ops is None:
            return True
        raw = sparse_to_raw(self.ops)
        if raw is None:
            return False
        self.dense = raw_to_dense(raw)
        self.ops = None
        self.hdr[4] = HLL_DENSE
        return True

    def count(self):
        """hllCount: the estimate, or None for a corrupted sparse HLL."""
        if self.ops is None:
            return estimate(raw_histo(dense_to_raw(self.dense)))
        histo = [0] * 64
        if not sparse_histo(self.ops, histo):
            return None
        return estimate(histo)

    def add(self, ele: bytes, max_bytes: int) -> int:
        """hllAdd: 1 if a register changed, 0 if not, -1 if corrupted."""
        index, count = pat_len(ele)
        return self.set(index, count, max_bytes)

    def set(self, index: int, count: int, max_bytes: int) -> int:
        if self.ops is None:
            d = self.dense
            if count > dense_get(d, 0, index):
                dense_set(d, 0, index, count)
                return 1
            return 0
        return self._sparse_set(index, count, max_bytes)

    def _promote(self, index: int, count: int) -> int:
        if not self.to_dense():
            return -1
        dense_set(self.dense, 0, index, count)
        return 1

    def _sparse_set(self, index: int, count: int, max_bytes: int) -> int:
        """hllSparseSet, opcode by opcode as Redis edits the bytes in place."""
        if count > SPARSE_VAL_MAX_VALUE:
            return self._promote(index, count)
        ops = self.ops
        starts = self.starts
        k = bisect_right(starts, index) - 1
        if k < 0 or index >= starts[k] + ops[k][2]:
            return -1
        first = starts[k]
        span = ops[k][2]
        op = ops[k]
        kind, curval, runlen = op
        prev = k - 1 if k > 0 else None
        if kind == VAL:
            if curval >= count:
                return 0
            if runlen == 1:
                op[1] = count
                self._merge(prev)
                return 1
        if kind == ZERO and runlen == 1:
            ops[k] = [VAL, count, 1]
            self._merge(prev)
            return 1
        last = first + span - 1
        seq = []
        if kind != VAL:
            if index != first:
                seq.append(_zero_op(index - first))
            seq.append([VAL, count, 1])
            if index != last:
                seq.append(_zero_op(last - index))
        else:
            if index != first:
                seq.append([VAL, curval, index - first])
            seq.append([VAL, count, 1])
            if index != last:
                seq.append([VAL, curval, last - index])
        seqlen = sum(2 if o[0] == XZERO else 1 for o in seq)
        oldlen = 2 if kind == XZERO else 1
        delta = seqlen - oldlen
        if delta > 0 and HLL_HDR_SIZE + self.size + delta > max_bytes:
            return self._promote(index, count)
        ops[k:k + 1] = seq
        st = []
        f = first
        for o in seq:
            st.append(f)
            f += o[2]
        starts[k:k + 1] = st
        self.size += delta
        self._merge(prev)
        return 1

    def _merge(self, prev) -> None:
        """Step 4 of hllSparseSet: merge adjacent equal VALs, scanning at most
        five opcodes from the previous one."""
        ops = self.ops
        p = prev if prev is not None else 0
        scan = 5
        while p < len(ops) and scan:
            scan -= 1
            op = ops[p]
            if op[0] != VAL:
                p += 1
                continue
            if p + 1 < len(ops):
                nxt = ops[p + 1]
                if nxt[0] == VAL and nxt[1] == op[1]:
                    ln = op[2] + nxt[2]
                    if ln <= SPARSE_VAL_MAX_LEN:
                        nxt[2] = ln
                        del ops[p]
                        del self.starts[p + 1]
                        self.size -= 1
                        continue
            p += 1


def merge_max(maxregs: bytearray, h: HLL) -> bool:
    """hllMerge: maxregs[i] = max(maxregs[i], register i); False if corrupted."""
    if h.ops is None:
        raw = dense_to_raw(h.dense)
        maxregs[:] = bytes(map(max, maxregs, raw))
        return True
    idx = 0
    for kind, val, ln in h.ops:
        if kind == VAL:
            if idx + ln > HLL_REGISTERS:
                break
            for i in range(idx, idx + ln):
                if val > maxregs[i]:
                    maxregs[i] = val
        idx += ln
    return idx == HLL_REGISTERS


def selftest() -> str | None:
    """PFSELFTEST's register round trip: None on success, else the failure text."""
    import random
    rnd = random.Random(1)
    for _ in range(50):
        raw = bytes(rnd.getrandbits(6) for _ in range(HLL_REGISTERS))
        dense = raw_to_dense(raw)
        for i in range(0, HLL_REGISTERS, 97):
            got = dense_get(dense, 0, i)
            if got != raw[i]:
                return "TESTFAILED Register %d should be %d but is %d" % (i, raw[i], got)
        if dense_to_raw(dense) != raw:
            return "TESTFAILED dense register round trip"
    return None
