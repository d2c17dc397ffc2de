"""`securekv audit verify`: check the chain of one or more audit files.

Files are put in chain order by their header's sequence number (rotated files
may be given in any order, e.g. `audit.jsonl*`). Each line is checked in order:

* it is a complete line ending with `,"chain":"<64 hex>"}` and parses;
* its `seq` is one more than the previous record's (a gap: records deleted;
  a smaller or equal one: records reordered or inserted);
* its chain value is H(previous chain || canonical bytes) (SHA-256, or
  HMAC-SHA-256 with the key for files whose header says so).

A file's header must name the previous file's last chain value and continue
its sequence: a file truncated at its tail no longer ends where the next
file's header says it did. The last file's tail is checked against the chain
head the running server reports (INFO audit: audit_last_seq and
audit_last_chain) given as `--head SEQ:VALUE`.

Streaming: one line at a time; memory does not grow with the file size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from securekv.audit import record as R


@dataclass
class Result:
    ok: bool = True
    problem: str = ""
    file: str = ""
    line: int = 0
    seq: int | None = None
    records: int = 0
    files: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_chain: str = ""
    notes: list = field(default_factory=list)

    def fail(self, path: str, line: int, seq, msg: str) -> "Result":
        self.ok = False
        self.file, self.line, self.seq = path, line, seq
        self.problem = msg
        return self


def _first_line(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.readline(1 << 20).rstrip(b"\n")


def order_files(paths: list[str]) -> tuple[list[tuple[str, dict | None]], list[str]]:
    """(path, header or None) in chain order (by the header's seq), and notes."""
    items = []
    notes = []
    for p in paths:
        try:
            hdr = R.parse(_first_line(p))
        except OSError as e:
            raise SystemExit(f"{p}: {e.strerror}") from None
        if hdr is None or hdr.get("event") != R.HEADER_EVENT or not isinstance(hdr.get("seq"), int):
            hdr = None
        items.append((p, hdr))
    items.sort(key=lambda it: (it[1]["seq"] if it[1] is not None else -1))
    return items, notes


def verify(paths: list[str], head: tuple[int, str] | None = None,
           key: bytes | None = None) -> Result:
    res = Result()
    items, res.notes = order_files(paths)
    prev_chain: bytes | None = None
    prev_seq: int | None = None
    prev_path = None
    last_line_chain = {}         # seq -> chain hex for --head checks of an earlier record
    for path, hdr in items:
        res.files += 1
        if hdr is None:
            return res.fail(path, 1, None, "the first line is not an audit file header "
                            "(audit.file-start): the file was truncated at its start, or it "
                            "is not an audit log")
        details = hdr.get("details") or {}
        alg = details.get("alg")
        if alg == "hmac-sha256" and not key:
            return res.fail(path, 1, hdr["seq"], "this file's chain is an HMAC: give the key "
                            "with --key-file")
        if alg not in ("sha256", "hmac-sha256"):
            return res.fail(path, 1, hdr["seq"], f"unknown chain algorithm {alg!r}")
        hkey = key if alg == "hmac-sha256" else None
        try:
            hdr_prev = bytes.fromhex(details.get("prev_chain", ""))
        except ValueError:
            hdr_prev = b""
        if len(hdr_prev) != 32:
            return res.fail(path, 1, hdr["seq"], "the header's prev_chain is malformed")
        if prev_chain is None:
            if hdr["seq"] == 1 and hdr_prev != R.ZERO_CHAIN:
                return res.fail(path, 1, 1, "the first file of the log must start from the "
                                "zero chain value")
            if hdr["seq"] != 1:
                res.notes.append(f"{path} starts at seq {hdr['seq']}: earlier files were not "
                                 f"given, the chain is checked from its header on")
            prev_chain, expected = hdr_prev, hdr["seq"]
        else:
            if hdr["seq"] != prev_seq + 1 or hdr_prev != prev_chain:
                if hdr["seq"] > prev_seq + 1:
                    why = (f"{prev_path} ends at seq {prev_seq} but {path} starts at seq "
                           f"{hdr['seq']}: records {prev_seq + 1}..{hdr['seq'] - 1} are "
                           f"missing (the end of {prev_path} was truncated, or a file is "
                           f"missing)")
                elif hdr["seq"] <= prev_seq:
                    why = (f"{path} starts at seq {hdr['seq']} but {prev_path} already ends "
                           f"at seq {prev_seq}: overlapping files (records inserted)")
                else:
                    why = (f"the header of {path} names a previous chain value that is not "
                           f"the last one of {prev_path}: {prev_path} was altered at its end")
                return res.fail(path, 1, hdr["seq"], why)
            expected = hdr["seq"]
        if res.first_seq is None:
            res.first_seq = expected
        r = _verify_file(path, prev_chain, expected, hkey, res, head, last_line_chain)
        if r is not None:
            return r
        prev_chain = bytes.fromhex(res.last_chain)
        prev_seq = res.last_seq
        prev_path = path
    if head is not None:
        hseq, hval = head
        if res.last_seq is None or res.last_seq < hseq:
            return res.fail(prev_path or "", 0, res.last_seq,
                            f"the log ends at seq {res.last_seq} but the server reported seq "
                            f"{hseq}: records at the end were removed (tail truncated)")
        got = last_line_chain.get(hseq)
        if got != hval.lower():
            return res.fail(prev_path or "", 0, hseq,
                            f"the chain value of seq {hseq} is {got} but the server reported "
                            f"{hval}: the log was rewritten")
    return res


def _verify_file(path, prev_chain, expected, hkey, res, head, seen) -> Result | None:
    lineno = 0
    with open(path, "rb") as f:
        pending = None          # (lineno, seq, body, stored chain) whose content failed
        for raw in iter(f.readline, b""):
            lineno += 1
            if not raw.endswith(b"\n"):
                return res.fail(path, lineno, None, "the last line is incomplete (cut short)")
            line = raw[:-1]
            parts = R.split_line(line)
            rec = R.parse(line) if parts is not None else None
            if parts is None or rec is None or not isinstance(rec.get("seq"), int):
                return res.fail(path, lineno, None, "malformed record (not a JSON object "
                                "ending with its chain value): edited or inserted")
            body, chain = parts
            seq = rec["seq"]
            if pending is not None:
                # the previous record's bytes did not hash to its stored chain value; if this
                # record continues from that stored value, only the previous content changed
                pl, ps, _, _ = pending
                if seq == ps + 1 and R.next_chain(prev_chain, body, hkey) == chain:
                    return res.fail(path, pl, ps, "the chain breaks at this record: its content "
                                    "was altered (or the record before it was replaced "
                                    "together with a recomputed chain value)")
                return res.fail(path, pl, ps, "the chain breaks at this record: it was "
                                "altered, inserted or replaced")
            if seq != expected:
                if seq > expected:
                    nxt = R.parse(f.readline())
                    if nxt is not None and nxt.get("seq") == expected:
                        msg = (f"seq {seq} comes before seq {expected}: records were "
                               f"reordered")
                    else:
                        msg = (f"seq {seq} follows seq {expected - 1}: records {expected}.."
                               f"{seq - 1} were deleted")
                else:
                    msg = (f"seq {seq} where seq {expected} was expected: records were "
                           f"reordered or inserted")
                return res.fail(path, lineno, seq, msg)
            if lineno > 1 and rec.get("event") == R.HEADER_EVENT:
                return res.fail(path, lineno, seq, "a file header in the middle of a file: "
                                "files were concatenated or records inserted")
            want = R.next_chain(prev_chain, body, hkey)
            if want != chain:
                pending = (lineno, seq, body, chain)
                prev_chain = chain          # try the stored value for the next record
                expected = seq + 1
                continue
            prev_chain = chain
            expected = seq + 1
            res.records += 1
            res.last_seq = seq
            res.last_chain = chain.hex()
            if head is not None and seq == head[0]:
                seen[seq] = chain.hex()
        if pending is not None:
            pl, ps, _, _ = pending
            return res.fail(path, pl, ps, "the chain breaks at this record: it was altered, "
                            "inserted or replaced")
    if res.last_seq is None or res.last_seq < expected - 1:
        res.last_seq = expected - 1
        res.last_chain = prev_chain.hex()
    return None
