"""Redis's geohash (geohash.c, geohash_helper.c of Redis 7.0), bit for bit.

Positions are 52-bit interleaved geohashes (26 steps of longitude and latitude,
latitude in the even bits) over longitude [-180, 180] and latitude
[-85.05112878, 85.05112878]; stored as the score of a sorted-set member. An
area search covers the shape's bounding box with the centre box and its 8
neighbours at a step estimated from the radius, exactly as Redis does, so the
same members are found in the same order.
"""

from __future__ import annotations

import math

GEO_STEP_MAX = 26
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_M64 = (1 << 64) - 1
_B = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
      0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF)

_sin, _cos, _asin, _sqrt = math.sin, math.cos, math.asin, math.sqrt


def interleave64(xlo: int, ylo: int) -> int:
    x = xlo & 0xFFFFFFFF
    y = ylo & 0xFFFFFFFF
    x = (x | (x << 16)) & _B[4]
    y = (y | (y << 16)) & _B[4]
    x = (x | (x << 8)) & _B[3]
    y = (y | (y << 8)) & _B[3]
    x = (x | (x << 4)) & _B[2]
    y = (y | (y << 4)) & _B[2]
    x = (x | (x << 2)) & _B[1]
    y = (y | (y << 2)) & _B[1]
    x = (x | (x << 1)) & _B[0]
    y = (y | (y << 1)) & _B[0]
    return x | (y << 1)


def deinterleave64(v: int) -> int:
    x = v
    y = v >> 1
    x = x & _B[0]
    y = y & _B[0]
    x = (x | (x >> 1)) & _B[1]
    y = (y | (y >> 1)) & _B[1]
    x = (x | (x >> 2)) & _B[2]
    y = (y | (y >> 2)) & _B[2]
    x = (x | (x >> 4)) & _B[3]
    y = (y | (y >> 4)) & _B[3]
    x = (x | (x >> 8)) & _B[4]
    y = (y | (y >> 8)) & _B[4]
    x = (x | (x >> 16)) & _B[5]
    y = (y | (y >> 16)) & _B[5]
    return x | (y << 32)


def encode(lon: float, lat: float, step: int = GEO_STEP_MAX,
           lon_range=(GEO_LONG_MIN, GEO_LONG_MAX), lat_range=(GEO_LAT_MIN, GEO_LAT_MAX)):
    """geohashEncode: the hash bits, or None outside the ranges."""
    if lon > 180 or lon < -180 or lat > 85.05112878 or lat < -85.05112878:
        return None
    if lat < lat_range[0] or lat > lat_range[1] or lon < lon_range[0] or lon > lon_range[1]:
        return None
    lat_offset = (lat - lat_range[0]) / (lat_range[1] - lat_range[0])
    lon_offset = (lon - lon_range[0]) / (lon_range[1] - lon_range[0])
    lat_offset *= (1 << step)
    lon_offset *= (1 << step)
    return interleave64(int(lat_offset), int(lon_offset))


def encode_wgs84(lon: float, lat: float, step: int = GEO_STEP_MAX):
    return encode(lon, lat, step)


def decode_area(bits: int, step: int, lon_range=(GEO_LONG_MIN, GEO_LONG_MAX),
                lat_range=(GEO_LAT_MIN, GEO_LAT_MAX)):
    """geohashDecode: (lon_min, lon_max, lat_min, lat_max)."""
    sep = deinterleave64(bits)
    lat_scale = lat_range[1] - lat_range[0]
    lon_scale = lon_range[1] - lon_range[0]
    ilato = sep & 0xFFFFFFFF
    ilono = (sep >> 32) & 0xFFFFFFFF
    div = float(1 << step)
    return (lon_range[0] + (ilono * 1.0 / div) * lon_scale,
            lon_range[0] + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / div) * lon_scale,
            lat_range[0] + (ilato * 1.0 / div) * lat_scale,
            lat_range[0] + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / div) * lat_scale)


def decode(bits: int, step: int = GEO_STEP_MAX):
    """geohashDecodeToLongLatWGS84: the (lon, lat) centre of the box."""
    lo0, lo1, la0, la1 = decode_area(bits, step)
    lon = (lo0 + lo1) / 2
    if lon > GEO_LONG_MAX:
        lon = GEO_LONG_MAX
    if lon < GEO_LONG_MIN:
        lon = GEO_LONG_MIN
    lat = (la0 + la1) / 2
    if lat > GEO_LAT_MAX:
        lat = GEO_LAT_MAX
    if lat < GEO_LAT_MIN:
        lat = GEO_LAT_MIN
    return lon, lat


def decode_score(score: float):
    """A member's score (a 52-bit hash) to (lon, lat)."""
    return decode(int(score), GEO_STEP_MAX)


def align52(bits: int, step: int) -> int:
    return (bits << (52 - step * 2)) & _M64


_GEOALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11-character standard geohash (latitude over [-90, 90])."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, 26, (-180.0, 180.0), (-90.0, 90.0))
    if bits is None:
        bits = 0
    out = bytearray(11)
    for i in range(11):
        idx = 0 if i == 10 else (bits >> (52 - (i + 1) * 5)) & 0x1F
        out[i] = _GEOALPHABET[idx]
    return bytes(out)


# -- distances -----------------------------------------------------------------------

def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine over Redis's earth radius, in meters."""
    lat1r = lat1 * D_R
    lon1r = lon1 * D_R
    lat2r = lat2 * D_R
    lon2r = lon2 * D_R
    u = _sin((lat2r - lat1r) / 2)
    v = _sin((lon2r - lon1r) / 2)
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(u * u + _cos(lat1r) * _cos(lat2r) * v * v))


def within_radius(x1, y1, x2, y2, radius):
    """The distance when (x2, y2) is within radius of (x1, y1), else None."""
    d = distance(x1, y1, x2, y2)
    return None if d > radius else d


def within_rectangle(width_m, height_m, x1, y1, x2, y2):
    """geohashGetDistanceIfInRectangle (Redis 7.0): the distance from the centre
    (x1, y1) when (x2, y2) lies in the box, else None."""
    lon_distance = distance(x2, y2, x1, y2)
    lat_distance = distance(x2, y2, x2, y1)
    if lon_distance > width_m / 2 or lat_distance > height_m / 2:
        return None
    return distance(x1, y1, x2, y2)


# -- area search -----------------------------------------------------------------------

def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def bounding_box(lon: float, lat: float, width_m: float, height_m: float):
    """geohashBoundingBox for half-width/half-height in meters: (min_lon, min_lat,
    max_lon, max_lat)."""
    lat_delta = (height_m / EARTH_RADIUS_IN_METERS) / D_R
    long_delta_top = (width_m / EARTH_RADIUS_IN_METERS / _cos((lat + lat_delta) * D_R)) / D_R
    long_delta_bottom = (width_m / EARTH_RADIUS_IN_METERS / _cos((lat - lat_delta) * D_R)) / D_R
    if lat < 0:
        return lon - long_delta_bottom, lat - lat_delta, lon + long_delta_bottom, lat + lat_delta
    return lon - long_delta_top, lat - lat_delta, lon + long_delta_top, lat + lat_delta


_X_BITS = 0xAAAAAAAAAAAAAAAA     # longitude bits of an interleaved hash
_Y_BITS = 0x5555555555555555     # latitude bits


def _move(bits: int, step: int, d: int, mine: int) -> int:
    """geohash_move_x/_y: step the coordinate whose bits are `mine` by d (+1/-1)
    cells, leaving the other coordinate's bits alone."""
    other = mine ^ _M64
    v = bits & mine
    zz = other >> (64 - step * 2)
    if d > 0:
        v = v + (zz + 1)
    else:
        v = v | zz
        v = v - (zz + 1)
    v &= _M64
    v &= (mine >> (64 - step * 2))
    return v | (bits & other)


def _move_x(bits: int, step: int, d: int) -> int:
    return _move(bits, step, d, _X_BITS)


def _move_y(bits: int, step: int, d: int) -> int:
    return _move(bits, step, d, _Y_BITS)


def neighbors(bits: int, step: int) -> dict:
    return {
        "north": _move_y(bits, step, 1),
        "south": _move_y(bits, step, -1),
        "east": _move_x(bits, step, 1),
        "west": _move_x(bits, step, -1),
        "north_east": _move_y(_move_x(bits, step, 1), step, 1),
        "north_west": _move_y(_move_x(bits, step, -1), step, 1),
        "south_east": _move_y(_move_x(bits, step, 1), step, -1),
        "south_west": _move_y(_move_x(bits, step, -1), step, -1),
    }


_ORDER = ("north", "south", "east", "west", "north_east", "north_west",
          "south_east", "south_west")


def search_areas(lon: float, lat: float, radius_m: float = 0.0, box=None):
    """geohashCalculateAreasByShapeWGS84: the 9 boxes to scan, in Redis's order
    (centre, N, S, E, W, NE, NW, SE, SW) as (bits, step), None for excluded ones.
    Give radius_m for a circle, or box=(width_m, height_m) for a rectangle."""
    if box is None:
        min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, radius_m, radius_m)
        radius_meters = radius_m
    else:
        w, h = box
        min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, w / 2, h / 2)
        radius_meters = _sqrt((w / 2) * (w / 2) + (h / 2) * (h / 2))
    steps = estimate_steps_by_radius(radius_meters, lat)
    bits = encode(lon, lat, steps)
    nb = neighbors(bits, steps)
    decrease = False
    n_area = decode_area(nb["north"], steps)
    s_area = decode_area(nb["south"], steps)
    e_area = decode_area(nb["east"], steps)
    w_area = decode_area(nb["west"], steps)
    if n_area[3] < max_lat:
        decrease = True
    if s_area[2] > min_lat:
        decrease = True
    if e_area[1] < max_lon:
        decrease = True
    if w_area[0] > min_lon:
        decrease = True
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(lon, lat, steps)
        nb = neighbors(bits, steps)
    area = decode_area(bits, steps)
    zero = set()
    if steps >= 2:
        if area[2] < min_lat:
            zero.update(("south", "south_west", "south_east"))
        if area[3] > max_lat:
            zero.update(("north", "north_east", "north_west"))
        if area[0] < min_lon:
            zero.update(("west", "south_west", "north_west"))
        if area[1] > max_lon:
            zero.update(("east", "south_east", "north_east"))
    out = [(bits, steps)]
    for name in _ORDER:
        out.append(None if name in zero else (nb[name], steps))
    return out


def box_score_range(bits: int, step: int) -> tuple[int, int]:
    """scoresOfGeoHashBox: [min, max) of the 52-bit scores inside a box."""
    return align52(bits, step), align52(bits + 1, step)
