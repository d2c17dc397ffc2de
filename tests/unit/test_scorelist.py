"""ScoreList (the sorted set's ordered index) against a plain sorted list of
(score, member) tuples, under random inserts, removals, range deletions and
positional queries, with small sublists so splits and merges happen often."""

import random

import pytest

from securekv.engine import scorelist
from securekv.engine.scorelist import ScoreList


@pytest.fixture
def small_load(monkeypatch):
    monkeypatch.setattr(scorelist, "LOAD", 4)
    monkeypatch.setattr(scorelist, "_MAX", 8)
    monkeypatch.setattr(scorelist, "_MIN", 2)


def check(sl: ScoreList, model: list) -> None:
    assert len(sl) == len(model)
    assert list(sl) == model
    assert list(reversed(sl)) == model[::-1]
    assert list(sl.members()) == [m for _s, m in model]
    assert all(len(s) for s in sl._s)
    assert sl._maxs == [s[-1] for s in sl._s] and sl._maxm == [m[-1] for m in sl._m]


@pytest.mark.parametrize("seed", range(12))
def test_random_operations_match_a_sorted_list(small_load, seed):
    rnd = random.Random(seed)
    scores = [float(x) for x in range(-3, 4)] + [-0.0, float("inf"), float("-inf"), 0.5]
    sl, model, present = ScoreList(), [], {}
    for step in range(1500):
        op = rnd.random()
        if op < 0.5 or not present:
            m = b"m%d" % rnd.randrange(60)
            s = rnd.choice(scores)
            if m in present:
                old = present.pop(m)
                sl.remove(old, m)
                model.remove((old, m))
            sl.add(s, m)
            present[m] = s
            model.append((s, m))
            model.sort()
        elif op < 0.75:
            m = rnd.choice(list(present))
            s = present.pop(m)
            assert sl.index(s, m) == model.index((s, m))
            sl.remove(s, m)
            model.remove((s, m))
        elif op < 0.8:
            a = rnd.randrange(len(model) + 1)
            b = min(len(model), a + rnd.randrange(12))
            sl.delete_range(a, b)
            for s, m in model[a:b]:
                del present[m]
            del model[a:b]
        else:
            n = len(model)
            a = rnd.randrange(n + 1)
            b = rnd.randrange(a, n + 1)
            scores_, members = sl.range(a, b)
            assert list(zip(scores_, members)) == model[a:b]
            if n:
                k = rnd.randrange(-n, n)
                assert sl[k] == model[k]
            x = rnd.choice(scores)
            assert sl.bisect_score(x) == sum(1 for s, _m in model if s < x)
            assert sl.bisect_score(x, right=True) == sum(1 for s, _m in model if s <= x)
        if step % 50 == 0:
            check(sl, model)
    check(sl, model)
    copy = sl.copy()
    check(copy, model)
    assert list(ScoreList.from_pairs(model[::-1])) == model


def test_remove_of_an_absent_pair_raises(small_load):
    sl = ScoreList.from_pairs([(1.0, b"a"), (2.0, b"b")])
    with pytest.raises(ValueError):
        sl.remove(1.0, b"b")
    with pytest.raises(ValueError):
        sl.remove(3.0, b"c")
    assert list(sl) == [(1.0, b"a"), (2.0, b"b")]
