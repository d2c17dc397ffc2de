"""acl.glob against Redis 7.0.15's stringmatchlen. The table's expectations
were checked against redis-server 7.0.15 (KEYS with the pattern on a db
holding the string); the property tests compare the compiled matcher with a
line-by-line port of the C function (match_reference)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acl.glob import compile_glob, match_reference, stringmatch

# (pattern, string, matches) -- case-sensitive (KEYS/SCAN semantics)
TABLE = [
    (b"*", b"anything", True),
    (b"*", b"", False),                 # the loop never runs on an empty string
    (b"**", b"", False),
    (b"", b"", True),
    (b"", b"a", False),
    (b"?", b"", False),
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True),     # reversed range is swapped
    (b"h[a-b]llo", b"hcllo", False),
    (b"H*", b"hello", False),
    (b"hello*", b"hello", True),        # trailing stars match nothing
    (b"hello?", b"hello", False),
    (b"h\\ello", b"hello", True),
    (b"a\\*b", b"a*b", True),
    (b"a\\*b", b"axb", False),
    (b"a[*]b", b"a*b", True),
    (b"a\\", b"a\\", True),             # a trailing backslash is literal
    (b"a\\\\", b"a\\", True),
    (b"[\\]", b"]", True),              # escaped ] inside a class, class unterminated
    (b"[\\]", b"\\", False),
    (b"[", b"a", False),                # unterminated class: no members
    (b"[^", b"a", True),                # unterminated negated class: any byte
    (b"h[e", b"he", True),
    (b"[]a]", b"a", False),             # ] right after [ closes an empty class
    (b"[]a]", b"]a]", False),
    (b"[^]a]", b"xa]", True),
    (b"[a-]", b"a", True),              # the range a..] then an unterminated class
    (b"[a-]", b"^", True),              # ^ (0x5e) is between ] and a
    (b"[a-]", b"-", False),
    (b"[a-]x", b"x", True),             # x is a class member
    (b"[\\", b"\\", True),
    (b"*a*b", b"xaxb", True),
    (b"*a*b", b"xbxa", False),
    (b"a*a*a*a*a*a*a*a*a*a*b", b"a" * 60, False),
    (b"[a-\xff]", b"b", False),          # signed chars: 'a'..-1 is swapped to -1..'a'
    (b"[a-\xff]", b"\xff", True),
    (b"[a-\xff]", b"\x00", True),
    (b"[\x80-\x90]", b"\x85", True),
    (b"\x00*", b"\x00abc", True),
]


@pytest.mark.parametrize("pattern,string,expected", TABLE)
def test_table(pattern, string, expected):
    assert stringmatch(pattern, string) is expected
    assert match_reference(pattern, string) is expected


NOCASE = [
    (b"HELLO", b"hello", True),
    (b"h[A-C]llo", b"hbllo", True),
    (b"[A-z]", b"_", False),             # ends and byte folded after the swap
    (b"[A-z]", b"Q", True),
    (b"[\\A]", b"a", False),            # an escaped class member compares exactly
    (b"\\A", b"a", True),               # an escape outside a class folds
    (b"[^a]", b"A", False),
]


@pytest.mark.parametrize("pattern,string,expected", NOCASE)
def test_nocase(pattern, string, expected):
    assert stringmatch(pattern, string, nocase=True) is expected
    assert match_reference(pattern, string, nocase=True) is expected


def test_nesting_limit():
    """Redis gives up after 1000 nested stars: 1001 non-final stars never match."""
    s = b"a" * 1001
    assert stringmatch(b"*a" * 1000, s)
    assert not stringmatch(b"*a" * 1001, s)
    assert stringmatch(b"a*" * 1001, s)          # the final star does not recurse
    assert not stringmatch(b"a*" * 1002, s + b"a")
    assert match_reference(b"*a" * 1001, s) is False


def test_adversarial_patterns_are_linear():
    # exponential for a naive backtracking matcher; must simply finish here
    assert not stringmatch(b"*a" * 30 + b"b", b"a" * 5000)
    assert not stringmatch(b"a*" * 30 + b"b", b"a" * 5000)
    assert stringmatch(b"*?*?*?*?*?*?*?*x", b"y" * 3000 + b"x")


def test_literal_and_select():
    m = compile_glob(b"user\\*1")
    assert m.literal == b"user*1"
    assert compile_glob(b"user*").literal is None
    assert compile_glob(b"a", nocase=True).literal is None
    assert compile_glob(b"u*").select([b"u1", b"x", b"", b"uu"]) == [b"u1", b"uu"]
    assert compile_glob(b"").select([b"u1", b""]) == [b""]
    assert compile_glob(b"a") is compile_glob(b"a")     # cached


ALPHA = st.sampled_from([b"a", b"b", b"A", b"*", b"?", b"[", b"]", b"^", b"-", b"\\",
                         b"\x80", b"\xff", b"z", b"\x00"])
SALPHA = st.sampled_from([b"a", b"b", b"A", b"B", b"*", b"[", b"]", b"^", b"-", b"\\",
                          b"\x80", b"\xff", b"z", b"_", b"\x00"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(ALPHA, max_size=9).map(b"".join), st.lists(SALPHA, max_size=7).map(b"".join),
       st.booleans())
def test_matches_reference(pattern, string, nocase):
    assert stringmatch(pattern, string, nocase) == match_reference(pattern, string, nocase)
