"""Each charging port's outages, from the event log: the one owner of outage intervals.

A port is (station, evse, connector) with connector > 0, created on its first status. It is
up while its station is networked (connected, and not reported offline) and neither the
station's own status (1.6 connector 0, 2.0.1 evse 0) nor the port's is Faulted or
Unavailable. Otherwise it is in one outage, with a cause:

    offline      detail "disconnected", "no answer" (the offline watchdog), or "zaspot not
                 running" (the station was connected when zaspot stopped or crashed: from
                 the last time zaspot heard from it until it connects again)
    faulted      code: the status's error code (1.6 errorCode), or "Faulted" (2.0.1 has none)
    unavailable  (ChangeAvailability Inoperative, or the station's own choice)

One open outage per port; a new cause (or fault code) closes it and opens the next at the
same instant. Status events carry the station's clock, which may be a little off against
ours: each port's boundaries are kept monotone (never before its last one, never in our
future).

OutageLog is a LogConsumer ("health.outages"): each event's rows (`health_ports`, `outages`)
are committed with its position in one unit, so a crash re-reads what it had not committed
and nothing is counted twice. On its first start it reads the whole log (a database with
history gets its outages), in chunks of one commit each.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from zaspot.core import events as ev
from zaspot.core.consumer import LogConsumer
from zaspot.store.eventlog import save_position
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

CONSUMER = "health.outages"
INPUTS = (ev.StatusChanged.type, ev.StationConnected.type, ev.StationDisconnected.type,
          ev.StationOffline.type, ev.StationOnline.type)
AT_START = "connected when the server stopped"  # zaspot.store.fleet.away_at_start
NOT_CONNECTED = "not connected"
DOWN = {"Faulted": "faulted", "Unavailable": "unavailable"}
CATCH_UP_CHUNK = 5000  # events per commit while reading the log at start
STATION = (0, 0)  # the station's own row in health_ports

PORT_ROW = ("INSERT OR REPLACE INTO health_ports (station_id, evse_id, connector_id, first_seen, status, "
            "error_code, networked, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
OUTAGE_ROW = ("INSERT OR REPLACE INTO outages (id, station_id, evse_id, connector_id, cause, code, detail, "
              "started, ended) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


@dataclass(slots=True)
class Outage:
    id: int
    cause: str
    code: str | None
    detail: str | None
    started: float


@dataclass(slots=True)
class Port:
    first_seen: float
    status: str | None = None
    error_code: str | None = None
    at: float = 0.0  # its last boundary: the next one is never before it
    outage: Outage | None = None


@dataclass(slots=True)
class Station:
    first_seen: float
    networked: bool = True
    detail: str | None = None  # why it is not networked
    status: str | None = None  # its own (connector 0 / evse 0)
    error_code: str | None = None
    at: float = 0.0
    ports: dict[tuple[int, int], Port] = field(default_factory=dict)


class Book:
    """Every station's and port's state and open outage, in memory. `apply(event)` moves
    them and notes the rows that changed; `take_rows()` hands those over for a commit."""

    def __init__(self) -> None:
        self.stations: dict[str, Station] = {}
        self.next_id = 1
        self._ports: set[tuple[str, int, int]] = set()  # rows to write (evse 0 / connector 0: a station)
        self._outages: dict[int, tuple] = {}

    # --- from the store ---------------------------------------------------------------

    def restore(self, rows: list[dict[str, Any]], open_outages: list[dict[str, Any]], last_id: int) -> None:
        self.stations.clear()
        self._ports.clear()
        self._outages.clear()
        self.next_id = last_id + 1
        for r in sorted(rows, key=lambda r: (r["evse_id"], r["connector_id"]) != STATION):  # stations first
            st = self.stations.get(r["station_id"])
            if st is None:
                st = self.stations[r["station_id"]] = Station(r["first_seen"], bool(r["networked"]), at=r["updated_at"])
            if (r["evse_id"], r["connector_id"]) == STATION:
                st.status, st.error_code = r["status"], r["error_code"]
            else:
                st.ports[(r["evse_id"], r["connector_id"])] = Port(r["first_seen"], r["status"], r["error_code"],
                                                                  r["updated_at"])
        for o in open_outages:
            st = self.stations.get(o["station_id"])
            port = st.ports.get((o["evse_id"], o["connector_id"])) if st else None
            if st is not None and port is not None:
                port.outage = Outage(o["id"], o["cause"], o["code"], o["detail"], o["started"])
                if o["cause"] == "offline" and not st.networked:
                    st.detail = o["detail"]

    # --- events -----------------------------------------------------------------------

    def apply(self, e: ev.Event, now: float) -> None:
        t = min(e.time, now)  # a station clock ahead of ours does not move a boundary into the future
        if isinstance(e, ev.StatusChanged):
            self._status(e, t)
        elif isinstance(e, (ev.StationConnected, ev.StationOnline)):
            self._network(e.station_id, True, None, t)
        elif isinstance(e, ev.StationDisconnected):
            self._network(e.station_id, False, "disconnected", t)
        elif isinstance(e, ev.StationOffline):
            if e.reason == AT_START:
                detail = "zaspot not running"
            elif e.reason == NOT_CONNECTED:
                detail = "disconnected"
            else:
                detail = "no answer"
            # Down since it was last heard from: the moment zaspot stopped hearing it.
            self._network(e.station_id, False, detail, min(e.last_seen or t, t))

    def _station(self, station_id: str, t: float) -> Station:
        st = self.stations.get(station_id)
        if st is None:  # first heard of in a status or a connect: it is on the line
            st = self.stations[station_id] = Station(t, at=t)
            self._ports.add((station_id, *STATION))
        return st

    def _status(self, e: ev.StatusChanged, t: float) -> None:
        st = self._station(e.station_id, t)
        if e.evse_id == 0:  # the station's own status: every port's
            st.status, st.error_code = e.status, e.error_code
            st.at = max(st.at, t)
            self._ports.add((e.station_id, *STATION))
            for each, held in st.ports.items():
                self._settle(e.station_id, each, st, held, t)
            return
        if e.connector_id == 0:  # no port named (2.0.1 numbers connectors from 1)
            return
        key = (e.evse_id, e.connector_id)
        port = st.ports.get(key)
        if port is None:
            port = st.ports[key] = Port(max(t, st.first_seen), at=max(t, st.first_seen))
        port.status, port.error_code = e.status, e.error_code
        self._settle(e.station_id, key, st, port, t)

    def _network(self, station_id: str, networked: bool, detail: str | None, t: float) -> None:
        st = self._station(station_id, t)
        if st.networked == networked:
            return
        st.networked, st.detail = networked, detail
        st.at = max(st.at, t)
        self._ports.add((station_id, *STATION))
        for key, port in st.ports.items():
            self._settle(station_id, key, st, port, t)

    @staticmethod
    def wanted(st: Station, port: Port) -> tuple[str, str | None, str | None] | None:
        """(cause, code, detail) of the outage the port is in, None when it is up."""
        if not st.networked:
            return "offline", None, st.detail or "disconnected"
        own, station = DOWN.get(port.status or ""), DOWN.get(st.status or "")
        if own == "faulted":
            return "faulted", port.error_code or "Faulted", None
        if station == "faulted":
            return "faulted", st.error_code or "Faulted", "station"
        if own == "unavailable":
            return "unavailable", None, None
        if station == "unavailable":
            return "unavailable", None, "station"
        return None

    def _settle(self, station_id: str, key: tuple[int, int], st: Station, port: Port, t: float) -> None:
        at = port.at = max(t, port.at)
        self._ports.add((station_id, *key))
        want, have = self.wanted(st, port), port.outage
        if have is not None and want is not None and (have.cause, have.code) == want[:2]:
            return  # the same outage goes on
        if have is not None:
            self._outages[have.id] = self._outage_row(station_id, key, have, at)
            port.outage = None
        if want is not None:
            port.outage = Outage(self.next_id, *want, at)
            self.next_id += 1
            self._outages[port.outage.id] = self._outage_row(station_id, key, port.outage, None)

    @staticmethod
    def _outage_row(station_id: str, key: tuple[int, int], o: Outage, ended: float | None) -> tuple:
        return (o.id, station_id, *key, o.cause, o.code, o.detail, o.started, ended)

    # --- to the store -----------------------------------------------------------------

    def take_rows(self) -> tuple[list[tuple], list[tuple]]:
        """(health_ports rows, outages rows) changed since the last call."""
        ports = []
        for station_id, evse_id, connector_id in self._ports:
            st = self.stations[station_id]
            if (evse_id, connector_id) == STATION:
                ports.append((station_id, 0, 0, st.first_seen, st.status, st.error_code, int(st.networked), st.at))
            else:
                p = st.ports[(evse_id, connector_id)]
                ports.append((station_id, evse_id, connector_id, p.first_seen, p.status, p.error_code,
                              int(st.networked), p.at))
        outages = list(self._outages.values())
        self._ports.clear()
        self._outages.clear()
        return ports, outages


class OutageLog:
    """ctx.health.outages: keeps `book` current from the event log and commits what changes."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.book = Book()
        self.consumer: LogConsumer | None = None

    async def start(self) -> None:
        await self._restore()
        await self.catch_up()  # in chunks first: a long history is not one commit per event
        self.consumer = LogConsumer(CONSUMER, self.ctx.bus, self.ctx.store, INPUTS, self.handle, new_from=0)
        await self.consumer.start()  # what came meanwhile, then the bus

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    async def _restore(self) -> None:
        store = self.ctx.store
        self.book.restore(await store.health_state(), await store.open_outages(), await store.last_outage_id())

    async def catch_up(self) -> int:
        """Read the log after the saved position (all of it the first time); events read."""
        store, done = self.ctx.store, 0
        position = await store.position(CONSUMER) or 0
        while True:
            events = await store.log_after(position, INPUTS, limit=CATCH_UP_CHUNK)
            if not events:
                break
            now = time.time()
            for e in events:
                self.book.apply(e, now)
            position = events[-1].seq
            await self._commit(position)
            done += len(events)
        if done:
            _LOGGER.info("%s: %d event(s) read from the log", CONSUMER, done)
        return done

    async def handle(self, e: ev.Event) -> None:
        self.book.apply(e, time.time())
        await self._commit(e.seq)

    async def _commit(self, seq: int | None) -> None:
        ports, outages = self.book.take_rows()
        unit = Unit()
        unit.write(PORT_ROW, ports)
        unit.write(OUTAGE_ROW, outages)
        if seq is not None:
            save_position(unit, CONSUMER, seq)
        if not unit.steps:
            return
        try:
            await self.ctx.store.commit(unit)
        except Exception:
            await self._restore()  # memory is ahead of the store now: back to what it holds
            raise
