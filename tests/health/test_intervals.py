"""Interval arithmetic the uptime figures rest on (zaspot.health.intervals)."""

from __future__ import annotations

import itertools
import random

from zaspot.health import intervals as iv


def test_merge_joins_overlapping_and_touching_spans_and_drops_empty_ones():
    # A fault code that changes mid-fault closes one row and opens the next at the same
    # instant: touching spans are one episode.
    assert iv.merge([(5, 7), (1, 3), (3, 4), (6, 9), (10, 10), (12, 11)]) == [(1, 4), (5, 9)]
    assert iv.merge([]) == []


def test_clip_cuts_to_the_window():
    assert iv.clip([(0, 5), (8, 20), (30, 40)], 2, 25) == [(2, 5), (8, 20)]


def test_intersect_and_subtract():
    outage = [(0, 10), (20, 30)]
    window = [(5, 25)]
    assert iv.intersect(outage, window) == [(5, 10), (20, 25)]
    assert iv.subtract(outage, window) == [(0, 5), (25, 30)]
    assert iv.subtract(outage, []) == outage
    assert iv.subtract(outage, [(-5, 100)]) == []
    assert iv.subtract([(0, 10)], [(2, 3), (4, 5), (9, 12)]) == [(0, 2), (3, 4), (5, 9)]


def test_split_by_days():
    # bounds 0 | 10 | 20 | 30: a span over two days counts in both
    assert iv.split_by([(5, 12), (18, 25), (29, 40)], [0, 10, 20, 30]) == [5, 4, 6]
    assert iv.split_by([], [0, 10]) == [0.0]


def _points(spans, lo, hi):
    return {x for x in range(lo, hi) if any(s <= x < e for s, e in spans)}


def test_set_operations_agree_with_counting_points():
    rng = random.Random(19)
    for _ in range(300):
        a = iv.merge((s, s + rng.randint(0, 8)) for s in (rng.randint(0, 60) for _ in range(rng.randint(0, 6))))
        b = iv.merge((s, s + rng.randint(0, 8)) for s in (rng.randint(0, 60) for _ in range(rng.randint(0, 6))))
        pa, pb = _points(a, 0, 80), _points(b, 0, 80)
        assert _points(iv.intersect(a, b), 0, 80) == pa & pb
        assert _points(iv.subtract(a, b), 0, 80) == pa - pb
        assert _points(iv.union(a, b), 0, 80) == pa | pb
        assert iv.measure(iv.union(a, b)) == len(pa | pb)
        bounds = [0, 13, 27, 50, 80]
        assert iv.split_by(a, bounds) == [len({x for x in pa if lo <= x < hi}) for lo, hi in itertools.pairwise(bounds)]
