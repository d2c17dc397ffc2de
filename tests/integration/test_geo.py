"""Geo against a real redis-server: random points and random searches compared
byte for byte (discovery order, neighbour boxes, distances, coordinates), RESP3
shapes, notifications."""

from __future__ import annotations

import random

import pytest

from helpers import both, keyevents, same


def test_random_points_and_searches_match_redis(server, ref):
    rnd = random.Random(1234)
    a, b = both(server, ref)
    try:
        for cluster in range(6):
            clon, clat = rnd.uniform(-170, 170), rnd.uniform(-80, 80)
            args = []
            for i in range(150):
                lon = max(-180, min(180, clon + rnd.gauss(0, 3)))
                lat = max(-85, min(85, clat + rnd.gauss(0, 2)))
                args += ["%.6f" % lon, "%.6f" % lat, "m%d_%d" % (cluster, i)]
            same(a, b, "GEOADD", "pts", *args)
        same(a, b, "ZRANGE", "pts", "0", "-1", "WITHSCORES")
        members = ["m%d_%d" % (rnd.randrange(6), rnd.randrange(150)) for _ in range(40)]
        same(a, b, "GEOPOS", "pts", *members)
        same(a, b, "GEOHASH", "pts", *members)
        for m1, m2 in zip(members, members[1:]):
            same(a, b, "GEODIST", "pts", m1, m2, rnd.choice(["m", "km", "mi", "ft"]))
        for _ in range(150):
            m = rnd.choice(members)
            unit = rnd.choice(["m", "km", "mi", "ft"])
            r = str(rnd.choice([1, 10, 50, 200, 1000, 5000])
                    * {"m": 1000, "km": 1, "mi": 0.62, "ft": 3280}[unit])
            opts = rnd.sample(["WITHDIST", "WITHCOORD", "WITHHASH"], rnd.randrange(4))
            order = rnd.choice([[], ["ASC"], ["DESC"]])
            count = rnd.choice([[], ["COUNT", "5"], ["COUNT", "3", "ANY"]])
            same(a, b, "GEOSEARCH", "pts", "FROMMEMBER", m, "BYRADIUS", r, unit,
                 *opts, *order, *count)
            w, h = str(float(r) * rnd.uniform(0.5, 3)), str(float(r) * rnd.uniform(0.5, 3))
            same(a, b, "GEOSEARCH", "pts", "FROMMEMBER", m, "BYBOX", w, h, unit,
                 *opts, *order, *count)
            lon, lat = "%.5f" % rnd.uniform(-180, 180), "%.5f" % rnd.uniform(-85, 85)
            same(a, b, "GEORADIUS", "pts", lon, lat, r, unit, *opts, *order, *count)
            same(a, b, "GEOSEARCHSTORE", "dst", "pts", "FROMMEMBER", m, "BYRADIUS", r, unit,
                 *order, *count, *rnd.choice([[], ["STOREDIST"]]))
            same(a, b, "ZRANGE", "dst", "0", "-1", "WITHSCORES")
            same(a, b, "OBJECT", "ENCODING", "dst")
    finally:
        a.close()
        b.close()


def test_resp3_shapes(server, ref):
    a, b = both(server, ref, resp3=True)
    try:
        same(a, b, "GEOADD", "g", "13.361389", "38.115556", "Palermo",
             "15.087269", "37.502669", "Catania", "0", "0", "zero")
        same(a, b, "GEOPOS", "g", "Palermo", "nope", "zero")
        same(a, b, "GEODIST", "g", "Palermo", "Catania")
        same(a, b, "GEODIST", "g", "Palermo", "nope")
        same(a, b, "GEOHASH", "g", "Palermo", "nope")
        same(a, b, "GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km",
             "ASC", "WITHCOORD", "WITHDIST", "WITHHASH")
        same(a, b, "GEORADIUSBYMEMBER_RO", "g", "Palermo", "500", "km", "WITHCOORD")
        same(a, b, "GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km")
    finally:
        a.close()
        b.close()


def test_notifications_and_watch(server, r):
    with keyevents(server, r) as collect:
        r.geoadd("g", (13.361389, 38.115556, "Palermo"))
        r.execute_command("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", 13, 38, "BYRADIUS", 500, "km")
        r.execute_command("GEORADIUS", "g", 13, 38, 500, "km", "STORE", "d2")
        r.execute_command("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "m")
        assert collect(4) == [(b"zadd", b"g"), (b"geosearchstore", b"d"),
                              (b"georadiusstore", b"d2"), (b"del", b"d")]
    w = server.client()
    p = w.pipeline()
    p.watch("g")
    r.geoadd("g", (1, 1, "x"))
    p.multi()
    p.get("g")
    with pytest.raises(Exception):
        p.execute()
    w.close()
