"""acl/perm.py: the specialised per-command checks (built on first use, verdict
cache, combined matchers, the table's key extractors) decide exactly as the
general selector walk and as a plain per-pattern reference."""

import random

from hypothesis import assume, given, settings, strategies as st

from securekv import commands  # noqa: F401  (registers the command table)
from securekv.commands import table
from securekv.commands.acl import build_catalog
from acl.glob import compile_any, stringmatch
from acl.perm import DENIED_KEY, KeyVerdicts, compile_user, key_mask
from acl.rules import PERM_R, PERM_W, RuleError, merge_selector_args
from acl.users import Users

CAT = build_catalog()
KEYS = [b"key:1", b"key:", b"k", b"counter", b"a", b"ab", b"x[y", b"", b"r:2", b"w:3", b"key:" + b"z" * 200]
RULES = [b"~key:*", b"~counter", b"%R~r:*", b"%W~w:*", b"%RW~a*", b"~x\\[y", b"~k?y*", b"allkeys",
         b"resetkeys", b"+@all", b"-@all", b"+get", b"+set", b"+mget", b"-@write", b"+@read",
         b"+incr", b"+del", b"+config|get", b"+select|0", b"&ch*", b"allchannels", b"-set"]
CMDS = [[b"get", b"K"], [b"set", b"K", b"v"], [b"set", b"K", b"v", b"get"], [b"set", b"K", b"v", b"EX", b"5"],
        [b"mget", b"K", b"K2"], [b"mset", b"K", b"v", b"K2", b"v"], [b"incr", b"K"], [b"del", b"K", b"K2"],
        [b"ping"], [b"publish", b"chx", b"m"], [b"select", b"0"], [b"config", b"get", b"x"],
        [b"lpush", b"K", b"a"], [b"copy", b"K", b"K2"], [b"getrange", b"K", b"0", b"1"],
        [b"sort", b"K"], [b"object", b"encoding", b"K"], [b"exists"], [b"bitfield", b"K", b"get", b"u8", b"0"]]


def _user(rules, selectors=()):
    us = Users(CAT)
    ops = list(rules) + [b"(" + b" ".join(s) + b")" for s in selectors]
    merged, _ = merge_selector_args([b"on", b"nopass"] + ops)
    return compile_user(CAT, us.commit(b"u", us.stage(b"u", merged)))


def _reference(perm, cmd, argv):
    """The general walk with per-pattern matching (no cache, no combined regex)."""
    def key_ok(s, key, mask):
        return s.allkeys or any(f & mask == mask and stringmatch(p, key) for p, f in s.patterns)
    best = None
    for s in perm.sels:
        if not s.cmd_ok(cmd, argv):
            r = (1, 0)
        else:
            r = None
            if not s.allkeys and cmd.id in CAT.keyed:
                for pos, spec in CAT.get_keys(cmd, argv):
                    if not key_ok(s, argv[pos], key_mask(spec)):
                        r = (DENIED_KEY, pos)
                        break
            if r is None:
                r2 = perm._check_selector(s, cmd, argv, None)
                if r2[0] != 0:
                    r = r2[:2]
            if r is None:
                return None
        if best is None or r[0] > best[0] or (r[0] == best[0] and r[1] > best[1]):
            best = r
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(RULES), max_size=8),
       st.lists(st.lists(st.sampled_from(RULES), min_size=1, max_size=4), max_size=2),
       st.lists(st.tuples(st.sampled_from(CMDS), st.sampled_from(KEYS), st.sampled_from(KEYS)),
                min_size=1, max_size=12))
def test_specialised_equals_general(rules, selectors, calls):
    try:
        perm = _user(rules, selectors)
    except RuleError:
        assume(False)
    for proto, k1, k2 in calls * 2:          # twice: the second time from the caches
        argv = [k1 if a == b"K" else k2 if a == b"K2" else a for a in proto]
        cmd = table.lookup(argv)
        assert perm.check(cmd, argv) == perm.general(cmd, argv) == _reference(perm, cmd, argv), argv


def test_compile_any():
    m = compile_any([b"key:*", b"a?c", b"x\\[y"])
    for s, ok in [(b"key:1", True), (b"abc", True), (b"ac", False), (b"x[y", True), (b"", False)]:
        assert (m(s) is not None) == ok
    assert compile_any([])(b"a") is None


def test_verdict_cache_bounded():
    kv = KeyVerdicts([(b"k*", PERM_R | PERM_W)], PERM_R)
    for i in range(5000):
        assert kv(b"k%d" % i)
        assert not kv(b"z%d" % i)
    assert len(kv.cache) <= 1024
    assert kv(b"k" * 1000) and b"k" * 1000 not in kv.cache
    assert not KeyVerdicts([(b"k*", PERM_W)], PERM_R)(b"k1")


def test_random_users_many_keys():
    rnd = random.Random(7)
    perm = _user([b"+@all", b"~key:*", b"%R~r*"])
    get, set_ = table.lookup([b"get"]), table.lookup([b"set"])
    for _ in range(3000):
        k = rnd.choice([b"key:", b"r", b"w", b"kex:"]) + str(rnd.randrange(3000)).encode()
        assert perm.check(get, [b"get", k]) == perm.general(get, [b"get", k])
        assert perm.check(set_, [b"set", k, b"v"]) == perm.general(set_, [b"set", k, b"v"])


def test_plain_pattern_tests_agree_with_stringmatch():
    pats_sets = [[b"key:*"], [b"a*", b"bc*"], [b"x", b"y"], [b"a*", b"x"], [b"*"], [b"k?y*"],
                 [b"a\\*"], [b""], [b"a**"], [b"ab*", b""], [b"[a]*"]]
    keys = [b"", b"a", b"ab", b"abc", b"key:", b"key:1", b"x", b"y", b"xy", b"bc", b"bcd",
            b"a*", b"k?y", b"kay", b"*", b"a\\"]
    for pats in pats_sets:
        kv = KeyVerdicts([(p, PERM_R | PERM_W) for p in pats], PERM_W)
        for k in keys:
            assert kv(k) == any(stringmatch(p, k) for p in pats), (pats, k)
    kv = KeyVerdicts([(b"key:*", PERM_R)], PERM_R)   # a prefix test: no cache needed
    assert kv(b"key:1") and kv.get(b"key:2") is True and not kv.cache
