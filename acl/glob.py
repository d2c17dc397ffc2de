"""Redis's glob matching (stringmatchlen in util.c, Redis 7.0.15), over bytes.

Used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET and the ACL key/channel
patterns. A pure library: no import of securekv.

Semantics, exactly as Redis's byte-at-a-time matcher:

- ``*`` any run of bytes (consecutive stars are one), ``?`` any one byte,
  ``\\x`` the byte x literally (a trailing lone backslash is a literal
  backslash), anything else itself.
- ``[...]`` one byte from a class: ``[^...]`` negates, ``a-z`` is a range
  (reversed ends are swapped; ends compare as *signed* chars, so a range with
  a byte >= 0x80 at one end wraps through the negative values as in C),
  ``\\x`` inside a class is x literally (compared case-sensitively even with
  nocase), ``]`` right after ``[`` or ``[^`` closes an empty class. An
  unterminated class takes the rest of the pattern as members: ``[`` alone
  matches nothing, ``[^`` alone any byte. ``[a-]`` is the range ``]``..``a``
  followed by an unterminated class.
- nocase folds ASCII A-Z only (C locale ``tolower``); in a range the ends and
  the byte are folded after the swap.
- The empty string matches only the empty pattern (Redis's loop never runs
  when the string is empty, so even ``*`` does not match it: KEYS and SCAN
  short-circuit a bare ``*`` themselves).
- Redis stops recursing after 1000 nested stars: a pattern with more than
  1000 stars that are not its last token can never match.

How it is fast: a pattern is parsed once into tokens (STAR, or the set of
the 256 bytes one position accepts, computed by running Redis's class logic
for every byte) and compiled to one bytes regex. Every token is one byte
wide, so the classic glob argument applies: each run of tokens between two
stars is best matched at its leftmost position. The regex encodes that with
atomic groups, ``PREFIX(?>.*?SEG1)(?>.*?SEG2).*SUFFIX``, which never
backtracks into a committed segment: adversarial patterns (``a*a*a*...b``)
cost O(len(pattern) * len(string)), like Redis's skipLongerMatches, instead of
exponential time. Compiled patterns are cached (bounded).
"""

from __future__ import annotations

import re

__all__ = ["stringmatch", "compile_glob", "compile_any", "GlobMatcher", "match_reference"]

STAR = None          # the token for '*'; other tokens are frozensets of byte values
MAX_NESTING = 1000   # Redis's "protection against abusive patterns"
_CACHE_MAX = 4096

_ALL = frozenset(range(256))


def _lower(b: int) -> int:
    return b + 32 if 65 <= b <= 90 else b


def _signed(b: int) -> int:
    return b - 256 if b >= 128 else b


def _class_members(members: list, negate: bool, nocase: bool) -> frozenset:
    """The bytes a class accepts. members: ('lit', b) | ('esc', b) | ('range', lo, hi)."""
    out = set()
    for s in range(256):
        match = False
        for m in members:
            kind = m[0]
            if kind == "esc":
                if m[1] == s:
                    match = True
            elif kind == "lit":
                if m[1] == s or (nocase and _lower(m[1]) == _lower(s)):
                    match = True
            else:
                start, end, c = _signed(m[1]), _signed(m[2]), _signed(s)
                if start > end:
                    start, end = end, start
                if nocase:
                    start, end, c = _lower_signed(start), _lower_signed(end), _lower_signed(c)
                if start <= c <= end:
                    match = True
        if match != negate:
            out.add(s)
    return frozenset(out)


def _lower_signed(v: int) -> int:
    return v + 32 if 65 <= v <= 90 else v


def parse(pattern: bytes, nocase: bool = False) -> list:
    """Tokens of a pattern: STAR, or a frozenset of the byte values one position accepts."""
    toks: list = []
    p = bytes(pattern)
    n = len(p)
    i = 0
    while i < n:
        ch = p[i]
        if ch == 42:                                   # '*'
            if not toks or toks[-1] is not STAR:
                toks.append(STAR)
            i += 1
        elif ch == 63:                                 # '?'
            toks.append(_ALL)
            i += 1
        elif ch == 91:                                 # '['
            i += 1
            negate = i < n and p[i] == 94              # '^'
            if negate:
                i += 1
            members = []
            while True:
                if i < n and p[i] == 92 and n - i >= 2:     # '\' with a byte after it
                    members.append(("esc", p[i + 1]))
                    i += 2
                elif i < n and p[i] == 93:                  # ']'
                    i += 1
                    break
                elif i >= n:                                # unterminated: the class ends here
                    break
                elif n - i >= 3 and p[i + 1] == 45:         # 'x-y'
                    members.append(("range", p[i], p[i + 2]))
                    i += 3
                else:
                    members.append(("lit", p[i]))
                    i += 1
            toks.append(_class_members(members, negate, nocase))
        else:
            if ch == 92 and n - i >= 2:                # '\x'
                i += 1
                ch = p[i]
            i += 1
            if nocase and (65 <= ch <= 90 or 97 <= ch <= 122):
                toks.append(frozenset((ch, ch ^ 32)))
            else:
                toks.append(frozenset((ch,)))
    return toks


def _set_re(s: frozenset) -> bytes:
    if len(s) == 256:
        return b"."
    if not s:
        return b"(?!)"
    if len(s) == 1:
        return re.escape(bytes(s))
    return b"[" + b"".join(b"\\x%02x" % b for b in sorted(s)) + b"]"


def _regex(toks: list) -> bytes:
    """PREFIX(?>.*?SEG)...(.*SUFFIX): leftmost, committed segments between stars."""
    segs: list = [[]]
    for t in toks:
        if t is STAR:
            segs.append([])
        else:
            segs[-1].append(_set_re(t))
    if len(segs) == 1:
        return b"".join(segs[0])
    out = [b"".join(segs[0])]
    for seg in segs[1:-1]:
        out.append(b"(?>.*?" + b"".join(seg) + b")")
    out.append(b".*" + b"".join(segs[-1]))
    return b"".join(out)


class GlobMatcher:
    """A compiled pattern: `m.match(s)` is Redis's stringmatchlen(pattern, s)."""
    __slots__ = ("pattern", "nocase", "_fullmatch", "literal", "regex")

    def __init__(self, pattern: bytes, nocase: bool = False) -> None:
        self.pattern = bytes(pattern)
        self.nocase = nocase
        toks = parse(self.pattern, nocase)
        inner_stars = sum(1 for t in toks[:-1] if t is STAR)
        if not toks:
            rx = b""                    # the empty pattern matches only the empty string
        elif inner_stars > MAX_NESTING:
            rx = b"(?!)"                # Redis gives up past 1000 nested stars
        else:
            rx = b"(?=.)" + _regex(toks)   # a non-empty pattern never matches b""
        self.regex = rx
        self._fullmatch = re.compile(rx, re.DOTALL).fullmatch
        # A pattern without wildcards names exactly one string (KEYS can look it up).
        self.literal = None
        if all(t is not STAR and len(t) == 1 for t in toks):
            self.literal = bytes(next(iter(t)) for t in toks)

    def match(self, s) -> bool:
        return self._fullmatch(s) is not None

    __call__ = match

    def select(self, items) -> list:
        """The items that match, in order (one C-level pass: KEYS, SCAN MATCH)."""
        return list(filter(self._fullmatch, items))


_cache: dict = {}


def compile_glob(pattern: bytes, nocase: bool = False) -> GlobMatcher:
    """A cached GlobMatcher for pattern."""
    key = (bytes(pattern), nocase)
    m = _cache.get(key)
    if m is None:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        m = _cache[key] = GlobMatcher(pattern, nocase)
    return m


def compile_any(patterns, nocase: bool = False):
    """One `fullmatch(s)` (a match object or None) that matches when any of the
    patterns matches s: the patterns' regexes joined by alternation, so a
    selector's key check is one C call however many patterns it has."""
    pats = list(patterns)
    if not pats:
        return re.compile(b"(?!)").fullmatch
    if len(pats) == 1:
        return compile_glob(pats[0], nocase)._fullmatch
    rx = b"|".join(b"(?:" + compile_glob(p, nocase).regex + b")" for p in pats)
    return re.compile(rx, re.DOTALL).fullmatch


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Redis's stringmatchlen(pattern, string, nocase)."""
    return compile_glob(pattern, nocase).match(string)


def match_reference(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """A line-by-line port of Redis 7.0.15's stringmatchlen_impl (slow; for tests).
    Bytes past the end read as 0, as the NUL after an sds."""
    pattern, string = bytes(pattern), bytes(string)

    def at(buf, i):
        return buf[i] if 0 <= i < len(buf) else 0

    def low(c):
        return c + 32 if 65 <= c <= 90 else c

    skip = [False]

    def impl(pi, plen, si, slen, nesting):
        if nesting > MAX_NESTING:
            return False
        while plen and slen:
            ch = at(pattern, pi)
            if ch == 42:
                while plen and at(pattern, pi + 1) == 42:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if impl(pi + 1, plen - 1, si, slen, nesting + 1):
                        return True
                    if skip[0]:
                        return False
                    si += 1
                    slen -= 1
                skip[0] = True
                return False
            elif ch == 63:
                si += 1
                slen -= 1
            elif ch == 91:
                pi += 1
                plen -= 1
                neg = at(pattern, pi) == 94
                if neg:
                    pi += 1
                    plen -= 1
                match = False
                sc = at(string, si)
                while True:
                    pc = at(pattern, pi)
                    if pc == 92 and plen >= 2:
                        pi += 1
                        plen -= 1
                        if at(pattern, pi) == sc:
                            match = True
                    elif pc == 93:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and at(pattern, pi + 1) == 45:
                        start, end, c = _signed(pc), _signed(at(pattern, pi + 2)), _signed(sc)
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, c = low(start), low(end), low(c)
                        pi += 2
                        plen -= 2
                        if start <= c <= end:
                            match = True
                    else:
                        if (pc == sc) if not nocase else (low(pc) == low(sc)):
                            match = True
                    pi += 1
                    plen -= 1
                if neg:
                    match = not match
                if not match:
                    return False
                si += 1
                slen -= 1
            else:
                if ch == 92 and plen >= 2:
                    pi += 1
                    plen -= 1
                    ch = at(pattern, pi)
                sc = at(string, si)
                if (ch != sc) if not nocase else (low(ch) != low(sc)):
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while at(pattern, pi) == 42 and plen > 0:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 5000))
    try:
        return impl(0, len(pattern), 0, len(string), 0)
    finally:
        sys.setrecursionlimit(old)
