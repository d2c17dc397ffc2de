"""Snapshots: SAVE, BGSAVE in a forked child, save points, loading at startup,
stop-writes-on-bgsave-error, the save on shutdown and INFO persistence.

`server.persistence` is the Snapshots object. Background saves fork like
Redis (copy-on-write): the child writes `temp-<pid>.rdb`, fsyncs it, renames
it over dbfilename, fsyncs the directory and leaves with os._exit; it never
touches the event loop, sockets or the log. The parent keeps serving and
reaps the child from the cron (os.waitpid WNOHANG).

Redis's rules kept here: `dirty` minus the changes counted when the child
forked is what remains after a successful BGSAVE; a failed BGSAVE sets
rdb_last_bgsave_status:err, which (with stop-writes-on-bgsave-error and save
points) refuses writes and PING with -MISCONF until a save succeeds; save
points are retried at most every 5 seconds after a failure.
"""

from __future__ import annotations

import gc
import os
import signal
import time

from securekv.persistence import rdb

BGSAVE_RETRY_DELAY = 5

MISCONF_RDB = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
               "to persist to disk. Commands that may modify the data set are disabled, because "
               "this instance is configured to report errors during writes if RDB snapshotting "
               "fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "
               "details about the RDB error.")


def _child_prepare() -> None:
    """First thing in a forked child: no signal plumbing of the parent's loop, no gc."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):
            pass
    gc.disable()


FORK_STATS = {"total_forks": 0, "latest_fork_usec": 0}    # INFO stats


def fork_child(work) -> int:
    """Fork; the child runs work() and exits with 0 (True) or 1 (False/exception).
    Returns the child's pid in the parent."""
    gc.collect(0)
    t0 = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _child_prepare()
            code = 0 if work() else 1
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    FORK_STATS["total_forks"] += 1
    FORK_STATS["latest_fork_usec"] = (time.perf_counter_ns() - t0) // 1000
    return pid


def tenant_sections(server) -> list:
    """(name, option words, dbs) of every tenant but `default` (RDB sections)."""
    reg = getattr(server, "tenants", None)
    if reg is None or len(reg.tenants) == 1:
        return []
    return [(t.name, t.option_words(), t.keyspace.dbs)
            for t in reg.tenants.values() if not t.is_default]


def config_tenants(server) -> set:
    """Names of the tenants the config file declares (`tenant` directives)."""
    out = set()
    for args in server.config["tenant"]:
        if args:
            a = args[0]
            out.add(a.encode("utf-8", "surrogateescape") if isinstance(a, str) else bytes(a))
    return out


def ensure_tenant(server, name: bytes, words=None, *, settings: bool = True):
    """The tenant `name`, created when missing (loading a file that holds it).
    Saved settings (`words`, TENANT CREATE options) are applied unless the config
    declares that tenant: a `tenant` directive wins over a file, as a redis.conf
    directive wins over an earlier CONFIG SET that was not rewritten."""
    from securekv.commands.tenant import _commit, apply_options, refresh
    from securekv.errors import CommandError
    reg = server.tenants
    t = reg.get(name)
    if t is None:
        t = reg.create(name)
    pending = getattr(server, "tenant_settings_pending", None)
    if pending is not None:             # an AOF is loading: settings apply at its end
        if words and not t.is_default:
            pending.setdefault(name, []).extend(words)
        return t
    if settings and words and name not in config_tenants(server) and not t.is_default:
        try:
            _commit(server, t, apply_options(server, t, list(words)))
            return t
        except CommandError as e:
            server.log_warning(f"Ignoring saved settings of tenant "
                               f"'{name.decode('utf-8', 'replace')}': {e}")
    refresh(server)
    return t


class Snapshots:
    def __init__(self, server) -> None:
        self.server = server
        self.child_pid = -1
        self.child_kind = None          # "rdb" | "aof" (another subsystem's child)
        self.child_done = None          # callback(ok) for the current child
        self.save_start = 0.0
        self.last_bgsave_time = -1
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0
        self.dirty_at_fork = 0
        self.bgsave_scheduled = False
        self.rdb_saves = 0
        self.last_load_loaded = 0
        self.last_load_expired = 0
        self.loading = False
        self.functions: list[bytes] = []     # function libraries carried through RDB

    # -- paths and options ----------------------------------------------------------

    def rdb_path(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"], cfg["dbfilename"])

    def _write_opts(self) -> dict:
        cfg = self.server.config
        return dict(compress=cfg["rdbcompression"], checksum=cfg["rdbchecksum"],
                    used_mem=self._used_mem(), functions=list(self.functions),
                    fill=cfg.values.get("list-max-listpack-size", -2),
                    depth=cfg.values.get("list-compress-depth", 0),
                    tenants=tenant_sections(self.server),
                    key_delay=cfg.values.get("rdb-key-save-delay", 0))

    def _used_mem(self) -> int:
        return sum(db.mem for db in self.server.keyspace.dbs)

    def tenant_sections(self) -> list:
        """(name, option words, dbs) of every tenant but `default`, for write_rdb."""
        return tenant_sections(self.server)

    # -- SAVE ------------------------------------------------------------------------

    def save(self) -> bool:
        """rdbSave in the foreground; updates dirty/lastsave/status like Redis."""
        server = self.server
        path = self.rdb_path()
        try:
            rdb.save_file(path, server.keyspace.dbs, **self._write_opts())
        except OSError as e:
            # rdbSave's three reports. A failed foreground save leaves the bgsave
            # status (the MISCONF gate) as it was, as in Redis.
            tmp = "temp-%d.rdb" % os.getpid()
            if e.filename2 is not None:
                server.log_warning(f"Error moving temp DB file {tmp} on the final destination "
                                   f"{os.path.basename(path)} (in server root dir "
                                   f"{os.getcwd()}): {e.strerror}")
            elif e.filename is not None:
                server.log_warning(f"Failed opening the temp RDB file {tmp} (in server root dir "
                                   f"{os.getcwd()}) for saving: {e.strerror}")
            else:
                server.log_warning(f"Write error saving DB on disk: {e.strerror}")
            return False
        server.log_notice("DB saved on disk")
        server.dirty = 0
        server.last_save = int(time.time())
        self.rdb_saves += 1
        self._set_status(True)
        return True

    # -- BGSAVE ----------------------------------------------------------------------

    def child_active(self) -> bool:
        return self.child_pid != -1

    def bgsave(self) -> bool:
        """rdbSaveBackground: fork a child that writes the snapshot."""
        server = self.server
        if self.child_active():
            return False
        self.dirty_at_fork = server.dirty
        self.last_bgsave_try = int(time.time())
        path = self.rdb_path()
        opts = self._write_opts()
        dbs = server.keyspace.dbs
        t0 = time.time()
        try:
            pid = fork_child(lambda: rdb.save_file(path, dbs, **opts) >= 0)
        except OSError as e:
            self._set_status(False)
            server.log_warning(f"Can't save in background: fork: {e.strerror}")
            return False
        self.child_pid = pid
        self.child_kind = "rdb"
        self.child_done = self._bgsave_done
        self.save_start = t0
        server.log_notice(f"Background saving started by pid {pid}")
        return True

    def _bgsave_done(self, ok: bool, by_signal: bool) -> None:
        server = self.server
        if ok:
            server.log_notice("Background saving terminated with success")
            server.dirty -= self.dirty_at_fork
            if server.dirty < 0:
                server.dirty = 0
            server.last_save = int(time.time())
            self.rdb_saves += 1
            self._set_status(True)
        elif by_signal:
            server.log_warning("Background saving terminated by signal")
            self._remove_temp()
            self._set_status(False)
        else:
            server.log_warning("Background saving error")
            self._set_status(False)
        self.last_bgsave_time = int(time.time() - self.save_start)

    def _remove_temp(self) -> None:
        try:
            os.unlink(os.path.join(self.server.config["dir"], "temp-%d.rdb" % self.child_pid))
        except OSError:
            pass

    def kill_child(self) -> None:
        """killRDBChild: stop a running save (FLUSHALL, SHUTDOWN, DEBUG RELOAD)."""
        if self.child_pid == -1:
            return
        pid = self.child_pid
        try:
            os.kill(pid, signal.SIGUSR1)
        except OSError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        if self.child_kind == "rdb":
            self._remove_temp()
        elif self.child_done is not None:
            self.child_done(False, True)
        self.child_pid = -1
        self.child_kind = None
        self.child_done = None

    def start_child(self, pid: int, kind: str, done) -> None:
        """Register a child forked by another part of persistence (AOF rewrite)."""
        self.child_pid = pid
        self.child_kind = kind
        self.child_done = done
        self.save_start = time.time()

    def reap(self) -> None:
        """The cron's checkChildrenDone."""
        if self.child_pid == -1:
            return
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        by_signal = os.WIFSIGNALED(status)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        done = self.child_done
        self.child_pid = -1
        self.child_kind = None
        self.child_done = None
        if done is not None:
            done(ok, by_signal)

    # -- status and the MISCONF gate -----------------------------------------------

    def _set_status(self, ok: bool) -> None:
        self.last_bgsave_ok = ok
        self.update_write_gate()

    def update_write_gate(self) -> None:
        server = self.server
        deny = (not self.last_bgsave_ok and server.config["stop-writes-on-bgsave-error"]
                and bool(server.config["save"]))
        aof = getattr(server, "aof", None)
        deny_aof = aof is not None and aof.write_error() is not None
        server.write_check = self.write_error if (deny or deny_aof) else None
        server.update_server_gate()

    def write_error(self, c, cmd):
        """The dispatch gate's disk-error check (writes and PING)."""
        server = self.server
        if server.is_replica():
            return None
        if (not self.last_bgsave_ok and server.config["stop-writes-on-bgsave-error"]
                and server.config["save"]):
            return MISCONF_RDB
        aof = getattr(server, "aof", None)
        if aof is not None:
            err = aof.write_error()
            if err is not None:
                return "MISCONF Errors writing to the AOF file: " + err
        return None

    # -- cron: save points --------------------------------------------------------------

    def cron(self) -> None:
        self.reap()
        if self.child_pid != -1:
            return
        server = self.server
        now = int(time.time())
        if self.bgsave_scheduled:
            if self.bgsave():
                self.bgsave_scheduled = False
            return
        for secs, changes in server.config["save"]:
            if (server.dirty >= changes and now - server.last_save > secs
                    and (now - self.last_bgsave_try > BGSAVE_RETRY_DELAY or self.last_bgsave_ok)):
                server.log_notice(f"{changes} changes in {secs} seconds. Saving...")
                self.bgsave()
                break

    # -- loading ---------------------------------------------------------------------------

    def load_file(self, path: str, flush: bool = True) -> rdb.LoadResult:
        """Parse and install an RDB file (raises OSError / rdb.RDBError, nothing installed)."""
        server = self.server
        data = rdb.read_file(path)
        res = rdb.load_rdb(data, rdb.Limits(server.config),
                           check_crc=server.config["rdbchecksum"],
                           skip_expired=not server.is_replica())
        self.install(res, flush)
        return res

    def install(self, res: rdb.LoadResult, flush: bool = True) -> None:
        server = self.server
        rdb.install(server.keyspace, res, flush)
        reg = getattr(server, "tenants", None)
        if reg is not None:
            if flush:
                for t in list(reg.tenants.values()):
                    if not t.is_default and t.name not in res.tenants:
                        for db in t.keyspace.dbs:
                            db.flush()
            for name, (words, dbs) in res.tenants.items():
                t = ensure_tenant(server, name, words)
                sub = rdb.LoadResult()
                sub.dbs = dbs
                rdb.install(t.keyspace, sub, flush)
            from securekv.tenancy import evict
            for t in reg.tenants.values():
                evict.set_tracking(t)       # install put plain dicts in
        self.functions = list(res.functions)
        self.last_load_loaded = res.loaded
        self.last_load_expired = res.expired

    def load_at_startup(self) -> None:
        """loadDataFromDisk for the RDB (the AOF, when enabled, loads instead)."""
        server = self.server
        path = self.rdb_path()
        if not os.path.exists(path):
            return
        t0 = time.time()
        try:
            res = self.load_file(path)
        except rdb.RDBError as e:
            if e.reason:            # Redis's two lines, which tools grep for
                server.log_warning(e.msg)
                server.log_warning(f"Internal error in RDB reading offset {e.offset} -> {e.reason}")
            server.log_warning(f"Fatal error loading the DB: {e}. Exiting.")
            raise SystemExit(1)
        except OSError as e:
            server.log_warning(f"Fatal error loading the DB: {e.strerror}. Exiting.")
            raise SystemExit(1)
        server.log_notice("Done loading RDB, keys loaded: %d, keys expired: %d."
                          % (res.loaded, res.expired))
        server.log_notice("DB loaded from disk: %.3f seconds" % (time.time() - t0))

    # -- INFO ---------------------------------------------------------------------------

    def info(self, server, c) -> dict:
        active = self.child_pid != -1 and self.child_kind == "rdb"
        return {
            "loading": int(self.loading),
            "rdb_changes_since_last_save": server.dirty,
            "rdb_bgsave_in_progress": int(active),
            "rdb_last_save_time": server.last_save,
            "rdb_last_bgsave_status": "ok" if self.last_bgsave_ok else "err",
            "rdb_last_bgsave_time_sec": self.last_bgsave_time,
            "rdb_current_bgsave_time_sec": int(time.time() - self.save_start) if active else -1,
            "rdb_saves": self.rdb_saves,
            "rdb_last_load_keys_expired": self.last_load_expired,
            "rdb_last_load_keys_loaded": self.last_load_loaded,
        }
