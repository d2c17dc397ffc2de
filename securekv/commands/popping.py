"""What the pop commands of lists and sorted sets share (t_list.c, t_zset.c):
the argument tail of [B]LMPOP/[B]ZMPOP and the body of a blocking pop
(BZPOPMIN, BZPOPMAX, BZMPOP; BLPOP, BRPOP, BLMPOP can use it the same way).
Not a family: it declares no command."""

from __future__ import annotations

from securekv.commands.util import LLONG_MAX, parse_int_range
from securekv.engine.blocking import NOT_READY, block
from securekv.errors import SYNTAX, WRONGTYPE, CommandError
from securekv.net.resp import NULL_ARRAY


def parse_mpop(argv, numkeys_idx: int, where):
    """lmpopGenericCommand/zmpopGenericCommand parsing of `numkeys key... <where>
    [COUNT n]`: (keys, where(arg), count), count 1 without COUNT. `where` parses
    the direction word, raising SYNTAX for anything else."""
    numkeys = parse_int_range(argv[numkeys_idx], 1, LLONG_MAX,
                              "ERR numkeys should be greater than 0")
    n = len(argv)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= n:
        raise CommandError(SYNTAX)
    direction = where(argv[where_idx])
    count = -1
    j = where_idx + 1
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and j + 1 < n:
            j += 1
            count = parse_int_range(argv[j], 1, LLONG_MAX, "ERR count should be greater than 0")
        else:
            raise CommandError(SYNTAX)
        j += 1
    if count == -1:
        count = 1
    return argv[numkeys_idx + 1:where_idx], direction, count


def serving_first(c, keys):
    """The keys to try when a blocked client is retried: the ready key only (Redis
    serves a client from the key that was pushed to), else all of them."""
    server = c.server
    if server.serving_blocked:
        k = getattr(server, "serving_key", None)
        if k is not None and k in keys:
            return (k,)
    return keys


def first_existing(c, keys, cls):
    """(key, value) of the first of keys that exists (WRONGTYPE if its value is
    not a `cls`), or (None, None)."""
    db = c.db
    for k in keys:
        v = db.lookup(k)
        if v is not None:
            if type(v) is not cls:
                raise CommandError(WRONGTYPE)
            return k, v
    return None, None


def blocking_pop(c, keys, timeout: float, cls, serve):
    """blockingPopGenericCommand: serve(c, key, value) from the first existing key
    (WRONGTYPE if it is not a `cls`), else block on keys; once blocked, a client
    is served from the ready key when it holds a non-empty `cls`. serve returns
    the reply (and sets c.propagate_argv)."""
    k, v = first_existing(c, keys, cls)
    if v is not None:
        return serve(c, k, v)

    def retry(cl):
        for k in serving_first(cl, keys):
            v = cl.db.lookup(k)
            if type(v) is cls and v:
                return serve(cl, k, v)
        return NOT_READY

    return block(c, keys, timeout, retry, NULL_ARRAY)
