"""The site as configured: the grid connection, nested circuits with their fuses, and
the stations (EVSEs) on them. Decoded from `ems.site` in zaspot.yaml.

    site:
      main_breaker: 63          # A per phase at the grid connection
      phases: 3
      voltage: 230              # V phase to neutral
      margin: 1                 # A kept below every fuse
      circuits:
        - name: garage
          fuse: 40
          stations:
            - {id: CP-1, evses: 2, max_current: 32}
            - {id: CP-2, phases: 1, phase: L2, priority: 1}
          circuits: [...]       # sub-circuits, as deep as the wiring goes

Currents are per phase. A 3-phase EVSE draws its current on every phase; a 1-phase one
only on the phase it is wired to, which is what makes load balancing phase-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

GRID = "grid"  # the name of the root circuit: the main breaker
PHASE_INDEX = {"L1": 0, "L2": 1, "L3": 2}

Key = tuple[str, int]  # (station_id, evse_id)


@dataclass
class StationEntry:
    id: str
    evses: int = 1
    phases: Literal[1, 3] = 3
    phase: Literal["L1", "L2", "L3"] = "L1"  # the grid phase a 1-phase station is wired to
    max_current: float = 32.0  # A per phase: the station's rating
    min_current: float = 6.0  # A: below 6 A (IEC 61851) an EV cannot charge
    priority: int = 0  # higher goes first in `priority` mode
    unit: Literal["A", "W"] = "A"  # how the station wants its charging profiles


@dataclass
class CircuitEntry:
    name: str
    fuse: float  # A per phase
    stations: list[StationEntry] = field(default_factory=list)
    circuits: list[CircuitEntry] = field(default_factory=list)


@dataclass
class SiteEntry:
    main_breaker: float  # A per phase
    phases: Literal[1, 3] = 3
    voltage: float = 230.0
    margin: float = 1.0  # A kept below each fuse and the main breaker
    stations: list[StationEntry] = field(default_factory=list)  # straight on the main connection
    circuits: list[CircuitEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Circuit:
    name: str
    fuse_a: float
    parent: str | None


@dataclass(frozen=True, slots=True)
class EvseSpec:
    station_id: str
    evse_id: int
    path: tuple[str, ...]  # circuits from the grid connection down to the EVSE's own
    phases: tuple[int, ...]  # grid phases it draws on (0 = L1)
    min_a: float
    max_a: float
    priority: int = 0
    unit: str = "A"

    @property
    def key(self) -> Key:
        return (self.station_id, self.evse_id)

    def watts(self, amps: float, volts: float) -> float:
        return amps * volts * len(self.phases)


@dataclass(frozen=True)
class Site:
    voltage: float
    phases: int
    margin_a: float
    circuits: dict[str, Circuit]
    evses: dict[Key, EvseSpec]

    @property
    def main_breaker_a(self) -> float:
        return self.circuits[GRID].fuse_a

    def capacity(self) -> dict[str, tuple[float, ...]]:
        """What each circuit may carry per phase, margin taken off."""
        return {name: (max(0.0, c.fuse_a - self.margin_a),) * self.phases for name, c in self.circuits.items()}

    def stations(self) -> set[str]:
        return {s for s, _ in self.evses}


class SiteError(ValueError):
    """A site that cannot be wired as described (the config loader adds file:line)."""


def build_site(entry: SiteEntry) -> Site:
    circuits: dict[str, Circuit] = {GRID: Circuit(GRID, entry.main_breaker, None)}
    evses: dict[Key, EvseSpec] = {}
    _add(entry, entry.stations, entry.circuits, (GRID,), circuits, evses)
    if not evses:
        raise SiteError("ems.site: no stations on any circuit")
    return Site(entry.voltage, entry.phases, entry.margin, circuits, evses)


def _add(site: SiteEntry, stations: list[StationEntry], children: list[CircuitEntry], path: tuple[str, ...],
         circuits: dict[str, Circuit], evses: dict[Key, EvseSpec]) -> None:
    for st in stations:
        if st.min_current > st.max_current or st.evses < 1:
            raise SiteError(f"station {st.id}: needs evses >= 1 and min_current <= max_current")
        phases = (0,) if site.phases == 1 else (0, 1, 2) if st.phases == 3 else (PHASE_INDEX[st.phase],)
        for evse_id in range(1, st.evses + 1):
            if (st.id, evse_id) in evses:
                raise SiteError(f"station {st.id} is listed twice")
            evses[st.id, evse_id] = EvseSpec(st.id, evse_id, path, phases, st.min_current, st.max_current,
                                             st.priority, st.unit)
    for child in children:
        if child.name in circuits:
            raise SiteError(f"circuit name '{child.name}' is used twice")
        circuits[child.name] = Circuit(child.name, child.fuse, path[-1])
        _add(site, child.stations, child.circuits, (*path, child.name), circuits, evses)
