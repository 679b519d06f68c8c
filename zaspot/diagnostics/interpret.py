"""What stations report -> faults, power-module states and temperatures on the bus.

Listens to `status_changed` and `device_event` (never on the socket path):
- a status change is a fault state (zaspot.diagnostics.faults), unless a 1.6
  vendor mapping says what it means for a power module;
- NotifyEvent / NotifyReport (2.0.1) and vendor DataTransfers (1.6) carry
  device-model readings: Problem / Tripped are faults, AcDcConverter variables
  are module states, and report pages feed the inventory collector.

A status fires an active Fault each time it reports an error, and a clearing one only
when its connector holds a fault (known here since the start, from the open alarms
before that, or a status leaving Faulted): a status with no error that clears nothing
fires nothing, so the events table holds no fault row per ordinary status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from zaspot.core import events as ev
from zaspot.diagnostics import faults, vendor
from zaspot.diagnostics.inventory import ReportCollector
from zaspot.diagnostics.modules import ModuleTracker
from zaspot.diagnostics.readings import Reading, from_notify_event, from_notify_report
from zaspot.diagnostics.stations import StationModels
from zaspot.diagnostics.temperature import location_v201
from zaspot.ocpp.metering import parse_time

_LOGGER = logging.getLogger(__name__)


class Interpreter:
    def __init__(self, ctx, models: StationModels, modules: ModuleTracker, reports: ReportCollector) -> None:
        self.ctx, self.models, self.modules, self.reports = ctx, models, modules, reports
        # (station, status origin) -> the code it holds: what a clearing status can clear.
        self._held: dict[tuple[str, str], str | None] = {}
        self._restored: asyncio.Future[None] | None = None

    def attach(self) -> Callable[[], None]:
        bus = self.ctx.bus
        unsubs = [
            bus.listen(ev.StatusChanged.type, self.on_status, name="diagnostics.status"),
            bus.listen(ev.DeviceEvent.type, self.on_device_event, name="diagnostics.device_events"),
        ]
        return lambda: [u() for u in unsubs] and None

    def _mapping(self, station_id: str) -> vendor.VendorMapping | None:
        if self.ctx.sessions.get(station_id) and self.ctx.sessions[station_id].version != "1.6":
            return None
        return vendor.mapping_for(self.models.vendor(station_id), self.models.model(station_id))

    async def on_status(self, e: ev.StatusChanged) -> None:
        mapping = self._mapping(e.station_id)
        mapped = mapping.status_readings(e.connector_id, e.error_code, e.vendor_error_code, e.info) if mapping else []
        fault = faults.from_status(e)
        if mapped:
            await self.readings(e.station_id, mapped, "StatusNotification", e.time, temperatures=True)
        if not mapped or not fault.active:  # a mapped code is the module's, not the connector's
            # Leaving Faulted clears even what we cannot know of (a Faulted with no alarm
            # of its own, reported before a restart).
            await self._status_fault(fault, clears=e.previous == "Faulted")

    async def _status_fault(self, fault: ev.Fault, clears: bool = False) -> None:
        """Fire an active fault; a clearing one only if its origin holds something (or `clears`)."""
        await self._restore()
        key = (fault.station_id, fault.origin)
        if fault.active:
            self._held[key] = fault.code
        elif key in self._held or clears:  # a status clears whatever its connector held
            self._held.pop(key, None)
        else:
            return
        self.ctx.bus.fire(fault)

    async def _restore(self) -> None:
        """What status origins held before this start: those of the open alarms (read once)."""
        if self._restored is None:
            self._restored = asyncio.get_running_loop().create_future()
            try:
                for alarm in await self.ctx.store.open_alarms():
                    origin = (alarm.get("details") or {}).get("origin") or ""
                    if origin.startswith(faults.STATUS_ORIGIN):
                        self._held.setdefault((alarm["station_id"], origin), alarm["code"])
            except Exception:  # what is reported from now on still counts
                _LOGGER.exception("diagnostics: open alarms could not be read")
            finally:
                self._restored.set_result(None)
        elif not self._restored.done():
            await self._restored

    async def on_device_event(self, e: ev.DeviceEvent) -> None:
        p = e.payload
        if e.action == "NotifyEvent":
            when = parse_time(p.get("generatedAt")) or e.time
            await self.readings(e.station_id, list(from_notify_event(p)), "NotifyEvent", when)
        elif e.action == "NotifyReport":
            when = parse_time(p.get("generatedAt")) or e.time
            await self.readings(e.station_id, list(from_notify_report(p)), "NotifyReport", when)
            self.reports.feed(e.station_id, p)
        elif e.action == "DataTransfer" and (mapping := self._mapping(e.station_id)):
            mapped = mapping.data_transfer_readings(p.get("vendorId", ""), p.get("messageId"), p.get("data"))
            await self.readings(e.station_id, mapped, "DataTransfer", e.time, temperatures=True)

    async def readings(self, station_id: str, readings: list[Reading], source: str, ts: float | None = None,
                       temperatures: bool = False) -> None:
        """Fire what the readings mean. temperatures=False when the session already fired them."""
        ts = ts or time.time()
        bus, store = self.ctx.bus, self.ctx.store
        for r in readings:
            fault = faults.from_reading(station_id, r, source, ts)
            if fault is not None:
                bus.fire(fault)
            if temperatures and r.variable == "Temperature" and r.celsius is not None:
                bus.fire(ev.Temperature(
                    station_id, location_v201(r.component), r.celsius, r.evse_id, r.connector_id,
                    r.instance, source, time=ts,
                ))
            changed = self.modules.update(station_id, r, ts)
            if changed is not None:
                await store.power_module(
                    station_id, changed.instance, changed.enabled, changed.problem, changed.tripped,
                    changed.celsius, ts,
                )
                bus.fire(changed)

    async def readings_with_temperatures(self, station_id: str, readings: list[Reading], source: str) -> None:
        """Readings we asked for (GetVariables): nobody has fired their temperatures yet."""
        await self.readings(station_id, readings, source, temperatures=True)
