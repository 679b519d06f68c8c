"""Alarms: faults and hot spots that open, stay open while they hold, and clear.

One open alarm per station + component (+ instance, EVSE, connector) + code:
a fault reported again while its alarm is open changes nothing. An alarm opens
and closes in the diagnostics consumer's unit of work, its row and its event
committed with the consumer's position in the event log; open alarms are
restored on start, so a restart neither forgets nor repeats them. Temperatures open an
`OverTemperature` alarm at the limit's raise point and clear it below its clear point (per site
and per station model: config).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics.config import DiagnosticsConfig
from zaspot.diagnostics.stations import StationModels
from zaspot.store.diagnostics import alarm_cleared, alarm_raised
from zaspot.store.unit import Unit

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


def _variable_of(origin: str) -> str:
    """The device-model variable a fault origin names ("Connector/1/1.Problem" -> "Problem")."""
    return origin.rsplit(".", 1)[-1] if "." in origin else ""


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return _contains(a, b) or _contains(b, a)


class AlarmManager:
    def __init__(self, ctx, config: DiagnosticsConfig, models: StationModels) -> None:
        self.ctx, self.config, self.models = ctx, config, models
        self.open: dict[Key, Alarm] = {}

    def restore(self, rows: list[dict[str, Any]], replace: bool = False) -> list[Alarm]:
        """The open alarms' rows (store.open_alarms()) into memory."""
        if replace:
            self.open.clear()
        for row in rows:
            alarm = Alarm(
                row["id"], row["station_id"], row["component"], row["instance"], row["evse_id"],
                row["connector_id"], row["code"], row["severity"], row["message"] or "", row["raised_at"],
                row["details"],
            )
            self.open[alarm.key] = alarm
        return list(self.open.values())

    def of(self, station_id: str) -> list[Alarm]:
        return [a for a in self.open.values() if a.station_id == station_id]

    # --- faults ------------------------------------------------------------

    def on_fault(self, f: ev.Fault, unit: Unit) -> None:
        mine = self.of(f.station_id)
        held = [a for a in mine if a.details.get("origin") == f.origin]
        if f.active and held and f.code == _variable_of(f.origin):
            # The variable set again without a techCode (a 2.0.1 NotifyReport, which has no
            # techCode): the fault its origin holds, told with less, not a new one.
            return
        # An origin holds one code at a time: whatever else it had raised is over.
        for alarm in held:
            if not f.active and f.code not in (None, alarm.code):
                continue
            if f.active and alarm.code == f.code:
                continue
            self._clear(alarm, f.time, unit)
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
                self._clear(alarm, f.time, unit, superseded_by=f.code)
        key = (f.station_id, f.component, f.instance, f.evse_id, f.connector_id, f.code)
        text = " ".join(filter(None, [f.code, f.vendor_code, f.info]))
        details = {"origin": f.origin, "source": f.source, "vendor_code": f.vendor_code, "info": f.info}
        self._raise(key, f.severity, f"{_place(*key[1:5])}: {text}", f.time, details, unit)

    # --- temperatures --------------------------------------------------------

    def on_temperature(self, t: ev.Temperature, unit: Unit) -> None:
        limit = self.config.limit_for(t.location, self.models.model(t.station_id))
        if limit is None:
            return
        key = (t.station_id, t.location, t.instance, t.evse_id, t.connector_id, OVER_TEMPERATURE)
        alarm = self.open.get(key)
        if alarm is None and t.celsius >= limit.raise_c:
            message = f"{_place(*key[1:5])} at {t.celsius:g} °C (limit {limit.raise_c:g} °C)"
            details = {"celsius": t.celsius, "raise_c": limit.raise_c, "clear_c": limit.clear_c, "source": t.source}
            self._raise(key, limit.severity, message, t.time, details, unit)
        elif alarm is not None and t.celsius < limit.clear_c:
            self._clear(alarm, t.time, unit)

    # --- lifecycle -------------------------------------------------------------

    def _raise(self, key: Key, severity: str, message: str, ts: float, details: dict[str, Any], unit: Unit) -> None:
        if key in self.open:
            return
        station_id, component, instance, evse_id, connector_id, code = key
        alarm = self.open[key] = Alarm(
            0, station_id, component, instance, evse_id, connector_id, code, severity, message, ts, details
        )
        unit.do(alarm_raised, alarm)  # gives the alarm its id, in the unit's transaction

    def _clear(self, alarm: Alarm, ts: float | None, unit: Unit, superseded_by: str | None = None) -> None:
        self.open.pop(alarm.key, None)
        unit.do(alarm_cleared, alarm, ts or time.time(), superseded_by)
