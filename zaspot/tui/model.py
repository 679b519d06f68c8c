"""The fleet as the TUI sees it: API rows and live events folded into plain rows.

Unit-testable without Textual. `FleetModel.apply(event)` is cheap and only marks a
station dirty; the table asks for the dirty rows on its own timer, so a burst of
events costs one repaint, not one per event.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zaspot.diagnostics.config import DiagnosticsConfig, TemperatureLimit
from zaspot.tui.alarms import AlarmBook
from zaspot.tui.costs import RunningCost, session_cost, session_key, tariff_name
from zaspot.tui.temps import location_of, margin, reading_key

POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"
SPARK_POINTS = 60


@dataclass(slots=True)
class Connector:
    evse_id: int
    connector_id: int
    status: str = "Unknown"
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    power_w: float | None = None
    energy_wh: float | None = None
    transaction_id: str | None = None
    meter_start_wh: float | None = None  # of the running transaction, for energy today

    @property
    def label(self) -> str:
        return str(self.evse_id) if self.evse_id == self.connector_id else f"{self.evse_id}/{self.connector_id}"

    @property
    def faulted(self) -> bool:
        return self.status == "Faulted" or (self.error_code not in (None, "NoError"))


@dataclass(slots=True)
class Reservation:
    reservation_id: int
    evse_id: int | None
    connector_id: int | None
    id_token: str
    expires_at: float

    def covers(self, c: Connector) -> bool:
        """This connector is the one held (a 2.0.1 reservation may name only the EVSE; one
        for EVSE/connector 0 holds the station, not a connector)."""
        evse = self.evse_id if self.evse_id is not None else self.connector_id
        return bool(evse) and evse == c.evse_id and self.connector_id in (None, 0, c.connector_id)

    @property
    def whole_station(self) -> bool:
        return not self.evse_id and not self.connector_id

    def place(self, ocpp_version: str) -> str:
        """'connector 2' (1.6), 'EVSE 2' or 'EVSE 2 connector 1' (2.0.1), 'the station'."""
        if self.whole_station:
            return "the station"
        if ocpp_version == "1.6":
            return f"connector {self.connector_id or self.evse_id}"
        return f"EVSE {self.evse_id}" + (f" connector {self.connector_id}" if self.connector_id else "")


@dataclass(slots=True)
class Station:
    station_id: str
    name: str = ""
    site: str = ""
    notes: str = ""
    ocpp_version: str = ""
    online: bool = False
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    last_seen: float = 0.0
    connectors: dict[tuple[int, int], Connector] = field(default_factory=dict)
    temperatures: dict[str, float] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_alarms: dict[int, str] = field(default_factory=dict)  # id -> code, from the model's AlarmBook
    energy_closed_wh: float = 0.0  # transactions that ended today
    power_history: deque[float] = field(default_factory=lambda: deque(maxlen=SPARK_POINTS))
    power_seeded: bool = False  # power_history begun from the store (station screen)
    reservations: dict[int, Reservation] = field(default_factory=dict)  # the active ones, by id
    costs: dict[str, RunningCost] = field(default_factory=dict)  # the running sessions', by transaction id
    limits: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)  # the server's temperature limits

    def connector(self, evse_id: int, connector_id: int) -> Connector:
        key = (evse_id, connector_id)
        if key not in self.connectors:
            self.connectors[key] = Connector(evse_id, connector_id)
        return self.connectors[key]

    @property
    def outlets(self) -> list[Connector]:
        """Real connectors in order (1.6's connector 0 is the station itself)."""
        return [c for k, c in sorted(self.connectors.items()) if k != (0, 0)]

    @property
    def power_w(self) -> float | None:
        values = [c.power_w for c in self.outlets if c.power_w is not None]
        return sum(values) if values else None

    @property
    def energy_today_wh(self) -> float:
        running = sum(
            max(0.0, c.energy_wh - c.meter_start_wh)
            for c in self.outlets
            if c.transaction_id and c.energy_wh is not None and c.meter_start_wh is not None
        )
        return self.energy_closed_wh + running

    def seed_power_history(self, samples: list[dict[str, Any]]) -> None:
        """The sparkline from stored meter samples (oldest first), as the live feed would
        have drawn it: after each reading, the station's total over its connectors. Once:
        the store holds what the feed brought so far, and the feed goes on from here."""
        if self.power_seeded:
            return
        self.power_seeded = True
        latest: dict[tuple[int, int], float] = {}
        points: list[float] = []
        last_ts = None
        for s in samples:
            if s.get("phase") is not None or s.get("measurand") != POWER:
                continue
            if last_ts is not None and s["ts"] != last_ts:
                points.append(sum(latest.values()))
            latest[(s["evse_id"], s["connector_id"])] = float(s["value"])
            last_ts = s["ts"]
        if latest:
            points.append(sum(latest.values()))
        self.power_history.clear()
        self.power_history.extend(points[-SPARK_POINTS:])

    def cost_of(self, c: Connector) -> RunningCost | None:
        return self.costs.get(str(c.transaction_id)) if c.transaction_id else None

    @property
    def running_cost(self) -> RunningCost | None:
        """The station's running sessions together (the fleet's cost cell); None: none known."""
        known = [rc for c in self.outlets if (rc := self.cost_of(c)) is not None]
        if not known:
            return None
        return RunningCost(sum(rc.cost for rc in known), known[0].currency)

    def limit(self, key: str) -> TemperatureLimit | None:
        """The alarm limit of a reading ('connector@1/1', 'module:3') on this station's model."""
        return self.limits.limit_for(location_of(key), self.model or None)

    @property
    def hottest(self) -> tuple[str, float] | None:
        """The reading nearest its own limit (or furthest over it), then the highest."""
        if not self.temperatures:
            return None
        return max(self.temperatures.items(), key=lambda kv: (margin(kv[1], self.limit(kv[0])), kv[1]))

    @property
    def modules_ok(self) -> tuple[int, int] | None:
        if not self.modules:
            return None
        ok = sum(1 for m in self.modules.values()
                 if m.get("enabled") is not False and not m.get("problem") and not m.get("tripped"))
        return ok, len(self.modules)

    @property
    def trouble(self) -> bool:
        """Anything an operator should look at now."""
        ok = self.modules_ok
        return (not self.online or bool(self.open_alarms) or any(c.faulted for c in self.connectors.values())
                or (ok is not None and ok[0] < ok[1]))

    def reservations_at(self, now: float) -> list[Reservation]:
        """Active and not past their expiry (the expiry event may still be on its way)."""
        return sorted((r for r in self.reservations.values() if r.expires_at > now), key=lambda r: r.reservation_id)

    @property
    def label(self) -> str:
        """'CP-1 (Lobby left)' for messages; the id alone when it has no name."""
        return f"{self.station_id} ({self.name})" if self.name else self.station_id

    def search_text(self) -> str:
        words = [self.station_id, self.name, self.site, self.ocpp_version, self.vendor, self.model,
                 "online" if self.online else "offline"]
        words += [c.status for c in self.connectors.values()] + [c.error_code or "" for c in self.connectors.values()]
        words += list(self.open_alarms.values()) + (["alarm", "trouble"] if self.trouble else [])
        words += ["reserved"] if self.reservations else []
        return " ".join(words).lower()


def day_start(now: float) -> float:
    t = time.localtime(now)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


class FleetModel:
    """Every station by id, plus which ones changed since the table last looked."""

    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self.stations: dict[str, Station] = {}
        self.dirty: set[str] = set()
        self.structure_changed = False  # a station appeared: the table must add a row
        self.alarms = AlarmBook()  # the one owner of which alarms are open
        self.limits = DiagnosticsConfig()  # temperature limits: the built-in ones until the server says
        self.rule_names: dict[str, str] = {}  # rule id -> alias

    def station(self, station_id: str) -> Station:
        st = self.stations.get(station_id)
        if st is None:
            st = self.stations[station_id] = Station(station_id, limits=self.limits)
            self.structure_changed = True
        self.dirty.add(station_id)
        return st

    def take_dirty(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty

    def set_limits(self, limits: DiagnosticsConfig) -> None:
        self.limits = limits
        for st in self.stations.values():
            st.limits = limits
        self.dirty = set(self.stations)

    # --- snapshot (fleet/list + history/transactions) -----------------------

    def load(self, rows: list[dict[str, Any]], transactions: Sequence[dict[str, Any]] = (),
             reservations: Sequence[dict[str, Any]] = (), sessions: Sequence[dict[str, Any]] = (),
             alarms: list[dict[str, Any]] | None = None) -> None:
        """`alarms`: history/alarms rows (None: an older server; the fleet state's open ones)."""
        self.stations.clear()
        for row in rows:
            self._load_row(row)
        self.alarms.load(alarms, rows)
        for station in self.stations.values():
            station.open_alarms = self.alarms.open_of(station.station_id)
        for r in reservations:
            st = self.stations.get(r.get("station_id", ""))
            if st is not None and r.get("status") == "active":
                self._reserve(st, r.get("id"), r)
        today = day_start(self.clock())
        for tx in transactions:
            st = self.stations.get(tx.get("station_id", ""))
            if st is None:
                continue
            if tx.get("state") == "active":
                c = st.connector(tx.get("evse_id") or 0, tx.get("connector_id") or 0)
                c.meter_start_wh = tx.get("meter_start_wh")
            elif (tx.get("stopped_at") or 0) >= today and tx.get("meter_stop_wh") is not None:
                st.energy_closed_wh += max(0.0, tx["meter_stop_wh"] - (tx.get("meter_start_wh") or 0.0))
        for row in sessions:
            st = self.stations.get(row.get("station_id", ""))
            if st is not None and row.get("state") == "active" and session_key(row) and row.get("total_cost"):
                st.costs[session_key(row)] = session_cost(row)
        self.structure_changed = True
        self.dirty = set(self.stations)

    def _load_row(self, row: dict[str, Any]) -> None:
        st = self.station(row["id"])
        st.name, st.site, st.notes = (str(row.get(k) or "").strip() for k in ("name", "site", "notes"))
        state = row.get("state") or {}
        st.ocpp_version = row.get("ocpp_version") or state.get("ocpp_version") or ""
        st.online = bool(state.get("online", row.get("connected")))
        st.vendor, st.model = row.get("vendor") or "", row.get("model") or ""
        st.firmware = row.get("firmware") or ""
        st.last_seen = max(row.get("last_seen") or 0.0, state.get("last_seen") or 0.0)
        for c in state.get("connectors", []):
            con = st.connector(c["evse_id"], c["connector_id"])
            for name in ("status", "error_code", "vendor_error_code", "info", "power_w", "energy_wh", "transaction_id"):
                setattr(con, name, c.get(name, getattr(con, name)))
        st.temperatures = dict(state.get("temperatures") or {})
        st.modules = {k: dict(v) for k, v in (state.get("modules") or {}).items()}
        if st.power_w is not None:
            st.power_history.append(st.power_w)

    # --- live events -------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        station_id = event.get("station_id")
        if not station_id:
            return
        handler = getattr(self, "_on_" + event.get("type", ""), None)
        if handler is None and station_id not in self.stations:
            return  # e.g. a command for a station we never heard of: no row for it
        st = self.station(station_id)
        st.last_seen = max(st.last_seen, event.get("time") or 0.0)
        if handler is not None:
            handler(st, event)

    def _on_station_connected(self, st: Station, e: dict[str, Any]) -> None:
        st.online, st.ocpp_version = True, e.get("ocpp_version") or st.ocpp_version

    def _on_station_disconnected(self, st: Station, e: dict[str, Any]) -> None:
        st.online = False
        for c in st.connectors.values():
            c.power_w = None

    _on_station_offline = _on_station_disconnected

    def _on_station_online(self, st: Station, e: dict[str, Any]) -> None:
        st.online = True

    def _on_station_updated(self, st: Station, e: dict[str, Any]) -> None:
        st.name, st.site, st.notes = (str(e.get(k) or "").strip() for k in ("name", "site", "notes"))

    def _on_station_booted(self, st: Station, e: dict[str, Any]) -> None:
        st.vendor, st.model, st.firmware = e.get("vendor") or "", e.get("model") or "", e.get("firmware") or ""

    def _on_status_changed(self, st: Station, e: dict[str, Any]) -> None:
        c = st.connector(e["evse_id"], e["connector_id"])
        c.status, c.error_code = e["status"], e.get("error_code")
        c.vendor_error_code, c.info = e.get("vendor_error_code"), e.get("info")

    def _on_meter_sample(self, st: Station, e: dict[str, Any]) -> None:
        c = st.connector(e["evse_id"], e["connector_id"])
        for s in e.get("samples", []):
            if s.get("phase") is None and s.get("measurand") == POWER:
                c.power_w = s["value"]
            elif s.get("phase") is None and s.get("measurand") == ENERGY:
                c.energy_wh = s["value"]
        if st.power_w is not None:
            st.power_history.append(st.power_w)

    def _on_temperature(self, st: Station, e: dict[str, Any]) -> None:
        st.temperatures[reading_key(e)] = e["celsius"]

    def _on_power_module(self, st: Station, e: dict[str, Any]) -> None:
        st.modules[e["instance"]] = {k: e.get(k) for k in ("instance", "enabled", "problem", "tripped", "celsius")}

    def _on_alarm_raised(self, st: Station, e: dict[str, Any]) -> None:
        self.alarms.raised(e)
        st.open_alarms = self.alarms.open_of(st.station_id)

    def _on_alarm_cleared(self, st: Station, e: dict[str, Any]) -> None:
        self.alarms.cleared(e)
        st.open_alarms = self.alarms.open_of(st.station_id)

    def _on_transaction_started(self, st: Station, e: dict[str, Any]) -> None:
        c = st.connector(e["evse_id"], e["connector_id"])
        c.transaction_id, c.meter_start_wh = e["transaction_id"], e.get("meter_start_wh")

    def _on_transaction_ended(self, st: Station, e: dict[str, Any]) -> None:
        c = st.connector(e["evse_id"], e["connector_id"])
        if e.get("energy_wh") is not None:
            st.energy_closed_wh += e["energy_wh"]
        elif c.meter_start_wh is not None and e.get("meter_stop_wh") is not None:
            st.energy_closed_wh += max(0.0, e["meter_stop_wh"] - c.meter_start_wh)
        if c.transaction_id == e["transaction_id"]:
            c.transaction_id, c.meter_start_wh, c.power_w = None, None, 0.0
        st.costs.pop(str(e["transaction_id"]), None)

    def _on_session_cost(self, st: Station, e: dict[str, Any]) -> None:
        key = str(e.get("transaction_id") or "")
        if e.get("final"):
            st.costs.pop(key, None)  # the session is over: the station screen lists it with its cost
        elif key and e.get("cost") is not None:
            old = st.costs.get(key)
            st.costs[key] = RunningCost(float(e["cost"]), e.get("currency") or "", e.get("energy_wh"),
                                        tariff_name(e.get("tariff")) or (old.tariff if old else ""))

    def _on_reservation_changed(self, st: Station, e: dict[str, Any]) -> None:
        if e.get("status") == "active":
            self._reserve(st, e.get("reservation_id"), e)
        elif (reservation_id := e.get("reservation_id")) is not None:
            st.reservations.pop(reservation_id, None)  # used, cancelled, expired, rejected

    @staticmethod
    def _reserve(st: Station, reservation_id: Any, r: dict[str, Any]) -> None:
        if reservation_id is None:
            return
        st.reservations[reservation_id] = Reservation(reservation_id, r.get("evse_id"), r.get("connector_id"),
                                                      str(r.get("id_token") or ""), float(r.get("expires_at") or 0.0))

    # --- views -----------------------------------------------------------------

    def matching(self, text: str) -> list[str]:
        """Station ids whose words contain every word of the filter."""
        words = text.lower().split()
        return [sid for sid, st in self.stations.items() if all(w in st.search_text() for w in words)]

    def totals(self) -> dict[str, Any]:
        sts = self.stations.values()
        return {
            "stations": len(self.stations),
            "online": sum(st.online for st in sts),
            "charging": sum(1 for st in sts for c in st.outlets if c.status == "Charging"),
            "alarms": self.alarms.open_count(),  # the alarms pane counts the same book
            "power_w": sum(st.power_w or 0.0 for st in sts),
        }
