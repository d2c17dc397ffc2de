"""Geo commands (Redis's geo.c). A geo index is a sorted set whose scores are
52-bit geohashes (engine/geohash.py), so every ZSET command works on it and
ZRANGE on a geo key matches Redis byte for byte."""

from __future__ import annotations

from securekv.commands.table import KeySpec, Keyword, command
from securekv.commands.util import parse_float, parse_int
from securekv.commands.zsets import read_zset, zadd_generic
from securekv.commands.util import store_result
from securekv.engine import geohash
from securekv.engine.zsettype import ZSetValue, zset_from_pairs, zset_limits
from securekv.errors import SYNTAX, CommandError
from securekv.net.resp import NULL_ARRAY, Raw

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def _unit(arg: bytes) -> float:
    u = _UNITS.get(arg.lower())
    if u is None:
        raise CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    return u


def _lonlat(a: bytes, b: bytes):
    """Redis's extractLongLatOrReply."""
    lon = parse_float(a)
    lat = parse_float(b)
    if (lon < geohash.GEO_LONG_MIN or lon > geohash.GEO_LONG_MAX or
            lat < geohash.GEO_LAT_MIN or lat > geohash.GEO_LAT_MAX):
        raise CommandError("ERR invalid longitude,latitude pair %f,%f" % (lon, lat))
    return lon, lat


def _distance_arg(a: bytes, unit: bytes):
    """extractDistanceOrReply: (radius, meters per unit)."""
    d = parse_float(a, "ERR need numeric radius")
    if d < 0:
        raise CommandError("ERR radius cannot be negative")
    return d, _unit(unit)


def human_double(c, d: float):
    """addReplyHumanLongDouble: %.17Lf without trailing zeros; bulk (RESP2) or double (RESP3)."""
    s = b"%.17f" % d
    if b"." in s:
        s = s.rstrip(b"0").rstrip(b".")
    if s == b"-0":
        s = b"0"
    if c.resp3:
        return Raw(b",%s\r\n" % s)
    return s


def _member_lonlat(z: ZSetValue, member: bytes):
    score = dict.get(z, member)
    if score is None:
        return None
    return geohash.decode_score(score)


# -- GEOADD ----------------------------------------------------------------------------

@command('geoadd', -5, 'write denyoom', '@geo',
         keys=[KeySpec('RW update', 1)],
         group='geo', since='3.2.0',
         summary='Add one or more geospatial items in the geospatial index represented using a sorted set')
def geoadd(c, argv):
    xx = nx = ch = False
    longidx = 2
    n = len(argv)
    while longidx < n:
        o = argv[longidx].lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o == b"ch":
            ch = True
        else:
            break
        longidx += 1
    if (n - longidx) % 3 or (xx and nx):
        raise CommandError(SYNTAX)
    zargv = [b"ZADD", *argv[1:longidx]]    # the options as the client typed them
    for i in range(longidx, n, 3):
        lon, lat = _lonlat(argv[i], argv[i + 1])
        bits = geohash.encode_wgs84(lon, lat)
        zargv.append(b"%d" % geohash.align52(bits, geohash.GEO_STEP_MAX))
        zargv.append(argv[i + 2])
    dirty = c.server.dirty
    r = zadd_generic(c, zargv, False, 2)
    if c.server.dirty != dirty:     # nothing changed: nothing to propagate
        zargv[0] = b"zadd"          # Redis rewrites argv[0] to "zadd", lowercase
        c.propagate_argv = [zargv]
    return r


# -- GEOPOS / GEODIST / GEOHASH ----------------------------------------------------------

@command('geopos', -2, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='3.2.0',
         summary='Returns longitude and latitude of members of a geospatial index')
def geopos(c, argv):
    z = read_zset(c, argv[1])
    out = []
    for m in argv[2:]:
        xy = None if z is None else _member_lonlat(z, m)
        if xy is None:
            out.append(NULL_ARRAY)
        else:
            out.append([human_double(c, xy[0]), human_double(c, xy[1])])
    return out


@command('geodist', -4, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='3.2.0',
         summary='Returns the distance between two members of a geospatial index')
def geodist(c, argv):
    n = len(argv)
    to_meter = 1.0
    if n == 5:
        to_meter = _unit(argv[4])
    elif n > 5:
        raise CommandError(SYNTAX)
    z = read_zset(c, argv[1])
    if z is None:
        return None
    a = _member_lonlat(z, argv[2])
    b = _member_lonlat(z, argv[3])
    if a is None or b is None:
        return None
    return b"%.4f" % (geohash.distance(a[0], a[1], b[0], b[1]) / to_meter)


@command('geohash', -2, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='3.2.0',
         summary='Returns members of a geospatial index as standard geohash strings')
def geohash_(c, argv):
    z = read_zset(c, argv[1])
    out = []
    get = dict.get
    for m in argv[2:]:
        score = None if z is None else get(z, m)
        out.append(None if score is None else geohash.geohash_string(score))
    return out


# -- searches --------------------------------------------------------------------------

RADIUS_COORDS, RADIUS_MEMBER, GEOSEARCH, GEOSEARCHSTORE, NOSTORE = 1, 2, 4, 8, 16


def points_in_shape(z: ZSetValue, lon, lat, radius_m=None, box=None, limit: int = 0) -> list:
    """membersOfAllNeighbors: [dist_m, score, member, lon, lat] of the members in
    the circle (radius_m) or box ((width_m, height_m)), in Redis's discovery order;
    limit > 0 stops after that many (COUNT ANY)."""
    areas = geohash.search_areas(lon, lat, radius_m or 0.0, box)
    found: list = []
    last = 0
    decode = geohash.decode_score
    within_r = geohash.within_radius
    within_b = geohash.within_rectangle
    for i, area in enumerate(areas):
        if area is None:
            continue
        if last and area == areas[last]:
            continue
        if found and limit and len(found) >= limit:
            break
        lo, hi = geohash.box_score_range(*area)
        a, b = z.score_range(float(lo), False, float(hi), True)
        scores, members = z.sl.range(a, b)
        for score, m in zip(scores, members):
            x, y = decode(score)
            if box is None:
                d = within_r(lon, lat, x, y, radius_m)
            else:
                d = within_b(box[0], box[1], lon, lat, x, y)
            if d is None:
                continue
            found.append([d, score, m, x, y])
            if limit and len(found) >= limit:
                break
        last = i
    return found


def georadius_generic(c, argv, src_idx: int, flags: int):
    name = argv[0].decode("utf-8", "surrogateescape")
    storekey = None
    storedist = False
    z = read_zset(c, argv[src_idx])
    lon = lat = None
    radius = None
    box = None
    conv = 1.0
    if flags & RADIUS_COORDS:
        base = 6
        lon, lat = _lonlat(argv[2], argv[3])
        radius, conv = _distance_arg(argv[4], argv[5])
    elif flags & RADIUS_MEMBER:
        base = 5
        if z is not None:
            xy = _member_lonlat(z, argv[2])
            if xy is None:
                raise CommandError("ERR could not decode requested zset member")
            lon, lat = xy
            radius, conv = _distance_arg(argv[3], argv[4])
    else:
        base = 2
        if flags & GEOSEARCHSTORE:
            base = 3
            storekey = argv[1]
    withdist = withhash = withcoord = False
    frommember = fromloc = byradius = bybox = False
    sort = 0
    any_ = False
    count = 0
    n = len(argv)
    i = base
    while i < n:
        o = argv[i].lower()
        rem = n - i
        if o == b"withdist":
            withdist = True
        elif o == b"withhash":
            withhash = True
        elif o == b"withcoord":
            withcoord = True
        elif o == b"any":
            any_ = True
        elif o == b"asc":
            sort = 1
        elif o == b"desc":
            sort = 2
        elif o == b"count" and rem > 1:
            count = parse_int(argv[i + 1])
            if count <= 0:
                raise CommandError("ERR COUNT must be > 0")
            i += 1
        elif (o == b"store" or o == b"storedist") and rem > 1 and \
                not flags & NOSTORE and not flags & GEOSEARCH:
            storekey = argv[i + 1]
            storedist = o == b"storedist"
            i += 1
        elif o == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            storedist = True
        elif o == b"frommember" and rem > 1 and flags & GEOSEARCH and not fromloc:
            if z is not None:
                xy = _member_lonlat(z, argv[i + 1])
                if xy is None:
                    raise CommandError("ERR could not decode requested zset member")
                lon, lat = xy
            frommember = True
            i += 1
        elif o == b"fromlonlat" and rem > 2 and flags & GEOSEARCH and not frommember:
            lon, lat = _lonlat(argv[i + 1], argv[i + 2])
            fromloc = True
            i += 2
        elif o == b"byradius" and rem > 2 and flags & GEOSEARCH and not bybox:
            radius, conv = _distance_arg(argv[i + 1], argv[i + 2])
            byradius = True
            i += 2
        elif o == b"bybox" and rem > 3 and flags & GEOSEARCH and not byradius:
            w = parse_float(argv[i + 1], "ERR need numeric width")
            h = parse_float(argv[i + 2], "ERR need numeric height")
            if h < 0 or w < 0:
                raise CommandError("ERR height or width cannot be negative")
            conv = _unit(argv[i + 3])
            box = (w, h)
            bybox = True
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1
    if storekey is not None and (withdist or withhash or withcoord):
        raise CommandError("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                           % ("GEOSEARCHSTORE" if flags & GEOSEARCHSTORE
                              else "STORE option in GEORADIUS"))
    if flags & GEOSEARCH and not (frommember or fromloc):
        raise CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s"
                           % name)
    if flags & GEOSEARCH and not (byradius or bybox):
        raise CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for %s" % name)
    if any_ and not count:
        raise CommandError("ERR the ANY argument requires COUNT argument")
    if z is None:
        if storekey is not None:
            store_result(c, storekey, None, "z", b"")
            return 0
        return []
    if count and not sort and not any_:
        sort = 1
    if box is not None:
        found = points_in_shape(z, lon, lat, box=(box[0] * conv, box[1] * conv),
                                limit=count if any_ else 0)
    else:
        found = points_in_shape(z, lon, lat, radius_m=radius * conv,
                                limit=count if any_ else 0)
    if not found and storekey is None:
        return []
    if sort == 1:
        found.sort(key=lambda p: p[0])
    elif sort == 2:
        found.sort(key=lambda p: p[0], reverse=True)
    if count and count < len(found):
        found = found[:count]
    if storekey is None:
        out = []
        opts = withdist or withhash or withcoord
        for d, score, m, x, y in found:
            if not opts:
                out.append(m)
                continue
            item = [m]
            if withdist:
                item.append(b"%.4f" % (d / conv))
            if withhash:
                item.append(int(score))
            if withcoord:
                item.append([human_double(c, x), human_double(c, y)])
            out.append(item)
        return out
    if found:
        pairs = {}
        for d, score, m, _x, _y in found:
            pairs[m] = d / conv if storedist else score
        store_result(c, storekey, zset_from_pairs(list(pairs.items()), zset_limits(c.server)),
                     "z", b"geosearchstore" if flags & GEOSEARCH else b"georadiusstore")
        c.server.dirty += len(found) - 1
    else:
        store_result(c, storekey, None, "z", b"")
    return len(found)


@command('georadius', -6, 'write denyoom', '@geo',
         keys=[KeySpec('RO access', 1), KeySpec('OW update', Keyword('STORE', 6)),
               KeySpec('OW update', Keyword('STOREDIST', 6))],
         group='geo', since='3.2.0',
         summary='Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point')
def georadius(c, argv):
    return georadius_generic(c, argv, 1, RADIUS_COORDS)


@command('georadiusbymember', -5, 'write denyoom', '@geo',
         keys=[KeySpec('RO access', 1), KeySpec('OW update', Keyword('STORE', 5)),
               KeySpec('OW update', Keyword('STOREDIST', 5))],
         group='geo', since='3.2.0',
         summary='Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member')
def georadiusbymember(c, argv):
    return georadius_generic(c, argv, 1, RADIUS_MEMBER)


@command('georadius_ro', -6, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='3.2.10', summary='A read-only variant for GEORADIUS')
def georadius_ro(c, argv):
    return georadius_generic(c, argv, 1, RADIUS_COORDS | NOSTORE)


@command('georadiusbymember_ro', -5, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='3.2.10', summary='A read-only variant for GEORADIUSBYMEMBER')
def georadiusbymember_ro(c, argv):
    return georadius_generic(c, argv, 1, RADIUS_MEMBER | NOSTORE)


@command('geosearch', -7, 'readonly', '@geo',
         keys=[KeySpec('RO access', 1)],
         group='geo', since='6.2.0',
         summary='Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.')
def geosearch(c, argv):
    return georadius_generic(c, argv, 1, GEOSEARCH)


@command('geosearchstore', -8, 'write denyoom', '@geo',
         keys=[KeySpec('OW update', 1), KeySpec('RO access', 2)],
         group='geo', since='6.2.0',
         summary='Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.')
def geosearchstore(c, argv):
    return georadius_generic(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE)
