"""Fleet state in memory: what every station looks like right now.

A projection of the store: `load()` rebuilds it at start from what the store last
knew (every known station, offline until it connects, with its connectors' last
status and error code, running transactions, latest power and energy, temperatures;
diagnostics adds modules and open alarms), then it follows committed events on the
bus (one inline listener), so it sees exactly what rules and the API see. It is the
one owner of these facts: the API, the TUI and rule conditions read them here.
`last_seen` is the one field set directly (`heard`): it changes on every frame and
pong and is not worth an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from zaspot.core import events as ev
from zaspot.core.bus import EventBus
from zaspot.core.lifecycle_events import ReservationChanged

_POWER = "Power.Active.Import"
_ENERGY = "Energy.Active.Import.Register"


@dataclass(slots=True)
class ConnectorState:
    evse_id: int
    connector_id: int
    status: str = "Unknown"
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    since: float = 0.0
    power_w: float | None = None
    energy_wh: float | None = None
    transaction_id: str | None = None
    reservation_id: int | None = None  # the active reservation that holds it


@dataclass(slots=True)
class ModuleState:
    instance: str
    enabled: bool | None = None
    problem: bool | None = None
    tripped: bool | None = None
    celsius: float | None = None

    @property
    def ok(self) -> bool:
        return self.enabled is not False and not self.problem and not self.tripped


@dataclass(slots=True)
class StationState:
    station_id: str
    ocpp_version: str = ""
    connected: bool = False
    online: bool = False
    registration: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    last_seen: float = 0.0
    connectors: dict[tuple[int, int], ConnectorState] = field(default_factory=dict)
    temperatures: dict[str, float] = field(default_factory=dict)
    modules: dict[str, ModuleState] = field(default_factory=dict)  # power modules by instance
    open_alarms: dict[int, str] = field(default_factory=dict)  # alarm id -> code

    @property
    def module_health(self) -> str | None:
        """"3/4 ok" for a station with power modules, else None."""
        if not self.modules:
            return None
        return f"{sum(m.ok for m in self.modules.values())}/{len(self.modules)} ok"

    @property
    def hottest(self) -> tuple[str, float] | None:
        """(where, °C) of the highest temperature last reported."""
        if not self.temperatures:
            return None
        return max(self.temperatures.items(), key=lambda item: item[1])

    def connector(self, evse_id: int, connector_id: int) -> ConnectorState:
        key = (evse_id, connector_id)
        state = self.connectors.get(key)
        if state is None:
            state = self.connectors[key] = ConnectorState(evse_id, connector_id)
        return state

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["connectors"] = [asdict(c) for c in self.connectors.values()]
        out["open_alarm_count"] = len(self.open_alarms)
        out["module_health"] = self.module_health
        out["hottest"] = self.hottest
        return out


def temperature_key(location: str, instance: str | None, evse_id: int, connector_id: int) -> str:
    """"connector@1/1", "module:2": where a temperature was taken, as the API shows it."""
    key = location if not instance else f"{location}:{instance}"
    return f"{key}@{evse_id}/{connector_id}" if connector_id else key


class FleetState:
    def __init__(self) -> None:
        self.stations: dict[str, StationState] = {}
        self._apply: dict[str, Callable[[Any], None]] = {
            ev.StationConnected.type: self._connected,
            ev.StationDisconnected.type: self._disconnected,
            ev.StationOffline.type: self._offline,
            ev.StationOnline.type: self._online,
            ev.StationBooted.type: self._booted,
            ev.StatusChanged.type: self._status,
            ev.MeterSample.type: self._meter,
            ev.Temperature.type: self._temperature,
            ev.TransactionStarted.type: self._tx_started,
            ev.TransactionEnded.type: self._tx_ended,
            ev.PowerModule.type: self._module,
            ev.AlarmRaised.type: self._alarm_raised,
            ev.AlarmCleared.type: self._alarm_cleared,
            ReservationChanged.type: self._reservation,
        }

    def attach(self, bus: EventBus) -> Callable[[], None]:
        # Inline: a few attribute writes per event, and rules that read the fleet then
        # see it already updated by the event that woke them.
        return bus.listen(tuple(self._apply), self.apply, name="fleet_state", inline=True)

    def station(self, station_id: str) -> StationState:
        state = self.stations.get(station_id)
        if state is None:
            state = self.stations[station_id] = StationState(station_id)
        return state

    def apply(self, event: ev.Event) -> None:
        self._apply[event.type](event)

    def load(self, snapshot: dict[str, Any]) -> None:
        """What the store knew at start (zaspot.store.fleet.snapshot): nothing is connected yet."""
        for row in snapshot["stations"]:
            s = self.station(row["id"])
            s.ocpp_version = row.get("ocpp_version") or ""
            s.registration = row.get("registration")
            s.vendor, s.model, s.serial, s.firmware = row.get("vendor"), row.get("model"), row.get("serial"), \
                row.get("firmware")
            s.last_seen = row.get("last_seen") or 0.0
            s.connected = s.online = False
        for row in snapshot["connectors"]:
            c = self.station(row["station_id"]).connector(row["evse_id"], row["connector_id"])
            c.status, c.error_code, c.vendor_error_code, c.info = (
                row["status"] or "Unknown", row["error_code"], row["vendor_error_code"], row["info"],
            )
            c.since = row["updated_at"] or 0.0
        for row in snapshot["meters"]:
            c = self.station(row["station_id"]).connector(row["evse_id"] or 0, row["connector_id"] or 0)
            if row["measurand"] == _POWER:
                c.power_w = row["value"]
            else:
                c.energy_wh = row["value"]
        for row in snapshot["transactions"]:
            c = self.station(row["station_id"]).connector(row["evse_id"] or 0, row["connector_id"] or 0)
            c.transaction_id = row["tx_key"]
        for row in snapshot["temperatures"]:
            key = temperature_key(row["location"], row["instance"], row["evse_id"], row["connector_id"])
            self.station(row["station_id"]).temperatures[key] = row["celsius"]
        for row in snapshot.get("reservations", ()):
            self._hold(row["station_id"], row["evse_id"], row["connector_id"], row["id"], True)

    def heard(self, station_id: str, ts: float) -> StationState:
        """A frame or a pong arrived: the one last-seen time a station has."""
        s = self.station(station_id)
        if ts > s.last_seen:
            s.last_seen = ts
        return s

    def _connected(self, e: ev.StationConnected) -> None:
        s = self.station(e.station_id)
        s.ocpp_version, s.connected, s.online = e.ocpp_version, True, True
        s.last_seen = max(s.last_seen, e.time)

    def _disconnected(self, e: ev.StationDisconnected) -> None:
        s = self.station(e.station_id)
        s.connected = s.online = False

    def _offline(self, e: ev.StationOffline) -> None:
        self.station(e.station_id).online = False

    def _online(self, e: ev.StationOnline) -> None:
        self.station(e.station_id).online = True

    def _booted(self, e: ev.StationBooted) -> None:
        s = self.station(e.station_id)
        s.vendor, s.model, s.serial, s.firmware = e.vendor, e.model, e.serial, e.firmware
        s.registration = e.registration

    def _status(self, e: ev.StatusChanged) -> None:
        c = self.station(e.station_id).connector(e.evse_id, e.connector_id)
        c.status, c.error_code, c.vendor_error_code, c.info, c.since = (
            e.status, e.error_code, e.vendor_error_code, e.info, e.time,
        )

    def _meter(self, e: ev.MeterSample) -> None:
        c = self.station(e.station_id).connector(e.evse_id, e.connector_id)
        for sample in e.samples:
            if sample.phase is None and sample.measurand == _POWER:
                c.power_w = sample.value
            elif sample.measurand == _ENERGY and sample.phase is None:
                c.energy_wh = sample.value

    def _temperature(self, e: ev.Temperature) -> None:
        key = temperature_key(e.location, e.instance, e.evse_id, e.connector_id)
        self.station(e.station_id).temperatures[key] = e.celsius

    def _module(self, e: ev.PowerModule) -> None:
        self.station(e.station_id).modules[e.instance] = ModuleState(
            e.instance, e.enabled, e.problem, e.tripped, e.celsius
        )

    def _alarm_raised(self, e: ev.AlarmRaised) -> None:
        self.station(e.station_id).open_alarms[e.alarm_id] = e.code

    def _alarm_cleared(self, e: ev.AlarmCleared) -> None:
        self.station(e.station_id).open_alarms.pop(e.alarm_id, None)

    def _reservation(self, e: ReservationChanged) -> None:
        self._hold(e.station_id, e.evse_id, e.connector_id, e.reservation_id, e.status == "active")

    def _hold(self, station_id: str, evse_id: int | None, connector_id: int | None, reservation_id: int,
              active: bool) -> None:
        """An active reservation holds its connector (2.0.1: every connector of its EVSE); one
        for any EVSE of the station holds none in particular."""
        if evse_id is None:
            return
        s = self.station(station_id)
        held = [c for c in s.connectors.values()
                if c.evse_id == evse_id and connector_id in (None, c.connector_id)]
        if not held and active:
            held = [s.connector(evse_id, connector_id or 1)]
        for c in held:
            if active:
                c.reservation_id = reservation_id
            elif c.reservation_id == reservation_id:
                c.reservation_id = None

    def _tx_started(self, e: ev.TransactionStarted) -> None:
        self.station(e.station_id).connector(e.evse_id, e.connector_id).transaction_id = e.transaction_id

    def _tx_ended(self, e: ev.TransactionEnded) -> None:
        c = self.station(e.station_id).connector(e.evse_id, e.connector_id)
        if c.transaction_id == e.transaction_id:
            c.transaction_id = None
            c.power_w = 0.0
