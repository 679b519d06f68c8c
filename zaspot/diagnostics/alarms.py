"""Alarms: faults and hot spots that open, stay open while they hold, and clear.

One open alarm per station + component (+ instance, EVSE, connector) + code:
a fault reported again while its alarm is open changes nothing. Every alarm is
in the store (opened before AlarmRaised is fired, closed before AlarmCleared)
and open alarms are restored on start, so a restart neither forgets nor repeats
them. Temperatures open an `OverTemperature` alarm at the limit's raise point
and clear it below its clear point (per site and per station model: config).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics.config import DiagnosticsConfig
from zaspot.diagnostics.stations import StationModels

OVER_TEMPERATURE = "OverTemperature"
GENERIC_FAULT = "Faulted"  # a Faulted status without an error code: faulted, reason not given

Key = tuple[str, str, str | None, int, int, str]  # station, component, instance, evse, connector, code


@dataclass(slots=True)
class Alarm:
    id: int
    station_id: str
    component: str
    instance: str | None
    evse_id: int
    connector_id: int
    code: str
    severity: str
    message: str
    raised_at: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.station_id, self.component, self.instance, self.evse_id, self.connector_id, self.code)


def _place(component: str, instance: str | None, evse_id: int, connector_id: int) -> str:
    where = f"{component} {instance}" if instance else component
    if connector_id:
        where += f" {evse_id}/{connector_id}" if evse_id != connector_id else f" {connector_id}"
    return where


def _contains(outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    """(evse, connector): (0, 0) is the whole station, (e, 0) the whole EVSE e."""
    evse, connector = outer
    return outer == inner or (connector == 0 and evse in (0, inner[0]))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return _contains(a, b) or _contains(b, a)


class AlarmManager:
    def __init__(self, ctx, config: DiagnosticsConfig, models: StationModels) -> None:
        self.ctx, self.config, self.models = ctx, config, models
        self.open: dict[Key, Alarm] = {}

    async def restore(self) -> list[Alarm]:
        for row in await self.ctx.store.open_alarms():
            alarm = Alarm(
                row["id"], row["station_id"], row["component"], row["instance"], row["evse_id"],
                row["connector_id"], row["code"], row["severity"], row["message"] or "", row["raised_at"],
                row["details"],
            )
            self.open[alarm.key] = alarm
        return list(self.open.values())

    def attach(self) -> Callable[[], None]:
        bus = self.ctx.bus
        unsubs = [
            bus.listen(ev.Fault.type, self.on_fault, name="diagnostics.alarms.faults"),
            bus.listen(ev.Temperature.type, self.on_temperature, name="diagnostics.alarms.temperatures"),
        ]
        return lambda: [u() for u in unsubs] and None

    def of(self, station_id: str) -> list[Alarm]:
        return [a for a in self.open.values() if a.station_id == station_id]

    # --- faults ------------------------------------------------------------

    async def on_fault(self, f: ev.Fault) -> None:
        mine = self.of(f.station_id)
        # An origin holds one code at a time: whatever else it had raised is over.
        for alarm in [a for a in mine if a.details.get("origin") == f.origin]:
            if not f.active and f.code not in (None, alarm.code):
                continue
            if f.active and alarm.code == f.code:
                continue
            await self._clear(alarm, f.time)
        if not (f.active and f.code):
            return
        # A 2.0.1 station says a connector is Faulted in its status and why in its device
        # model (Problem with a techCode): one fault, so one alarm, with the specific code.
        # The reason may be on the whole EVSE or station while the status is per connector.
        here = (f.evse_id, f.connector_id)
        same_place = [a for a in mine if _overlap((a.evse_id, a.connector_id), here)
                      and a.details.get("origin") not in (None, f.origin)]
        if f.code == GENERIC_FAULT:
            if any(a.code != GENERIC_FAULT for a in same_place):
                return
        else:
            for alarm in [a for a in same_place if a.code == GENERIC_FAULT]:
                await self._clear(alarm, f.time, superseded_by=f.code)
        key = (f.station_id, f.component, f.instance, f.evse_id, f.connector_id, f.code)
        text = " ".join(filter(None, [f.code, f.vendor_code, f.info]))
        details = {"origin": f.origin, "source": f.source, "vendor_code": f.vendor_code, "info": f.info}
        await self._raise(key, f.severity, f"{_place(*key[1:5])}: {text}", f.time, details)

    # --- temperatures --------------------------------------------------------

    async def on_temperature(self, t: ev.Temperature) -> None:
        limit = self.config.limit_for(t.location, self.models.model(t.station_id))
        if limit is None:
            return
        key = (t.station_id, t.location, t.instance, t.evse_id, t.connector_id, OVER_TEMPERATURE)
        alarm = self.open.get(key)
        if alarm is None and t.celsius >= limit.raise_c:
            message = f"{_place(*key[1:5])} at {t.celsius:g} °C (limit {limit.raise_c:g} °C)"
            details = {"celsius": t.celsius, "raise_c": limit.raise_c, "clear_c": limit.clear_c, "source": t.source}
            await self._raise(key, limit.severity, message, t.time, details)
        elif alarm is not None and t.celsius < limit.clear_c:
            await self._clear(alarm, t.time)

    # --- lifecycle -------------------------------------------------------------

    async def _raise(self, key: Key, severity: str, message: str, ts: float, details: dict[str, Any]) -> None:
        if key in self.open:
            return
        station_id, component, instance, evse_id, connector_id, code = key
        alarm_id = await self.ctx.store.alarm_raised(
            station_id, evse_id, connector_id, component, instance, code, severity, message, ts, details
        )
        alarm = self.open[key] = Alarm(
            alarm_id, station_id, component, instance, evse_id, connector_id, code, severity, message, ts, details
        )
        self.ctx.bus.fire(ev.AlarmRaised(
            station_id, alarm.id, component, code, severity, message, evse_id, connector_id, instance, details,
            time=ts,
        ))

    async def _clear(self, alarm: Alarm, ts: float | None, superseded_by: str | None = None) -> None:
        ts = ts or time.time()
        await self.ctx.store.alarm_cleared(alarm.id, ts, superseded_by)
        self.open.pop(alarm.key, None)
        self.ctx.bus.fire(ev.AlarmCleared(
            alarm.station_id, alarm.id, alarm.component, alarm.code, alarm.severity, alarm.message,
            alarm.raised_at, alarm.evse_id, alarm.connector_id, alarm.instance, superseded_by, time=ts,
        ))
