"""The command line and startup: real processes, exit codes, messages, logging,
pidfile, stdin config, include, and refusals of what securekv cannot honour."""

import os
import subprocess
import sys

import pytest

from helpers import ROOT, ServerProcess, free_port, wait_port

ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run(*args, stdin=None, cwd=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "securekv", "server", *args], input=stdin,
                          capture_output=True, text=True, env=ENV, cwd=cwd, timeout=timeout)


def test_version_and_help():
    for flag in ("-v", "--version"):
        r = run(flag)
        assert r.returncode == 0 and r.stdout.startswith("securekv-server v=")
        assert "redis_compat=7.0.15" in r.stdout
    r = run("--help")
    assert r.returncode == 1 and r.stderr.startswith("Usage: securekv-server")
    r = subprocess.run([sys.executable, "-m", "securekv", "--version"], capture_output=True,
                       text=True, env=ENV)
    assert r.returncode == 0 and r.stdout.startswith("securekv-server v=")


def test_unknown_directive_on_command_line():
    r = run("--foo", "bar")
    assert r.returncode == 1
    assert r.stderr == ("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                        "Reading the configuration file, at line 2\n"
                        ">>> 'foo \"bar\"'\n"
                        "Bad directive or wrong number of arguments\n")


def test_bad_value_in_file(tmp_path):
    p = tmp_path / "bad.conf"
    p.write_text("port 1234\nmaxmemory 10x\n")
    r = run(str(p))
    assert r.returncode == 1
    assert "at line 2\n>>> 'maxmemory 10x'\nargument must be a memory value\n" in r.stderr


def test_missing_file_and_include(tmp_path):
    r = run(str(tmp_path / "nope.conf"))
    assert r.returncode == 1
    assert ":C " in r.stdout and "# Fatal error, can't open config file" in r.stdout
    assert "No such file or directory" in r.stdout
    p = tmp_path / "a.conf"
    p.write_text("include nothere.conf\n")
    r = run(str(p), cwd=str(tmp_path))
    assert r.returncode == 1 and "can't open config file 'nothere.conf'" in r.stdout


def test_daemonize_and_unsupported_are_refused():
    r = run("--daemonize", "yes")
    assert r.returncode == 1 and "'daemonize yes' is not supported" in r.stderr
    r = run("--cluster-enabled", "yes")
    assert r.returncode == 1 and "cluster" in r.stderr
    r = run("--loadmodule", "/x.so")
    assert r.returncode == 1 and "Modules are not supported" in r.stderr


def test_logfile_pidfile_stdin_include_and_overrides(tmp_path):
    port = free_port()
    (tmp_path / "inc.conf").write_text("timeout 17\nmaxmemory 1MB\n")
    conf = tmp_path / "main.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ninclude inc.conf\nMaxMemory-Policy allkeys-lru\n"
                    f"logfile \"{tmp_path / 'kv.log'}\"\npidfile {tmp_path / 'kv.pid'}\n"
                    f"dir {tmp_path}\nsave \"\"\n")
    proc = subprocess.Popen([sys.executable, "-m", "securekv", "server", str(conf),
                             "--loglevel", "verbose", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            cwd=str(tmp_path), text=True)
    proc.stdin.write("hz 20\n")
    proc.stdin.close()
    try:
        wait_port(port, proc)
        import redis
        c = redis.Redis(port=port, decode_responses=True)
        assert c.config_get("timeout") == {"timeout": "17"}
        assert c.config_get("maxmemory") == {"maxmemory": str(1024 * 1024)}
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert c.config_get("hz") == {"hz": "20"}
        assert c.config_get("loglevel") == {"loglevel": "verbose"}
        assert (tmp_path / "kv.pid").read_text().strip() == str(proc.pid)
        c.config_set("requirepass", "hunter2")
        c.close()
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode == 0
    log = (tmp_path / "kv.log").read_text()
    assert "Ready to accept connections" in log and "Configuration loaded" in log
    assert "hunter2" not in log
    assert not (tmp_path / "kv.pid").exists()


def test_stdin_only_and_rewrite_without_file():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "securekv", "server", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, text=True)
    proc.stdin.write(f"port {port}\nbind 127.0.0.1\nsave \"\"\n")
    proc.stdin.close()
    try:
        wait_port(port, proc)
        import redis
        c = redis.Redis(port=port)
        with pytest.raises(redis.ResponseError, match="without a config file"):
            c.execute_command("CONFIG", "REWRITE")
        c.close()
    finally:
        proc.terminate()
        proc.wait(20)


def test_umbrella_and_module_entry_points_agree(tmp_path):
    with ServerProcess(args=["--maxmemory", "2mb"]) as s:
        c = s.client(decode_responses=True)
        assert c.config_get("maxmemory") == {"maxmemory": str(2 * 1024 * 1024)}
        c.close()
    r = subprocess.run([sys.executable, "-c",
                        "import sys; from securekv.cli import server_main; "
                        "sys.exit(server_main(['--foo', 'bar']))"],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 1 and "FATAL CONFIG FILE ERROR" in r.stderr
