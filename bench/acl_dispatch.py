"""ACL check overhead on the per-command path, without sockets, robust to a noisy
machine: one process, two clients (the default user, and a user restricted to
`~key:* ~counter`), blocks of pipelines of 16 commands timed alternately; each
round gives a restricted/default ratio and the medians are printed.

    python bench/acl_dispatch.py [--rounds 15] [--pipelines 2000]

For a before/after comparison, copy this script into another checkout's bench/
(e.g. `git archive <rev> | tar -x -C /tmp/before`) and run it there: it runs
the code of the checkout it sits in. bench/micro_dispatch.py --acl-user is the
one-client version; bench/compare is the end-to-end measurement.
"""

import argparse
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--pipelines", type=int, default=2000)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(here))
    sys.path.insert(0, here)
    from micro_dispatch import FakeTransport, cmd
    from securekv.config import Config
    from securekv.net.connection import Client
    from securekv.server import Server

    cfg = Config()
    cfg.values["loglevel"] = "nothing"
    server = Server(cfg)
    plain = Client(server)
    plain.connection_made(FakeTransport())
    restricted = Client(server)
    restricted.connection_made(FakeTransport())
    st = server.acl
    restricted.user = st.users.commit(b"bench", st.users.stage(
        b"bench", [b"on", b"nopass", b"+@all", b"~key:*", b"~counter"]))
    server.update_gate(restricted)
    assert restricted.gated and not plain.gated
    cases = {
        "PING": cmd(b"PING"),
        "SET": cmd(b"SET", b"key:000000000042", b"xxx"),
        "GET": cmd(b"GET", b"key:000000000042"),
        "INCR": cmd(b"INCR", b"counter"),
        "MGET": cmd(b"MGET", b"key:000000000042", b"key:000000000043", b"key:000000000044"),
    }
    print(f"{'cmd':<6} {'default us':>10} {'restricted us':>13} {'ratio':>7}   (medians of "
          f"{a.rounds} rounds, {a.pipelines} pipelines of 16 each)")
    for name, one in cases.items():
        data = one * 16
        for c in (plain, restricted):
            for _ in range(200):
                c.data_received(data)
        t_plain, t_acl, ratios = [], [], []
        for _ in range(a.rounds):
            row = []
            for c in (plain, restricted):
                t = time.perf_counter()
                for _ in range(a.pipelines):
                    c.data_received(data)
                row.append((time.perf_counter() - t) / a.pipelines / 16 * 1e6)
            t_plain.append(row[0])
            t_acl.append(row[1])
            ratios.append(row[1] / row[0])
        print(f"{name:<6} {statistics.median(t_plain):10.2f} {statistics.median(t_acl):13.2f} "
              f"{statistics.median(ratios):7.3f}")


if __name__ == "__main__":
    main()
