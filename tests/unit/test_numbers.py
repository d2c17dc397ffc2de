"""Long double emulation for INCRBYFLOAT (strtold, x87 addition, %.17Lf humanised).
Expected strings are Redis 7.0.15's replies."""

import pytest

from securekv.commands.strings import (_ld_add, format_long_double_human,
                                       parse_long_double)
from securekv.errors import CommandError


def incr(a: bytes, b: bytes) -> bytes:
    return format_long_double_human(_ld_add(parse_long_double(a), parse_long_double(b)))


@pytest.mark.parametrize("a,b,want", [
    (b"0", b"0.1", b"0.1"),
    (b"10.5", b"0.1", b"10.6"),
    (b"0", b"3.0e3", b"3000"),
    (b"0", b"1e-20", b"0"),
    (b"0", b"-0.000000000000000001", b"0"),
    (b"0", b"-0.00000000000000001", b"-0.00000000000000001"),
    (b"0", b"1e20", b"100000000000000000000"),
    (b"0", b"0x10", b"16"),
    (b"0", b"0x1.8p1", b"3"),
    (b"0", b"3.814697265625e-6", b"0.00000381469726562"),     # a tie: to even
    (b"0", b"1.23456789012345678901234567890", b"1.23456789012345679"),
    (b"1e18", b"0.5", b"1000000000000000000.5"),
    (b"5.0e3", b"2.0e2", b"5200"),
    (b"0", b"98e0", b"98"),
    (b"1", b"1e-0", b"2"),
    (b"1.1", b"-1.1", b"0"),
    (b"0", b"9223372036854775807", b"9223372036854775807"),
])
def test_incrbyfloat_values(a, b, want):
    assert incr(a, b) == want


def test_repeated_tenths_match_long_double():
    v = parse_long_double(b"0")
    for _ in range(10):
        v = parse_long_double(format_long_double_human(_ld_add(v, parse_long_double(b"0.1"))))
    assert format_long_double_human(v) == b"1"


@pytest.mark.parametrize("bad", [
    b"", b" 1", b"1 ", b"abc", b"nan", b"-nan", b"1e", b".", b"0x", b"1_0", b"1,5", b"++1",
    b"1e5000", b"-1e5000", b"1e-5000", b"0x1p99999", b"1" * 5120,
])
def test_rejected_like_string2ld(bad):
    with pytest.raises(CommandError):
        parse_long_double(bad)


def test_infinity_parses_but_cannot_be_added():
    assert _ld_add(parse_long_double(b"inf"), parse_long_double(b"1")) == "inf"
    assert _ld_add(parse_long_double(b"-Infinity"), parse_long_double(b"1")) == "inf"


def test_huge_values_format_fully():
    s = incr(b"0", b"1e4000")
    assert len(s) == 4000 and s.startswith(b"99999999999999999999")
    assert incr(s, b"0") == s                   # re-parses its own output
