"""sdssplitargs: the bytes.split() shortcut (lines without quotes, NUL, \\v or
\\f) splits exactly as the full sdssplitargs loop does."""

import random

from acl import sdsargs


def test_shortcut_matches_the_full_loop(monkeypatch):
    rnd = random.Random(5)
    alpha = b' \t\r\n\x0b\x0cab"\'\\x0\x00'
    lines = [bytes(rnd.choice(alpha) for _ in range(rnd.randrange(0, 12))) for _ in range(20000)]
    fast = [sdsargs.sdssplitargs(line) for line in lines]
    monkeypatch.setattr(sdsargs, "_SPECIAL", bytes(range(256)))    # never the shortcut
    slow = [sdsargs.sdssplitargs(line) for line in lines]
    assert fast == slow
    assert sdsargs.sdssplitargs(b"  SET  k\tv\r\n") == [b"SET", b"k", b"v"]
    assert sdsargs.sdssplitargs(b"a\x0bb") == [b"a\x0bb"]      # \v ends no bare token
