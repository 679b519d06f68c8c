"""The `health:` section of zaspot.yaml.

    health:
      timezone: Europe/Prague    # days and months of the report (default UTC)
      target: 97                 # % uptime a port should reach (NEVI, CEC 97; UK rapid 99)
      repeat_offender: 3         # failures in a month that list a station as a repeat offender
      refresh: 300               # s between the figures /metrics and the TUI show
      maintenance:               # time not counted against uptime (the API adds more)
        - {start: 2026-11-10T08:00, end: 2026-11-10T12:00, reason: connector swap, stations: [CP-1]}
      drift:                     # the temperature-per-ampere drift test (zaspot.health.drift)
        baseline_days: 7         # the first days of a port's history set its baseline
        smoothing: 0.2           # the EWMA's weight of a new day
        limit_sigmas: 3          # the control limit, in the baseline's standard deviations
        min_samples: 12          # paired readings a day needs to count
        min_current_spread: 2    # A: a day whose current hardly varies says nothing per ampere
        pair_within: 120         # s between a temperature and the current it is paired with

A maintenance window without `stations` covers the whole site; with `evse_id` /
`connector_id` it covers one port. Times are in `timezone` unless they carry an offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zaspot.ranges import Invalid, Range


@dataclass
class MaintenanceWindow:
    start: str  # ISO 8601 date-time
    end: str
    reason: str = "maintenance"
    stations: list[str] = field(default_factory=list)  # [] = every station
    evse_id: int | None = None
    connector_id: int | None = None

    def validate(self) -> None:
        for key in ("start", "end"):
            try:
                datetime.fromisoformat(str(getattr(self, key)))
            except ValueError:
                raise Invalid(key, f"{getattr(self, key)!r} is not a date-time (2026-11-10T08:00)") from None
        start, end = datetime.fromisoformat(str(self.start)), datetime.fromisoformat(str(self.end))
        if (start.tzinfo is None) != (end.tzinfo is None):  # naive and aware do not compare
            raise Invalid("end", "start and end both carry an offset (+01:00), or neither does")
        if end <= start:
            raise Invalid("end", f"{self.end} is not after start ({self.start})")
        if not str(self.reason or "").strip():
            raise Invalid("reason", "a maintenance window needs a reason (what the time is excluded for)")
        if self.connector_id is not None and self.evse_id is None:
            raise Invalid("connector_id", "a connector needs its evse_id too")

    def span(self, zone: ZoneInfo) -> tuple[float, float]:
        """(start, end) as Unix times; a time without an offset is in `zone`."""
        return tuple(_epoch(str(v), zone) for v in (self.start, self.end))  # type: ignore[return-value]


def _epoch(text: str, zone: ZoneInfo) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


@dataclass
class DriftConfig:
    baseline_days: Annotated[int, Range(2, 90)] = 7
    smoothing: Annotated[float, Range(0.01, 1.0)] = 0.2
    limit_sigmas: Annotated[float, Range(0.5, 10)] = 3.0
    min_samples: Annotated[int, Range(2, 100_000)] = 12
    min_current_spread: Annotated[float, Range(0, 1000)] = 2.0
    pair_within: Annotated[float, Range(1, 3600)] = 120.0


@dataclass
class HealthConfig:
    timezone: str = "UTC"
    target: Annotated[float, Range(0, 100)] = 97.0
    repeat_offender: Annotated[int, Range(1, 10_000)] = 3
    refresh: Annotated[float, Range(5, 86400)] = 300.0
    maintenance: list[MaintenanceWindow] = field(default_factory=list)
    drift: DriftConfig = field(default_factory=DriftConfig)

    def validate(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("timezone", f"{self.timezone!r} is not a time zone (e.g. UTC or Europe/Prague)") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
