"""The `ems:` section of zaspot.yaml, decoded at startup with `file:line` errors.

    ems:
      strategy: active_load_management   # or static, dynamic_load_balancing, pv_surplus,
                                         # full_ems, spot_price, or a plugin's strategy
      interval: 2            # s between control-loop ticks (also on every session start/stop)
      deadband: 1            # A: smaller rises are not sent
      lease: 900             # s: a limit falls back to the safe one unless renewed
      stale_after: 30        # s: older sensor data counts as missing -> safe limits
      fallback_reserve: 16   # A per phase left for the building in the safe limits
      site: {...}            # see zaspot/ems/site.py
      sensors:
        site_meter: {platform: http_json, url: ..., power: ..., currents: [...]}
        pv: {platform: simulated}
      prices: {platform: file, path: prices.csv}
      config: {mode: fair}   # the strategy's own settings

Every number has a range (below, and for the site's dataclasses the `constrain` calls);
the margin must be below every fuse, min_current not above max_current, and the lease
at least twice the interval.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from zaspot.config import ConfigError, RawSection, decode
from zaspot.ems.site import CircuitEntry, Site, SiteEntry, SiteError, StationEntry, build_site
from zaspot.ranges import Invalid, Range, constrain, num

# The site's dataclasses live in zaspot/ems/site.py; their ranges are declared here.
# Currents are A per phase; a grid connection or fuse up to 10,000 A, one EVSE up to 1,000 A.
constrain(SiteEntry, main_breaker=Range(1, 10_000), voltage=Range(100, 500), margin=Range(0, 1000))
constrain(CircuitEntry, fuse=Range(1, 10_000))
constrain(StationEntry, evses=Range(1, 64), max_current=Range(1, 1000), min_current=Range(0, 1000),
          priority=Range(-1000, 1000))


@dataclass
class EmsConfig:
    site: SiteEntry
    strategy: str = "dynamic_load_balancing"
    interval: Annotated[float, Range(0.1, 3600)] = 5.0
    deadband: Annotated[float, Range(0, 100)] = 1.0
    lease: Annotated[float, Range(10, 86400)] = 900.0  # and at least 2 x interval
    stale_after: Annotated[float, Range(1, 3600)] = 30.0
    fallback_reserve: Annotated[float, Range(0, 10_000)] = 0.0
    safe_current: Annotated[float, Range(0, 1000)] | None = None  # A cap on every EVSE's safe limit
    sensors: dict[str, RawSection] = field(default_factory=dict)
    prices: RawSection | None = None
    config: RawSection | None = None

    def validate(self) -> None:
        if self.lease < 2 * self.interval:  # leases are renewed at half time, on a tick
            raise Invalid("lease", f"{num(self.lease)} must be at least 2 x interval ({num(2 * self.interval)})")
        site = self.site
        for name, fuse in _fuses(site):
            if site.margin >= fuse:
                raise Invalid("site.margin", f"{num(site.margin)} must be below every fuse ({name}: {num(fuse)})")
        for path, station in _stations(site):
            if station.min_current > station.max_current:
                raise Invalid(f"{path}.min_current", f"{num(station.min_current)} must not be above "
                                                     f"max_current ({num(station.max_current)})")


def _fuses(site: SiteEntry) -> Iterator[tuple[str, float]]:
    """(name, A) of the main breaker and every circuit's fuse."""
    yield "main_breaker", site.main_breaker
    for _, circuit in _circuits("site", site.circuits):
        yield circuit.name, circuit.fuse


def _circuits(where: str, circuits: list[CircuitEntry]) -> Iterator[tuple[str, CircuitEntry]]:
    for i, circuit in enumerate(circuits):
        path = f"{where}.circuits[{i}]"
        yield path, circuit
        yield from _circuits(path, circuit.circuits)


def _stations(site: SiteEntry) -> Iterator[tuple[str, StationEntry]]:
    for i, station in enumerate(site.stations):
        yield f"site.stations[{i}]", station
    for path, circuit in _circuits("site", site.circuits):
        for i, station in enumerate(circuit.stations):
            yield f"{path}.stations[{i}]", station


def load(raw: RawSection) -> tuple[EmsConfig, Site]:
    config = decode(EmsConfig, raw)
    try:
        return config, build_site(config.site)
    except SiteError as exc:
        raise ConfigError(f"{raw.location()}: {raw.where}.site: {exc}") from None


def platform_of(raw: RawSection) -> tuple[str, RawSection]:
    """`{platform: x, ...}` -> ("x", the rest)."""
    platform = raw.get("platform")
    if not isinstance(platform, str):
        raise ConfigError(f"{raw.location()}: {raw.where}: missing 'platform'")
    return platform, raw.without("platform")
