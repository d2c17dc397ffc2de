"""Where command families attach to the server without the server importing them
by name: `@on_init` functions run at the end of Server.__init__ with the server,
and install what the family needs (disconnect hooks, cron hooks, the pub/sub
hub, ACL checks ...). Kept separate so families need not import server.py."""

from __future__ import annotations

from typing import Callable

INIT_HOOKS: list[Callable] = []


def on_init(fn: Callable) -> Callable:
    INIT_HOOKS.append(fn)
    return fn
