"""The append-only file, in Redis 7.0's multi-part layout (aof.c).

Inside `dir`/`appenddirname`:
- `<appendfilename>.<n>.base.rdb` (RDB preamble, aof-use-rdb-preamble yes) or
  `.base.aof` (RESP commands): the dataset at the last rewrite;
- `<appendfilename>.<n>.incr.aof`: the writes since, as RESP commands;
- `<appendfilename>.manifest`: `file <name> seq <n> type <b|h|i>` lines,
  replaced atomically (temp file, fsync, rename, fsync the directory).

Writes arrive from the propagation seam (`server.propagation_subscribers`:
(client, db id, [argv, ...], keyspace); EXEC already wrapped in MULTI/EXEC,
expired/evicted keys as DEL) and are encoded into a buffer, with a SELECT
whenever the db changes as Redis does, and a `TENANT USE <name>` whenever the
tenant changes (never while only `default` exists: the file is Redis's).
TENANT CREATE/SET/DROP are propagated as they ran.

The buffer reaches the file before any reply leaves the server
(`server.before_reply(client)`, run by every client flush, and the cron).
The first flush of an event-loop iteration that finds writes not yet in the
file (under always: not yet fsynced) holds its client's output and schedules
one call_soon tick; every other client flushing in that iteration is held
too; the tick writes once (always: and fsyncs ONCE) and flushes the held
clients: concurrent clients share one write and one fsync, and no reply leaves
before the write it acknowledges (or shows) is in the file (always: on disk).
everysec: fsynced by a background thread once a second (so a power loss loses
about the last second; a kill -9 loses nothing written). no: the kernel.

Tenants (securekv/tenancy/__init__.py): an RDB-preamble base holds them as
`securekv-tenant` AUX sections; a RESP base as `TENANT CREATE <name> <opts>`,
`TENANT USE <name>` and its commands. Loading handles the TENANT lines itself
(no audit): USE switches the loader into the tenant (created when missing),
CREATE/SET apply the saved settings unless a `tenant` directive declares that
tenant (the config wins, as redis.conf wins over a CONFIG SET never
rewritten), DROP removes it. Each file starts in `default`, db 0.

BGREWRITEAOF: the parent first switches writes to a new INCR file (recorded
in the manifest), then forks; the child writes the new BASE from its
copy-on-write snapshot, which is exactly the state at the switch, so no write
can be lost. When the child succeeds the manifest names the new BASE and the
INCR files opened since; older files become history and are deleted.

Loading replays BASE then every INCR through the command dispatcher with a
private client. A torn last command (a crash mid-write) is dropped and the
file truncated with a warning when aof-load-truncated is yes; anything else
stops startup with an error naming the file and offset.
"""

from __future__ import annotations

import os
import re
import threading
import time

from securekv.config import repr_str
from securekv.net.resp import split_args
from securekv.persistence import rdb
from securekv.persistence.snapshot import ensure_tenant, fork_child, tenant_sections

MANIFEST_SUFFIX = ".manifest"


class AOFError(Exception):
    pass


def encode_argv(out: bytearray, argv) -> None:
    out += b"*%d\r\n" % len(argv)
    for a in argv:
        out += b"$%d\r\n" % len(a)
        out += a
        out += b"\r\n"


def parse_commands(data: bytes, pos: int = 0):
    """Yield (argv, end offset) for each RESP command; raises AOFError(kind, offset)
    with kind "truncated" (the data ends inside a command) or "bad"."""
    n = len(data)
    while pos < n:
        start = pos
        b = data[pos]
        if b == 35:                       # '#': an annotation line (timestamps)
            e = data.find(b"\r\n", pos)
            if e < 0:
                raise AOFError("truncated", start)
            pos = e + 2
            continue
        if b != 42:                       # '*'
            raise AOFError("bad", start)
        e = data.find(b"\r\n", pos)
        if e < 0:
            raise AOFError("truncated", start)
        try:
            argc = int(data[pos + 1:e])
        except ValueError:
            raise AOFError("bad", start) from None
        if argc < 1:
            raise AOFError("bad", start)
        pos = e + 2
        argv = []
        for _ in range(argc):
            if pos >= n:
                raise AOFError("truncated", start)
            if data[pos] != 36:           # '$'
                raise AOFError("bad", start)
            e = data.find(b"\r\n", pos)
            if e < 0:
                raise AOFError("truncated", start)
            try:
                ln = int(data[pos + 1:e])
            except ValueError:
                raise AOFError("bad", start) from None
            pos = e + 2
            if pos + ln + 2 > n:
                raise AOFError("truncated", start)
            if data[pos + ln:pos + ln + 2] != b"\r\n":
                raise AOFError("bad", start)
            argv.append(data[pos:pos + ln])
            pos += ln + 2
        yield argv, pos


def rewrite_resp(f, dbs, tenants=()) -> None:
    """A RESP base: commands that rebuild the dataset (streams through RESTORE);
    then, per other tenant, `TENANT CREATE <name> <options>`, `TENANT USE <name>`
    and its databases."""
    out = bytearray()
    _rewrite_dbs(f, out, dbs)
    for name, words, tdbs in tenants:
        encode_argv(out, [b"TENANT", b"CREATE", name] + list(words))
        encode_argv(out, [b"TENANT", b"USE", name])
        _rewrite_dbs(f, out, tdbs)
    f.write(bytes(out))


def _rewrite_dbs(f, out: bytearray, dbs) -> None:
    from securekv.engine.hashtype import HashValue
    from securekv.engine.listtype import ListValue
    from securekv.engine.settype import SetValue
    from securekv.engine.zsettype import ZSetValue
    for dbid, db in enumerate(dbs):
        if not db.data:
            continue
        encode_argv(out, [b"SELECT", b"%d" % dbid])
        for key, v in db.data.items():
            t = type(v)
            if t is bytes or t is bytearray:
                encode_argv(out, [b"SET", key, bytes(v)])
            elif t is ListValue:
                items = list(v)
                for i in range(0, len(items), 64):
                    encode_argv(out, [b"RPUSH", key] + items[i:i + 64])
            elif t is HashValue:
                items = [x for kv in v.items() for x in kv]
                for i in range(0, len(items), 128):
                    encode_argv(out, [b"HSET", key] + items[i:i + 128])
            elif t is SetValue:
                items = list(v)
                for i in range(0, len(items), 64):
                    encode_argv(out, [b"SADD", key] + items[i:i + 64])
            elif t is ZSetValue:
                items = []
                for score, m in v.sl:
                    items += [rdb.d2string(score), m]
                for i in range(0, len(items), 128):
                    encode_argv(out, [b"ZADD", key] + items[i:i + 128])
            else:
                encode_argv(out, [b"RESTORE", key, b"0", rdb.dump_payload(v)])
            when = db.expires.get(key)
            if when is not None:
                encode_argv(out, [b"PEXPIREAT", key, b"%d" % when])
            if len(out) > 1 << 20:
                f.write(bytes(out))
                out.clear()


MANIFEST_MAX_LINE = 1024


class ManifestError(AOFError):
    """A manifest Redis 7.0 would refuse (aofLoadManifestFromFile): `line` is the
    offending line (None when the file itself is wrong) and `lineno` its number."""

    def __init__(self, msg: str, lineno: int = 0, line: str | None = None) -> None:
        super().__init__(msg if line is None else f"{msg} at line {lineno}")
        self.msg = msg
        self.lineno = lineno
        self.line = line


def parse_manifest(data: bytes):
    """(base (name, seq) | None, [incr (name, seq)], [history (name, seq)]) from
    a manifest's bytes, as strictly as Redis 7.0 reads one: raises ManifestError
    for an empty file, a line over 1024 bytes or without its newline, a blank
    line, fewer than three key/value pairs, a path for a name, a missing file,
    seq (>0) or type, a second base, INCR sequence numbers that do not increase,
    or an unknown type. `#` lines are comments; names may be quoted."""
    if not data:
        raise ManifestError("Found an empty AOF manifest")
    base, incr, hist = None, [], []
    maxseq = 0
    pos = 0
    lineno = 0
    while pos < len(data):
        nl = data.find(b"\n", pos, pos + MANIFEST_MAX_LINE)
        raw = data[pos:pos + MANIFEST_MAX_LINE] if nl < 0 else data[pos:nl + 1]
        pos += len(raw)
        lineno += 1
        if raw[:1] == b"#":
            continue
        line = raw.strip(b" \t\r\n")
        if nl < 0:
            raise ManifestError("The AOF manifest file contains too long line")
        if not line:
            raise ManifestError("Invalid AOF manifest file format", lineno, "")
        shown = line.decode("utf-8", "surrogateescape")
        argv = split_args(line)
        if argv is None or len(argv) < 6 or len(argv) % 2:
            raise ManifestError("Invalid AOF manifest file format", lineno, shown)
        name = seq = typ = None
        for k, v in zip(argv[0::2], argv[1::2]):
            k = k.lower()
            if k == b"file":
                name = v.decode("utf-8", "surrogateescape")
                if "/" in name:
                    raise ManifestError("File can't be a path, just a filename", lineno, shown)
            elif k == b"seq":
                m = re.match(rb"\s*[-+]?\d+", v)       # atoll
                seq = int(m.group()) if m else 0
            elif k == b"type":
                typ = v[:1]
        if not name or not seq or not typ:
            raise ManifestError("Invalid AOF manifest file format", lineno, shown)
        if typ == b"b":
            if base is not None:
                raise ManifestError("Found duplicate base file information", lineno, shown)
            base = (name, seq)
        elif typ == b"h":
            hist.append((name, seq))
        elif typ == b"i":
            if seq <= maxseq:
                raise ManifestError("Found a non-monotonic sequence number", lineno, shown)
            incr.append((name, seq))
            maxseq = seq
        else:
            raise ManifestError("Unknown AOF file type", lineno, shown)
    return base, incr, hist


def _manifest_name(name: str) -> str:
    """aofInfoFormat: a name that needs it is written quoted (sdscatrepr)."""
    if any(not ch.isprintable() or ch.isspace() or ch in '\\"' for ch in name):
        return repr_str(name)
    return name


class AOF:
    def __init__(self, server, snap) -> None:
        self.server = server
        self.snap = snap
        self.on = False
        self.fd = -1
        self.buf = bytearray()
        self.always = server.config["appendfsync"] == "always"   # server.apply_appendfsync
        self.unsynced = False            # written since the last fsync (always)
        self.held: dict = {}             # client id -> client whose output waits for the fsync
        self.tick_pending = False
        self.fsyncs = 0
        self.bio_fsync = False           # the everysec thread is in fsync
        self.rewrite_failures = 0
        self.cur_ts = 0                  # the last #TS: annotation written
        self.timestamps = False          # aof-timestamp-enabled (server.apply_aof_timestamp_enabled)
        self.cur_db = -1
        self.cur_ks = server.keyspace    # the tenant the stream is in (TENANT USE)
        self.base = None                 # (name, seq, 'b')
        self.incr: list = []             # [(name, seq)]
        self.history: list = []
        self.last_write_err = None       # errno text while writes fail
        self.fsync_pending = False
        self.last_fsync = time.monotonic()
        self.lock = threading.Lock()
        self.thread = None
        self.stop_event = threading.Event()
        self.rewrite_scheduled = False
        self.rewrite_ok = True
        self.rewrites = 0
        self.rewrite_start = 0.0
        self.last_rewrite_time = -1
        self.keep_from = 0
        self.size = 0
        self.base_size = 0
        self.loading = False
        self.temp_path = None

    # -- paths and the manifest ---------------------------------------------------------

    def dir(self) -> str:
        cfg = self.server.config
        return os.path.join(cfg["dir"], cfg["appenddirname"])

    def fname(self) -> str:
        return self.server.config["appendfilename"]

    def manifest_path(self) -> str:
        return os.path.join(self.dir(), self.fname() + MANIFEST_SUFFIX)

    def read_manifest(self) -> bool:
        path = self.manifest_path()
        if not os.path.exists(path):
            return False
        with open(path, "rb") as f:
            self.base, self.incr, self.history = parse_manifest(f.read())
        return True

    def write_manifest(self) -> None:
        lines = []
        if self.base is not None:
            lines.append("file %s seq %d type b\n" % (_manifest_name(self.base[0]), self.base[1]))
        for name, seq in self.history:
            lines.append("file %s seq %d type h\n" % (_manifest_name(name), seq))
        for name, seq in self.incr:
            lines.append("file %s seq %d type i\n" % (_manifest_name(name), seq))
        d = self.dir()
        tmp = os.path.join(d, "temp-" + self.fname() + MANIFEST_SUFFIX)
        with open(tmp, "w") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.manifest_path())
        rdb.fsync_dir(d)

    def _delete_history(self) -> None:
        d = self.dir()
        for name, _seq in self.history:
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass
        self.history = []

    # -- the propagation seam ------------------------------------------------------------

    def feed(self, c, dbid: int, items, ks=None) -> None:
        if self.loading:
            return
        buf = self.buf
        if self.timestamps:
            now = self.server.unixtime     # genAofTimestampAnnotationIfNeeded
            if now > self.cur_ts:
                buf += b"#TS:%d\r\n" % now
                self.cur_ts = now
        if ks is not self.cur_ks and ks is not None:
            t = getattr(ks, "tenant", None)
            encode_argv(buf, [b"TENANT", b"USE", t.name if t is not None else b"default"])
            self.cur_ks = ks
            self.cur_db = -1            # the SELECT that follows is inside that tenant
        if dbid != self.cur_db:
            encode_argv(buf, [b"SELECT", b"%d" % dbid])
            self.cur_db = dbid
        for argv in items:
            encode_argv(buf, argv)

    def before_reply(self, c=None) -> bool:
        """Run by Client.flush before a reply leaves (c) and by the cron (None).

        The first flush of an event-loop iteration that finds writes not yet in
        the file (or, under always, not yet fsynced) holds its client's output
        and schedules one `_tick`; every client flushing in that iteration is
        held too (a read could show an unsynced write). The tick writes once (and
        under always fsyncs once), then flushes the held clients: one write and
        one fsync per iteration, shared by all its clients, and no reply leaves
        before what it acknowledges is in the file (always: on disk), as Redis's
        beforeSleep. everysec's fsync is the background thread's. Returns True
        when c is held."""
        if not self.buf and not self.unsynced:
            return False
        loop = self.server.loop
        if c is None or loop is None:
            self.sync_now()
            return False
        self.held[c.id] = c
        if not self.tick_pending:
            self.tick_pending = True
            loop.call_soon(self._tick)
        return True

    def _tick(self) -> None:
        self.tick_pending = False
        self.sync_now()
        held = self.held
        self.held = {}
        for c in held.values():
            c.flush()

    def sync_now(self) -> None:
        """Write the buffer and, under `always`, fsync. Under always a failed
        write or fsync ends the process, as Redis: a reply must never leave for a
        write that is not on disk."""
        self.write_buffer()
        if not self.always:
            self.unsynced = False           # fsync is the everysec thread's (fsync_pending)
            return
        if self.last_write_err is not None and self.fd >= 0:
            self.server.log_warning("Can't recover from AOF write error when the AOF fsync "
                                    "policy is 'always'. Exiting...")
            os._exit(1)
        if not self.unsynced or self.fd < 0:
            return
        try:
            os.fsync(self.fd)
        except OSError as e:
            self.server.log_warning(f"Can't persist AOF for fsync error when the AOF fsync "
                                    f"policy is 'always': {e.strerror}. Exiting...")
            os._exit(1)
        self.unsynced = False
        self.fsyncs += 1

    def write_buffer(self) -> None:
        data = self.buf
        if not data or self.fd < 0:
            return
        try:
            mv = memoryview(data)
            n = 0
            while n < len(mv):
                n += os.write(self.fd, mv[n:])
            mv.release()
            self.size += len(data)
            data.clear()
            self.fsync_pending = True
            self.unsynced = self.always
            if self.last_write_err is not None:
                self.last_write_err = None
                self.server.log_warning("AOF write error looks solved, Redis can write again.")
                self.snap.update_write_gate()
        except OSError as e:
            try:
                mv.release()
            except Exception:
                pass
            if self.last_write_err is None:
                self.server.log_warning(f"Error writing to the AOF file: {e.strerror}")
            self.last_write_err = e.strerror
            self.snap.update_write_gate()

    def write_error(self):
        return self.last_write_err

    def _fsync_loop(self) -> None:
        """everysec: fsync in this thread once a second when something was written
        (Redis's bio fsync job). The lock keeps the fd from being swapped/closed
        (_open_incr, stop) under an fsync."""
        while not self.stop_event.wait(1.0):
            if not self.fsync_pending or self.server.config["appendfsync"] != "everysec":
                continue
            with self.lock:
                fd = self.fd
                if fd < 0:
                    continue
                self.fsync_pending = False
                self.bio_fsync = True
                try:
                    os.fsync(fd)
                    self.fsyncs += 1
                except OSError:
                    pass
                self.bio_fsync = False

    # -- files --------------------------------------------------------------------------------

    def _open_incr(self, seq: int) -> None:
        name = "%s.%d.incr.aof" % (self.fname(), seq)
        fd = os.open(os.path.join(self.dir(), name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        with self.lock:
            if self.fd >= 0:
                try:
                    os.fsync(self.fd)
                finally:
                    os.close(self.fd)
            self.fd = fd
            self.unsynced = False
        self.cur_db = -1
        self.cur_ks = self.server.keyspace     # each file starts in `default`
        self.incr.append((name, seq))

    def _next_incr_seq(self) -> int:
        return max([s for _n, s in self.incr] + [0]) + 1

    def _write_base(self, path: str, dbs, tenants=()) -> None:
        cfg = self.server.config
        with open(path, "wb", buffering=1 << 20) as f:
            if cfg["aof-use-rdb-preamble"]:
                rdb.write_rdb(f, dbs, compress=cfg["rdbcompression"], checksum=cfg["rdbchecksum"],
                              aof_base=True, functions=list(self.snap.functions),
                              tenants=tenants)
            else:
                if cfg.values.get("aof-timestamp-enabled"):
                    f.write(b"#TS:%d\r\n" % int(time.time()))
                rewrite_resp(f, dbs, tenants)
            f.flush()
            os.fsync(f.fileno())

    def _base_name(self, seq: int) -> str:
        ext = "rdb" if self.server.config["aof-use-rdb-preamble"] else "aof"
        return "%s.%d.base.%s" % (self.fname(), seq, ext)

    # -- start / stop ---------------------------------------------------------------------------

    def _subscribe(self) -> None:
        server = self.server
        if self.feed not in server.propagation_subscribers:
            server.propagation_subscribers.append(self.feed)
        server.before_reply = self.before_reply
        if self.thread is None:
            self.stop_event.clear()
            self.thread = threading.Thread(target=self._fsync_loop, name="aof-fsync", daemon=True)
            self.thread.start()
        self.on = True

    def start_fresh(self) -> None:
        """No AOF yet (startup, or CONFIG SET appendonly yes): BASE of the current
        dataset, a first INCR, the manifest; synchronous."""
        d = self.dir()
        os.makedirs(d, exist_ok=True)
        self.read_manifest()
        bseq = (self.base[1] if self.base else 0) + 1
        name = self._base_name(bseq)
        self._write_base(os.path.join(d, name), self.server.keyspace.dbs,
                         tenant_sections(self.server))
        old = ([self.base] if self.base else []) + list(self.incr)
        iseq = self._next_incr_seq()
        self.history = [x for x in old if x[0] != name]
        self.base = (name, bseq)
        self.incr = []
        self._open_incr(iseq)
        self.write_manifest()
        if self.history:
            self._delete_history()
            self.write_manifest()
        self._subscribe()

    def stop(self) -> None:
        """CONFIG SET appendonly no / shutdown: flush, fsync, close."""
        if not self.on:
            return
        if self.snap.child_kind == "aof":
            self.snap.kill_child()
        self.write_buffer()
        server = self.server
        if self.feed in server.propagation_subscribers:
            server.propagation_subscribers.remove(self.feed)
        if getattr(server, "before_reply", None) == self.before_reply:
            server.before_reply = None
        with self.lock:
            if self.fd >= 0:
                try:
                    os.fsync(self.fd)
                except OSError:
                    pass
                os.close(self.fd)
                self.fd = -1
            self.unsynced = False
        self.stop_event.set()
        self._tick()                    # release clients held for an fsync
        self.thread = None
        self.on = False
        self.buf.clear()

    # -- rewrite ------------------------------------------------------------------------------

    def rewrite_background(self) -> bool:
        snap = self.snap
        if snap.child_active():
            return False
        d = self.dir()
        os.makedirs(d, exist_ok=True)
        if self.on:
            self.write_buffer()
            try:
                os.fsync(self.fd)
            except OSError:
                pass
            self._open_incr(self._next_incr_seq())
            self.keep_from = len(self.incr) - 1
            self.write_manifest()
        else:
            # AOF off: Redis 7.0 still writes a new BASE and the manifest (with no
            # INCR: the old ones become history), which DEBUG LOADAOF and a later
            # start with appendonly yes load.
            self.read_manifest()
            self.keep_from = len(self.incr)
        tmp = os.path.join(d, "temp-rewriteaof-bg-%d.aof" % os.getpid())
        dbs = self.server.keyspace.dbs
        tenants = tenant_sections(self.server)
        self.temp_path = tmp
        try:
            pid = fork_child(lambda: self._write_base(tmp, dbs, tenants) or True)
        except OSError as e:
            self.server.log_warning(f"Can't rewrite append only file in background: fork: "
                                    f"{e.strerror}")
            self.rewrite_ok = False
            return False
        self.rewrite_start = time.time()
        snap.start_child(pid, "aof", self._rewrite_done)
        self.server.log_notice(f"Background append only file rewriting started by pid {pid}")
        return True

    def _rewrite_done(self, ok: bool, by_signal: bool) -> None:
        server = self.server
        tmp = self.temp_path
        self.last_rewrite_time = int(time.time() - self.rewrite_start)
        if not ok:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            self.rewrite_ok = False
            self.rewrite_failures += 1
            server.log_warning("Background AOF rewrite terminated with error"
                               if not by_signal else
                               "Background AOF rewrite terminated by signal")
            return
        bseq = (self.base[1] if self.base else 0) + 1
        name = self._base_name(bseq)
        os.replace(tmp, os.path.join(self.dir(), name))
        self.history = ([self.base] if self.base else []) + self.incr[:self.keep_from]
        self.incr = self.incr[self.keep_from:]
        self.base = (name, bseq)
        self.write_manifest()
        if self.history:
            self._delete_history()
            self.write_manifest()
        self.base_size = os.path.getsize(os.path.join(self.dir(), name))
        # aof_current_size: the new BASE and the INCR files written since the switch
        self.size = self.base_size + sum(os.path.getsize(os.path.join(self.dir(), n))
                                         for n, _s in self.incr)
        self.rewrite_ok = True
        self.rewrite_failures = 0
        self.rewrites += 1
        server.log_notice("Background AOF rewrite finished successfully")

    def cron(self) -> None:
        if self.on:
            self.before_reply(None)
        if self.rewrite_scheduled and not self.snap.child_active():
            if self.rewrite_background():
                self.rewrite_scheduled = False
        cfg = self.server.config
        pct = cfg.values.get("auto-aof-rewrite-percentage", 0)
        if (self.on and pct and not self.snap.child_active()
                and self.size >= cfg.values.get("auto-aof-rewrite-min-size", 64 << 20)):
            base = self.base_size or 1
            if (self.size - self.base_size) * 100 // base >= pct:
                self.server.log_notice("Starting automatic rewriting of AOF on %d%% growth"
                                       % ((self.size - self.base_size) * 100 // base))
                self.rewrite_background()

    # -- loading ---------------------------------------------------------------------------------

    def load_at_startup(self) -> None:
        server = self.server
        try:
            exists = self.read_manifest()
        except ManifestError as e:
            # aofLoadManifestFromFile's report, line for line.
            server.log_warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
            if e.line is not None:
                server.log_warning(f"Reading the manifest file, at line {e.lineno}\n")
                server.log_warning(f">>> '{e.line}'\n")
            server.log_warning(f"{e.msg}\n")
            raise SystemExit(1)
        except AOFError as e:
            server.log_warning(f"Fatal error: {e}")
            raise SystemExit(1)
        exists = self.upgrade_old_style(exists)
        if not exists:
            self.start_fresh()
            return
        t0 = time.time()
        try:
            self.load_files()
        except (AOFError, rdb.RDBError, OSError) as e:
            server.log_warning(f"Fatal error loading the AOF: {e}. Exiting.")
            raise SystemExit(1)
        server.dirty = 0
        server.log_notice("DB loaded from append only file: %.3f seconds" % (time.time() - t0))
        # Continue appending to the last INCR file.
        d = self.dir()
        if not self.incr:
            self._open_incr(1)
            self.write_manifest()
        else:
            name, seq = self.incr.pop()
            self._open_incr(seq)
        self.size = sum(os.path.getsize(os.path.join(d, n)) for n, _s in
                        ([self.base] if self.base else []) + self.incr)
        self.base_size = os.path.getsize(os.path.join(d, self.base[0])) if self.base else 0
        self._subscribe()

    def upgrade_old_style(self, exists: bool) -> bool:
        """loadAppendOnlyFiles' upgrade from Redis <= 6.2: an `appendfilename` file in
        the server dir, with no AOF dir, no manifest, an empty one, or one naming
        only that file as a base not yet moved, becomes the BASE (seq 1) of a new
        manifest and moves into the AOF dir (aofUpgradePrepare). Returns whether
        there is now a manifest to load."""
        cfg = self.server.config
        old = os.path.join(cfg["dir"], self.fname())
        if not os.path.isfile(old):
            return exists
        d = self.dir()
        fname = self.fname()
        if not (not os.path.isdir(d) or not exists or (self.base is None and not self.incr)
                or (self.base is not None and not self.incr and self.base[0] == fname
                    and not os.path.exists(os.path.join(d, fname)))):
            return exists
        os.makedirs(d, exist_ok=True)
        self.base = (fname, 1)
        self.incr = []
        self.write_manifest()
        os.rename(old, os.path.join(d, fname))
        rdb.fsync_dir(d)
        self.server.log_notice(f"Successfully migrated an old-style AOF file ({fname}) into the "
                               f"AOF directory ({cfg['appenddirname']}).")
        return True

    def load_files(self) -> None:
        from securekv.net.connection import Client
        server = self.server
        d = self.dir()
        for name, _seq in ([self.base] if self.base else []) + list(self.incr):
            try:
                os.stat(os.path.join(d, name))
            except OSError as e:            # getAppendOnlyFileSize's report
                server.log_warning(f"Unable to obtain the AOF file {name} length. stat: "
                                   f"{e.strerror}")
                raise AOFError(f"missing AOF file {name}") from None
        c = Client(server)
        c.authenticated = True
        c.must_obey = True
        c.name = b"aof-loader"
        files = ([self.base] if self.base else []) + list(self.incr)
        self.loading = True
        server.aof_loading = True
        # Like Redis's loading: no quota, eviction or rate limit while replaying.
        # Tenant settings found in the files wait in `tenant_settings_pending`
        # (snapshot.ensure_tenant) and apply once everything is loaded.
        reg = getattr(server, "tenants", None)
        saved = {}
        if reg is not None:
            for t in reg.tenants.values():
                saved[t.name] = (t.maxmemory, t.maxkeys, t.maxops)
                t.maxmemory = t.maxkeys = t.maxops = 0
            server.tenant_settings_pending = {}
            server.oom_check = None
        try:
            for i, (name, _seq) in enumerate(files):
                path = os.path.join(d, name)
                data = rdb.read_file(path)
                last = i == len(files) - 1
                pos = 0
                if data[:5] == b"REDIS":
                    res = rdb.load_rdb(data, rdb.Limits(server.config),
                                       check_crc=server.config["rdbchecksum"])
                    self.snap.install(res, flush=True)
                    pos = res.end
                    server.log_notice(f"Loading RDB produced by version "
                                      f"{res.aux.get(b'redis-ver', b'?').decode()}")
                self._replay(c, data, pos, path, last)
                self._use_tenant(c, b"default")     # each file starts in `default`
                c.db = c.keyspace.dbs[0]
        finally:
            self.loading = False
            server.aof_loading = False
            self._use_tenant(c, b"default")
            if reg is not None:
                self._apply_tenant_settings(saved)

    def _apply_tenant_settings(self, saved: dict) -> None:
        from securekv.commands.tenant import refresh
        server = self.server
        pending = server.__dict__.pop("tenant_settings_pending", {})
        for name, (mm, mk, mo) in saved.items():
            t = server.tenants.get(name)
            if t is not None:
                t.maxmemory, t.maxkeys, t.maxops = mm, mk, mo
        for name, words in pending.items():
            if server.tenants.get(name) is not None:
                ensure_tenant(server, name, words)
        refresh(server)

    def _use_tenant(self, c, name: bytes) -> None:
        from securekv.tenancy.registry import switch
        reg = getattr(self.server, "tenants", None)
        if reg is None:
            return
        t = reg.get(name) or ensure_tenant(self.server, name)
        t.clients.pop(c.id, None)
        switch(c, t)
        t.clients.pop(c.id, None)          # the loader is not one of its clients

    def _replay_tenant(self, c, argv) -> None:
        """TENANT lines of the stream: USE switches the loader (creating the
        tenant when missing), CREATE/SET apply settings (not over a `tenant`
        directive: snapshot.ensure_tenant), DROP removes the tenant's data (and
        the tenant, unless the config declares it). Not audited: a replay."""
        from securekv.persistence.snapshot import config_tenants
        sub = argv[1].lower() if len(argv) > 1 else b""
        if len(argv) < 3:
            return
        name = bytes(argv[2])
        if sub == b"use":
            self._use_tenant(c, name)
        elif sub in (b"create", b"set"):
            if sub == b"create":
                getattr(self.server, "tenant_settings_pending", {}).pop(name, None)
            ensure_tenant(self.server, name, argv[3:])
        elif sub == b"drop":
            reg = self.server.tenants
            t = reg.get(name)
            if t is None or t.is_default:
                return
            if c.keyspace is t.keyspace:
                self._use_tenant(c, b"default")
            for db in t.keyspace.dbs:
                db.flush()
            getattr(self.server, "tenant_settings_pending", {}).pop(name, None)
            if name not in config_tenants(self.server):
                reg.drop(t)

    def _replay(self, c, data: bytes, pos: int, path: str, last: bool) -> None:
        from securekv.commands.table import COMMANDS
        server = self.server
        execute = server.execute
        good = pos
        try:
            for argv, end in parse_commands(data, pos):
                if len(argv[0]) == 6 and argv[0].lower() == b"tenant":
                    self._replay_tenant(c, argv)
                else:
                    cmd = COMMANDS.get(argv[0].lower())
                    if cmd is not None and cmd.subcommands is not None and len(argv) > 1:
                        cmd = cmd.subcommands.get(argv[1].lower())
                    if cmd is None:
                        # loadSingleAppendOnlyFile: refuse the file rather than skip a write
                        raise AOFError(
                            "Unknown command '%s' reading the append only file %s"
                            % (argv[0].decode("utf-8", "replace"), os.path.basename(path)))
                    execute(c, argv)
                    c.out.clear()
                good = end
        except AOFError as e:
            if len(e.args) != 2:            # not a parse error (kind, offset): as it is
                raise
            kind = e.args[0]
            if kind == "truncated" and last and server.config["aof-load-truncated"]:
                server.log_warning(f"!!! Warning: short read while loading the AOF file "
                                   f"{os.path.basename(path)}!!!")
                server.log_warning(f"AOF {os.path.basename(path)} loaded anyway because "
                                   f"aof-load-truncated is enabled; truncating it at offset "
                                   f"{good}")
                with open(path, "r+b") as f:
                    f.truncate(good)
                    os.fsync(f.fileno())
                return
            if kind == "truncated":
                raise AOFError(f"Unexpected end of file reading the append only file "
                               f"{os.path.basename(path)} at offset {good}. You can: 1) Make a "
                               f"backup of your AOF file, then use ./redis-check-aof --fix "
                               f"<filename.manifest>. 2) Alternatively you can set the "
                               f"'aof-load-truncated' configuration option to yes and restart "
                               f"the server.") from None
            raise AOFError(f"Bad file format reading the append only file "
                           f"{os.path.basename(path)} at offset {e.args[1]}: make a backup of "
                           f"your AOF file, then use ./redis-check-aof --fix "
                           f"<filename.manifest>") from None
        if c.multi is not None:
            if last and server.config["aof-load-truncated"]:
                server.log_warning("Revert incomplete MULTI/EXEC transaction in AOF file")
                c.multi = None
                return
            raise AOFError(f"Unexpected end of file reading the append only file "
                           f"{os.path.basename(path)}: an unfinished MULTI at the end")

    # -- INFO ---------------------------------------------------------------------------------

    def info(self, server, c) -> dict:
        active = self.snap.child_kind == "aof"
        out = {
            "aof_enabled": int(self.on),
            "aof_rewrite_in_progress": int(active),
            "aof_rewrite_scheduled": int(self.rewrite_scheduled),
            "aof_last_rewrite_time_sec": self.last_rewrite_time,
            "aof_current_rewrite_time_sec": int(time.time() - self.rewrite_start) if active
            else -1,
            "aof_last_bgrewrite_status": "ok" if self.rewrite_ok else "err",
            "aof_rewrites": self.rewrites,
            "aof_rewrites_consecutive_failures": self.rewrite_failures,
            "aof_last_write_status": "ok" if self.last_write_err is None else "err",
        }
        if self.on:
            # Redis adds these after module_fork_last_cow_size while AOF is on.
            out.update({
                "aof_current_size": self.size,
                "aof_base_size": self.base_size,
                "aof_pending_rewrite": int(self.rewrite_scheduled),
                "aof_buffer_length": len(self.buf),
                "aof_pending_bio_fsync": int(self.bio_fsync),
                "aof_delayed_fsync": 0,
            })
        return out
