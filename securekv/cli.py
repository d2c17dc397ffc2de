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
       securekv-server /etc/securekv/6379.conf
       securekv-server --port 7777
       securekv-server /etc/mykv.conf --loglevel verbose -
       securekv-server /etc/mykv.conf --loglevel verbose

Options are redis.conf directives (see conf/securekv.conf), given as --name value.
"""


def version_line() -> str:
    return (f"securekv-server v={securekv.__version__} redis_compat={securekv.REDIS_VERSION} "
            f"python={sys.version.split()[0]}")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:        # the default loop is the fallback
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def server_main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-v", "--version"):
        print(version_line())
        return 0
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    # "-" anywhere after the file means: also read config from stdin (redis-server).
    stdin_too = False
    if "-" in args[1:]:
        args = [args[0]] + [a for a in args[1:] if a != "-"]
        stdin_too = True
    from securekv.config import ConfigFileError, load, load_text
    try:
        cfg = load(args)
        if stdin_too:
            load_text(cfg, sys.stdin.read(), "stdin")
    except ConfigFileError as e:
        sys.stderr.write(e.report(securekv.REDIS_VERSION))
        return 1
    problem = check_startup_config(cfg)
    if problem:
        sys.stderr.write(problem + "\n")
        return 1
    from securekv.server import Server
    server = Server(cfg)

    async def run() -> int:
        try:
            await server.start()
        except OSError as e:
            server.log_warning(f"Failed listening: {e}")
            return 1
        return await server.serve_forever()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(run())


def check_startup_config(cfg) -> str | None:
    """Directives securekv accepts for compatibility but cannot honour."""
    if cfg["daemonize"]:
        return ("*** FATAL CONFIG ERROR: 'daemonize yes' is not supported by securekv: "
                "run it in the foreground under a supervisor (systemd, docker, runit).")
    if cfg["syslog-enabled"]:
        return "*** FATAL CONFIG ERROR: 'syslog-enabled yes' is not supported: use logfile."
    return None


UMBRELLA_USAGE = """Usage: securekv <command> [args...]

Commands:
  server [args...]   run the server (same arguments as securekv-server)
  version            print the version
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(UMBRELLA_USAGE)
        return 0 if args else 2
    cmd, rest = args[0], args[1:]
    if cmd == "server":
        return server_main(rest)
    if cmd in ("version", "-v", "--version"):
        print(version_line())
        return 0
    sys.stderr.write(f"securekv: unknown command '{cmd}'\n\n{UMBRELLA_USAGE}")
    return 2


def server_entry() -> None:
    sys.exit(server_main())


def entry() -> None:
    sys.exit(main())
