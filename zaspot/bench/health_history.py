"""A synthetic year of a fleet's stored history, for the report scenario
(zaspot.bench.report_scenario).

The history is written into a fresh SQLite store through the real schema and the real
message steps (zaspot.store.messages, the diagnostics' alarm manager and fault
interpretation, zaspot.store.unit.apply_unit for the event log), in time order, as a
fleet would have written it: each station connects and boots, charges a few sessions a
day per connector (statuses, transactions, a MeterValues with current and temperature
every `meter_every` s while charging), drops its connection or goes silent now and then,
faults with codes (1.6 in its status; 2.0.1 Faulted, then the device model's reason),
raises and clears alarms, trips a power module (2.0.1 DC), is taken out of service for
maintenance (some of it excluded from uptime), and sees a server restart every 30 days.
A few connectors run hotter per ampere as the months go on. The transactions table and
the power_modules table are not filled (the report reads neither).
"""

from __future__ import annotations

import heapq
import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zaspot.config import DiagnosticsConfig
from zaspot.core import events as ev
from zaspot.diagnostics.alarms import AlarmManager
from zaspot.diagnostics.faults import from_reading, from_status
from zaspot.diagnostics.readings import Reading
from zaspot.diagnostics.stations import StationModels
from zaspot.store import messages, schema
from zaspot.store.filing import file_meter_values
from zaspot.store.unit import Unit, apply_unit

DAY = 86_400.0
RESTART_EVERY = 30  # days between server restarts
V16_CODES = {"EVCommunicationError": 6, "GroundFailure": 5, "ConnectorLockFailure": 4, "OverCurrentFailure": 3,
             "OtherError": 3, "HighTemperature": 2, "ReaderFailure": 2, "InternalError": 2, "PowerMeterFailure": 1}
V201_CODES = {"IsolationFault": 4, "CableCheckFailed": 3, "GroundFailure": 3, "CoolingFailure": 2,
              "ContactorWelded": 1, "PrechargeTimeout": 2}
MODELS = {"1.6": [("Voltaro", "AC22-2"), ("Kestrel", "Duo 11")],
          "2.0.1": [("Voltaro", "DC150"), ("Northbeam", "HPC 300")]}
CONNECTOR = ("INSERT INTO connectors (station_id, evse_id, connector_id, status, updated_at) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET status = excluded.status")


@dataclass
class _Port:
    evse: int
    connector: int
    slope: float  # °C per A
    drift_from: float | None = None  # when this connector starts to run hotter per ampere
    free_at: float = 0.0  # a new session, fault or outage starts after this
    energy: float = 0.0


@dataclass
class _Station:
    id: str
    version: str
    vendor: str
    model: str
    fault_rate: float  # faults per connector-day
    ports: list[_Port] = field(default_factory=list)
    away_until: float = 0.0  # the end of its last station-wide trouble (no session before it)

    @property
    def dc(self) -> bool:
        return self.version == "2.0.1"


def fleet(stations: int, start: float, end: float, rng: random.Random) -> list[_Station]:
    """Every fourth station a 2.0.1 DC charger, the rest 1.6 AC; one in twenty fails often and long;
    one connector in fifty drifts over the last third of the history."""
    out = []
    for i in range(stations):
        version = "2.0.1" if i % 4 == 3 else "1.6"
        vendor, model = MODELS[version][(i // 4) % 2]
        st = _Station(f"CP-{i + 1:04d}", version, vendor, model, 1 / 8 if i % 20 == 7 else 1 / 45)
        for n in (1, 2):
            drift = start + (end - start) * 2 / 3 if (2 * i + n) % 50 == 17 else None
            st.ports.append(_Port(n, 1 if st.dc else n, rng.uniform(0.08, 0.12) if st.dc else rng.uniform(0.5, 0.7),
                                  drift, start))
        out.append(st)
    return out


class _History:
    """Builds each day's units in time order and applies them to the open database."""

    def __init__(self, conn: sqlite3.Connection, rng: random.Random, end: float, meter_every: float) -> None:
        self.conn, self.rng, self.end, self.meter_every = conn, rng, end, meter_every
        self.alarms = AlarmManager(None, DiagnosticsConfig(), StationModels())  # on_fault reads neither
        self.status: dict[tuple[str, int, int], str] = {}
        self.unit = Unit()
        self.exclusions: list[tuple[float, float, str, str]] = []
        self.counts = {"sessions": 0, "faults": 0, "trips": 0, "disconnects": 0, "silences": 0, "maintenance": 0}

    def apply(self) -> None:
        if self.unit.steps or self.unit.events:
            apply_unit(self.conn, self.unit)
        self.unit = Unit()

    def steps(self, build: Callable[[Unit], None]) -> None:
        """Units whose steps emit (the alarms): applied alone, so the log keeps time order."""
        self.apply()
        build(self.unit)
        self.apply()

    # -- what a station says ------------------------------------------------------------

    def set_status(self, st: _Station, evse: int, connector: int, status: str, ts: float,
                   code: str | None = None) -> ev.StatusChanged:
        key = (st.id, evse, connector)
        e = ev.StatusChanged(st.id, evse, connector, status, code, None, None, self.status.get(key), time=ts)
        self.status[key] = status
        self.unit.emit(e)
        return e

    def commission(self, st: _Station, ts: float) -> Iterator[float]:
        yield ts
        messages.connected(self.unit, st.id, st.version, "10.1.0.7:52044", ts)
        yield ts + 1
        messages.booted(self.unit, ev.StationBooted(st.id, st.version, st.vendor, st.model, f"SN{st.id[3:]}",
                                                    "4.2.1", "PowerUp", time=ts + 1))
        yield ts + 2
        self.set_status(st, 0, 0, "Available", ts + 2)
        for p in st.ports:
            self.set_status(st, p.evse, p.connector, "Available", ts + 2)

    # Each activity is a generator: it yields the time of its next step, and the day loop
    # runs the steps of every activity in time order (so the log is in time order, as a
    # fleet's is, with a session's statuses among the other stations' messages).

    def session(self, st: _Station, p: _Port, begin: float, minutes: float) -> Iterator[float]:
        tx = f"{st.id}-{int(begin)}"
        yield begin
        self.set_status(st, p.evse, p.connector, "Occupied" if st.dc else "Preparing", begin)
        yield begin + 20
        self.unit.emit(ev.TransactionStarted(st.id, tx, p.evse, p.connector, "04A1B2C3", p.energy, time=begin + 20))
        if not st.dc:
            yield begin + 25
            self.set_status(st, p.evse, p.connector, "Charging", begin + 25)
        amps = self.rng.choice((80.0, 120.0, 200.0) if st.dc else (16.0, 32.0))
        t, end = begin + 25 + self.meter_every, begin + minutes * 60
        while t < end:
            yield t
            left = (end - t) / (end - begin)
            current = amps * (0.35 + 0.65 * min(1.0, left * 3)) * self.rng.uniform(0.95, 1.05)  # tapers at the end
            p.energy += current * 230 * self.meter_every / 3600
            self._reading(st, p, tx, t, current)
            t += self.meter_every
        yield end
        self.unit.emit(ev.TransactionEnded(st.id, tx, p.evse, p.connector, p.energy, None, "EVDisconnected", time=end))
        if not st.dc:
            self.set_status(st, p.evse, p.connector, "Finishing", end)
        yield end + 60
        self.set_status(st, p.evse, p.connector, "Available", end + 60)
        self.counts["sessions"] += 1

    def _reading(self, st: _Station, p: _Port, tx: str, t: float, current: float) -> None:
        season = 10 + 8 * math.sin(2 * math.pi * (t / DAY - 100) / 365) + 1.5 * math.sin(2 * math.pi * (t / DAY - 0.4))
        slope = p.slope
        if p.drift_from is not None and t > p.drift_from:
            slope *= 1 + 0.6 * (t - p.drift_from) / (self.end - p.drift_from)
        celsius = round(season + slope * current + self.rng.gauss(0, 0.4), 1)
        samples = [ev.Sample("Energy.Active.Import.Register", round(p.energy, 1), "Wh", timestamp=t),
                   ev.Sample("Current.Import", round(current, 2), "A", timestamp=t)]
        if not st.dc:
            samples.append(ev.Sample("Temperature", celsius, "Celsius", location="Outlet", timestamp=t))
        messages.meter(self.unit, st.id, p.evse, p.connector, tx, samples)
        messages.temperature(self.unit, ev.Temperature(st.id, "connector", celsius, p.evse, p.connector,
                                                       source="MeterValues" if not st.dc else "NotifyEvent", time=t))

    def fault(self, st: _Station, p: _Port, ts: float, minutes: float, code: str) -> Iterator[float]:
        """1.6: Faulted with its code; 2.0.1: Faulted, then the device model's Problem with a techCode."""
        yield ts
        self._status_fault(st, p.evse, p.connector, "Faulted", ts, None if st.dc else code)
        self.counts["faults"] += 1
        if st.dc:
            yield ts + 2
            self._problem(st, "Connector", "Problem", p.evse, p.connector, None, ts + 2, True, code)
            yield ts + minutes * 60 - 2
            self._problem(st, "Connector", "Problem", p.evse, p.connector, None, ts + minutes * 60 - 2, False, code)
        yield ts + minutes * 60
        self._status_fault(st, p.evse, p.connector, "Available", ts + minutes * 60, None)

    def _status_fault(self, st: _Station, evse: int, connector: int, status: str, ts: float, code: str | None) -> None:
        e = self.set_status(st, evse, connector, status, ts, code)
        fault = from_status(e)
        if fault.active or e.previous == "Faulted":
            self.steps(lambda u: self._fault(u, fault))

    def _problem(self, st: _Station, component: str, variable: str, evse: int, connector: int, instance: str | None,
                 ts: float, active: bool, code: str | None) -> None:
        """A 2.0.1 NotifyEvent of a Problem or Tripped variable: the device event, its fault, the alarm."""
        value, stamp = "true" if active else "false", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        place = {"name": component, "evse": {"id": evse, "connectorId": connector}, "instance": instance}
        data = {"eventId": 1, "timestamp": stamp, "trigger": "Delta", "actualValue": value, "techCode": code,
                "eventNotificationType": "HardWiredNotification", "component": place, "variable": {"name": variable}}
        payload = {"generatedAt": stamp, "seqNo": 0, "eventData": [{k: v for k, v in data.items() if v is not None}]}
        fault = from_reading(st.id, Reading(component, variable, value, instance, evse, connector,
                                            code if active else None), "NotifyEvent", ts)
        assert fault is not None  # a Problem or Tripped variable is one
        device = ev.DeviceEvent(st.id, "NotifyEvent", payload, time=ts)
        self.steps(lambda u: self._fault(u, fault, device))

    def _fault(self, unit: Unit, fault: ev.Fault, device: ev.DeviceEvent | None = None) -> None:
        """The device event (if any), the fault, and the alarm it raises or clears, in that order."""
        if device is not None:
            unit.emit(device)
        unit.emit(fault)
        self.alarms.on_fault(fault, unit)

    def trip(self, st: _Station, ts: float, minutes: float) -> Iterator[float]:
        module = f"PM{self.rng.randint(1, 4)}"
        yield ts
        self._problem(st, "AcDcConverter", "Tripped", 0, 0, module, ts, True, None)
        self.unit.emit(ev.PowerModule(st.id, module, True, False, True, None, time=ts))
        self.counts["trips"] += 1
        yield ts + minutes * 60
        self._problem(st, "AcDcConverter", "Tripped", 0, 0, module, ts + minutes * 60, False, None)
        self.unit.emit(ev.PowerModule(st.id, module, True, False, False, None, time=ts + minutes * 60))

    def disconnect(self, st: _Station, ts: float, minutes: float) -> Iterator[float]:
        yield ts
        messages.disconnected(self.unit, st.id, st.version, 1006, "", ts)
        self.counts["disconnects"] += 1
        yield ts + minutes * 60
        messages.connected(self.unit, st.id, st.version, "10.1.0.7:52044", ts + minutes * 60)

    def silence(self, st: _Station, ts: float, minutes: float) -> Iterator[float]:
        """No message or pong for longer than the offline timeout, on the same connection."""
        yield ts + 300
        self.unit.emit(ev.StationOffline(st.id, ts, "no message or pong", time=ts + 300))
        self.counts["silences"] += 1
        yield ts + 300 + minutes * 60
        self.unit.emit(ev.StationOnline(st.id, time=ts + 300 + minutes * 60))

    def maintenance(self, st: _Station, ts: float, minutes: float) -> Iterator[float]:
        yield ts
        self.set_status(st, 0, 0, "Unavailable", ts)
        self.counts["maintenance"] += 1
        if self.rng.random() < 0.5:  # the planned half is excluded from uptime
            self.exclusions.append((ts, ts + minutes * 60, st.id, "planned maintenance"))
        yield ts + minutes * 60
        self.set_status(st, 0, 0, "Available", ts + minutes * 60)

    def restart(self, stations: list[_Station], ts: float) -> Iterator[float]:
        """The server stopped at ts for 5 minutes: at its start every station is offline, then reconnects."""
        yield ts + 300
        for st in stations:
            self.unit.emit(ev.StationOffline(st.id, ts - self.rng.uniform(0, 60), "connected when the server stopped",
                                             time=ts + 300))
        for at, i in sorted((ts + 300 + self.rng.uniform(2, 60), i) for i in range(len(stations))):
            yield at
            messages.connected(self.unit, stations[i].id, stations[i].version, "10.1.0.7:52044", at)


def _day_plan(h: _History, st: _Station, day0: float, restart: float | None) -> list[Iterator[float]]:
    """One station's day: station-wide trouble first, then each port's faults and sessions
    around it (nothing of a port overlaps: a session waits for the fault to clear)."""
    rng, plan = h.rng, []
    blocked: list[tuple[float, float]] = [] if restart is None else [(restart - 600, restart + 900)]
    free = max([p.free_at for p in st.ports] + [st.away_until])
    for kind, chance, low, high in (("disconnect", 1 / 12, 1, 90), ("silence", 1 / 40, 5, 60),
                                    ("maintenance", 1 / 90, 60, 360), ("trip", 1 / 30 if st.dc else 0, 5, 120)):
        if rng.random() < chance and restart is None:
            at, minutes = max(free, day0 + rng.uniform(0, 0.9 * DAY)), rng.uniform(low, high)
            plan.append(getattr(h, kind)(st, at, minutes))
            if kind != "trip":
                blocked.append((at - 60, at + minutes * 60 + 600))
                st.away_until = max(st.away_until, at + minutes * 60 + 600)
    for p in st.ports:
        at = max(p.free_at, day0 + rng.uniform(0, DAY))
        minutes = min(3 * 1440, math.exp(rng.gauss(math.log(90), 1.0)) * (3 if st.fault_rate > 0.1 else 1))
        if rng.random() < st.fault_rate and not any(a < at + minutes * 60 and at < b for a, b in blocked):
            codes = V201_CODES if st.dc else V16_CODES
            plan.append(h.fault(st, p, at, minutes, rng.choices(list(codes), list(codes.values()))[0]))
            p.free_at = at + minutes * 60 + 120
        arrivals = sorted(day0 + rng.uniform(6, 22) * 3600 for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5))))
        for at in arrivals:
            minutes = rng.uniform(20, 60) if st.dc else rng.uniform(40, 240)
            finish = at + minutes * 60 + 180
            if at < p.free_at or at < st.away_until or any(a < finish and at < b for a, b in blocked) or finish > h.end:
                continue
            plan.append(h.session(st, p, at, minutes))
            p.free_at = finish
    return plan


class _Clock:
    """The activities' steps in time order: a heap of (time of the next step, n, activity)."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, Iterator[float]]] = []
        self.n = 0

    def add(self, activity: Iterator[float]) -> None:
        at = next(activity, None)
        if at is not None:
            self.n += 1
            heapq.heappush(self.heap, (at, self.n, activity))

    def run_until(self, until: float) -> None:
        """Every step before `until`; a step runs when its activity is resumed."""
        while self.heap and self.heap[0][0] < until:
            _, _, activity = heapq.heappop(self.heap)
            self.add(activity)


def write_history(path: str, stations: int, days: float, end: float, meter_every: float = 900.0,
                  seed: int = 19) -> dict[str, Any]:
    """A fresh database at `path` holding `days` of history up to `end` for `stations` stations.
    What would happen after `end` is not written (a fault open then stays open)."""
    rng = random.Random(seed)
    start = end - days * DAY
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in schema.pragmas(5000):
            conn.execute(pragma)
        schema.migrate(conn)
        sites = fleet(stations, start, end, rng)
        h, clock = _History(conn, rng, end, meter_every), _Clock()
        for st in sites:
            clock.add(h.commission(st, start + rng.uniform(0, 60)))
        for d in range(math.ceil(days)):
            day0 = start + d * DAY
            restart = day0 + 3 * 3600 if d and d % RESTART_EVERY == 0 else None
            if restart is not None:
                clock.add(h.restart(sites, restart))
            for st in sites:
                for activity in _day_plan(h, st, day0, restart):
                    clock.add(activity)
            conn.execute("BEGIN")
            clock.run_until(min(day0 + DAY, end))
            h.apply()
            file_meter_values(conn, limit=1_000_000)  # a server files them as they come (store/filing.py)
            conn.execute("COMMIT")
        conn.executemany(CONNECTOR, [(*key, status, end) for key, status in h.status.items()])  # each port's last
        counts = dict(conn.execute("SELECT type, COUNT(*) FROM events GROUP BY type"))
        totals = {name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                  for name in ("events", "alarms", "temperatures", "meter_samples")}
    finally:
        conn.close()
    return {**totals, "by_type": counts, **h.counts, "exclusions": h.exclusions, "start": start, "end": end}
