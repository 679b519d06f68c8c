"""Power modules (2.0.1 AcDcConverter instances, or a 1.6 vendor's equivalent):
the last known Enabled / Problem / Tripped / Temperature of each, per station."""

from __future__ import annotations

from dataclasses import dataclass, replace

from zaspot.core import events as ev
from zaspot.diagnostics.readings import Reading

MODULE_COMPONENTS = ("AcDcConverter", "DCConverter", "PowerConverter")
_FLAGS = {"Enabled": "enabled", "Problem": "problem", "Tripped": "tripped"}


@dataclass(frozen=True, slots=True)
class ModuleState:
    enabled: bool | None = None
    problem: bool | None = None
    tripped: bool | None = None
    celsius: float | None = None


class ModuleTracker:
    def __init__(self) -> None:
        self._modules: dict[tuple[str, str], ModuleState] = {}

    def restore(self, rows: list[dict]) -> None:
        """Last known states from the store (power_modules rows)."""
        for r in rows:
            flags = {k: None if r[k] is None else bool(r[k]) for k in ("enabled", "problem", "tripped")}
            self._modules[(r["station_id"], r["instance"])] = ModuleState(**flags, celsius=r["celsius"])

    def update(self, station_id: str, r: Reading, ts: float) -> ev.PowerModule | None:
        """Apply one reading; the module's new state if it changed, else None."""
        if r.component not in MODULE_COMPONENTS:
            return None
        instance = r.instance or "1"
        old = self._modules.get((station_id, instance))
        state = old or ModuleState()
        if r.variable in _FLAGS:
            state = replace(state, **{_FLAGS[r.variable]: r.flag and not r.cleared})
        elif r.variable == "Temperature" and r.celsius is not None:
            state = replace(state, celsius=r.celsius)
        if state == old:
            return None
        self._modules[(station_id, instance)] = state
        return ev.PowerModule(
            station_id, instance, state.enabled, state.problem, state.tripped, state.celsius, time=ts
        )

    def of(self, station_id: str) -> dict[str, ModuleState]:
        return {i: s for (sid, i), s in self._modules.items() if sid == station_id}
