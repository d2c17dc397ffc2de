"""Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, DUMP, RESTORE, and DEBUG
RELOAD (rdb.c, aof.c, cluster.c's DUMP/RESTORE, debug.c).

The machinery lives in securekv/persistence/ (rdb.py: the format;
snapshot.py: SAVE/BGSAVE/save points/loading; aof.py: the append-only file);
this module declares the commands and wires the subsystem into the server
(`server.persistence`, the cron, startup loading, the shutdown save, the
FLUSHALL save, INFO persistence, the -MISCONF write gate).
"""

from __future__ import annotations

import time

from securekv.commands.table import KeySpec, command
from securekv.commands.util import notify, parse_int
from securekv.errors import SYNTAX, CommandError
from securekv.lifecycle import on_init
from securekv.net.resp import OK, Status
from securekv.persistence import rdb
from securekv.persistence.aof import AOF, AOFError
from securekv.persistence.snapshot import Snapshots

ERR_PLAIN = "ERR"           # Redis's shared.err


# -- SAVE / BGSAVE ---------------------------------------------------------------------

@command('save', 1, 'admin noscript no_async_loading no_multi', '',
         group='server', since='1.0.0',
         summary='Synchronously save the dataset to disk')
def save(c, argv):
    snap = c.server.persistence
    if snap.child_active() and snap.child_kind == "rdb":
        raise CommandError("ERR Background save already in progress")
    if snap.save():
        return OK
    raise CommandError(ERR_PLAIN)


@command('bgsave', -1, 'admin noscript no_async_loading', '',
         group='server', since='1.0.0',
         summary='Asynchronously save the dataset to disk')
def bgsave(c, argv):
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise CommandError(SYNTAX)
    snap = c.server.persistence
    if snap.child_active() and snap.child_kind == "rdb":
        raise CommandError("ERR Background save already in progress")
    if snap.child_active() or c.in_exec:
        if schedule or c.in_exec:
            snap.bgsave_scheduled = True
            return Status(b"Background saving scheduled")
        raise CommandError("ERR Another child process is active (AOF?): can't BGSAVE right now. "
                           "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    if snap.bgsave():
        return Status(b"Background saving started")
    raise CommandError(ERR_PLAIN)


@command('bgrewriteaof', 1, 'admin noscript no_async_loading', '',
         group='server', since='1.0.0',
         summary='Asynchronously rewrite the append-only file')
def bgrewriteaof(c, argv):
    server = c.server
    snap, aof = server.persistence, server.aof
    if snap.child_active() and snap.child_kind == "aof":
        raise CommandError("ERR Background append only file rewriting already in progress")
    if snap.child_active() or c.in_exec:
        aof.rewrite_scheduled = True
        return Status(b"Background append only file rewriting scheduled")
    if aof.rewrite_background():
        return Status(b"Background append only file rewriting started")
    raise CommandError(ERR_PLAIN)


# -- DUMP / RESTORE ---------------------------------------------------------------------

@command('dump', 2, 'readonly', '@keyspace',
         keys=[KeySpec('RO access', 1)],
         group='generic', since='2.6.0',
         summary='Return a serialized version of the value stored at the specified key.',
         tips=['nondeterministic_output'])
def dump(c, argv):
    v = c.db.lookup_read(argv[1])
    if v is None:
        return None
    cfg = c.server.config
    return rdb.dump_payload(v, cfg["rdbcompression"], cfg["list-max-listpack-size"],
                            cfg["list-compress-depth"])


@command('restore', -4, 'write denyoom', '@keyspace @dangerous',
         keys=[KeySpec('OW update', 1)],
         group='generic', since='2.6.0',
         summary='Create a key using the provided serialized value, previously obtained '
                 'using DUMP.')
def restore(c, argv):
    replace = absttl = False
    idle = freq = -1
    j, n = 4, len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if freq < 0 or freq > 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    key = argv[1]
    db = c.db
    if not replace and db.lookup(key) is not None:
        raise CommandError("BUSYKEY Target key name already exists.")
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    try:
        value = rdb.load_payload(argv[3], rdb.Limits(c.server.config))
    except ValueError as e:
        raise CommandError(str(e)) from None
    deleted = db.delete(key, 0) if replace else False      # one change in all: the add's
    if ttl and not absttl:
        ttl += int(time.time() * 1000)
    if ttl and ttl <= int(time.time() * 1000) and c.server.active_expire_lazy_ok():
        if deleted:
            c.server.dirty += 1
            c.propagate_argv = [[b"DEL", key]]
            notify(c, "g", b"del", key)
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            prop = list(argv)
            prop[2] = b"%d" % ttl
            prop.append(b"ABSTTL")
            c.propagate_argv = [prop]
    data = db.data
    atime = getattr(data, "atime", None)
    if atime is not None:
        from securekv.tenancy import evict
        if freq >= 0 and data.lfu:
            atime[key] = (evict.lfu_minutes() << 8) | freq
        elif idle >= 0 and not data.lfu:
            atime[key] = evict.CLOCK[0] - idle
    notify(c, "g", b"restore", key)
    return OK


# -- DEBUG RELOAD -----------------------------------------------------------------------

def debug_reload(c, argv):
    flush = save_first = True
    merge = False
    for opt in argv[2:]:
        o = opt.lower()
        if o == b"merge":
            merge = True
        elif o == b"noflush":
            flush = False
        elif o == b"nosave":
            save_first = False
        else:
            raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                               "options.")
    server = c.server
    snap = server.persistence
    if save_first and not snap.save():
        raise CommandError(ERR_PLAIN)
    try:
        data = rdb.read_file(snap.rdb_path())
        res = rdb.load_rdb(data, rdb.Limits(server.config),
                           check_crc=server.config["rdbchecksum"])
        if not flush and not merge:
            for idx, (d, _e) in res.dbs.items():
                live = server.keyspace.dbs[idx].data
                for k in d:
                    if k in live:
                        raise rdb.RDBError("RDB has duplicated key '%s'"
                                           % k.decode("utf-8", "replace"), 0)
    except (OSError, rdb.RDBError) as e:
        server.log_warning(f"Error trying to load the RDB dump: {e}")
        raise CommandError("ERR Error trying to load the RDB dump, check server logs.")
    if flush:
        _forget_all(server)
    snap.install(res, flush)
    server.log_warning("DB reloaded by DEBUG RELOAD")
    return OK


def _all_dbs(server):
    """Every database of every tenant."""
    reg = getattr(server, "tenants", None)
    for ks in ([t.keyspace for t in reg.tenants.values()] if reg else [server.keyspace]):
        yield from ks.dbs


def _forget_all(server) -> None:
    """forget_db for every database of every tenant (before a reload replaces them)."""
    from securekv.commands.keys import forget_db
    for db in _all_dbs(server):
        forget_db(db)


def debug_loadaof(c, argv):
    """DEBUG LOADAOF (debug.c): write the AOF buffer out and fsync it, empty the
    dataset (every tenant's), load it back from the files the manifest names,
    and count no change (nothing of the reload is appended to the AOF)."""
    server = c.server
    aof = server.aof
    if aof.on:
        aof.write_buffer()
        aof.sync_now()
    _forget_all(server)
    for db in _all_dbs(server):
        db.flush()
    try:
        if aof.read_manifest():
            aof.load_files()
    except (OSError, rdb.RDBError, AOFError) as e:
        # Redis exits here; this server stays up (the files are left as they are).
        server.log_warning(f"Error loading the AOF by DEBUG LOADAOF: {e}")
        raise CommandError("ERR Error trying to load the AOF, check server logs.")
    server.dirty = 0
    server.log_warning("Append Only File loaded by DEBUG LOADAOF")
    return OK


# -- wiring ---------------------------------------------------------------------------

def _flushall_hook(c) -> None:
    """flushAllDataAndResetRDB: kill a saving child; with save points, save the
    (empty) dataset (rdb_changes_since_last_save is then 0, as in 7.0.15)."""
    server = c.server
    snap = server.persistence
    if snap.child_active() and snap.child_kind == "rdb":
        snap.kill_child()
    if server.config["save"]:
        snap.save()


@on_init
def _setup(server) -> None:
    from securekv.commands import server as server_cmds
    from securekv.config import claim
    snap = Snapshots(server)
    server.persistence = snap
    aof = AOF(server, snap)
    server.aof = aof
    server.cron_hooks.append(aof.cron)

    def apply_appendonly(v) -> None:
        if server.loop is None:
            return                      # startup: the start hook loads/creates the AOF
        if v and not aof.on:
            if snap.child_active():
                snap.kill_child()
            try:
                aof.start_fresh()
            except OSError as e:
                from securekv.config import ConfigError
                server.log_warning(f"Redis needs to enable the AOF but can't trigger a "
                                   f"background AOF rewrite operation: {e}")
                raise ConfigError("Failed to enable AOF") from None
        elif not v and aof.on:
            aof.stop()

    server.apply_appendonly = apply_appendonly

    def apply_appendfsync(v) -> None:
        aof.always = v == "always"
        if aof.always:
            aof.unsynced = aof.fsync_pending    # written under everysec, not yet fsynced

    server.apply_appendfsync = apply_appendfsync

    def apply_aof_timestamp_enabled(v) -> None:
        aof.timestamps = bool(v)

    server.apply_aof_timestamp_enabled = apply_aof_timestamp_enabled
    aof.timestamps = bool(server.config["aof-timestamp-enabled"])
    if not hasattr(server, "write_check"):
        server.write_check = None
    server.cron_hooks.append(snap.cron)
    server.flushall_hook = _flushall_hook

    def save_for_shutdown() -> bool:
        aof.write_buffer()
        if snap.child_active():
            if snap.child_kind == "rdb":
                server.log_warning("There is a child saving an .rdb. Killing it!")
            snap.kill_child()
        return snap.save()

    server.save_for_shutdown = save_for_shutdown

    def kill_child_on_exit() -> None:
        """finishShutdown: a save or rewrite still running is killed and its temp
        file removed (SHUTDOWN NOSAVE, or no save points)."""
        if snap.child_active():
            server.log_warning("There is a child saving an .rdb. Killing it!"
                               if snap.child_kind == "rdb" else
                               "There is a child rewriting the AOF. Killing it!")
            snap.kill_child()

    server.exit_hooks.append(kill_child_on_exit)

    def prepare_shutdown() -> bool:
        """SIGTERM/SIGINT: save when save points exist (shutdown-on-sig* default).
        False when that save failed: as Redis, the server then stays up rather
        than exit without its data on disk."""
        aof.write_buffer()
        if server.config["save"]:
            server.log_notice("Saving the final RDB snapshot before exiting.")
            if not save_for_shutdown():
                server.log_warning("Error trying to save the DB, can't exit.")
                return False
        return True

    server.prepare_shutdown_hook = prepare_shutdown

    async def load(_server) -> None:
        aof = getattr(server, "aof", None)
        if aof is not None and server.config["appendonly"]:
            aof.load_at_startup()
        else:
            snap.load_at_startup()

    server.start_hooks.insert(0, load)
    server_cmds.register_info("persistence", snap.info)
    server_cmds.register_info("persistence", aof.info)
    ext = getattr(server_cmds, "DEBUG_EXTENSIONS", None)
    if ext is not None:
        ext[b"reload"] = debug_reload
        ext[b"loadaof"] = debug_loadaof
    claim("save", "dbfilename", "dir", "stop-writes-on-bgsave-error", "rdbcompression",
          "rdbchecksum", "appendonly", "appendfilename", "appenddirname", "appendfsync",
          "aof-load-truncated", "aof-use-rdb-preamble", "auto-aof-rewrite-percentage",
          "auto-aof-rewrite-min-size")
