"""The `tenant=<name>` ACL rule: parsed and rendered by ACL SETUSER/GETUSER/LIST,
saved in the ACL file, and binding the user's connections to its tenant at AUTH."""

from __future__ import annotations

import pytest

from helpers import ServerProcess

FAST_HASH = ["--acl-argon2-time-cost", "1", "--acl-argon2-memory-cost", "64"]


@pytest.fixture(scope="module")
def skv(tmp_path_factory):
    acl = tmp_path_factory.mktemp("acl") / "users.acl"
    acl.write_bytes(b"user default on nopass ~* &* +@all\n")
    with ServerProcess(FAST_HASH + ["--aclfile", str(acl)]) as s:
        s.aclpath = acl
        yield s


@pytest.fixture
def admin(skv):
    r = skv.client()
    r.execute_command("ACL", "LOAD")
    for t in (b"t1", b"t2"):
        if t in r.execute_command("TENANT", "LIST"):
            r.execute_command("TENANT", "DROP", t, "FORCE")
        r.execute_command("TENANT", "CREATE", t)
    r.flushall()
    yield r
    r.close()


def line_of(r, name: bytes) -> bytes:
    return next(x for x in r.execute_command("ACL", "LIST") if x.split()[1] == name)


def test_tenant_user_sees_only_its_tenant(admin, skv):
    admin.execute_command("ACL", "SETUSER", "alice", "on", ">pw", "~*", "&*", "+@all", "tenant=t1")
    admin.set("outside", "1")
    alice = skv.client()
    assert alice.execute_command("AUTH", "alice", "pw")
    assert alice.keys("*") == []
    assert alice.get("outside") is None
    alice.set("inside", "2")
    assert alice.keys("*") == [b"inside"] and alice.dbsize() == 1
    assert admin.keys("*") == [b"outside"]
    # a second tenant user in t2 sees neither
    admin.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@all", "TENANT=t2")
    bob = skv.client()
    bob.execute_command("AUTH", "bob", "pw")
    assert bob.keys("*") == [] and bob.get("inside") is None
    # the binding is fixed at authentication; RESET goes back to default
    alice.execute_command("RESET")
    assert alice.get("outside") == b"1"
    alice.close()
    bob.close()


def test_rendering_round_trips(admin, skv):
    admin.execute_command("ACL", "SETUSER", "carol", "on", "nopass", "~k:*", "+get", "tenant=t1")
    line = line_of(admin, b"carol")
    assert line == b"user carol on nopass tenant=t1 ~k:* resetchannels -@all +get"
    raw = skv.raw()
    assert raw.cmd("ACL", "GETUSER", "carol").endswith(b"$6\r\ntenant\r\n$2\r\nt1\r\n")
    raw.close()
    # the rendered rules applied to another user render the same
    admin.execute_command("ACL", "SETUSER", "carol2", *line.split()[2:])
    assert line_of(admin, b"carol2").split()[2:] == line.split()[2:]
    # other rules keep the binding; tenant=default and reset remove it
    admin.execute_command("ACL", "SETUSER", "carol", "+set")
    assert b"tenant=t1" in line_of(admin, b"carol")
    admin.execute_command("ACL", "SETUSER", "carol", "tenant=default")
    assert b"tenant=" not in line_of(admin, b"carol")
    assert b"tenant" not in admin.execute_command("ACL", "GETUSER", "carol")
    assert b"tenant" not in skv.raw().cmd("ACL", "GETUSER", "carol")
    admin.execute_command("ACL", "SETUSER", "carol", "tenant=t2")
    admin.execute_command("ACL", "SETUSER", "carol", "reset")
    assert line_of(admin, b"carol") == b"user carol off sanitize-payload resetchannels -@all"


def test_no_tenant_renders_as_redis(admin):
    admin.execute_command("ACL", "SETUSER", "dave", "on", "nopass", "~a", "+get")
    assert line_of(admin, b"dave") == b"user dave on nopass ~a resetchannels -@all +get"
    assert b"tenant" not in admin.execute_command("ACL", "GETUSER", "dave")


def test_errors(admin):
    with pytest.raises(Exception) as e:
        admin.execute_command("ACL", "SETUSER", "eve", "tenant=")
    assert "Error in ACL SETUSER modifier 'tenant=': The tenant name must be non-empty" in str(e.value)
    with pytest.raises(Exception) as e:
        admin.execute_command("ACL", "SETUSER", "eve", "(~a tenant=t1)")
    assert "Syntax error" in str(e.value)
    with pytest.raises(Exception) as e:
        admin.execute_command("ACL", "SETUSER", "default", "tenant=t1")
    assert "The default user always belongs to the default tenant" in str(e.value)
    assert b"tenant=" not in line_of(admin, b"default")


def test_saved_in_the_acl_file_and_loaded(admin, skv):
    admin.execute_command("ACL", "SETUSER", "frank", "on", ">pw", "~*", "+@all", "tenant=t2")
    admin.execute_command("ACL", "SAVE")
    saved = skv.aclpath.read_bytes()
    assert b"user frank on tenant=t2 #" in saved
    admin.execute_command("ACL", "SETUSER", "frank", "tenant=t1")
    admin.execute_command("ACL", "LOAD")                 # back to the file: t2
    assert b"tenant=t2" in line_of(admin, b"frank")
    frank = skv.client()
    frank.execute_command("AUTH", "frank", "pw")
    frank.set("f", "1")
    admin.execute_command("TENANT", "USE", "t2")
    assert admin.get("f") == b"1"
    admin.execute_command("RESET")
    assert admin.get("f") is None
    frank.close()
    # a deleted user is unbound: recreated, it is in the default tenant again
    admin.execute_command("ACL", "DELUSER", "frank")
    admin.execute_command("ACL", "SETUSER", "frank", "on", "nopass")
    assert b"tenant" not in line_of(admin, b"frank")


def test_tenant_rule_in_config_user_directive(tmp_path):
    with ServerProcess(FAST_HASH + ["--tenant", "t9", "--user", "gina", "on", ">pw", "~*",
                                    "+@all", "tenant=t9"]) as s:
        r = s.client()
        assert b"tenant=t9" in line_of(r, b"gina")
        g = s.client()
        g.execute_command("AUTH", "gina", "pw")
        g.set("x", "1")
        assert r.get("x") is None
        r.close()
        g.close()
