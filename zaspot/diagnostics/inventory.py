"""On boot of a 2.0.1 station: ask its inventory, then have it push what matters.

1. GetBaseReport(FullInventory); the NotifyReport pages (tbc) are collected by requestId.
2. SetVariableMonitoring: Delta on every Problem / Tripped variable, and on every
   Temperature an UpperThreshold at the alarm's raise point plus a LowerThreshold
   at its clear point (a threshold monitor reports the crossing, not each value,
   so these two are exactly the readings the alarm's hysteresis needs).
3. A station that refuses any of them is polled with GetVariables instead.

Runs as a task of the station's session (session.spawn): it ends with the connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from zaspot.diagnostics.config import DiagnosticsConfig
from zaspot.diagnostics.faults import COMPONENTS, FAULT_VARIABLES
from zaspot.diagnostics.readings import Reading, address, from_get_variables, from_notify_report
from zaspot.diagnostics.temperature import location_v201

_LOGGER = logging.getLogger(__name__)
_SOURCE = "diagnostics"
_request_ids = itertools.count(int(time.time()) % 1_000_000)
# Monitor severities (0 = danger … 9 = debug in 2.0.1).
_FAULT_SEVERITY, _TEMPERATURE_SEVERITY = 2, 5
_PAGE = 20  # variables per GetVariables / SetVariableMonitoring

Handle = Callable[[str, list[Reading], str], Awaitable[None]]


class ReportCollector:
    """NotifyReport pages of the reports we asked for, by (station, requestId)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int], tuple[list[Reading], asyncio.Future[list[Reading]]]] = {}

    def expect(self, station_id: str, request_id: int) -> asyncio.Future[list[Reading]]:
        future = asyncio.get_running_loop().create_future()
        self._pending[(station_id, request_id)] = ([], future)
        return future

    def forget(self, station_id: str, request_id: int) -> None:
        self._pending.pop((station_id, request_id), None)

    def feed(self, station_id: str, payload: dict[str, Any]) -> None:
        key = (station_id, payload["requestId"])
        entry = self._pending.get(key)
        if entry is None:
            return
        entry[0].extend(from_notify_report(payload))
        if not payload.get("tbc"):
            del self._pending[key]
            if not entry[1].done():
                entry[1].set_result(entry[0])


@dataclass
class Inventory:
    """What a station's report says it has worth watching."""

    faults: list[Reading] = field(default_factory=list)  # Problem / Tripped variables
    temperatures: list[Reading] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, readings: list[Reading]) -> Inventory:
        inv = cls()
        for r in readings:
            if r.variable in FAULT_VARIABLES:
                inv.faults.append(r)
            elif r.variable == "Temperature":
                inv.temperatures.append(r)
            if COMPONENTS.get(r.component) == "module":
                inv.modules.add(r.instance or "1")
        return inv

    def watched(self) -> list[Reading]:
        return self.faults + self.temperatures


def _where(r: Reading) -> dict[str, Any]:
    return address(r.component, r.variable, r.instance, r.evse_id, r.connector_id)


def monitors(inv: Inventory, limit_for: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The SetVariableMonitoring items for an inventory (limit_for: location -> limit)."""
    items = [{"type": "Delta", "value": 1, "severity": _FAULT_SEVERITY, **_where(r)} for r in inv.faults]
    for r in inv.temperatures:
        limit = limit_for(location_v201(r.component))
        if limit is None:
            continue
        for kind, value in (("UpperThreshold", limit.raise_c), ("LowerThreshold", limit.clear_c)):
            items.append({"type": kind, "value": value, "severity": _TEMPERATURE_SEVERITY, **_where(r)})
    return items


class StationWatch:
    """The inventory → monitors → (polling) sequence for one 2.0.1 station."""

    def __init__(self, station_id: str, commands: Any, config: DiagnosticsConfig, timeout: float,
                 reports: ReportCollector, limit_for: Callable[[str], Any], handle: Handle) -> None:
        self.station_id, self.commands, self.config, self.timeout = station_id, commands, config, timeout
        self.reports, self.limit_for, self.handle = reports, limit_for, handle
        self.inventory = Inventory()
        self.polling = False

    async def run(self) -> None:
        readings = await self.ask_inventory()
        if readings is None:
            return
        self.inventory = Inventory.of(readings)
        if not self.inventory.watched():
            return
        self.polling = not (self.config.module_monitors and await self.set_monitors())
        if self.polling:
            _LOGGER.info("%s: no variable monitors; polling every %g s", self.station_id, self.config.poll_interval)
            await self.poll_forever()

    async def ask_inventory(self) -> list[Reading] | None:
        request_id = next(_request_ids)
        report = self.reports.expect(self.station_id, request_id)
        try:
            outcome = await self.commands.raw(
                self.station_id, "GetBaseReport", {"requestId": request_id, "reportBase": "FullInventory"},
                source=_SOURCE,
            )
            if not outcome.ok:
                _LOGGER.warning("%s: no inventory: %s", self.station_id, outcome.error or outcome.status)
                return None
            return await asyncio.wait_for(report, self.timeout)
        except TimeoutError:
            _LOGGER.warning("%s: inventory report incomplete after %g s", self.station_id, self.timeout)
            return None
        finally:
            self.reports.forget(self.station_id, request_id)

    async def set_monitors(self) -> bool:
        """True when the station accepted every monitor."""
        items = monitors(self.inventory, self.limit_for)
        for start in range(0, len(items), _PAGE):
            outcome = await self.commands.raw(
                self.station_id, "SetVariableMonitoring", {"setMonitoringData": items[start:start + _PAGE]},
                source=_SOURCE,
            )
            results = (outcome.result or {}).get("setMonitoringResult", []) if outcome.ok else []
            if not results or any(r["status"] != "Accepted" for r in results):
                return False
        return True

    async def poll_once(self) -> None:
        watched = self.inventory.watched()
        for start in range(0, len(watched), _PAGE):
            data = [_where(r) for r in watched[start:start + _PAGE]]
            outcome = await self.commands.raw(
                self.station_id, "GetVariables", {"getVariableData": data}, source=_SOURCE
            )
            if outcome.ok:
                await self.handle(self.station_id, list(from_get_variables(outcome.result)), "GetVariables")

    async def poll_forever(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.config.poll_interval)
