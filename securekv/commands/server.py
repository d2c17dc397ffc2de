"""Server commands: INFO, TIME, LASTSAVE, SHUTDOWN, SLOWLOG, LATENCY, MONITOR,
DEBUG (server.c, slowlog.c, latency.c, debug.c, replication.c's MONITOR).

INFO renders Redis 7.0.15's sections and fields in Redis's order. Fields
securekv cannot know the way Redis does (allocator statistics, Lua memory,
fork timings) carry honest values: memory figures come from the process RSS
and the keyspace estimates (engine/memory.py), the allocator is `libc`.
Subsystems written later (persistence, replication, scripting, tenants ...)
fill or replace fields of a section through `register_info(section, fn)`:
`fn(server, client)` returns a dict of field -> value; known fields are
overridden in place, new ones appended to the section; a list of
(field, value) pairs replaces the section's fields entirely (the replica
form of `# Replication`).

Statistics shown to a client are its own tenant's (`c.stats`, `c.keyspace`);
with only the default tenant these are the server's.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import resource
import struct
import sys
import time

from securekv import REDIS_VERSION, __version__
from securekv.commands.table import COMMANDS, all_commands, command, container, subcommand
from securekv.commands.util import help_reply, subcommand_syntax_error
from securekv.errors import NO_SUCH_KEY, SYNTAX, CommandError
from securekv.lifecycle import on_init
from securekv.net.resp import OK, Verbatim, _strict_int

# -- INFO ----------------------------------------------------------------------

INFO_PROVIDERS: dict[str, list] = {}


def register_info(section: str, fn) -> None:
    """Let a subsystem fill or replace the fields of an INFO section (see module doc)."""
    INFO_PROVIDERS.setdefault(section, []).append(fn)


ALL_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace")
DEFAULT_SECTIONS = frozenset(("server", "clients", "memory", "persistence", "stats",
                              "replication", "cpu", "modules", "errorstats", "cluster",
                              "keyspace"))
TITLES = {"cpu": "CPU"}


SECTION_GATES: dict = {}     # section -> fn(server): shown by INFO all/everything?


def register_section(name: str, fn, title: str | None = None, in_all=None) -> None:
    """A subsystem's own INFO section (`fn(server, client)` -> [(field, value)]),
    shown by INFO <name>, and by all/everything (before keyspace) while
    `in_all(server)` is true (so INFO stays Redis's while the subsystem is off)."""
    global ALL_SECTIONS
    SECTIONS[name] = fn
    if title:
        TITLES[name] = title
    if in_all is not None:
        SECTION_GATES[name] = in_all
    if name not in ALL_SECTIONS:
        ALL_SECTIONS = ALL_SECTIONS[:-1] + (name, ALL_SECTIONS[-1])

_BUILD_ID = hashlib.sha1(f"securekv-{__version__}".encode()).hexdigest()[:15]
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman."""
    if n < 1024:
        return "%dB" % n
    for i, unit in enumerate("KMGTP", 1):
        if n < 1024 ** (i + 1):
            return "%.2f%s" % (n / 1024 ** i, unit)
    return "%dB" % n


def process_rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _safe(name: str) -> str:
    """Redis's getSafeInfoString: '#', ':', CR and LF become '_'."""
    for ch in "#:\n\r":
        name = name.replace(ch, "_")
    return name


def dataset_bytes(c) -> int:
    return sum(db.mem for db in c.keyspace.dbs)


def client_buffers(server) -> tuple[int, int, int]:
    """(normal clients' output bytes, biggest output buffer, biggest query buffer)."""
    total = biggest_out = biggest_in = 0
    for cl in server.clients.values():
        t = cl.transport
        if t is not None:
            try:
                n = t.get_write_buffer_size()
            except Exception:      # closed transport
                n = 0
            total += n
            if n > biggest_out:
                biggest_out = n
        buf = getattr(cl.parser, "_buf", None)
        if buf:
            n = len(buf)
            if n > biggest_in:
                biggest_in = n
    return total, biggest_out, biggest_in


def used_memory(server, c) -> tuple[int, int, int]:
    """(used, dataset, startup): startup RSS + keyspace estimate + client buffers."""
    dataset = dataset_bytes(c)
    out, _, _ = client_buffers(server)
    startup = getattr(server, "startup_memory", 0)
    return startup + dataset + out, dataset, startup


def _rate(samples, idx: int) -> float:
    if len(samples) < 2:
        return 0.0
    first, last = samples[0], samples[-1]
    dt = last[0] - first[0]
    return (last[idx] - first[idx]) / dt if dt > 0 else 0.0


def _cfg(server, name, default):
    try:
        return server.config[name]
    except KeyError:
        return default


def _avg_ttl(db, now_ms: int) -> int:
    """db.avg_ttl when something maintains it, else an estimate from up to 64 TTLs."""
    if db.avg_ttl:
        return db.avg_ttl
    total = n = 0
    for when in itertools.islice(db.expires.values(), 64):
        left = when - now_ms
        if left > 0:
            total += left
            n += 1
    return total // n if n else 0


def _pubsub_counts(server, c) -> tuple[int, int, int]:
    hub = server.pubsub
    sp = getattr(hub, "spaces", {}).get(c.keyspace) if hub is not None else None
    if sp is None:
        return 0, 0, 0
    return len(sp.channels), len(sp.patterns), len(sp.shard)


def section_server(server, c):
    u = os.uname()
    now = time.time()
    uptime = int(now - server.start_time)
    cfg_file = server.config.file or ""
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", _BUILD_ID),
        ("redis_mode", "standalone"),
        ("os", f"{u.sysname} {u.release} {u.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2 ** 32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "python-gil"),
        ("gcc_version", "0.0.0"),
        ("process_id", server.pid),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", _cfg(server, "port", 0)),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", server.hz),
        ("configured_hz", _cfg(server, "hz", 10)),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", os.path.abspath(cfg_file) if cfg_file else ""),
        ("io_threads_active", 0),
        ("securekv_version", __version__),
    ]


def section_clients(server, c):
    _, max_out, max_in = client_buffers(server)
    clients = server.clients.values()
    return [
        ("connected_clients", sum(1 for x in clients if x.kind != "replica")),
        ("cluster_connections", 0),
        ("maxclients", server.maxclients),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", max_out),
        ("blocked_clients", sum(1 for x in clients if x.blocked)),
        ("tracking_clients", getattr(server, "tracking_clients", 0)),
        ("clients_in_timeout_table", getattr(server, "clients_in_timeout_table", 0)),
    ]


def section_memory(server, c):
    used, dataset, startup = used_memory(server, c)
    rss = process_rss()
    peak = max(getattr(server, "peak_memory", 0), used)
    server.peak_memory = peak
    out_bufs, _, _ = client_buffers(server)
    overhead = used - dataset
    net = used - startup if used > startup else 1
    sysmem = total_system_memory()
    maxmem = _cfg(server, "maxmemory", 0)
    scripts = getattr(server, "scripts", None) or {}
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100 / peak if peak else 0)),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % _f32(dataset * 100 / net)),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", sysmem),
        ("total_system_memory_human", bytes_to_human(sysmem)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", len(scripts)),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmem),
        ("maxmemory_human", bytes_to_human(maxmem)),
        ("maxmemory_policy", _cfg(server, "maxmemory-policy", "noeviction")),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "%.2f" % (rss / used if used else 0)),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "%.2f" % (rss / used if used else 0)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", out_bufs),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def section_persistence(server, c):
    return [
        ("loading", 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", server.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", server.last_save),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", int(bool(_cfg(server, "appendonly", False)))),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def section_stats(server, c):
    from securekv.persistence.snapshot import FORK_STATS
    st = c.stats
    samples = server.ops_samples
    chans, pats, shard = _pubsub_counts(server, c)
    return [
        ("total_connections_received", st.total_connections_received),
        ("total_commands_processed", st.total_commands_processed),
        ("instantaneous_ops_per_sec", int(_rate(samples, 1) + 0.5)),
        ("total_net_input_bytes", st.net_input_bytes),
        ("total_net_output_bytes", st.net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "%.2f" % (_rate(samples, 2) / 1024)),
        ("instantaneous_output_kbps", "%.2f" % (_rate(samples, 3) / 1024)),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_connections),
        ("sync_full", st.sync_full),
        ("sync_partial_ok", st.sync_partial_ok),
        ("sync_partial_err", st.sync_partial_err),
        ("expired_keys", st.expired_keys),
        ("expired_stale_perc", "%.2f" % st.expired_stale_perc),
        ("expired_time_cap_reached_count", st.expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", st.expire_cycle_cpu_milliseconds),
        ("evicted_keys", st.evicted_keys),
        ("evicted_clients", st.evicted_clients),
        ("total_eviction_exceeded_time", st.total_eviction_exceeded_time),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", st.keyspace_hits),
        ("keyspace_misses", st.keyspace_misses),
        ("pubsub_channels", chans),
        ("pubsub_patterns", pats),
        ("pubsubshard_channels", shard),
        ("latest_fork_usec", FORK_STATS["latest_fork_usec"]),
        ("total_forks", FORK_STATS["total_forks"]),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", st.total_active_defrag_time),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", st.tracking_total_keys),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", st.unexpected_error_replies),
        ("total_error_replies", st.total_error_replies),
        ("dump_payload_sanitizations", st.dump_payload_sanitizations),
        ("total_reads_processed", st.total_reads_processed),
        ("total_writes_processed", st.total_writes_processed),
        ("io_threaded_reads_processed", st.io_threaded_reads_processed),
        ("io_threaded_writes_processed", st.io_threaded_writes_processed),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def section_replication(server, c):
    return [
        ("role", "slave" if server.is_replica() else "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", getattr(server, "replid", None) or server.run_id),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", _cfg(server, "repl-backlog-size", 1048576)),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def section_cpu(server, c):
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    th = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return [
        ("used_cpu_sys", "%.6f" % me.ru_stime),
        ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % ch.ru_stime),
        ("used_cpu_user_children", "%.6f" % ch.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % th.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % th.ru_utime),
    ]


def section_commandstats(server, c):
    st = c.stats
    calls, usec, rej, fail = st.calls, st.usec, st.rejected_calls, st.failed_calls
    n = len(calls)
    out = []
    for cmd in all_commands():
        i = cmd.id
        if i >= n:
            continue
        k, u, r, f = calls[i], usec[i], rej[i], fail[i]
        if k or r or f:
            per = _f32(_f32(u) / _f32(k)) if k else 0.0
            out.append(("cmdstat_" + _safe(cmd.name),
                        "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d"
                        % (k, u, per, r, f)))
    return out


def section_errorstats(server, c):
    errs = c.stats.errors
    return [("errorstat_" + code, "count=%d" % errs[code])
            for code in sorted(errs, key=lambda s: s.encode("utf-8", "surrogateescape"))]


def section_keyspace(server, c):
    now = int(time.time() * 1000)
    out = []
    for db in c.keyspace.dbs:
        keys = len(db.data)
        if keys:
            out.append(("db%d" % db.id, "keys=%d,expires=%d,avg_ttl=%d"
                        % (keys, len(db.expires), _avg_ttl(db, now))))
    return out


SECTIONS = {
    "server": section_server,
    "clients": section_clients,
    "memory": section_memory,
    "persistence": section_persistence,
    "stats": section_stats,
    "replication": section_replication,
    "cpu": section_cpu,
    "modules": lambda server, c: [],
    "commandstats": section_commandstats,
    "errorstats": section_errorstats,
    "latencystats": lambda server, c: [],     # latency-tracking histograms: not kept
    "cluster": lambda server, c: [("cluster_enabled", 0)],
    "keyspace": section_keyspace,
}


def _fmt(v) -> str:
    if type(v) is bytes:
        return v.decode("utf-8", "surrogateescape")
    return str(v)


def render_section(server, c, name: str) -> str:
    fields = SECTIONS[name](server, c)
    for fn in INFO_PROVIDERS.get(name, ()):
        extra = fn(server, c)
        if isinstance(extra, list):
            fields = extra
        elif extra:
            index = {k: i for i, (k, _) in enumerate(fields)}
            for k, v in extra.items():
                if k in index:
                    fields[index[k]] = (k, v)
                else:
                    fields.append((k, v))
    title = TITLES.get(name, name.capitalize())
    lines = ["# " + title]
    lines.extend(f"{k}:{_fmt(v)}" for k, v in fields)
    return "\r\n".join(lines) + "\r\n"


def info_text(server, c, args: list[bytes]) -> bytes:
    """genRedisInfoString for the requested sections (Redis 7.0 genInfoSectionDict)."""
    if not args:
        wanted = DEFAULT_SECTIONS
    else:
        wanted = set()
        for a in args:
            s = a.lower().decode("utf-8", "surrogateescape")
            if s in ("all", "everything"):
                wanted.update(n for n in ALL_SECTIONS
                              if n not in SECTION_GATES or SECTION_GATES[n](server))
            elif s == "default":
                wanted.update(DEFAULT_SECTIONS)
            elif s in SECTIONS:
                wanted.add(s)
    parts = [render_section(server, c, name) for name in ALL_SECTIONS if name in wanted]
    return "\r\n".join(parts).encode("utf-8", "surrogateescape")


@command("info", -1, "loading stale", "@dangerous", group="server", since="1.0.0",
         summary="Get information and statistics about the server",
         tips=["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
def info(c, argv):
    text = info_text(c.server, c, argv[1:])
    return Verbatim(text) if c.resp3 else text


# -- TIME, LASTSAVE --------------------------------------------------------------

@command("time", 1, "loading stale fast", "", group="server", since="2.6.0",
         summary="Return the current server time", tips=["nondeterministic_output"])
def time_(c, argv):
    ns = time.time_ns()
    return [b"%d" % (ns // 1_000_000_000), b"%d" % (ns // 1000 % 1_000_000)]


@command("lastsave", 1, "loading stale fast", "@admin @dangerous", group="server", since="1.0.0",
         summary="Get the UNIX time stamp of the last successful save to disk",
         tips=["nondeterministic_output"])
def lastsave(c, argv):
    return c.server.last_save


# -- SHUTDOWN ----------------------------------------------------------------------

_SHUTDOWN_OPTS = (b"nosave", b"save", b"now", b"force", b"abort")


@command("shutdown", -1, "admin noscript loading stale no_multi allow_busy", "", group="server",
         since="1.0.0",
         summary="Synchronously save the dataset to disk and then shut down the server")
def shutdown(c, argv):
    opts = set()
    for a in argv[1:]:
        o = a.lower()
        if o not in _SHUTDOWN_OPTS:
            raise CommandError(SYNTAX)
        opts.add(o)
    nosave, save, now, force, abort = (o in opts for o in _SHUTDOWN_OPTS)
    if (abort and (nosave or save or now or force)) or (nosave and save):
        raise CommandError(SYNTAX)
    server = c.server
    if abort:
        # securekv never waits for lagging replicas: a shutdown is never in progress.
        raise CommandError("ERR No shutdown in progress.")
    if not now and c.in_exec:
        raise CommandError("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
    if save or (not nosave and _cfg(server, "save", None)):
        saver = getattr(server, "save_for_shutdown", None)
        if saver is not None:
            server.log_notice("Saving the final RDB snapshot before exiting.")
            if not saver():
                if force:
                    server.log_warning("Error trying to save the DB. Exit anyway.")
                else:
                    server.log_warning("Error trying to save the DB, can't exit.")
                    server.log_warning("Errors trying to shut down the server. "
                                       "Check the logs for more information.")
                    raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
        elif save and not force:
            server.log_warning("Error trying to save the DB, can't exit: "
                               "this server has no persistence.")
            raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
    server.request_shutdown(0)
    # Like Redis's exit(0): no reply, nothing after SHUTDOWN runs, the connection closes.
    c.close_reason = "shutdown"
    c.close_after_reply = True
    from securekv.dispatch import NO_REPLY
    return NO_REPLY


# -- SLOWLOG --------------------------------------------------------------------------

container("slowlog", -2, "", "", group="server", since="2.2.12",
          summary="A container for slow log commands")

_SLOWLOG_HELP = (
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
)


def _slowlog(c):
    """The slow log c sees: its tenant's (the server's for the default tenant)."""
    return c.server.slowlog if c.tenant is None else c.tenant.slowlog


@subcommand("slowlog", "get", -2, "admin loading stale", "", since="2.2.12",
            summary="Get the slow log's entries",
            tips=["request_policy:all_nodes", "nondeterministic_output"])
def slowlog_get(c, argv):
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    count = 10
    if len(argv) == 3:
        from securekv.net.resp import _strict_int
        count = _strict_int(argv[2])
        if count is None or count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(_slowlog(c))
    return [[eid, ts, usec, list(args), peer, name]
            for eid, ts, usec, args, peer, name in itertools.islice(_slowlog(c), count)]


@subcommand("slowlog", "len", 2, "admin loading stale", "", since="2.2.12",
            summary="Get the slow log's length",
            tips=["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"])
def slowlog_len(c, argv):
    return len(_slowlog(c))


@subcommand("slowlog", "reset", 2, "admin loading stale", "", since="2.2.12",
            summary="Clear all entries from the slow log",
            tips=["request_policy:all_nodes", "response_policy:all_succeeded"])
def slowlog_reset(c, argv):
    _slowlog(c).clear()
    return OK


@subcommand("slowlog", "help", 2, "loading stale", "", since="6.2.0",
            summary="Show helpful text about the different subcommands")
def slowlog_help(c, argv):
    return help_reply(argv, _SLOWLOG_HELP)


# -- LATENCY ----------------------------------------------------------------------------
#
# server.latency_events: event name -> [all-time max ms, deque of [unix time, ms]]
# (at most 160 samples, one per second), filled by server.latency_add_sample.
# A tenant's clients see and reset only their tenant's table (`_latency_events`).


def _latency_events(c) -> dict:
    """The latency events c sees: its tenant's (the server's for the default tenant)."""
    return c.server.latency_events if c.tenant is None else c.tenant.latency_events

container("latency", -2, "", "", group="server", since="2.8.13",
          summary="A container for latency diagnostics commands")

_LATENCY_HELP = (
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the "
    "specified command names.",
    "    If no commands are specified then all histograms are replied.",
)


@subcommand("latency", "latest", 2, "admin noscript loading stale", "", since="2.8.13",
            summary="Return the latest latency samples for all events.",
            tips=["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
def latency_latest(c, argv):
    out = []
    for event, (mx, samples) in _latency_events(c).items():
        t, ms = samples[-1]
        out.append([event.encode(), t, ms, mx])
    return out


@subcommand("latency", "history", 3, "admin noscript loading stale", "", since="2.8.13",
            summary="Return timestamp-latency samples for the event.",
            tips=["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
def latency_history(c, argv):
    ts = _latency_events(c).get(argv[2].decode("utf-8", "surrogateescape"))
    if ts is None:
        return []
    return [[t, ms] for t, ms in ts[1]]


@subcommand("latency", "reset", -2, "admin noscript loading stale", "", since="2.8.13",
            summary="Reset latency data for one or more events.",
            tips=["request_policy:all_nodes", "response_policy:all_succeeded"])
def latency_reset(c, argv):
    events = _latency_events(c)
    if len(argv) == 2:
        n = len(events)
        events.clear()
        return n
    n = 0
    for a in argv[2:]:
        want = a.decode("utf-8", "surrogateescape").lower()
        for name in [e for e in events if e.lower() == want]:
            del events[name]
            n += 1
    return n


@subcommand("latency", "help", 2, "loading stale", "", since="2.8.13",
            summary="Show helpful text about the different subcommands.")
def latency_help(c, argv):
    return help_reply(argv, _LATENCY_HELP)


@subcommand("latency", "histogram", -2, "admin noscript loading stale", "", since="7.0.0",
            summary="Return the cumulative distribution of latencies of a subset of commands or all.",
            tips=["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
def latency_histogram(c, argv):
    # Redis with latency-tracking off: no command has a histogram.
    return {}


def _latency_stats(samples):
    lat = [ms for _, ms in samples]
    n = len(lat)
    if not n:
        return 0, 0, 0
    avg = sum(lat) // n
    mad = sum(abs(avg - x) for x in lat) // n
    period = int(time.time()) - min(t for t, _ in samples)
    return avg, mad, period or 1


def latency_report(server, events: dict | None = None) -> str:
    """latency.c createLatencyReport (the advice securekv can give)."""
    if events is None:
        events = server.latency_events
    threshold = server.latency_threshold
    if not events and threshold == 0:
        return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
                "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" "
                "in order to enable it. If we weren't in a deep space mission I'd suggest to take "
                "a look at https://redis.io/topics/latency-monitor.\n")
    out = []
    adv = set()
    for num, (event, (mx, samples)) in enumerate(events.items(), 1):
        if num == 1:
            out.append("Dave, I have observed latency spikes in this Redis instance. "
                       "You don't mind talking about it, do you Dave?\n\n")
        avg, mad, period = _latency_stats(samples)
        n = len(samples)
        out.append("%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). "
                   "Worst all time event %dms." % (num, event, n, avg, mad, period / n, mx))
        ev = event.lower()
        if ev == "command":
            slower = server.config["slowlog-log-slower-than"]
            if slower < 0:
                adv.add("slowlog_enabled")
            elif slower // 1000 > threshold:
                adv.add("slowlog_tuning")
            adv.update(("slowlog_inspect", "large_objects"))
        elif ev == "fast-command":
            adv.add("scheduler")
        elif ev == "expire-cycle":
            adv.update(("hz", "large_objects"))
        elif ev == "eviction-del":
            adv.add("large_objects")
        out.append("\n")
    if not events and not adv:
        out.append("Dave, no latency spike was observed during the lifetime of this Redis "
                   "instance, not in the slightest bit. I honestly think you ought to sit down "
                   "calmly, take a stress pill, and think things over.\n")
    elif not adv:
        out.append("\nWhile there are latency events logged, I'm not able to suggest any easy "
                   "fix. Please use the Redis community to get some help, providing this report "
                   "in your help request.\n")
    else:
        out.append("\nI have a few advices for you:\n\n")
        if "slowlog_enabled" in adv:
            out.append("- There are latency issues with potentially slow commands you are using. "
                       "Try to enable the Slow Log Redis feature using the command 'CONFIG SET "
                       "slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able "
                       "to log slow commands execution for you.\n" % (threshold * 1000))
        if "slowlog_tuning" in adv:
            out.append("- Your current Slow Log configuration only logs events that are slower "
                       "than your configured latency monitor threshold. Please use 'CONFIG SET "
                       "slowlog-log-slower-than %d'.\n" % (threshold * 1000))
        if "slowlog_inspect" in adv:
            out.append("- Check your Slow Log to understand what are the commands you are running "
                       "which are too slow to execute. Please check "
                       "https://redis.io/commands/slowlog for more information.\n")
        if "scheduler" in adv:
            out.append("- The system is slow to execute Redis code paths not containing system "
                       "calls. This usually means the system does not provide Redis CPU time to "
                       "run for long periods. You should try to:\n"
                       "  1) Lower the system load.\n"
                       "  2) Use a computer / VM just for Redis if you are running other software "
                       "in the same system.\n"
                       "  3) Check if you have a \"noisy neighbour\" problem.\n"
                       "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic "
                       "latency in your system.\n"
                       "  5) Check if the problem is allocator-related by recompiling Redis with "
                       "MALLOC=libc, if you are using Jemalloc. However this may create "
                       "fragmentation problems.\n")
        if "hz" in adv and server.hz < 100:
            out.append("- In order to make the Redis keys expiring process more incremental, try "
                       "to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz "
                       "100'.\n")
        if "large_objects" in adv:
            out.append("- Deleting, expiring or evicting (because of maxmemory policy) large "
                       "objects is a blocking operation. If you have very large objects that are "
                       "often deleted, expired, or evicted, try to fragment those objects into "
                       "multiple smaller objects.\n")
    return "".join(out)


@subcommand("latency", "doctor", 2, "admin noscript loading stale", "", since="2.8.13",
            summary="Return a human readable latency analysis report.",
            tips=["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
def latency_doctor(c, argv):
    return Verbatim(latency_report(c.server, _latency_events(c)).encode())


@subcommand("latency", "graph", 3, "admin noscript loading stale", "", since="2.8.13",
            summary="Return a latency graph for the event.",
            tips=["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
def latency_graph(c, argv):
    name = argv[2].decode("utf-8", "surrogateescape")
    ts = _latency_events(c).get(name)
    if ts is None:
        raise CommandError(f"ERR No samples available for event '{name}'")
    return Verbatim(latency_graph_text(name, ts).encode())


def latency_graph_text(event: str, ts) -> str:
    """latencyCommandGenSparkeline: the header, a rule, and sparkline.c's
    sparklineRender(80 columns, 4 rows, SPARKLINE_FILL)."""
    mx_all, samples = ts
    now = int(time.time())
    seq = []
    for t, ms in samples:
        el = now - t
        label = ("%ds" % el if el < 60 else "%dm" % (el // 60) if el < 3600
                 else "%dh" % (el // 3600) if el < 86400 else "%dd" % (el // 86400))
        seq.append((ms, label))
    lo = min(v for v, _ in seq)
    hi = max(v for v, _ in seq)
    out = ["%s - high %d ms, low %d ms (all time high %d ms)\n" % (event, hi, lo, mx_all),
           "-" * 80 + "\n"]
    for j in range(0, len(seq), 80):
        if j:
            out.append("\n")
        out.append(_sparkline_range(seq[j:j + 80], lo, hi, rows=4))
    return "".join(out)


def _sparkline_range(part, lo, hi, rows: int) -> str:
    """sparklineRenderRange with SPARKLINE_FILL (charset "_o#", '|' below)."""
    fill = "_o#"
    relmax = (hi - lo) or 1
    steps = 3 * rows
    out = []
    row = 0
    while True:
        loop = False
        chars = [" "] * len(part)
        for j, (v, label) in enumerate(part):
            step = int(int((v - lo) * steps) / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                idx = step - (rows - row - 1) * 3
                loop = True
                if 0 <= idx < 3:
                    chars[j] = fill[idx]
                elif idx >= 3:
                    chars[j] = "|"
            else:
                if row - rows < 1:          # label_margin_top
                    loop = True
                    break
                k = row - rows - 1
                if len(label) > k:
                    loop = True
                    chars[j] = label[k]
        if not loop:
            break
        row += 1
        out.append("".join(chars) + "\n")
    return "".join(out)


# -- MONITOR ------------------------------------------------------------------------------

@command("monitor", 1, "admin noscript loading stale", "", group="server", since="1.0.0",
         summary="Listen for all requests received by the server in real time")
def monitor(c, argv):
    from securekv.dispatch import NO_REPLY
    if c.in_exec:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if c.monitor or c.kind == "replica":
        return NO_REPLY            # already a monitor (or a replica): Redis ignores it
    c.monitor = True
    c.server.monitors.append(c)
    c.server.update_gate(c)
    return OK


def _monitor_reset(c) -> None:
    if c.monitor:
        c.monitor = False
        try:
            c.server.monitors.remove(c)
        except ValueError:
            pass


# -- DEBUG ---------------------------------------------------------------------------------

_DEBUG_HELP = (
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
)

DEBUG_DENIED = ("ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                "\"local\", you can run it from a local connection, otherwise you need to set "
                "this option in the configuration file, and then restart the server.")


def debug_allowed(c) -> bool:
    """Redis's allowProtectedAction for enable-debug-command."""
    mode = _cfg(c.server, "enable-debug-command", "no")
    return mode == "yes" or (mode == "local" and c.is_loopback)


def _c_strtod(b: bytes) -> float:
    """C strtod on a prefix: the longest leading number, 0.0 when there is none."""
    s = b.lstrip(b" \t\n\r\v\f")
    best = 0.0
    for end in range(min(len(s), 64), 0, -1):
        try:
            best = float(s[:end])
            break
        except ValueError:
            continue
    return best


def _c_atoi(b: bytes) -> int:
    s = b.lstrip(b" \t\n\r\v\f")
    i = 1 if s[:1] in (b"-", b"+") else 0
    j = i
    while j < len(s) and 48 <= s[j] <= 57:
        j += 1
    return int(s[:j]) if j > i else 0


def _rdb_len_bytes(n: int) -> int:
    return 1 if n < 64 else 2 if n < 16384 else 5 if n < 2 ** 32 else 9


def serialized_length(v) -> int:
    """rdbSavedObjectLen for strings (without LZF: uncompressed); an estimate otherwise."""
    if type(v) in (bytes, bytearray):
        from securekv.net.resp import _strict_int
        if len(v) <= 11:
            n = _strict_int(bytes(v))
            if n is not None:
                if -(1 << 7) <= n < (1 << 7):
                    return 2
                if -(1 << 15) <= n < (1 << 15):
                    return 3
                if -(1 << 31) <= n < (1 << 31):
                    return 5
        return _rdb_len_bytes(len(v)) + len(v)
    return getattr(v, "mem", 0)


def _debug_object(c, key: bytes) -> str:
    """debug.c's DEBUG OBJECT line; the address is the Python object's, lru the
    current LRU clock and the idle time 0 (access times are not tracked)."""
    from securekv.commands.keys import (OBJ_SHARED_INTEGERS, OBJ_SHARED_REFCOUNT,
                                        _shared_integers, encoding_name)
    from securekv.net.resp import _strict_int
    v = c.db.data.get(key)      # dictFind: an expired key is reported, not expired
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    enc = encoding_name(v)
    refcount = 1
    if enc == b"int" and len(v) <= 5:
        n = _strict_int(bytes(v))
        if n is not None and 0 <= n < OBJ_SHARED_INTEGERS and _shared_integers(c):
            refcount = OBJ_SHARED_REFCOUNT
    lru = int(time.time()) & ((1 << 24) - 1)
    extra = ""
    if enc == b"quicklist":
        # Node layout is not Redis's: nodes as 8 KiB listpacks (list-max-listpack-size -2).
        size = getattr(v, "mem", 0)
        nodes = max(1, -(-size // 8192))
        extra = (" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%s ql_compressed:%d "
                 "ql_uncompressed_size:%d" % (nodes, len(v) / nodes,
                                              _cfg(c.server, "list-max-listpack-size", -2),
                                              int(_cfg(c.server, "list-compress-depth", 0) != 0),
                                              size))
    return ("Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s"
            % (id(v), refcount, enc.decode(), serialized_length(v), lru, 0, extra))


_NOT_SUPPORTED = {b"aof-flush-sleep", b"assert", b"change-repl-id",
                  b"crash-and-recover", b"leak", b"htstats",
                  b"htstats-key", b"replicate", b"mallctl", b"mallctl-str",
                  b"drop-cluster-packet-filter", b"oom", b"panic", b"reload",
                  b"restart", b"sdslen", b"segfault",
                  b"set-skip-checksum-validation", b"stringmatch-test", b"structsize",
                  b"listpack", b"quicklist", b"client-eviction", b"pause-cron", b"replybuffer",
                  b"clusterlink"}


def _debug_populate(c, argv):
    """DEBUG POPULATE count [prefix] [size] (debug.c): string keys prefix:N holding
    value:N (cut or zero-padded to size), skipping keys that exist; counted as
    no change and not propagated, as Redis."""
    count = _positive_long(argv[2])
    size = _positive_long(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    lookup = db.lookup
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]       # Redis formats into a 128-byte buffer
        if lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = val[:size].ljust(size, b"\0")
        db.add(key, val, 0)
    return OK


def _positive_long(arg: bytes) -> int:
    """getPositiveLongFromObjectOrReply (one message for both failures)."""
    v = _strict_int(arg)
    if v is None or v < 0:
        raise CommandError("ERR value is out of range, must be positive")
    return v


def _debug_protocol(c, name: bytes):
    """DEBUG PROTOCOL <type> (debug.c): one reply of each RESP type, for clients'
    parsers (Redis's own unit/protocol tests)."""
    from securekv.net.resp import BigNumber, Raw, RSet, Verbatim
    if name == b"string":
        return b"Hello World"
    if name == b"integer":
        return 12345
    if name == b"double":
        return 3.141
    if name == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if name == b"null":
        return None
    if name == b"array":
        return [0, 1, 2]
    if name == b"set":
        return RSet([0, 1, 2])
    if name == b"map":
        return {0: False, 1: True, 2: False}
    if name == b"attrib":
        real = b"$39\r\nSome real reply following the attribute\r\n"
        if c.resp3:       # an attribute is not a reply: a real one follows it
            return Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n" + real)
        return Raw(real)
    if name == b"push":
        if not c.resp3:
            raise CommandError("ERR RESP2 is not supported by this command")
        return Raw(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
                   b"$40\r\nSome real reply following the push reply\r\n")
    if name == b"true":
        return True
    if name == b"false":
        return False
    if name == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    raise CommandError("ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|"
                       "verbatim|true|false")


# DEBUG subcommands other subsystems implement (b"reload" -> persistence): fn(c, argv).
DEBUG_EXTENSIONS: dict = {}


@command("debug", -2, "admin noscript loading stale protected", "", group="server",
         since="1.0.0", summary="A container for debugging commands")
def debug(c, argv):
    if not debug_allowed(c):
        # Ungated clients (the gate refuses the others before the call). Counted as
        # Redis does: a rejected call, not a call that failed.
        from securekv.dispatch import NO_REPLY, error_reply
        cmd = COMMANDS[b"debug"]
        error_reply(c, DEBUG_DENIED, cmd, rejected=True)
        c.stats.calls[cmd.id] -= 1          # dispatch counts this call on return
        return NO_REPLY
    sub = argv[1].lower()
    n = len(argv)
    if sub == b"help" and n == 2:
        return help_reply(argv, _DEBUG_HELP)
    if sub == b"sleep" and n == 3:
        secs = _c_strtod(argv[2])
        if secs > 0:
            time.sleep(secs)
        return OK
    if sub == b"set-active-expire" and n == 3:
        on = _c_atoi(argv[2]) != 0
        c.server.active_expire = on
        c.server.config.values["active-expire-enabled"] = on
        return OK
    if sub == b"object" and n == 3:
        from securekv.net.resp import Status
        return Status(_debug_object(c, argv[2]).encode())
    if sub == b"config-rewrite-force-all" and n == 2:
        from securekv import config as cfgmod
        path = c.server.config.file
        if path is None:
            raise CommandError("ERR CONFIG-REWRITE-FORCE-ALL failed: no config file")
        try:
            cfgmod.rewrite_file(c.server.config, path, force_all=True)
        except OSError as e:
            raise CommandError(f"ERR CONFIG-REWRITE-FORCE-ALL failed: {e.strerror}") from None
        return OK
    if sub == b"populate" and 3 <= n <= 5:
        return _debug_populate(c, argv)
    if sub == b"quicklist-packed-threshold" and n == 3:
        # Lists' elements of this size or more become PLAIN quicklist nodes: what
        # RDB/DUMP write (quicklistisSetPackedThreshold; 0 restores 1gb).
        from securekv.config import memtoull
        from securekv.persistence import rdb
        sz = memtoull(argv[2].decode("latin-1"))
        if sz is None or sz > (1 << 32) - (1 << 20):
            raise CommandError("ERR argument must be a memory value bigger than 1 and smaller "
                               "than 4gb")
        rdb.PACKED_THRESHOLD = sz or (1 << 30)
        return OK
    if sub == b"protocol" and n == 3:
        return _debug_protocol(c, argv[2].lower())
    if sub == b"digest" and n == 2:
        from securekv.engine.digest import dataset_digest
        from securekv.net.resp import Status
        return Status(dataset_digest(c.keyspace.dbs))
    if sub == b"digest-value":
        from securekv.engine.digest import value_digest
        from securekv.net.resp import Status
        return [Status(value_digest(c.db, k)) for k in argv[2:]]
    if sub == b"log" and n == 3:
        c.server.log_warning("DEBUG LOG: " + argv[2].decode("utf-8", "surrogateescape"))
        return OK
    if sub == b"error" and n == 3:
        # Sent as is (no ERR prefix, not counted in errorstats), newlines mapped to spaces.
        from securekv.net.resp import Raw
        return Raw(b"-" + argv[2].replace(b"\n", b" ").replace(b"\r", b" ") + b"\r\n")
    ext = DEBUG_EXTENSIONS.get(sub)
    if ext is not None:
        return ext(c, argv)
    if sub in _NOT_SUPPORTED:
        raise CommandError("ERR DEBUG %s is not supported by this server"
                           % argv[1].decode("utf-8", "surrogateescape").upper())
    raise subcommand_syntax_error(argv)


# -- setup ------------------------------------------------------------------------------

def protected_error(c, cmd):
    """processCommand's CMD_PROTECTED check (DEBUG; MODULE if it is ever added)."""
    name = cmd.name.split("|", 1)[0]
    mode = _cfg(c.server, f"enable-{name}-command", "no")
    if mode == "yes" or (mode == "local" and c.is_loopback):
        return None
    if name == "debug":
        return DEBUG_DENIED
    return (f"ERR {name.upper()} command not allowed. If the enable-{name}-command option is "
            "set to \"local\", you can run it from a local connection, otherwise you need to "
            "set this option in the configuration file, and then restart the server.")


# -- redaction: what MONITOR and SLOWLOG show of commands carrying secrets --------------
# (Redis's redactClientCommandArgument calls in authCommand, helloCommand and
# migrateCommand, replayed on the argv: the same arguments are hidden.)

REDACTED = b"(redacted)"


def redact_auth(argv):
    if len(argv) > 3:           # a syntax error before anything is redacted
        return argv
    return [argv[0]] + [REDACTED] * (len(argv) - 1)


def redact_hello(argv):
    from securekv.net.resp import _strict_int
    if len(argv) >= 2:
        ver = _strict_int(argv[1])
        if ver is None or not 2 <= ver <= 3:
            return argv
    out = None
    i, n = 2, len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt == b"auth" and more >= 2:
            if out is None:
                out = list(argv)
            out[i + 1] = out[i + 2] = REDACTED
            i += 3
        elif opt == b"setname" and more:
            i += 2
        else:
            break
    return argv if out is None else out


def redact_migrate(argv):
    out = None
    i, n = 6, len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt in (b"copy", b"replace"):
            i += 1
        elif opt == b"auth" and more >= 1:
            out = out or list(argv)
            out[i + 1] = REDACTED
            i += 2
        elif opt == b"auth2" and more >= 2:
            out = out or list(argv)
            out[i + 1] = out[i + 2] = REDACTED
            i += 3
        else:
            break                   # KEYS ... or a syntax error: nothing more is redacted
    return argv if out is None else out


@on_init
def _setup(server) -> None:
    if not getattr(server, "run_id", None):
        server.run_id = os.urandom(20).hex()
    server.startup_memory = process_rss()
    server.peak_memory = server.startup_memory
    server.reset_hooks.append(_monitor_reset)
    server.protected_error = protected_error
