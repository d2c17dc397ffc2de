"""Micro-benchmark of the per-command path without sockets: a Client with a
fake transport is fed pipelines of 16 commands; prints microseconds per command.

    python bench/micro_dispatch.py [--profile] [--acl-user]

--acl-user runs the commands as a user restricted to ~key:* (ACL check on).

Use it before and after changing the hot path (net/, dispatch.py, keyspace.py,
strings.py); bench/compare is the end-to-end measurement.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from securekv.config import Config  # noqa: E402
from securekv.net.connection import Client  # noqa: E402
from securekv.server import Server  # noqa: E402


class FakeTransport:
    def __init__(self):
        self.n = 0

    def write(self, data):
        self.n += len(data)

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 6379)}.get(name, default)

    def get_write_buffer_size(self):
        return 0

    def pause_reading(self):
        pass

    def set_write_buffer_limits(self, high=None, low=None):
        pass

    def is_closing(self):
        return False

    def resume_reading(self):
        pass

    def close(self):
        pass


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def main():
    cfg = Config()
    cfg.values["loglevel"] = "nothing"
    server = Server(cfg)
    c = Client(server)
    c.connection_made(FakeTransport())
    if "--acl-user" in sys.argv:        # a user restricted to ~key:* (the ACL check runs)
        st = server.acl
        u = st.users.commit(b"bench", st.users.stage(b"bench", [b"on", b"nopass", b"+@all",
                                                                 b"~key:*", b"~counter"]))
        c.user = u
        server.update_gate(c)
    cases = {
        "PING": cmd(b"PING"),
        "SET": cmd(b"SET", b"key:000000000042", b"xxx"),
        "GET": cmd(b"GET", b"key:000000000042"),
        "INCR": cmd(b"INCR", b"counter"),
    }
    N = 20000
    for name, one in cases.items():
        if name == "INCR" and b"incr" not in __import__("securekv.commands.table", fromlist=["x"]).COMMANDS:
            continue
        data = one * 16
        for _ in range(2000):
            c.data_received(data)
        t = time.perf_counter()
        for _ in range(N):
            c.data_received(data)
        dt = time.perf_counter() - t
        print(f"{name:<6} {dt / N / 16 * 1e6:6.2f} us/command (pipelines of 16)")


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        import pstats
        cProfile.run("main()", "/tmp/micro.prof")
        pstats.Stats("/tmp/micro.prof").sort_stats("tottime").print_stats(15)
    else:
        main()
