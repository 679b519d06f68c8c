"""Small figures helpers shared by the scenarios."""
from __future__ import annotations


def percentile_ms(xs: list[float], q: float) -> float | None:
    """The q-quantile of durations in seconds, in ms (None when there are none)."""
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))] * 1000.0, 3)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b rounded, or None when either is missing or b is zero."""
    if a is None or not b:
        return None
    return round(a / b, 3)
