"""Limits go toward safety: every amp and watt value sent is rounded down."""

from __future__ import annotations

import math


def floor_tenth(value: float) -> float:
    """Down to one decimal (what OCPP 1.6's schedules take): 7.75 -> 7.7, 10.69 -> 10.6."""
    return math.floor(value * 10 + 1e-9) / 10
