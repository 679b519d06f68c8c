"""Vendor and model of every station, for vendor mappings and per-model thresholds.

Loaded from the store on start (a station may resume without booting again) and
kept current from `station_booted` (the diagnostics consumer hands them in).
"""

from __future__ import annotations

from zaspot.core import events as ev


class StationModels:
    def __init__(self) -> None:
        self._known: dict[str, tuple[str | None, str | None]] = {}

    async def load(self, store) -> None:
        for row in await store.stations():
            self._known[row["id"]] = (row.get("vendor"), row.get("model"))

    def booted(self, e: ev.StationBooted) -> None:
        self._known[e.station_id] = (e.vendor, e.model)

    def vendor(self, station_id: str) -> str | None:
        return self._known.get(station_id, (None, None))[0]

    def model(self, station_id: str) -> str | None:
        return self._known.get(station_id, (None, None))[1]
