"""What stations report -> faults, power-module states and temperatures.

Fed by the diagnostics consumer (zaspot.diagnostics.setup) with `status_changed`
and `device_event` from the event log, never on the socket path; what it derives
goes into the consumer's unit of work, committed with the alarms it causes:
- a status change is a fault state (zaspot.diagnostics.faults), unless a 1.6
  vendor mapping says what it means for a power module;
- NotifyEvent / NotifyReport (2.0.1) and vendor DataTransfers (1.6) carry
  device-model readings: Problem / Tripped are faults, AcDcConverter variables
  are module states, and report pages feed the inventory collector.

A status gives an active Fault each time it reports an error, and a clearing one only
when its connector holds a fault (known here since the start, from the open alarms
before that, or a status leaving Faulted): a status with no error that clears nothing
gives nothing, so the event log holds no fault per ordinary status.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics import faults, vendor
from zaspot.diagnostics.inventory import ReportCollector
from zaspot.diagnostics.modules import ModuleTracker
from zaspot.diagnostics.readings import Reading, from_notify_event, from_notify_report
from zaspot.diagnostics.stations import StationModels
from zaspot.diagnostics.temperature import location_v201
from zaspot.ocpp.metering import parse_time
from zaspot.store import messages
from zaspot.store.diagnostics import POWER_MODULE, flag
from zaspot.store.unit import Unit


class Interpreter:
    def __init__(self, ctx, models: StationModels, modules: ModuleTracker, reports: ReportCollector) -> None:
        self.ctx, self.models, self.modules, self.reports = ctx, models, modules, reports
        # (station, status origin) -> the code it holds: what a clearing status can clear.
        self._held: dict[tuple[str, str], str | None] = {}

    def restore(self, open_alarms: list[dict[str, Any]]) -> None:
        """What status origins held before this start: those of the open alarms."""
        for alarm in open_alarms:
            origin = (alarm.get("details") or {}).get("origin") or ""
            if origin.startswith(faults.STATUS_ORIGIN):
                self._held.setdefault((alarm["station_id"], origin), alarm["code"])

    def _mapping(self, station_id: str) -> vendor.VendorMapping | None:
        if self.ctx.sessions.get(station_id) and self.ctx.sessions[station_id].version != "1.6":
            return None
        return vendor.mapping_for(self.models.vendor(station_id), self.models.model(station_id))

    def on_status(self, e: ev.StatusChanged, unit: Unit) -> None:
        mapping = self._mapping(e.station_id)
        mapped = mapping.status_readings(e.connector_id, e.error_code, e.vendor_error_code, e.info) if mapping else []
        fault = faults.from_status(e)
        if mapped:
            self.readings(e.station_id, mapped, "StatusNotification", unit, e.time, temperatures=True)
        if not mapped or not fault.active:  # a mapped code is the module's, not the connector's
            # Leaving Faulted clears even what we cannot know of (a Faulted with no alarm
            # of its own, reported before a restart).
            self._status_fault(fault, unit, clears=e.previous == "Faulted")

    def _status_fault(self, fault: ev.Fault, unit: Unit, clears: bool = False) -> None:
        """An active fault; a clearing one only if its origin holds something (or `clears`)."""
        key = (fault.station_id, fault.origin)
        if fault.active:
            self._held[key] = fault.code
        elif key in self._held or clears:  # a status clears whatever its connector held
            self._held.pop(key, None)
        else:
            return
        unit.emit(fault)

    def on_device_event(self, e: ev.DeviceEvent, unit: Unit) -> None:
        p = e.payload
        if e.action == "NotifyEvent":
            when = parse_time(p.get("generatedAt")) or e.time
            self.readings(e.station_id, list(from_notify_event(p)), "NotifyEvent", unit, when)
        elif e.action == "NotifyReport":
            when = parse_time(p.get("generatedAt")) or e.time
            self.readings(e.station_id, list(from_notify_report(p)), "NotifyReport", unit, when)
            self.reports.feed(e.station_id, p)
        elif e.action == "DataTransfer" and (mapping := self._mapping(e.station_id)):
            mapped = mapping.data_transfer_readings(p.get("vendorId", ""), p.get("messageId"), p.get("data"))
            self.readings(e.station_id, mapped, "DataTransfer", unit, e.time, temperatures=True)

    def readings(self, station_id: str, readings: list[Reading], source: str, unit: Unit, ts: float | None = None,
                 temperatures: bool = False) -> None:
        """What the readings mean, into `unit`. temperatures=False when the message's own
        unit already holds them (2.0.1 NotifyEvent / NotifyReport)."""
        ts = ts or time.time()
        for r in readings:
            fault = faults.from_reading(station_id, r, source, ts)
            if fault is not None:
                unit.emit(fault)
            if temperatures and r.variable == "Temperature" and r.celsius is not None:
                messages.temperature(unit, ev.Temperature(
                    station_id, location_v201(r.component), r.celsius, r.evse_id, r.connector_id,
                    r.instance, source, time=ts,
                ))
            changed = self.modules.update(station_id, r, ts)
            if changed is not None:
                unit.write(POWER_MODULE, [(station_id, changed.instance, flag(changed.enabled),
                                           flag(changed.problem), flag(changed.tripped), changed.celsius, ts)])
                unit.emit(changed)
