"""Entry points.

`securekv-server [path.conf | -] [--directive value ...]` takes exactly
redis-server's command line. `securekv server ...` is the same through the
umbrella CLI, which later gains `sentinel`, `audit`, `tls` and `acl`.
"""

from __future__ import annotations

import asyncio
import sys

import securekv

USAGE = """Usage: securekv-server [/path/to/securekv.conf] [options] [-]
       securekv-server - (read config from stdin)
       securekv-server -v or --version
       securekv-server -h or --help

Examples:
       securekv-server (run the server with default conf)
       echo 'maxmemory 128mb' | securekv-server -
       securekv-server /etc/securekv/6379.conf
       securekv-server --port 7777
       securekv-server /etc/mykv.conf --loglevel verbose -
       securekv-server /etc/mykv.conf --loglevel verbose

Options are redis.conf directives (see conf/securekv.conf), given as --name value.
"""


def version_line() -> str:
    return (f"securekv-server v={securekv.__version__} redis_compat={securekv.REDIS_VERSION} "
            f"python={sys.version.split()[0]} bits=64")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:        # the default loop is the fallback
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def parse_command_line(args: list[str]) -> tuple[str | None, bool, list[str]]:
    """redis-server's main(): (config file, read stdin too, the option words).
    The first argument is the file unless it starts with '-'; a lone '-' first
    or last means "also read config from standard input"."""
    path = None
    j = 0
    if args and not args[0].startswith("-"):
        path = args[0]
        j = 1
    from_stdin = False
    rest = []
    n = len(args)
    for i in range(j, n):
        if args[i] == "-" and (i == 0 or i == n - 1):
            from_stdin = True
        else:
            rest.append(args[i])
    return path, from_stdin, rest


def server_main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-v", "--version"):
        print(version_line())
        return 0
    if args and args[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)      # as redis-server: usage on stderr, exit code 1
        return 1
    from securekv.config import ConfigFileError, ConfigOpenError, load_config
    path, from_stdin, options = parse_command_line(args)
    stdin_text = None
    if from_stdin:
        _early_log("Reading config from stdin")
        stdin_text = sys.stdin.read()
    try:
        cfg = load_config(path, options, stdin_text)
    except ConfigFileError as e:
        sys.stderr.write(e.report(securekv.REDIS_VERSION))
        return 1
    except ConfigOpenError as e:
        sys.stdout.write(e.report())
        sys.stdout.flush()
        return 1
    problem = check_startup_config(cfg)
    if problem:
        sys.stderr.write(problem + "\n")
        return 1
    from securekv.server import Server
    server = Server(cfg)
    problem = check_server(server)
    if problem:
        sys.stderr.write(problem + "\n")
        return 1

    async def run() -> int:
        try:
            await server.start()
        except OSError as e:
            server.log_warning(f"Failed listening: {e}")
            return 1
        return await server.serve_forever()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(run())


def _early_log(msg: str) -> None:
    """A warning before the server exists, in Redis's log format (role C)."""
    import os
    import time
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
    sys.stdout.write(f"{os.getpid()}:C {stamp} # {msg}\n")
    sys.stdout.flush()


FATAL = "*** FATAL CONFIG ERROR: "

# Non-default values securekv must not pretend to honour: refused at startup
# until a subsystem claims the directive (securekv.config.claim).
UNSUPPORTED = {
    "replicaof": "'replicaof' is not supported yet: start without it.",
    "cluster-enabled": "'cluster-enabled yes' is not supported: securekv has no cluster mode.",
}


def check_startup_config(cfg) -> str | None:
    """Directives securekv accepts for compatibility but cannot honour."""
    from securekv.config import CLAIMED, TABLE
    if cfg["daemonize"]:
        return (FATAL + "'daemonize yes' is not supported by securekv: "
                "run it in the foreground under a supervisor (systemd, docker, runit).")
    if cfg["syslog-enabled"]:
        return FATAL + "'syslog-enabled yes' is not supported: use logfile."
    for name, why in UNSUPPORTED.items():
        if name not in CLAIMED and cfg[name] != TABLE[name].default:
            return FATAL + why
    return None


def check_server(server) -> str | None:
    """Checks that need the subsystems loaded: `user` lines need the ACL engine."""
    from securekv.config import CLAIMED
    for problem in getattr(server, "startup_errors", ()):
        return FATAL + problem
    if server.config["user"] and "user" not in CLAIMED:
        return (FATAL + "'user' directives are not supported yet: remove them or use "
                "requirepass.")
    return None


UMBRELLA_USAGE = """Usage: securekv <command> [args...]

Commands:
  server [args...]   run the server (same arguments as securekv-server)
  version            print the version
  tls dev-certs DIR  write a development CA, server and client certificates
  audit verify|query|tail PATH...   check, search or follow the audit log
  rdb info FILE      summary of an RDB file (version, aux fields, keys by type per db/tenant)
  aof check PATH [--fix]   check an AOF directory/manifest/file; --fix truncates a torn tail
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(UMBRELLA_USAGE)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "server":
        return server_main(rest)
    if cmd == "tls":
        from tls.devcerts import cli as tls_cli
        return tls_cli(rest)
    if cmd == "audit":
        from securekv.audit.cli import main as audit_cli
        return audit_cli(rest)
    if cmd in ("rdb", "aof"):
        from securekv.persistence.cli import main as persistence_cli
        return persistence_cli(cmd, rest)
    if cmd in ("version", "-v", "--version"):
        print(version_line())
        return 0
    sys.stderr.write(f"securekv: unknown command '{cmd}'\n\n{UMBRELLA_USAGE}")
    return 2


def server_entry() -> None:
    sys.exit(server_main())


def entry() -> None:
    sys.exit(main())
