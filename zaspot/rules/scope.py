"""What expressions and templates see: the trigger, the station, the fleet, the time.

Everything is plain data wrapped in `View`, which answers `station.model` and
`station["model"]` and nothing else: no methods, no Python object behind it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from zaspot.core.state import FleetState, StationState


class View(Mapping[str, Any]):
    """Read-only attribute access to a dict (for simpleeval); underscore names never resolve."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)


def wrap(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, View):
        return View({k: wrap(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return [wrap(v) for v in value]
    return value


def station_view(state: StationState, now: float) -> dict[str, Any]:
    """The station as rules see it, with the durations rules ask about precomputed."""
    connectors = [
        {"evse_id": c.evse_id, "connector_id": c.connector_id, "status": c.status, "error_code": c.error_code,
         "since": c.since, "status_for": max(0.0, now - c.since) if c.since else 0.0,
         "power_w": c.power_w, "transaction_id": c.transaction_id}
        for c in state.connectors.values()
    ]
    faulted = [now - c.since for c in state.connectors.values() if c.status == "Faulted" and c.since]
    # Online: connected and not reported offline. Otherwise away since it was last heard from
    # (a frame or a pong: the fleet state's last_seen, moved by every one of them).
    online = state.connected and state.online
    return {
        "id": state.station_id, "station_id": state.station_id, "ocpp_version": state.ocpp_version,
        "connected": state.connected, "online": state.online, "registration": state.registration,
        "vendor": state.vendor, "model": state.model, "serial": state.serial, "firmware": state.firmware,
        "last_seen": state.last_seen,
        "offline_for": 0.0 if online else max(0.0, now - state.last_seen) if state.last_seen else 0.0,
        "connectors": connectors,
        "statuses": sorted({c["status"] for c in connectors}),
        "faulted": bool(faulted), "faulted_for": max(faulted, default=0.0),
        "temperatures": dict(state.temperatures),
        "hottest": state.hottest[1] if state.hottest else None,
        "modules_ok": sum(m.ok for m in state.modules.values()), "modules": len(state.modules),
        "open_alarms": len(state.open_alarms), "alarm_codes": sorted(set(state.open_alarms.values())),
    }


def fleet_view(fleet: FleetState, now: float) -> dict[str, Any]:
    stations = [station_view(s, now) for s in fleet.stations.values()]
    return {
        "stations": stations,
        "count": len(stations),
        "connected": sum(s["connected"] for s in stations),
        "online": sum(s["online"] for s in stations),
        "faulted": sum(s["faulted"] for s in stations),
    }


class Scope(dict):
    """Names for one evaluation. `station` and `fleet` are built only when asked for."""

    def __init__(self, trigger: Mapping[str, Any], fleet: FleetState, now: float, tz: Any = None) -> None:
        super().__init__(trigger)
        self["trigger"] = View(dict(trigger))
        self["now"] = datetime.fromtimestamp(now, tz)
        self._fleet, self._now = fleet, now

    def __missing__(self, key: str) -> Any:
        if key == "station":
            sid = self.get("station_id")
            state = self._fleet.stations.get(sid) if sid else None
            value = wrap(station_view(state, self._now)) if state else None
        elif key == "fleet":
            value = wrap(fleet_view(self._fleet, self._now))
        else:
            raise KeyError(key)
        self[key] = value
        return value

    def with_station(self, station_id: str) -> Scope:
        """The same names, about another station (for `target: where:`)."""
        out = Scope({**{k: v for k, v in self.items() if k not in ("station", "trigger", "now")},
                     "station_id": station_id}, self._fleet, self._now)
        out["trigger"], out["now"] = self["trigger"], self["now"]
        return out

    def template_values(self) -> dict[str, Any]:
        """Plain values for message templates: the trigger's fields, `station.*`, `trigger.*`."""
        out = {k: v for k, v in self.items() if k not in ("station", "fleet", "now")}
        out["trigger"] = dict(self["trigger"])
        station = self["station"]
        out["station"] = _unwrap(station) if station is not None else {}
        out["now"] = self["now"].strftime("%Y-%m-%d %H:%M:%S")
        return out


def _unwrap(value: Any) -> Any:
    if isinstance(value, View):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value
