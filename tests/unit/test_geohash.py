"""Redis's geohash, checked against values Redis 7.0.15 prints."""

from securekv.engine import geohash as g


def test_encode_decode_known_points():
    bits = g.encode(13.361389, 38.115556)
    assert g.align52(bits, 26) == 3479099956230698
    lon, lat = g.decode(bits)
    assert "%.17f" % lon == "13.36138933897018433"
    assert "%.17f" % lat == "38.11555639549629859"
    assert g.align52(g.encode(15.087269, 37.502669), 26) == 3479447370796909
    assert g.encode(0, 0) == 3377699720527872
    assert g.encode(-180, -85.05112878) == 0


def test_out_of_range():
    assert g.encode(180.0001, 0) is None
    assert g.encode(0, 85.06) is None


def test_geohash_string_and_distance():
    assert g.geohash_string(3479099956230698.0) == b"sqc8b49rny0"
    assert g.geohash_string(3479447370796909.0) == b"sqdtr74hyu0"
    p = g.decode_score(3479099956230698.0)
    q = g.decode_score(3479447370796909.0)
    assert "%.4f" % g.distance(p[0], p[1], q[0], q[1]) == "166274.1516"


def test_interleave_roundtrip():
    for x, y in [(0, 0), (1, 2), (0xFFFFFFFF, 0), (12345678, 87654321), (2 ** 26 - 1, 3)]:
        v = g.interleave64(x, y)
        sep = g.deinterleave64(v)
        assert sep & 0xFFFFFFFF == x
        assert sep >> 32 == y


def test_neighbours_move_one_box():
    bits = g.encode(10, 10, 10)
    nb = g.neighbors(bits, 10)
    c = g.decode_area(bits, 10)
    e = g.decode_area(nb["east"], 10)
    n = g.decode_area(nb["north"], 10)
    assert abs(e[0] - c[1]) < 1e-9 and e[2] == c[2]
    assert abs(n[2] - c[3]) < 1e-9 and n[0] == c[0]


def test_steps_estimate():
    assert g.estimate_steps_by_radius(0, 0) == 26
    assert g.estimate_steps_by_radius(200000, 0) == 6
    assert g.estimate_steps_by_radius(200000, 70) == 5
    assert g.estimate_steps_by_radius(200000, 85) == 4
    areas = g.search_areas(15, 37, 200000.0)
    assert len(areas) == 9 and areas[0] is not None
