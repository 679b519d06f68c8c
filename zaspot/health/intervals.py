"""Interval arithmetic on half-open spans of Unix time, [start, end).

An interval list here is a list of (start, end) tuples. `merge` gives the canonical form
(sorted, disjoint, touching spans joined); the set operations take and give that form.
Plain Python on sorted lists: a year of a port's outages is a few hundred spans, and
a linear sweep beats anything cleverer at that size.
"""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[float, float]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint; overlapping or touching spans joined, empty ones dropped."""
    out: list[Span] = []
    first: float = 0.0  # set with last, on the first span kept
    last: float | None = None
    for start, end in sorted(spans):  # the hot loop of a year's figures: locals, no indexing
        if end <= start:
            continue
        if last is not None and start <= last:
            last = max(last, end)
        else:
            if last is not None:
                out.append((first, last))
            first, last = start, end
    if last is not None:
        out.append((first, last))
    return out


def clip(spans: Iterable[Span], start: float, end: float) -> list[Span]:
    """Each span cut to [start, end); what falls outside is dropped (order kept)."""
    out = []
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if e > s:
            out.append((s, e))
    return out


def measure(spans: Iterable[Span]) -> float:
    """Total length in seconds (of a merged list: overlaps would count twice)."""
    return sum(e - s for s, e in spans)


def intersect(a: list[Span], b: list[Span]) -> list[Span]:
    """Where both merged lists are."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if e > s:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Span], b: list[Span]) -> list[Span]:
    """What of merged list `a` is not in merged list `b`."""
    out: list[Span] = []
    j = 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            if b[k][0] > s:
                out.append((s, b[k][0]))
            s = max(s, b[k][1])
            k += 1
        if e > s:
            out.append((s, e))
    return out


def union(*lists: Iterable[Span]) -> list[Span]:
    return merge(span for spans in lists for span in spans)


def split_by(spans: list[Span], bounds: list[float]) -> list[float]:
    """Seconds of merged `spans` in each [bounds[k], bounds[k+1]) (a day, a month): one
    sweep over both sorted lists; len(bounds) - 1 figures."""
    out = [0.0] * max(len(bounds) - 1, 0)
    k = 0
    for s, e in spans:
        while k < len(out) and bounds[k + 1] <= s:
            k += 1
        m = k
        while m < len(out) and bounds[m] < e:
            out[m] += max(0.0, min(e, bounds[m + 1]) - max(s, bounds[m]))
            if bounds[m + 1] >= e:
                break
            m += 1
    return out
