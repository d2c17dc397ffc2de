"""Redis's sdssplitargs (sds.c): the one implementation.

Used for selector bodies and ACL files here, and by securekv for inline
commands and config lines (securekv.net.resp re-exports it as split_args):
acl/ never imports securekv, so the single copy lives in this library.
"""

from __future__ import annotations

_BLANK = b" \n\r\t\x0b\x0c"   # C isspace(): skipped between tokens, required after a closing quote
_BARE_END = b" \n\r\t"         # what ends an unquoted token (and NUL, cut off up front)
_SPECIAL = b"\"'\0\x0b\x0c"  # what only the full loop below handles
_ESC = {0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7}   # \n \r \t \b \a


def _ishex(c: int) -> bool:
    return 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102


def sdssplitargs(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: split a line into words, honouring quotes.

    Double quotes understand \\n \\r \\t \\b \\a \\\\ \\" and \\xHH; single quotes
    only \\'. A closing quote must be followed by a space or the end. Returns
    None for unbalanced quotes. Blanks between tokens are C isspace(); a bare
    token ends only at space, \\n, \\r, \\t; a NUL ends the line.
    """
    if len(line.translate(None, _SPECIAL)) == len(line):
        return line.split()    # no quote, NUL, \v or \f: bytes.split() is the same split
    z = line.find(b"\0")
    if z >= 0:
        line = line[:z]        # C string: a NUL ends the line (and a loop here once hung)
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _BLANK:
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                ch = line[i]
                if (ch == 0x5C and i + 3 < n and line[i + 1] == 0x78
                        and _ishex(line[i + 2]) and _ishex(line[i + 3])):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == 0x5C and i + 1 < n:
                    i += 1
                    c = line[i]
                    cur.append(_ESC.get(c, c))
                elif ch == 0x22:
                    if i + 1 < n and line[i + 1] not in _BLANK:
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            elif insq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif ch == 0x27:
                    if i + 1 < n and line[i + 1] not in _BLANK:
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in _BARE_END:
                    break
                if ch == 0x22:
                    inq = True
                elif ch == 0x27:
                    insq = True
                else:
                    cur.append(ch)
            i += 1
        out.append(bytes(cur))
