"""Pub/sub (pubsub.c): channels, patterns and shard channels.

The hub keeps, per namespace, channel -> subscribers and pattern ->
subscribers (dicts used as ordered sets, so replies list channels in a stable
order). A namespace is the keyspace of the client's tenant: the default
tenant's is Redis's one global namespace, and tenants never see each other's
channels (DESIGN.md, Tenants). Keyspace notifications publish through the same
hub (server.notify -> hub.publish).

Messages are delivered as RESP3 push frames (arrays in RESP2) straight into
the subscriber's output, which the pubsub output-buffer limit guards.
"""

from __future__ import annotations

from securekv.commands.table import KeySpec, Range, command, container, subcommand
from securekv.commands.util import help_reply
from securekv.lifecycle import on_init
from securekv.net.resp import FlatMap, Push


def _match(pattern: bytes, channel: bytes) -> bool:
    from acl.glob import stringmatch
    return stringmatch(pattern, channel)


class Namespace:
    __slots__ = ("channels", "patterns", "shard")

    def __init__(self) -> None:
        self.channels: dict[bytes, dict] = {}
        self.patterns: dict[bytes, dict] = {}
        self.shard: dict[bytes, dict] = {}


class Hub:
    def __init__(self, server) -> None:
        self.server = server
        self.spaces: dict[object, Namespace] = {}

    def space(self, ns) -> Namespace:
        sp = self.spaces.get(ns)
        if sp is None:
            sp = self.spaces[ns] = Namespace()
        return sp

    def publish(self, ns, channel: bytes, message: bytes, shard: bool = False) -> int:
        sp = self.spaces.get(ns)
        if sp is None:
            return 0
        n = 0
        subs = (sp.shard if shard else sp.channels).get(channel)
        kind = b"smessage" if shard else b"message"
        if subs:
            for c in list(subs):
                c.send_push(Push([kind, channel, message]))
                n += 1
        if not shard and sp.patterns:
            for pat, subs in list(sp.patterns.items()):
                if _match(pat, channel):
                    for c in list(subs):
                        c.send_push(Push([b"pmessage", pat, channel, message]))
                        n += 1
        getattr(ns, "stats", self.server.stats).pubsub_messages += 1    # the tenant's
        return n


def _count(c) -> int:
    return len(c.subscriptions or ()) + len(c.psubscriptions or ())


def _update_kind(c) -> None:
    subscribed = bool(c.subscriptions or c.psubscriptions or c.ssubscriptions)
    if subscribed:
        c.kind = "pubsub"
    elif c.kind == "pubsub":
        c.kind = "normal"
    c.server.update_gate(c)


def _subscribe(c, table_name: str, attr: str, names, kind: bytes, count) -> None:
    sp = c.server.pubsub.space(c.keyspace)
    table = getattr(sp, table_name)
    mine = getattr(c, attr)
    if mine is None:
        mine = {}
        setattr(c, attr, mine)
    for name in names:
        if name not in mine:
            mine[name] = None
            table.setdefault(name, {})[c] = None
        c.out_push(Push([kind, name, count(c)]))
    _update_kind(c)


def _unsubscribe(c, table_name: str, attr: str, names, kind: bytes, count) -> None:
    sp = c.server.pubsub.space(c.keyspace)
    table = getattr(sp, table_name)
    mine = getattr(c, attr) or {}
    if not names:
        names = list(mine)
        if not names:
            c.out_push(Push([kind, None, count(c)]))
            _update_kind(c)
            return
    for name in names:
        if name in mine:
            del mine[name]
            subs = table.get(name)
            if subs is not None:
                subs.pop(c, None)
                if not subs:
                    del table[name]
        c.out_push(Push([kind, name, count(c)]))
    _update_kind(c)


def _shard_count(c) -> int:
    return len(c.ssubscriptions or ())


def unsubscribe_all(c, notify: bool = False) -> None:
    """Drop every subscription of c (disconnect, RESET)."""
    if not (c.subscriptions or c.psubscriptions or c.ssubscriptions):
        return
    sp = c.server.pubsub.space(c.keyspace)
    for attr, table in (("subscriptions", sp.channels), ("psubscriptions", sp.patterns),
                        ("ssubscriptions", sp.shard)):
        mine = getattr(c, attr)
        if not mine:
            continue
        for name in mine:
            subs = table.get(name)
            if subs is not None:
                subs.pop(c, None)
                if not subs:
                    del table[name]
        setattr(c, attr, None)
    if not c.closing:
        _update_kind(c)


@command("subscribe", -2, "pubsub noscript loading stale", "", group="pubsub", since="2.0.0",
         summary="Listen for messages published to the given channels", context="pubsub")
def subscribe(c, argv):
    _subscribe(c, "channels", "subscriptions", argv[1:], b"subscribe", _count)
    return NO_REPLY


@command("unsubscribe", -1, "pubsub noscript loading stale", "", group="pubsub", since="2.0.0",
         summary="Stop listening for messages posted to the given channels", context="pubsub")
def unsubscribe(c, argv):
    _unsubscribe(c, "channels", "subscriptions", argv[1:], b"unsubscribe", _count)
    return NO_REPLY


@command("psubscribe", -2, "pubsub noscript loading stale", "", group="pubsub", since="2.0.0",
         summary="Listen for messages published to channels matching the given patterns",
         context="pubsub")
def psubscribe(c, argv):
    _subscribe(c, "patterns", "psubscriptions", argv[1:], b"psubscribe", _count)
    return NO_REPLY


@command("punsubscribe", -1, "pubsub noscript loading stale", "", group="pubsub", since="2.0.0",
         summary="Stop listening for messages posted to channels matching the given patterns",
         context="pubsub")
def punsubscribe(c, argv):
    _unsubscribe(c, "patterns", "psubscriptions", argv[1:], b"punsubscribe", _count)
    return NO_REPLY


@command("ssubscribe", -2, "pubsub noscript loading stale", "",
         keys=[KeySpec("not_key", 1, Range(-1, 1, 0))], group="pubsub", since="7.0.0",
         summary="Listen for messages published to the given shard channels", context="pubsub")
def ssubscribe(c, argv):
    _subscribe(c, "shard", "ssubscriptions", argv[1:], b"ssubscribe", _shard_count)
    return NO_REPLY


@command("sunsubscribe", -1, "pubsub noscript loading stale", "",
         keys=[KeySpec("not_key", 1, Range(-1, 1, 0))], group="pubsub", since="7.0.0",
         summary="Stop listening for messages posted to the given shard channels",
         context="pubsub")
def sunsubscribe(c, argv):
    _unsubscribe(c, "shard", "ssubscriptions", argv[1:], b"sunsubscribe", _shard_count)
    return NO_REPLY


@command("publish", 3, "pubsub loading stale fast may_replicate", "", group="pubsub", since="2.0.0",
         summary="Post a message to a channel")
def publish(c, argv):
    return c.server.pubsub.publish(c.keyspace, argv[1], argv[2])


@command("spublish", 3, "pubsub loading stale fast may_replicate", "", keys=[KeySpec("not_key", 1)],
         group="pubsub", since="7.0.0", summary="Post a message to a shard channel")
def spublish(c, argv):
    return c.server.pubsub.publish(c.keyspace, argv[1], argv[2], shard=True)


container("pubsub", -2, "", "", group="pubsub", since="2.8.0",
          summary="A container for Pub/Sub commands")


def _channels(c, argv, table_name):
    sp = c.server.pubsub.space(c.keyspace)
    table = getattr(sp, table_name)
    if len(argv) > 3:
        from securekv.commands.util import subcommand_syntax_error
        raise subcommand_syntax_error(argv)
    pat = argv[2] if len(argv) == 3 else None
    return [ch for ch in table if pat is None or _match(pat, ch)]


@subcommand("pubsub", "channels", -2, "pubsub loading stale", "", since="2.8.0",
            summary="List active channels")
def pubsub_channels(c, argv):
    return _channels(c, argv, "channels")


@subcommand("pubsub", "shardchannels", -2, "pubsub loading stale", "", since="7.0.0",
            summary="List active shard channels")
def pubsub_shardchannels(c, argv):
    return _channels(c, argv, "shard")


@subcommand("pubsub", "numsub", -2, "pubsub loading stale", "", since="2.8.0",
            summary="Get the count of subscribers for channels")
def pubsub_numsub(c, argv):
    sp = c.server.pubsub.space(c.keyspace)
    return _pairs(argv[2:], sp.channels)


@subcommand("pubsub", "shardnumsub", -2, "pubsub loading stale", "", since="7.0.0",
            summary="Get the count of subscribers for shard channels")
def pubsub_shardnumsub(c, argv):
    sp = c.server.pubsub.space(c.keyspace)
    return _pairs(argv[2:], sp.shard)


def _pairs(names, table):
    """NUMSUB's reply: a flat array (RESP2) or map (RESP3); repeated names repeat."""
    out = []
    for ch in names:
        out.append(ch)
        out.append(len(table.get(ch, ())))
    return FlatMap(out)


@subcommand("pubsub", "numpat", 2, "pubsub loading stale", "", since="2.8.0",
            summary="Get the count of unique patterns pattern subscriptions")
def pubsub_numpat(c, argv):
    return len(c.server.pubsub.space(c.keyspace).patterns)


@subcommand("pubsub", "help", 2, "loading stale", "", since="6.2.0",
            summary="Show helpful text about the different subcommands")
def pubsub_help(c, argv):
    return help_reply(argv, [
        b"CHANNELS [<pattern>]",
        b"    Return the currently active channels matching a <pattern> (default: '*').",
        b"NUMPAT",
        b"    Return number of subscriptions to patterns.",
        b"NUMSUB [<channel> ...]",
        b"    Return the number of subscribers for the specified channels, excluding",
        b"    pattern subscriptions(default: no channels).",
        b"SHARDCHANNELS [<pattern>]",
        b"    Return the currently active shard level channels matching a <pattern> (default: '*').",
        b"SHARDNUMSUB [<shardchannel> ...]",
        b"    Return the number of subscribers for the specified shard level channel(s)",
    ])


from securekv.dispatch import NO_REPLY  # noqa: E402


@on_init
def _setup(server) -> None:
    server.pubsub = Hub(server)
    server.disconnect_hooks.append(unsubscribe_all)
    server.reset_hooks.append(unsubscribe_all)
