"""Redis's DEBUG DIGEST and DEBUG DIGEST-VALUE (debug.c: xorObjectDigest,
computeDatasetDigest), byte for byte, so that the digests Redis's own tests
compare (a value and its COPY, a dataset before and after a reload) mean the
same here.

Order-free aggregates (the keys of a db, set members, hash fields, sorted-set
members) xor SHA1s; ordered ones (list elements, stream entries) chain them
(mix: digest = SHA1(digest xor SHA1(data))). A key with a TTL adds
"!!expire!!"; stream consumer groups are not part of it, as in Redis.
"""

from __future__ import annotations

import hashlib

_sha1 = hashlib.sha1
_TYPE_CODES = {b"list": 1, b"set": 2, b"zset": 3, b"hash": 4, b"stream": 6}   # strings: 0


def _xor(digest: bytearray, data: bytes) -> None:
    h = _sha1(data).digest()
    for j in range(20):
        digest[j] ^= h[j]


def _mix(digest: bytearray, data: bytes) -> None:
    _xor(digest, data)
    digest[:] = _sha1(digest).digest()


def _score(s: float) -> bytes:
    return b"%.17g" % s


def object_digest(digest: bytearray, value, has_expire: bool) -> None:
    """xorObjectDigest: mix the value (of any type) into digest."""
    code = _TYPE_CODES.get(getattr(value, "type_name", None), 0)
    _mix(digest, code.to_bytes(4, "big"))
    if code == 0:                                   # a string
        _mix(digest, bytes(value))
    elif code == 1:
        for e in value:
            _mix(digest, e)
    elif code == 2:
        for e in value:
            _xor(digest, e)
    elif code in (3, 4):                            # member/score, field/value pairs
        items = ((m, _score(s)) for m, s in dict.items(value)) if code == 3 else \
            dict.items(value)
        for a, b in items:
            ele = bytearray(20)
            _mix(ele, a)
            _mix(ele, b)
            _xor(digest, bytes(ele))
    else:                                           # a stream
        mask = (1 << 64) - 1
        for i, flat in zip(value.ids, value.vals):
            _mix(digest, b"%d.%d" % (i >> 64, i & mask))
            for x in flat:
                _mix(digest, x)
    if has_expire:
        _xor(digest, b"!!expire!!")


def value_digest(db, key: bytes) -> bytes:
    """DEBUG DIGEST-VALUE for one key (logically expired keys included): hex."""
    digest = bytearray(20)
    v = db.data.get(key)
    if v is not None:
        object_digest(digest, v, key in db.expires)
    return digest.hex().encode()


def dataset_digest(dbs) -> bytes:
    """DEBUG DIGEST: computeDatasetDigest over the given databases: hex."""
    final = bytearray(20)
    for db in dbs:
        if not db.data:
            continue
        _mix(final, db.id.to_bytes(4, "big"))
        expires = db.expires
        for key, v in db.data.items():
            digest = bytearray(20)
            _mix(digest, key)
            object_digest(digest, v, key in expires)
            _xor(final, bytes(digest))
    return final.hex().encode()
