"""Redis's sdssplitargs (sds.c), for selector bodies and ACL files.

acl/ cannot import securekv's copy (DESIGN.md: the library never imports the
server), hence this small port.
"""

from __future__ import annotations

_HEX = b"0123456789abcdefABCDEF"
_ESC = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def sdssplitargs(line: bytes) -> list[bytes] | None:
    """Split like sdssplitargs: words, "double" (with escapes) and 'single'
    quotes; None when quotes are unbalanced or a closing quote is not
    followed by a space."""
    out = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f":
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
                if (ch == 92 and i + 3 < n and line[i + 1] == ord("x")
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == 92 and i + 1 < n:
                    i += 1
                    cur.append(_ESC.get(line[i], line[i]))
                elif ch == 34:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            elif insq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif ch == 39:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in b" \n\r\t\v\f":
                    break
                if ch == 34:
                    inq = True
                elif ch == 39:
                    insq = True
                else:
                    cur.append(ch)
            i += 1
        out.append(bytes(cur))
