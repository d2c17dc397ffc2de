"""The directive table, config-file parsing, the command line and CONFIG REWRITE."""

import os
import subprocess
import sys

import pytest

from securekv import config as C
from securekv.config import Config, ConfigError, ConfigFileError, load_text, resolve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse(name, value):
    d = resolve(name)
    return d.parse_args(value.split(" ") if d.multi_arg else [value])


def err(name, value):
    with pytest.raises(ConfigError) as e:
        parse(name, value)
    return e.value.message


def test_committed_conf_is_generated():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_conf.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_conf_defaults_load_back_to_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(os.path.join(ROOT, "conf", "securekv.conf")) as f:
        text = f.read()
    lines = []
    for name, d in C.TABLE.items():
        if d.repeat or name in ("replicaof", "dir"):
            continue
        block = C.default_line(d).split("\n")
        assert "\n".join("# " + x for x in block) in text, name
        lines.extend(block)
    assert len(lines) > 150
    cfg = Config()
    load_text(cfg, "\n".join(lines))
    for name, d in C.TABLE.items():
        if name not in ("dir",):
            assert cfg.values[name] == d.default, name


@pytest.mark.parametrize("s,v", [
    ("0", 0), ("1k", 1000), ("1kb", 1024), ("1K", 1000), ("1KB", 1024), ("2m", 2000000),
    ("2mb", 2 * 1024 ** 2), ("1g", 10 ** 9), ("1Gb", 1024 ** 3), ("5b", 5), ("01", 1),
    ("", 0), ("k", 0), ("18446744073709551616", 2 ** 64 - 1),
])
def test_memtoull(s, v):
    assert C.memtoull(s) == v


@pytest.mark.parametrize("s", ["-1", " 1", "1 ", "+5", "1.5mb", "1x", "1kib"])
def test_memtoull_rejects(s):
    assert C.memtoull(s) is None


def test_numeric_c_semantics():
    assert err("maxmemory", "-1") == "argument must be a memory value"
    assert parse("maxmemory", "18446744073709551615") == 2 ** 64 - 1
    assert err("maxclients", "-1") == "argument must be between 1 and 4294967295 inclusive"
    assert err("slowlog-max-len", "+1") == "argument couldn't be parsed into an integer"
    assert err("slowlog-max-len", "01") == "argument couldn't be parsed into an integer"
    assert err("hash-max-listpack-value", "18446744073709551615") == \
        "argument must be between 0 and 9223372036854775807 inclusive"
    assert err("proto-max-bulk-len", "18446744073709551615") == \
        "argument must be between 1048576 and 9223372036854775807 inclusive"
    assert parse("maxmemory-clients", "10%") == -10
    assert resolve("maxmemory-clients").render(-10) == "10%"
    assert err("maxmemory-clients", "101%") == "percentage argument must be less or equal to 100"
    assert err("maxmemory-clients", "x") == "argument must be a memory or percent value"
    assert parse("unixsocketperm", "700") == 0o700
    assert resolve("unixsocketperm").render(0o700) == "700"
    assert err("unixsocketperm", "1000") == "argument must be between 0 and 777 inclusive"
    assert err("unixsocketperm", "9") == "argument couldn't be parsed as an octal number"
    assert parse("hz", "100000") == 500 and parse("hz", "0") == 1


def test_enums_and_bools():
    assert parse("appendonly", "YES") is True
    assert err("appendonly", "1") == "argument must be 'yes' or 'no'"
    assert parse("loglevel", "WARNING") == "warning"
    assert err("loglevel", "nothing") == ("argument(s) must be one of the following: "
                                          "debug, verbose, notice, warning")
    assert parse("oom-score-adj", "relative") == "yes"


@pytest.mark.parametrize("given,shown", [
    ("KEA", "AKE"), ("An", "A"), ("AnKEm", "AKEm"), ("g$lshzxetdm", "Am"), ("nK", "nK"),
    ("mE", "Em"), ("dn", "dn"), ("", ""),
])
def test_notify_keyspace_events(given, shown):
    d = resolve("notify-keyspace-events")
    assert d.render(d.parse_args([given])) == shown


def test_special_directives():
    assert parse("save", "") == []
    assert err("save", "3600 1  300 10") == "Invalid save parameters"
    assert parse("bind", "") == []
    assert err("bind", " ".join(["a"] * 17)) == "Too many bind addresses specified."
    assert parse("client-output-buffer-limit", "PubSub 1mb 2 3") == {"pubsub": (1048576, 2, 3)}
    assert err("oom-score-adj-values", "1 2") == "wrong number of arguments"
    d = resolve("latency-tracking-info-percentiles")
    assert d.render(parse("latency-tracking-info-percentiles", "50 99.9 1.25")) == "50 99.9 1.25"
    assert resolve("slaveof") is resolve("replicaof")
    assert parse("replicaof", "no one") is None
    assert err("replicaof", "h 70000") == "Invalid master port"


def test_load_text_quoting_units_case_and_accumulation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inc.conf").write_text("timeout 7\n")
    cfg = Config()
    load_text(cfg, '# comment\n\n  MAXMEMORY 1gb\r\nrequirepass "a b\\x41"\n'
                   "save 900 1\nsave 300 10\nclient-output-buffer-limit pubsub 1 2 3\n"
                   "include inc.conf\nlist-max-ziplist-entries 5\nslave-read-only no\n")
    assert cfg["maxmemory"] == 1024 ** 3
    assert cfg["requirepass"] == "a bA"
    assert cfg["save"] == [(900, 1), (300, 10)]
    assert cfg["client-output-buffer-limit"]["pubsub"] == (1, 2, 3)
    assert cfg["client-output-buffer-limit"]["replica"] == C.OBUF_DEFAULTS["replica"]
    assert cfg["timeout"] == 7
    assert cfg["replica-read-only"] is False


@pytest.mark.parametrize("text,line,reason", [
    ("port 1\nfoo bar\n", 2, "Bad directive or wrong number of arguments"),
    ("port 1 2\n", 1, "wrong number of arguments"),
    ("maxmemory 10x\n", 1, "argument must be a memory value"),
    ('port "12\n', 1, "Unbalanced quotes in configuration line"),
    ("sentinel monitor x\n", 1, "sentinel directive while not in sentinel mode"),
    ("rename-command NOSUCHCMD x\n", 1, "No such command in rename-command"),
])
def test_load_text_errors(text, line, reason):
    with pytest.raises(ConfigFileError) as e:
        load_text(Config(), text)
    assert (e.value.line_no, e.value.reason) == (line, reason)
    rep = e.value.report("7.0.15")
    assert rep.startswith("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n")
    assert f"at line {line}\n" in rep


def test_command_line_options_as_redis():
    assert C.argv_to_text(["--port", "7777", "--save", "900", "1"]) == 'port "7777" \nsave "900" "1" '
    assert C.argv_to_text(["--save", "--port", "1"]) == 'save ""\nport "1" '
    assert C.argv_to_text(["--save"]) == 'save ""'
    assert C.argv_to_text(["--port 7777"]) == "port 7777 "
    cfg = C.load(["--maxmemory", "2mb", "--bind", "127.0.0.1", "::1"])
    assert cfg["maxmemory"] == 2 * 1024 ** 2 and cfg["bind"] == ["127.0.0.1", "::1"]
    with pytest.raises(ConfigFileError) as e:
        C.load(["--foo", "bar"])
    assert e.value.line_no == 2 and e.value.line == 'foo "bar"'


def test_rewrite_keeps_comments_and_updates_in_place():
    old = ("# my comment\nport 6380\nsave 900 1\nsave 300 10\nslave-read-only no\n"
           "hash-max-ziplist-entries 100\nbind 127.0.0.1 -::1\nrename-command FLUSHDB \"\"\n"
           "list-max-ziplist-entries 5\n\n\n\ninclude /x.conf\nmaxmemory 1mb\nmaxmemory 2mb\n")
    cfg = Config()
    load_text(cfg, "port 6380\nsave 900 1\nsave 300 10\nslave-read-only no\n"
                   "hash-max-ziplist-entries 100\nmaxmemory 2mb\n")
    cfg.values["timeout"] = 5
    cfg.values["requirepass"] = "s3cret"
    out = C.rewrite_text(cfg, old)
    lines = out.split("\n")
    assert lines[:9] == ["# my comment", "port 6380", "save 900 1", "save 300 10",
                         "replica-read-only no", "hash-max-listpack-entries 100", "",
                         'rename-command FLUSHDB ""', "# ??? list-max-ziplist-entries 5"]
    assert "include /x.conf" in lines
    assert lines.count("maxmemory 2mb") == 1 and "maxmemory 1mb" not in lines
    sig = lines.index("# Generated by CONFIG REWRITE")
    assert "timeout 5" in lines[sig:] and 'requirepass "s3cret"' in lines[sig:]
    assert "\n\n\n" not in out
    # a second rewrite is stable
    cfg2 = Config()
    assert C.rewrite_text(cfg, out) == out or cfg2


def test_rewrite_of_defaults_without_file():
    out = C.rewrite_text(Config(), None)
    assert out.startswith("# Generated by CONFIG REWRITE\n")
    assert 'save 3600 1\nsave 300 100\nsave 60 10000' in out
    assert "latency-tracking-info-percentiles 50 99 99.9" in out
    assert "\nbind " not in out and "requirepass" not in out
