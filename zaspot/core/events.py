"""Normalized, version-free events.

Everything above the OCPP session layer (store, rules, EMS, API, TUI, plugins)
sees only these. Each event is a small frozen, slotted dataclass; its `type`
is a class-level name that listeners subscribe to.

Units are normalized at the session layer: W, Wh, V, A, °C, %.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from zaspot.core.quick_init import quick_init

_EVENT_TYPES: dict[str, type[Event]] = {}


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class Event:
    type: ClassVar[str] = "event"
    station_id: str
    time: float = field(default_factory=_now, kw_only=True)
    # Its place in the durable event log (the `events` table), set when the
    # transaction that wrote it commits; None for events the log does not keep.
    seq: int | None = field(default=None, kw_only=True, compare=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # No zero-arg super(): slots=True rebuilds the class and breaks its cell.
        object.__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            _EVENT_TYPES[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the store, the API and rule templates)."""
        out: dict[str, Any] = {"type": self.type}
        for name in _field_names(type(self)):
            out[name] = _plain(getattr(self, name))
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    # dataclasses.fields() rebuilds its tuple on every call: too slow per event.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    return value


def event_types() -> dict[str, type[Event]]:
    """Every known event type by name (plugins' own types included once imported)."""
    return dict(_EVENT_TYPES)


def rebuild(event_type: str, data: dict[str, Any], seq: int | None = None) -> Event | None:
    """A stored event (its to_dict()) back into its dataclass; None for a type this
    build does not know or data that no longer fits it."""
    cls = _EVENT_TYPES.get(event_type)
    if cls is None:
        return None
    names = _field_names(cls)
    kwargs = {k: v for k, v in data.items() if k in names}
    if "samples" in kwargs:
        kwargs["samples"] = tuple(Sample(**s) for s in kwargs["samples"])
    kwargs["seq"] = seq if seq is not None else kwargs.get("seq")
    try:
        return cls(**kwargs)
    except TypeError:
        return None


# --- connection lifecycle -------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationConnected(Event):
    type: ClassVar[str] = "station_connected"
    ocpp_version: str
    remote: str = ""


@dataclass(frozen=True, slots=True)
class StationDisconnected(Event):
    type: ClassVar[str] = "station_disconnected"
    ocpp_version: str
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StationOffline(Event):
    """Neither pings nor heartbeats for longer than the offline timeout."""

    type: ClassVar[str] = "station_offline"
    last_seen: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StationOnline(Event):
    """Heard from again after being reported offline, on the same connection."""

    type: ClassVar[str] = "station_online"


@dataclass(frozen=True, slots=True)
class StationBooted(Event):
    type: ClassVar[str] = "station_booted"
    ocpp_version: str
    vendor: str
    model: str
    serial: str | None = None
    firmware: str | None = None
    reason: str | None = None
    registration: str = "Accepted"


# --- connectors, metering, transactions -----------------------------------


@dataclass(frozen=True, slots=True)
class StatusChanged(Event):
    """Connector status. 1.6 connector_id 0 / 2.0.1 evse_id 0 is the whole station."""

    type: ClassVar[str] = "status_changed"
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    previous: str | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value, normalized (W, Wh, V, A, °C, %, var, varh, Hz)."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    timestamp: float | None = None


@dataclass(frozen=True, slots=True)
class MeterSample(Event):
    type: ClassVar[str] = "meter_sample"
    evse_id: int
    connector_id: int
    transaction_id: str | None
    samples: tuple[Sample, ...]


# Made for every MeterValues on the event loop: built through their slots (core/quick_init.py).
quick_init(Sample)
quick_init(MeterSample)


@dataclass(frozen=True, slots=True)
class Temperature(Event):
    """A temperature, whatever the protocol version carried it.

    location is one users understand: connector, cable, inlet, outlet, body, ev, module.
    """

    type: ClassVar[str] = "temperature"
    location: str
    celsius: float
    evse_id: int = 0
    connector_id: int = 0
    instance: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class TransactionStarted(Event):
    type: ClassVar[str] = "transaction_started"
    transaction_id: str
    evse_id: int
    connector_id: int
    id_token: str | None = None
    meter_start_wh: float | None = None


@dataclass(frozen=True, slots=True)
class TransactionUpdated(Event):
    type: ClassVar[str] = "transaction_updated"
    transaction_id: str
    evse_id: int
    connector_id: int
    trigger_reason: str | None = None
    charging_state: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionEnded(Event):
    type: ClassVar[str] = "transaction_ended"
    transaction_id: str
    evse_id: int
    connector_id: int
    meter_stop_wh: float | None = None
    energy_wh: float | None = None
    reason: str | None = None


# --- everything else a station says, and what we say to it ----------------


@dataclass(frozen=True, slots=True)
class DeviceEvent(Event):
    """A station message kept as-is for later interpretation (NotifyEvent,
    NotifyReport, SecurityEventNotification, FirmwareStatusNotification, …)."""

    type: ClassVar[str] = "device_event"
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CommandSent(Event):
    type: ClassVar[str] = "command_sent"
    command: str
    action: str
    payload: dict[str, Any]
    source: str = "operator"


@dataclass(frozen=True, slots=True)
class CommandResult(Event):
    type: ClassVar[str] = "command_result"
    command: str
    action: str
    ok: bool
    status: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    source: str = "operator"


# --- diagnostics: faults, power modules, alarms ----------------------------


@dataclass(frozen=True, slots=True)
class Fault(Event):
    """What one origin reports about one place, whatever the protocol version.

    `origin` names the reporting channel (a connector's StatusNotification, a
    2.0.1 variable such as Connector/1/1.Problem). An origin holds at most one
    code at a time: an active fault with a new code replaces the previous one;
    active=False clears `code`, or everything from the origin when code is None.
    component is a word users use: station, connector, evse, module, …
    """

    type: ClassVar[str] = "fault"
    origin: str
    component: str
    code: str | None
    active: bool
    severity: str = "error"  # critical | error | warning | info
    evse_id: int = 0
    connector_id: int = 0
    instance: str | None = None
    vendor_code: str | None = None
    info: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class PowerModule(Event):
    """The state of one power module (2.0.1 AcDcConverter instance) after a change."""

    type: ClassVar[str] = "power_module"
    instance: str
    enabled: bool | None = None
    problem: bool | None = None
    tripped: bool | None = None
    celsius: float | None = None

    @property
    def ok(self) -> bool:
        return self.enabled is not False and not self.problem and not self.tripped


@dataclass(frozen=True, slots=True)
class AlarmRaised(Event):
    """An alarm opened: one per station + component (+instance/evse/connector) + code."""

    type: ClassVar[str] = "alarm_raised"
    alarm_id: int
    component: str
    code: str
    severity: str
    message: str
    evse_id: int = 0
    connector_id: int = 0
    instance: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmCleared(Event):
    type: ClassVar[str] = "alarm_cleared"
    alarm_id: int
    component: str
    code: str
    severity: str
    message: str
    raised_at: float
    evse_id: int = 0
    connector_id: int = 0
    instance: str | None = None
    superseded_by: str | None = None  # closed because a fault with a more specific code took its place


@dataclass(frozen=True, slots=True)
class StationUnresponsive(Event):
    """The station left one of our CALLs unanswered past the call timeout."""

    type: ClassVar[str] = "station_unresponsive"
    action: str
    timeout: float
