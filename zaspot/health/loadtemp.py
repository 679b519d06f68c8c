"""Temperature against current drawn, folded per port and day (ctx.health.temperature).

A contact that wears or a fan that fails shows as more heat per ampere: the same current
warms the connector more than it used to. This folds the raw history into what the drift
test (zaspot.health.drift) needs, per series and day in the health timezone: the sums n,
Σi, Σt, Σi², Σit, Σt² of each temperature paired with the current drawn at the time.

- A port's temperature (connector, cable, inlet, EVSE) is paired with the nearest
  `Current.Import` reading of the same port within `drift.pair_within` s: 1.6 by connector,
  2.0.1 by EVSE (a 1.6 port's EVSE is its connector, so both pair by the EVSE id). Of a
  three-phase reading the highest phase counts.
- A power module's temperature (location `module`, a 2.0.1 AcDcConverter instance) is
  paired with its station's total current: the station's own meter (EVSE 0) where it has
  one, else the sum of its ports' nearest readings (a port with none near is idle).

Complete hours only, each hour's sums and the mark (`health_marks`) in one transaction:
a crash loses the hour or keeps it whole, a fold run again starts at the mark. At start it
folds what is missing, from the oldest raw meter sample retention still keeps (older
temperatures have no current left to pair with: logged and left out), then every hour;
the drift test runs at start and after each fold that finished a day.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from zaspot.core.tasks import Every
from zaspot.health import drift
from zaspot.health.calendar import day_of
from zaspot.store import health_temps as rows

_LOGGER = logging.getLogger(__name__)
HOUR = 3600.0
MARK = rows.FOLD_MARK
PORT_LOCATIONS = ("connector", "cable", "inlet", "evse")
MODULE = "module"
LOCATIONS = (*PORT_LOCATIONS, MODULE)
HOURS_PER_STEP = 24  # hours with readings folded per transaction: a catch-up never holds the writer long


def hour_floor(ts: float) -> float:
    return ts - ts % HOUR


class Currents:
    """One station's current readings around an hour, by EVSE: the nearest to a moment."""

    def __init__(self, readings: list[tuple], within: float) -> None:
        self.within = within
        self.times: dict[int, list[float]] = {}
        self.amps: dict[int, list[float]] = {}
        for evse, ts, amps in readings:  # oldest first
            self.times.setdefault(evse, []).append(ts)
            self.amps.setdefault(evse, []).append(amps)

    def at(self, evse: int, ts: float) -> float | None:
        times = self.times.get(evse)
        if not times:
            return None
        i = bisect.bisect_left(times, ts)
        best = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - ts))
        return self.amps[evse][best] if abs(times[best] - ts) <= self.within else None

    def station_total(self, ts: float) -> float | None:
        main = self.at(0, ts)
        if main is not None:
            return main
        near = [a for a in (self.at(evse, ts) for evse in self.times if evse > 0) if a is not None]
        return sum(near) if near else None


def pair_sums(temperatures: list[tuple], currents: dict[str, Currents], zone: ZoneInfo) -> list[tuple]:
    """Temperatures (station, evse, connector, location, instance, ts, celsius) paired with
    the current then, summed per series and day: rows for health_temps.add_sums."""
    sums: dict[tuple, list[float]] = {}
    days: dict[float, str] = {}
    for station, evse, connector, location, instance, ts, celsius in temperatures:
        near = currents.get(station)
        if near is None:
            continue
        amps = near.station_total(ts) if location == MODULE else (near.at(evse, ts) if evse > 0 else None)
        if amps is None:
            continue
        minute = ts - ts % 60  # a day starts on a whole minute in every zone
        day = days.get(minute) or days.setdefault(minute, day_of(minute, zone))
        s = sums.setdefault((station, evse, connector, location, instance, day), [0, 0.0, 0.0, 0.0, 0.0, 0.0])
        s[0] += 1
        s[1] += amps
        s[2] += celsius
        s[3] += amps * amps
        s[4] += amps * celsius
        s[5] += celsius * celsius
    return [(*key, *s) for key, s in sums.items()]


def fold_hour(c: sqlite3.Connection, start: float, zone: ZoneInfo, within: float) -> None:
    temperatures = rows.temperatures_between(c, start, start + HOUR, LOCATIONS)
    stations = {t[0] for t in temperatures}
    currents = {s: Currents(rows.currents_between(c, s, start - within, start + HOUR + within), within)
                for s in stations}
    rows.add_sums(c, pair_sums(temperatures, currents, zone))


@dataclass(frozen=True)
class Step:
    hours: int  # hours with readings folded
    before: float | None  # the mark before this step
    upto: float | None  # the mark after it (None: nothing to fold yet)
    unpaired: tuple[float, float] | None = None  # temperatures with no raw current left


def fold_step(c: sqlite3.Connection, until: float, zone: ZoneInfo, within: float,
              max_hours: int = HOURS_PER_STEP) -> Step:
    """One writer op: fold complete hours up to `until` from the mark, the sums and the new
    mark in the op's transaction (at most `max_hours` hours that have readings)."""
    before = upto = rows.mark(c, MARK)
    if upto is None:
        first = rows.oldest_temperature(c)
        if first is None:
            return Step(0, None, None)
        upto = hour_floor(first)
    end = hour_floor(until)
    if upto >= end:
        return Step(0, before, before)
    unpaired = None
    raw = rows.oldest_raw_sample(c)
    if raw is not None and hour_floor(raw) > upto:
        # Retention folded these hours' raw currents into aggregates: nothing to pair with.
        jump = min(hour_floor(raw), end)
        first = rows.oldest_temperature(c, upto)
        if first is not None and first < jump:
            unpaired = (upto, jump)
        upto = jump
    worked = 0
    while upto < end and worked < max_hours:
        following = rows.oldest_temperature(c, upto)
        if following is None or following >= end:
            upto = end
            break
        if following >= upto + HOUR:
            upto = hour_floor(following)  # no readings in between: nothing to add
            continue
        fold_hour(c, upto, zone, within)
        upto += HOUR
        worked += 1
    rows.set_mark(c, MARK, upto)
    return Step(worked, before, upto, unpaired)


class LoadTemperature:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.config = ctx.config.health
        self._lock = asyncio.Lock()  # one fold or check at a time
        self._checked = False  # the drift check ran once since start
        # Keep serving on a failure; the next hour tries again.
        self._every = Every("health.loadtemp", self._until_next_hour, self._fold_and_check, _LOGGER,
                            "temperature trends: fold or drift check failed", first_at_start=True)
        self.unpaired: list[tuple[float, float]] = []  # what retention left without current

    @property
    def settle(self) -> float:
        """s after an hour's end before it is folded: its last temperatures' currents are in."""
        return self.config.drift.pair_within + 60.0

    async def start(self) -> None:
        self._every.start()

    async def stop(self) -> None:
        await self._every.stop()

    async def _fold_and_check(self) -> None:
        before = await self.ctx.store.health_mark(MARK)
        await self.fold()
        after = await self.ctx.store.health_mark(MARK)
        if not self._checked or self._finished_a_day(before, after):
            await self.check()
            self._checked = True

    def _until_next_hour(self) -> float:
        """Seconds until the next hour can be folded (its last currents are in)."""
        due = hour_floor(time.time() - self.settle) + HOUR + self.settle
        return max(due - time.time(), 1.0)

    def _finished_a_day(self, before: float | None, after: float | None) -> bool:
        if after is None or after == before:
            return False
        zone = self.config.zone
        return before is None or day_of(before, zone) != day_of(after, zone)

    async def fold(self, until: float | None = None) -> int:
        """Fold the complete hours up to `until` (default: now, less the settle time) that
        are not folded yet; the number of them that had temperatures."""
        now = time.time()
        until = now - self.settle if until is None else min(until, now)
        zone, within = self.config.zone, self.config.drift.pair_within
        hours = 0
        async with self._lock:
            while True:
                step = await self.ctx.store.fold_temperature_load(fold_step, until, zone, within)
                hours += step.hours
                if step.unpaired is not None:
                    self.unpaired.append(step.unpaired)
                    _LOGGER.warning(
                        "temperature trends: the temperatures from %s to %s have no raw current left to "
                        "pair with (retention folded it into aggregates, or none was sent): not in the trends",
                        *(datetime.fromtimestamp(t, zone).isoformat(timespec="minutes") for t in step.unpaired))
                if step.upto is None or step.upto >= hour_floor(until) or step.upto == step.before:
                    return hours

    async def check(self) -> list[Any]:
        """The drift test now: the TemperatureDrift events that changed, committed."""
        async with self._lock:
            return await drift.check(self.ctx)
