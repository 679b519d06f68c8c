"""Each station's recent health for /metrics and the TUI (ctx.health.snapshot).

Once at start, a few seconds after a station's connection or a status changes (so a fault
shows in the TUI while it lasts, not at the next refresh), and at least every
`health.refresh` s, it computes, per station, the last 30 days:
uptime, outage minutes, failures, MTBF and MTTR (zaspot.health.uptime.availability) and
the power-module trips (a module's `tripped` turning true: store.module_trips, as the
report counts them). It is a cache of that computation, never a source for the reports: a
failing computation is logged and the last snapshot stays. Open alarms are read from the fleet
state (ctx.fleet, their owner) each time `stations` is read, so they are never a refresh behind.

    snapshot.stations  {station_id: {"uptime_30d", "outage_minutes_30d", "failures_30d",
                        "mtbf_hours_30d", "mttr_hours_30d", "ports", "target",
                        "open_alarms", "module_trips_30d"}}
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from zaspot.core import events as ev
from zaspot.health import uptime

_LOGGER = logging.getLogger(__name__)

WINDOW = 30 * 86400.0  # s: "recent" is the last 30 days
SETTLE = 2.0  # s after a change before computing: the outage log has committed it, a burst is one computation
LOOP_SHARE = 0.05  # at most this share of the time goes to computing, however often things change
# What changes a port's outages (zaspot.health.outages.INPUTS).
CHANGES = (ev.StatusChanged.type, ev.StationConnected.type, ev.StationDisconnected.type, ev.StationOffline.type,
           ev.StationOnline.type)


async def trips_per_station(store: Any, start: float, end: float) -> dict[str, int]:
    """Power-module trips begun in [start, end) per station, as fault analytics count them
    (store.module_trips: one per trip, however often a station reports it)."""
    out: dict[str, int] = {}
    for row in await store.module_trips(start, end):
        out[row["station_id"]] = out.get(row["station_id"], 0) + int(row["trips"])
    return out


class Snapshot:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.config = ctx.config.health
        self._computed: dict[str, dict[str, Any]] = {}
        self.computed_at: float | None = None  # wall time of the last computation that worked
        self._task: asyncio.Task[None] | None = None
        self._withdraw: list[Callable[[], None]] = []
        self._computing = asyncio.Lock()  # one at a time: an older computation never lands after a newer one
        self._changed = asyncio.Event()
        self.took = 0.0  # s the last computation took

    @property
    def stations(self) -> dict[str, dict[str, Any]]:
        """The last computation, with each station's open alarms as they are now."""
        fleet = self.ctx.fleet.stations
        out = {sid: {**row, "open_alarms": _open_alarms(fleet.get(sid))} for sid, row in self._computed.items()}
        for sid, state in fleet.items():  # a station new since the last computation: its alarms already count
            if sid not in out:
                out[sid] = {**_unknown(self.config.target), "open_alarms": _open_alarms(state)}
        return out

    async def start(self) -> None:
        metrics = self.ctx.metrics
        self._withdraw = [
            metrics.publish_labelled("zaspot_station_uptime_ratio",
                                     "Share of the last 30 days each station's ports were up (0..1).", "station",
                                     lambda: {s: None if r["uptime_30d"] is None else round(r["uptime_30d"] / 100, 6)
                                              for s, r in self.stations.items()}),
            metrics.publish_labelled("zaspot_station_open_alarms", "Alarms open on each station now.", "station",
                                     lambda: {s: r["open_alarms"] for s, r in self.stations.items()}),
            metrics.publish_labelled("zaspot_station_module_trips",
                                     "Power-module trips on each station in the last 30 days.", "station",
                                     lambda: {s: r["module_trips_30d"] for s, r in self.stations.items()}),
        ]
        self._withdraw.append(self.ctx.bus.listen(CHANGES, lambda _e: self._changed.set(), name="health.snapshot",
                                                  inline=True))
        self._task = asyncio.get_running_loop().create_task(self._run(), name="health-snapshot")

    async def stop(self) -> None:
        for withdraw in self._withdraw:
            withdraw()
        self._withdraw = []
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            await self.refresh()
            try:
                await asyncio.wait_for(self._changed.wait(), self.config.refresh)
            except TimeoutError:
                continue
            await asyncio.sleep(max(SETTLE, self.took / LOOP_SHARE))

    async def refresh(self) -> bool:
        """Compute the snapshot now; False (logged, the last one kept) when that fails."""
        async with self._computing:
            now, began = time.time(), time.perf_counter()
            try:
                computed = await self.compute(now - WINDOW, now)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("health snapshot: computing the last 30 days failed; the last snapshot stays")
                return False
            self._computed, self.computed_at = computed, now
            self.took = time.perf_counter() - began
            return True

    async def compute(self, start: float, end: float) -> dict[str, dict[str, Any]]:
        store = self.ctx.store
        figures = await uptime.availability(store, self.config, start, end)
        trips = await trips_per_station(store, start, end)
        target = self.config.target
        out = {sid: _unknown(target) for sid in self.ctx.fleet.stations}
        for row in figures.get("stations", []):
            out[row["station_id"]] = {
                "uptime_30d": row.get("uptime"),
                "outage_minutes_30d": row.get("outage_minutes") or 0,
                "failures_30d": row.get("failures") or 0,
                "mtbf_hours_30d": row.get("mtbf_hours"),
                "mttr_hours_30d": row.get("mttr_hours"),
                "ports": row.get("ports") or 0,
                "target": target,
                "module_trips_30d": 0,
            }
        for sid, n in trips.items():
            out.setdefault(sid, _unknown(target))["module_trips_30d"] = n
        return out


def _unknown(target: float) -> dict[str, Any]:
    """A station with no port time in the window (yet): no uptime to tell."""
    return {"uptime_30d": None, "outage_minutes_30d": 0, "failures_30d": 0, "mtbf_hours_30d": None,
            "mttr_hours_30d": None, "ports": 0, "target": target, "module_trips_30d": 0}


def _open_alarms(state: Any) -> int:
    return len(state.open_alarms) if state is not None else 0
