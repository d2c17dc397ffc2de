"""acl/: rule grammar, canonical rendering (checked against redis-server 7.0.15
output), compiled checks, ACL files and the log."""

import pytest

from securekv import commands  # noqa: F401  (registers the command table)
from securekv.commands import table
from acl.log import AclLog
from acl.perm import DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, compile_user
from acl.rules import RuleError, merge_selector_args
from acl.sdsargs import sdssplitargs
from acl.users import Users

from securekv.commands.acl import build_catalog  # noqa: E402

CAT = build_catalog()


def render(line: str) -> str:
    us = Users(CAT)
    ops = [w.encode() for w in line.split()]
    merged, bad = merge_selector_args(ops)
    assert merged is not None
    us.commit(b"u", us.stage(b"u", merged))
    return us.describe(us.get(b"u")).decode()


# (rules, ACL LIST text from redis-server 7.0.15)
CASES = [
    ("+get -@all +set +get ~a %R~b +config|get -config +select|0 +@string -get",
     "off ~a %R~b resetchannels -@all +@string +select|0 -get"),
    ("+@all -@string +get -@all +set", "off resetchannels -@all +set"),
    ("+@all -@dangerous", "off resetchannels +@all -@dangerous"),
    ("+@read +@write", "off resetchannels -@all +@write +@read"),
    ("-@all +@keyspace -del", "off resetchannels -@all +@keyspace -del"),
    ("+@hash +@set +@sortedset -hset", "off resetchannels -@all +@sortedset +@hash +@set -hset"),
    ("+config|get +config|set -config|set", "off resetchannels -@all +config|get"),
    ("+select|0 +select|1 +SELECT|0", "off resetchannels -@all +select|0 +select|1"),
    ("%R~x %W~x", "off ~x resetchannels -@all"),
    ("%R", "off %R~ resetchannels -@all"),
    ("&a &b &a", "off resetchannels &a &b -@all"),
    ("resetchannels &x allchannels", "off &* -@all"),
    (">a >b <a", "off #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d "
                 "resetchannels -@all"),
    (">x nopass", "off nopass resetchannels -@all"),
    ("on >p ~* +@all reset", "off sanitize-payload resetchannels -@all"),
    ("on (+get ~k*) (~* &c)",
     "on resetchannels -@all (~k* resetchannels -@all +get) (~* resetchannels &c -@all)"),
    ("(~a +get) (&b +publish) clearselectors", "off resetchannels -@all"),
]


@pytest.mark.parametrize("rules,expected", CASES)
def test_render_like_redis(rules, expected):
    assert render(rules) == expected


def test_render_round_trip():
    for rules, expected in CASES:
        assert render(expected) == expected


ERRORS = [
    ("+foo", "Unknown command or category name in ACL"),
    ("+config|get|x", "Allowing first-arg of a subcommand is not supported"),
    ("+config|", "Syntax error"),
    ("-select|0", "Unknown command or category name in ACL"),
    ("%X~a", "Syntax error"),
    ("allkeys ~x", "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
                   "and does not have any effect. Try 'resetkeys' to start with an empty list "
                   "of patterns"),
    ("#abc", "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters"),
    ("<nope", "The password you are trying to remove from the user does not exist"),
    ("bogus", "Syntax error"),
]


@pytest.mark.parametrize("rules,message", ERRORS)
def test_errors(rules, message):
    with pytest.raises(RuleError) as e:
        render(rules)
    assert e.value.message == message


def test_merge_selectors():
    assert merge_selector_args([b"(~a", b"+get)", b"on"]) == ([b"(~a +get)", b"on"], None)
    assert merge_selector_args([b"on", b"(~a", b"+get"]) == (None, 1)


def test_sdssplitargs():
    assert sdssplitargs(b'a "b c" \'d\' "\\x41\\n"') == [b"a", b"b c", b"d", b"A\n"]
    assert sdssplitargs(b'"unbalanced') is None


def _perm(line):
    us = Users(CAT)
    merged, _ = merge_selector_args([w.encode() for w in line.split()])
    u = us.commit(b"u", us.stage(b"u", merged))
    return compile_user(CAT, u)


def check(perm, *argv):
    argv = [a.encode() for a in argv]
    return perm.check(table.lookup(argv), argv)


def test_checks():
    p = _perm("on nopass ~k* %R~r* &ch* +get +set +publish +psubscribe +select|0")
    assert not p.unrestricted
    assert check(p, "get", "k1") is None
    assert check(p, "get", "r1") is None
    assert check(p, "set", "r1", "v") == (DENIED_KEY, 1)
    assert check(p, "del", "k1") == (DENIED_CMD, 0)
    assert check(p, "select", "0") is None
    assert check(p, "select", "1") == (DENIED_CMD, 0)
    assert check(p, "publish", "chx", "m") is None
    assert check(p, "publish", "x", "m") == (DENIED_CHANNEL, 1)
    assert check(p, "psubscribe", "ch*") is None          # literal comparison
    assert check(p, "psubscribe", "ch1") == (DENIED_CHANNEL, 1)


def test_selectors():
    p = _perm("on ~a* +get (~b* +set)")
    assert check(p, "get", "a1") is None
    assert check(p, "set", "b1", "v") is None
    assert check(p, "set", "a1", "v") == (DENIED_KEY, 1)   # set allowed only with ~b*
    assert check(p, "get", "b1") == (DENIED_KEY, 1)


def test_default_unrestricted():
    us = Users(CAT)
    assert us.default.perm.unrestricted


def test_file_round_trip(tmp_path):
    us = Users(CAT)
    us.commit(b"alice", us.stage(b"alice", [b"on", b">pw", b"~a*", b"+get"]))
    path = tmp_path / "users.acl"
    us.save_file(str(path))
    text = path.read_bytes()
    other = Users(CAT)
    users, err = other.load_file(str(path))
    assert err is None
    other.install(users)
    assert other.save_text() == text
    path.write_bytes(b"user bob on +nosuch\nuser bob on\n")
    users, err = other.load_file(str(path))
    assert users is None and "line 2" in err and "WARNING: ACL errors detected" in err


def test_log_grouping():
    log = AclLog(2)
    log.add(1, "toplevel", b"get", b"u", b"info", 1000)
    e = log.add(1, "toplevel", b"get", b"u", b"info2", 2000)
    assert e.count == 2 and len(log.entries) == 1
    log.add(2, "toplevel", b"k", b"u", b"i", 3000)
    log.add(4, "toplevel", b"c", b"u", b"i", 3000)
    assert len(log.entries) == 2


def test_tenant_rule_is_opaque_metadata():
    assert render("on nopass tenant=t1 ~a +get") == "on nopass tenant=t1 ~a resetchannels -@all +get"
    assert render("on nopass tenant=t1 ~a +get") == render("on nopass tenant=t1 ~a resetchannels -@all +get")
    assert render("on tenant=t1 tenant=default") == "on resetchannels -@all"
    assert render("on tenant=t1 reset") == "off sanitize-payload resetchannels -@all"
    assert render("TENANT=Ab") == "off tenant=Ab resetchannels -@all"
    with pytest.raises(RuleError):
        render("tenant=")
    with pytest.raises(RuleError):
        render("(tenant=x)")


def test_certonly_rule():
    """securekv's `certonly`: rendered after Redis's flags only when set, cleared by
    `nocertonly` and `reset`, kept by copies, refused inside a selector."""
    assert render("on nopass certonly ~a +get") == \
        "on nopass certonly ~a resetchannels -@all +get"
    assert render("CERTONLY on sanitize-payload tenant=t1 >pw") == \
        "on sanitize-payload certonly tenant=t1 #%s resetchannels -@all" % (
            __import__("hashlib").sha256(b"pw").hexdigest())
    assert render("on certonly nocertonly") == "on resetchannels -@all"
    assert render("on certonly reset") == "off sanitize-payload resetchannels -@all"
    assert render("on nopass ~a +get") == "on nopass ~a resetchannels -@all +get"   # as Redis
    once = render("on nopass certonly ~a +get")
    assert render(once) == once
    us = Users(CAT)
    us.commit(b"u", us.stage(b"u", [b"on", b"certonly"]))
    u = us.get(b"u")
    assert u.certonly and u.clone().certonly
    assert b"certonly" not in u.flags()     # GETUSER's flags set stays Redis's
    us.commit(b"u", us.stage(b"u", [b"+get"]))
    assert us.get(b"u").certonly is True    # other rules keep it
    with pytest.raises(RuleError):
        render("(certonly)")


def test_certonly_file_round_trip(tmp_path):
    us = Users(CAT)
    us.commit(b"cert", us.stage(b"cert", [b"on", b"nopass", b"certonly", b"~*", b"+@all"]))
    us.commit(b"pw", us.stage(b"pw", [b"on", b">secret", b"+get"]))
    text = us.save_text()
    assert b"user cert on nopass certonly ~* &* +@all\n" in text or \
        b"user cert on nopass certonly ~* resetchannels +@all\n" in text
    assert b"certonly" not in text.split(b"user pw ")[1]
    path = tmp_path / "users.acl"
    path.write_bytes(text)
    other = Users(CAT)
    users, err = other.load_file(str(path))
    assert err is None
    assert users[b"cert"].certonly and not users[b"pw"].certonly
    other.install(users)
    assert other.save_text() == text
