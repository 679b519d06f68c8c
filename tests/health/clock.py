"""A virtual wall clock for an accelerated month: `time.time()` runs on from a chosen start
and jumps forward when the test says so. Everything zaspot and the simulator stamp (event
times, station timestamps, outage starts and ends) reads `time.time()`; the event loop's
timers run on the monotonic clock, so sockets, pings and timeouts are untouched.

    clock = VirtualClock(start)        # and monkeypatch.setattr(time, "time", clock.time)
    clock.advance(3 * 3600)            # three hours later, at once
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

_real = time.time


class VirtualClock:
    def __init__(self, start: float) -> None:
        self.offset = start - _real()

    def time(self) -> float:
        return _real() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set(self, moment: float) -> None:
        """Jump to `moment` (never backwards: what was stamped stays in order)."""
        if moment < self.time():
            raise ValueError("a virtual clock does not go back")
        self.offset = moment - _real()


def utc(text: str) -> float:
    """'2026-11-01T00:00' as a Unix time, in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def virtual_clock(monkeypatch):
    """A clock at 2026-11-01T00:00 UTC; the test advances it."""
    clock = VirtualClock(utc("2026-11-01T00:00"))
    monkeypatch.setattr(time, "time", clock.time)
    return clock
