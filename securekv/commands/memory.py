"""MEMORY (object.c's memoryCommand): USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP;
and the per-tenant fields of INFO memory / clients.

Figures are the keyspace estimates of engine/memory.py (O(1) per key, kept up
to date by every mutation), summed per database and per tenant; a client sees
its own tenant's. MEMORY USAGE ignores SAMPLES: the estimate is already exact
for the whole value, at O(1). The allocator is CPython's (`libc`), so
MALLOC-STATS answers like Redis built without jemalloc, and PURGE runs a
garbage collection and returns freed arenas to the OS (malloc_trim).
"""

from __future__ import annotations

import ctypes
import gc

from securekv.commands.server import (bytes_to_human, client_buffers, process_rss, register_info,
                                      used_memory)
from securekv.commands.table import KeySpec, container, subcommand
from securekv.commands.util import help_reply
from securekv.engine.memory import KEY_OVERHEAD, estimate
from securekv.errors import SYNTAX, CommandError
from securekv.net.resp import OK, _strict_int

container("memory", -2, "", "", group="server", since="4.0.0",
          summary="A container for memory diagnostics commands")


@subcommand("memory", "usage", -3, "readonly", "", keys=[KeySpec("RO", 2)], since="4.0.0",
            summary="Estimate the memory usage of a key")
def memory_usage(c, argv):
    j = 3
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"samples" and j + 1 < n:
            v = _strict_int(argv[j + 1])
            if v is None:
                raise CommandError("ERR value is not an integer or out of range")
            if v < 0:
                raise CommandError(SYNTAX)
            j += 2
        else:
            raise CommandError(SYNTAX)
    key = argv[2]
    v = c.db.data.get(key)      # dictFind: no hit/miss count, an expired key not expired
    if v is None:
        return None
    return estimate(key, v)


def _stats_pairs(server, c) -> list:
    used, dataset, startup = used_memory(server, c)
    peak = max(getattr(server, "peak_memory", 0), used)
    server.peak_memory = peak
    out_bufs, _, _ = client_buffers(server)
    rss = process_rss()
    pairs = [
        (b"peak.allocated", peak), (b"total.allocated", used),
        (b"startup.allocated", startup), (b"replication.backlog", 0),
        (b"clients.slaves", 0), (b"clients.normal", out_bufs), (b"cluster.links", 0),
        (b"aof.buffer", 0), (b"lua.caches", 0), (b"functions.caches", 0),
    ]
    keys = 0
    overhead = used - dataset
    for db in c.keyspace.dbs:
        if db.data or db.expires:
            nk = len(db.data)
            keys += nk
            pairs.append((b"db.%d" % db.id, {
                b"overhead.hashtable.main": nk * KEY_OVERHEAD,
                b"overhead.hashtable.expires": len(db.expires) * KEY_OVERHEAD,
                b"overhead.hashtable.slot-to-keys": 0}))
    net = used - startup
    pairs += [
        (b"overhead.total", overhead), (b"keys.count", keys),
        (b"keys.bytes-per-key", (net // keys) if keys else 0),
        (b"dataset.bytes", dataset),
        (b"dataset.percentage", dataset * 100.0 / net if net > 0 else 0.0),
        (b"peak.percentage", used * 100.0 / peak if peak else 0.0),
        (b"allocator.allocated", used), (b"allocator.active", used),
        (b"allocator.resident", rss),
        (b"allocator-fragmentation.ratio", 1.0), (b"allocator-fragmentation.bytes", 0),
        (b"allocator-rss.ratio", rss / used if used else 0.0),
        (b"allocator-rss.bytes", rss - used),
        (b"rss-overhead.ratio", 1.0), (b"rss-overhead.bytes", 0),
        (b"fragmentation", rss / used if used else 0.0),
        (b"fragmentation.bytes", rss - used),
    ]
    t = c.tenant
    if t is not None:
        pairs += [(b"tenant.name", t.name), (b"tenant.maxmemory", t.maxmemory),
                  (b"tenant.used", t.used_memory()),
                  (b"tenant.evicted-keys", t.stats.evicted_keys)]
    return pairs


@subcommand("memory", "stats", 2, "", "", since="4.0.0", summary="Show memory usage details",
            tips=["nondeterministic_output", "request_policy:all_shards",
                  "response_policy:special"])
def memory_stats(c, argv):
    return dict(_stats_pairs(c.server, c))


@subcommand("memory", "doctor", 2, "", "", since="4.0.0",
            summary="Outputs memory problems report",
            tips=["nondeterministic_output", "request_policy:all_shards",
                  "response_policy:special"])
def memory_doctor(c, argv):
    server = c.server
    _, dataset, _ = used_memory(server, c)
    if dataset < 5 * 1024 * 1024:
        return (b"Hi Sam, this instance is empty or is using very little memory, my issues "
                b"detector can't be used in these conditions. Please, leave for your mission "
                b"on Earth and fill it with some data. The new Sam and I will be back to our "
                b"programming as soon as I finished rebooting.\n")
    t = c.tenant
    if t is not None and t.maxmemory and t.used_memory() > t.maxmemory * 0.9:
        return (b"Sam, I detected a few issues in this Redis instance memory implants:\n\n"
                b" * Tenant quota: this tenant uses more than 90%% of its quota (%d of %d "
                b"bytes). Raise it with TENANT SET or expect evictions / OOM errors.\n\n"
                b"I'm here to keep you safe, Sam. I want to help you.\n"
                % (t.used_memory(), t.maxmemory))
    return (b"Hi Sam, I can't find any memory issue in your instance. I can only account "
            b"for what occurs on this base.\n")


@subcommand("memory", "malloc-stats", 2, "", "", since="4.0.0",
            summary="Show allocator internal stats",
            tips=["nondeterministic_output", "request_policy:all_shards",
                  "response_policy:special"])
def memory_malloc_stats(c, argv):
    return b"Stats not supported for the current allocator"


@subcommand("memory", "purge", 2, "", "", since="4.0.0",
            summary="Ask the allocator to release memory",
            tips=["request_policy:all_shards", "response_policy:all_succeeded"])
def memory_purge(c, argv):
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return OK


_HELP = [
    b"DOCTOR",
    b"    Return memory problems reports.",
    b"MALLOC-STATS",
    b"    Return internal statistics report from the memory allocator.",
    b"PURGE",
    b"    Attempt to purge dirty pages for reclamation by the allocator.",
    b"STATS",
    b"    Return information about the memory usage of the server.",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
]


@subcommand("memory", "help", 2, "loading stale", "", since="4.0.0",
            summary="Show helpful text about the different subcommands")
def memory_help(c, argv):
    return help_reply(argv, _HELP)


# -- INFO: the tenant's own figures (nothing changes while only `default` exists) ---------

def _info_memory(server, c):
    reg = getattr(server, "tenants", None)
    if reg is None or len(reg.tenants) == 1:
        return {}
    t = c.tenant or reg.default
    used = t.used_memory()
    out = {}
    if c.tenant is not None:
        # Redis's fields as the tenant sees them: its quota (the global limit
        # when it has none: it shares the global pool) and its policy.
        limit = t.maxmemory or server.maxmemory
        out = {"maxmemory": limit, "maxmemory_human": bytes_to_human(limit),
               "maxmemory_policy": t.effective_policy()}
    return out | {"tenant": t.name.decode("utf-8", "replace"),
            "tenant_used_memory": used,
            "tenant_used_memory_human": bytes_to_human(used),
            "tenant_maxmemory": t.maxmemory,
            "tenant_maxmemory_human": bytes_to_human(t.maxmemory),
            "tenant_maxmemory_policy": t.effective_policy(),
            "tenant_keys": t.nkeys()}


def _info_clients(server, c):
    if c.tenant is None:
        return {}
    ks = c.keyspace
    mine = [x for x in server.clients.values() if x.keyspace is ks]
    return {"connected_clients": sum(1 for x in mine if x.kind != "replica"),
            "blocked_clients": sum(1 for x in mine if x.blocked)}


register_info("memory", _info_memory)
register_info("clients", _info_clients)
