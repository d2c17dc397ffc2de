"""The audit file writer: one background thread that owns the file.

The event loop never touches the disk: it hands each loop tick's records (plain
dicts, `time` as epoch seconds) to `submit`, and this thread numbers them,
serialises them (record.py), extends the chain, appends them with one
os.write to a file opened O_APPEND|O_CREAT with mode 0600, and fsyncs them
(`always`: after every batch; `everysec`: at most one second later).

Rotation (by size before a batch, by age once a second) renames the file to
`<file>.<UTC stamp>-<last seq>` and starts a new one whose first record, the
header, names the previous file and its last chain value.

Failures (ENOSPC, EIO, the file or its directory removed): a batch that could
not be written is cut back off the file (ftruncate to the size before it) and
neither the sequence nor the chain advance. fail-closed keeps the records
(up to audit-max-pending-records) and retries once a second; fail-open drops and counts
them. On recovery an `audit.failure` record tells what happened (error,
since, records dropped). The server polls `failed` from its cron and gates
commands (see hooks.py).

The backlog (`backlog()`: records submitted but not yet written or dropped)
is bounded by the caller (Audit.flush, audit-max-pending-records).

A removed file is noticed within a second (its inode no longer at the path):
the writer starts a new file there, whose header names the missing one.
"""

from __future__ import annotations

import errno
import os
import queue
import threading
import time

from securekv.audit import record as R

MAX_PENDING = 100000        # default of audit-max-pending-records
TICK = 1.0                  # seconds between fsync/health/rotation checks


class Settings:
    __slots__ = ("path", "fsync_always", "rotate_size", "rotate_interval", "hkey",
                 "fail_closed", "server_info", "max_pending")

    def __init__(self, path, fsync_always=False, rotate_size=0, rotate_interval=0, hkey=None,
                 fail_closed=True, server_info=None, max_pending=MAX_PENDING):
        self.path = path
        self.fsync_always = fsync_always
        self.rotate_size = rotate_size
        self.rotate_interval = rotate_interval
        self.hkey = hkey
        self.fail_closed = fail_closed
        self.server_info = server_info or {}
        self.max_pending = max_pending


class Writer:
    def __init__(self, settings: Settings, log=None, on_change=None) -> None:
        self.s = settings
        self.log = log or (lambda msg: None)     # called from the thread: must be thread-safe
        self.on_change = on_change               # called from the thread when `failed` flips
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        # file state (thread-owned)
        self.fd = -1
        self.ino = None
        self.size = 0
        self.base_size = 0         # the size when opened (after a new file's header)
        self.opened_at = 0.0
        self.dirty = False
        self.last_fsync = 0.0
        self.prev_file = None      # the file before the current one (for headers)
        # chain state (thread-owned; read by INFO)
        self.seq = 0
        self.chain = R.ZERO_CHAIN
        self.adopted = False       # state taken from an existing file or written by us
        self.head = (0, R.ZERO_CHAIN)   # (seq, chain) of the last record written, one object
        self.pending: list = []
        self.submitted = 0         # records handed to submit (loop-owned)
        self.taken = 0             # of those, written or kept/dropped (thread-owned)
        # counters (read by the loop)
        self.records = 0
        self.bytes = 0
        self.dropped = 0
        self.write_errors = 0
        self.rotations = 0
        self.failed = False
        self.failed_since = 0.0
        self.last_error = ""
        self.file = ""
        self.closed = False

    # -- loop side --------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self.thread.start()

    def submit(self, batch: list) -> None:
        self.submitted += len(batch)
        self.q.put(("batch", batch))

    def backlog(self) -> int:
        """Records submitted and not yet written (or dropped), plus those kept for a retry."""
        return self.submitted - self.taken + len(self.pending)

    def configure(self, settings: Settings) -> None:
        self.q.put(("settings", settings))

    def rotate(self, reason: str = "requested") -> None:
        self.q.put(("rotate", reason))

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is written and fsynced (tests, shutdown)."""
        ev = threading.Event()
        self.q.put(("sync", ev))
        return ev.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, fsync, close the file and end the thread."""
        if self.thread is None:
            return
        self.q.put(("close", None))
        self.thread.join(timeout)
        self.thread = None

    # -- thread -------------------------------------------------------------------------

    def _run(self) -> None:
        self._open(self.s.path, "start")
        next_tick = time.monotonic() + TICK
        while True:
            wait = max(0.0, next_tick - time.monotonic())
            try:
                item = self.q.get(timeout=wait)
            except queue.Empty:
                item = None
            batch = []
            waiters = []
            stop = False
            taken = 0
            while item is not None:
                kind, arg = item
                if kind == "batch":
                    batch.extend(arg)
                    taken += len(arg)
                elif kind == "sync":
                    waiters.append(arg)
                elif kind == "close":
                    stop = True
                else:
                    if batch:
                        self._write(batch)
                        batch = []
                    if kind == "settings":
                        self._settings(arg)
                    elif kind == "rotate":
                        self._rotate(arg)
                try:
                    item = self.q.get_nowait()
                except queue.Empty:
                    item = None
            if batch:
                self._write(batch)
            self.taken += taken
            now = time.monotonic()
            if now >= next_tick or stop or waiters:
                self._tick(stop or bool(waiters))
                if now >= next_tick:
                    next_tick = now + TICK
            for w in waiters:
                w.set()
            if stop:
                self._close_fd()
                self.closed = True
                return

    def _tick(self, force_sync: bool) -> None:
        if self.failed or self.fd < 0:
            self._write([])                       # retry: reopen, write what is pending
            return
        if self.dirty:
            self._fsync()
        if self.fd >= 0 and not self._same_file():
            self.log(f"audit file {self.s.path} was removed or replaced: starting a new one")
            self._close_fd()
            self._open(self.s.path, "file-missing", prev_missing=True)
            return
        ri = self.s.rotate_interval
        if ri and self.fd >= 0 and time.time() - self.opened_at >= ri \
                and self.size > self.base_size:         # never rotate a file of only a header
            self._rotate("interval")

    def _same_file(self) -> bool:
        try:
            st = os.stat(self.s.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self.ino

    def _settings(self, s: Settings) -> None:
        old = self.s
        self.s = s
        if s.path != old.path:
            if self.fd >= 0:
                self._fsync()
                self._close_fd()
            self.prev_file = os.path.basename(old.path)
            self._open(s.path, "file-changed")
        elif s.hkey != old.hkey:
            self._rotate("key-changed")

    # -- files --------------------------------------------------------------------------

    def _fail(self, what: str, e: OSError) -> None:
        msg = f"{what}: {e.strerror or e}"
        self.write_errors += 1
        if not self.failed:
            self.failed = True
            self.failed_since = time.time()
            if self.on_change is not None:
                self.on_change()
            self.log(f"audit log write failed ({msg}); "
                     + ("refusing audited commands until it recovers" if self.s.fail_closed
                        else "dropping records until it recovers"))
        self.last_error = msg

    def _keep(self, records: list) -> None:
        """Records that could not be written: kept for a retry (fail-closed) or dropped."""
        records = [r for r in records if r.get("event") not in ("audit.failure", R.HEADER_EVENT)]
        if not records:
            return
        if self.s.fail_closed:
            room = max(self.s.max_pending - len(self.pending), 0)
            self.pending.extend(records[:room])
            if room < len(records):
                self.dropped += len(records) - room
        else:
            self.dropped += len(records)

    def _close_fd(self) -> None:
        if self.fd >= 0:
            try:
                if self.dirty:
                    os.fsync(self.fd)
            except OSError:
                pass
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = -1
        self.dirty = False

    def _fsync(self) -> None:
        try:
            os.fsync(self.fd)
            self.dirty = False
            self.last_fsync = time.monotonic()
        except OSError as e:
            if e.errno == errno.EINVAL:     # a FIFO or device (a log shipper): nothing to sync
                self.dirty = False
                return
            self._fail("fsync", e)

    def _read_tail(self, path: str) -> tuple[bytes, bytes, int]:
        """(first line, last complete line, offset just past it) of an existing file."""
        with open(path, "rb") as f:
            first = f.readline(1 << 20).rstrip(b"\n")
            f.seek(0, os.SEEK_END)
            end = f.tell()
            pos = end
            chunk = 65536
            buf = b""
            while pos > 0:
                step = min(chunk, pos)
                pos -= step
                f.seek(pos)
                buf = f.read(step) + buf
                nl = buf.rfind(b"\n")
                if nl >= 0:
                    # the last complete line ends at nl; find its start
                    prev = buf.rfind(b"\n", 0, nl)
                    while prev < 0 and pos > 0:
                        step = min(chunk, pos)
                        pos -= step
                        f.seek(pos)
                        more = f.read(step)
                        buf = more + buf
                        nl += len(more)
                        prev = buf.rfind(b"\n", 0, nl)
                    return first, buf[prev + 1:nl], pos + nl + 1
            return first, b"", 0

    def _header_alg(self) -> str:
        return "hmac-sha256" if self.s.hkey else "sha256"

    def _open(self, path: str, reason: str, prev_missing: bool = False) -> bool:
        """Open (or create) the audit file and line its chain up with ours."""
        self.file = path
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = -1
        try:
            fd = os.open(path, flags, 0o600)
            st = os.fstat(fd)
            if st.st_size > 0:
                first, last, end = self._read_tail(path)
                if end < st.st_size:
                    # a record cut short by a crash or a full disk: never acknowledged
                    self.log(f"audit file {path}: removing {st.st_size - end} bytes of an "
                             "incomplete last record")
                    os.ftruncate(fd, end)
                hdr = R.parse(first) or {}
                alg = (hdr.get("details") or {}).get("alg")
                rec = R.parse(last) if last else None
                parts = R.split_line(last) if last else None
                ours = (rec is not None and parts is not None and isinstance(rec.get("seq"), int)
                        and hdr.get("event") == R.HEADER_EVENT)
                if ours and not self.adopted:
                    self.seq, self.chain = rec["seq"], parts[1]
                    self.head = (self.seq, self.chain)
                    self.adopted = True
                same = ours and rec["seq"] == self.seq and parts[1] == self.chain
                if not (same and alg == self._header_alg()):
                    os.close(fd)
                    fd = -1
                    if same:        # our log, another algorithm: rotate it like any file
                        aside = self._aside_name(path, self.seq)
                        self.prev_file = os.path.basename(aside)
                        self.rotations += 1
                    else:           # not this log's chain: keep it, start a new file
                        aside = self._aside_name(path, "preexisting")
                        self.log(f"audit file {path} does not continue this log's chain: "
                                 f"moved to {aside}")
                    os.rename(path, aside)
                    fd = os.open(path, flags, 0o600)
                st = os.fstat(fd)
            self.fd = fd
            self.ino = (st.st_dev, st.st_ino)
            self.size = st.st_size
            self.opened_at = time.time()
            self.adopted = True
            if self.size == 0:
                prev = self.prev_file
                if prev is None and prev_missing:
                    prev = os.path.basename(path)
                if self._append([self._header(prev, reason)], header=True) < 0:
                    return False
                self.prev_file = None
            self.base_size = self.size
            return True
        except OSError as e:
            if fd >= 0 and self.fd != fd:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.fd = -1
            self._fail(f"open {path}", e)
            return False

    def _aside_name(self, path: str, tag) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = f"{path}.{stamp}-{tag}"
        n = 1
        while os.path.exists(name):
            n += 1
            name = f"{path}.{stamp}-{tag}.{n}"
        return name

    def _header(self, prev_file, reason: str) -> dict:
        return {"event": R.HEADER_EVENT, "outcome": "success", "time": time.time(),
                "details": {"format": R.FORMAT_VERSION, "alg": self._header_alg(),
                            "prev_file": prev_file, "prev_chain": self.chain.hex(),
                            "reason": reason, **self.s.server_info}}

    def _rotate(self, reason: str) -> None:
        if self.fd < 0:
            return
        path = self.s.path
        self._fsync()
        aside = self._aside_name(path, self.seq)
        try:
            os.rename(path, aside)
        except OSError as e:
            self._fail(f"rotate {path}", e)
            return
        self._close_fd()
        self.rotations += 1
        self.prev_file = os.path.basename(aside)
        self._open(path, "rotate-" + reason)

    def _write(self, records: list) -> None:
        if self.pending:
            records = self.pending + records
            self.pending = []
        if self.fd >= 0 and not self._same_file():
            # removed or replaced under us: writes would go to an unlinked file
            self.log(f"audit file {self.s.path} was removed or replaced: starting a new one")
            self._close_fd()
            self.ino = None
        if self.fd < 0 and not self._open(self.s.path, "recovered" if self.failed else "reopened",
                                          prev_missing=self.failed or self.ino is None):
            self._keep(records)
            return
        if self.failed:
            outage = {"event": "audit.failure", "outcome": "failure", "time": time.time(),
                      "reason": self.last_error,
                      "details": {"since": R.rfc3339(self.failed_since),
                                  "dropped_total": self.dropped,
                                  "policy": "fail-closed" if self.s.fail_closed else "fail-open"}}
            records = [outage] + records
        if not records:
            return
        rs = self.s.rotate_size
        ok = True
        while records:
            if rs and self.size >= rs:
                self._rotate("size")
                if self.fd < 0:
                    self._keep(records)
                    return
            n = self._append(records, limit=rs - self.size if rs else 0)
            if n < 0:
                ok = False
                break
            records = records[n:]
        if ok and self.failed:
            self.failed = False
            self.log("audit log writing recovered")
            if self.on_change is not None:
                self.on_change()

    def _append(self, records: list, header: bool = False, limit: int = 0) -> int:
        """Write records (as many as fit in `limit` bytes, at least one, when limit > 0):
        the number written, or -1 when writing failed (all of `records` kept/dropped)."""
        seq, chain, hkey = self.seq, self.chain, self.s.hkey
        lines = []
        total = 0
        for ev in records:
            seq += 1
            rec = dict(ev)
            rec["seq"] = seq
            t = rec.get("time")
            if type(t) is float or type(t) is int:
                rec["time"] = R.rfc3339(t)
            body = R.canonical(rec)
            chain = R.next_chain(chain, body, hkey)
            line = R.line_for(body, chain)
            lines.append(line)
            total += len(line)
            if limit > 0 and total >= limit:
                break
        data = b"".join(lines)
        before = self.size
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except OSError as e:
            try:
                os.ftruncate(self.fd, before)
            except OSError:
                pass
            self._close_fd()
            self._fail("write", e)
            self._keep(records)
            return -1
        self.size += len(data)
        self.seq, self.chain = seq, chain
        self.head = (seq, chain)
        self.records += len(lines)
        self.bytes += len(data)
        self.dirty = True
        if self.s.fsync_always or header:
            self._fsync()
        return len(lines)
