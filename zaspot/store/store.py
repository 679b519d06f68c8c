"""The Store: zaspot's SQLite persistence (contract in docs/INTERNALS.md, "Store API").

Writes go through the group-commit `Writer` (one transaction per batch, durable
when the call returns). Reads use a second connection (aiosqlite); WAL lets them
run while the writer writes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import aiosqlite
import orjson

from ..core.events import Event, Sample, StationBooted, StatusChanged
from . import fleet, messages, schema
from .batch import WriterStats
from .cards import CardStore
from .checkpoint import Checkpointer
from .diagnostics import DiagnosticsStore
from .ems import EmsStore
from .eventlog import EventLogStore
from .filing import MeterFiling
from .health_outages import HealthOutageStore
from .health_reads import HealthReads
from .health_temps import HealthTemperatureStore
from .lifecycle import LifecycleStore
from .outcome import Done
from .prices import PriceStore
from .pricing import PricingStore
from .reads import Reads
from .reservations import ReservationStore
from .rowid import inserted_id
from .rules import RulesStore
from .security import SecurityStore
from .unit import Unit, apply_unit, crash_if_asked
from .writer import Writer

T = TypeVar("T")


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


_HEARTBEAT = (
    "INSERT INTO stations (id, last_seen, first_seen) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)"
)
_COMMAND_RESULT = (
    "UPDATE commands SET done_at = ?, ok = ?, status = ?, result = ?, error = ? WHERE id = ?"
)


def _command(c: sqlite3.Connection, station_id: str | None, command: str, action: str | None,
             payload: str | None, source: str | None, ts: float) -> int:
    return inserted_id(c.execute(
        "INSERT INTO commands (station_id, command, action, payload, source, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (station_id, command, action, payload, source, ts),
    ))


class Store(Reads, EventLogStore, SecurityStore, DiagnosticsStore, RulesStore, EmsStore, CardStore,
            ReservationStore, LifecycleStore, PriceStore, PricingStore, HealthOutageStore, HealthReads,
            HealthTemperatureStore):
    """SQLite store. Create with `await Store.open(path)`."""

    def __init__(self, path: str, writer: Writer, reader: aiosqlite.Connection | None) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._closed = False
        self._checkpointer: Checkpointer | None = None
        self.filing = MeterFiling(writer)

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, busy_timeout_ms: int = 5000) -> Store:
        path = os.fspath(path)
        memory = path == ":memory:" or path == "" or path.startswith("file::memory:")
        if not memory:
            parent = os.path.dirname(os.path.abspath(path))  # noqa: ASYNC240  (once, before anything is served)
            os.makedirs(parent, exist_ok=True)
        writer = Writer(path, busy_timeout_ms, checkpoints_elsewhere=not memory)
        await writer.start()
        reader = None
        if not memory:
            try:
                reader = await aiosqlite.connect(path, isolation_level=None)
                reader.row_factory = sqlite3.Row
                for p in schema.pragmas(busy_timeout_ms):
                    await reader.execute(p)
                await reader.execute("PRAGMA query_only = ON")
            except BaseException:
                if reader is not None:
                    await reader.close()
                await writer.close()
                raise
        store = cls(path, writer, reader)
        store.filing.start()
        if not memory:
            store._checkpointer = Checkpointer(path)
            store._checkpointer.start()
        return store

    async def close(self) -> None:
        """Flush pending writes and close both connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await self.filing.stop()
        try:
            await self._writer.close()
        finally:
            if self._checkpointer is not None:
                await self._checkpointer.stop()
            if self._reader is not None:
                await self._reader.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def stats(self) -> WriterStats:
        """Writer counters: ops, failed, batches, commits (commits < ops under load)."""
        return self._writer.stats

    @property
    def healthy(self) -> bool:
        """False when the last batch of writes could not be committed (disk full, locked)."""
        return self._writer.last_batch_ok

    # --- writes ------------------------------------------------------------

    async def commit(self, unit: Unit) -> list[Any]:
        """One message's writes and events in one transaction (store/unit.py); returns
        what its steps returned. Its events carry their log positions once this returns."""
        plain = unit.plain
        if plain is not None:  # one plain statement: it may share a multi-row INSERT
            await self._writer.submit(*plain)
            results: list[Any] = []
        else:
            results = await self._writer.call(apply_unit, unit)
        crash_if_asked(unit)
        return results

    def commit_then(self, unit: Unit, then: Done) -> None:
        """`commit` for a caller that does not wait: `then(results, error)` is called on
        the loop once the unit is committed or has failed (the writer's `Then`)."""
        plain = unit.plain

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                then(None, error)
                return
            crash_if_asked(unit)
            then([] if plain is not None else result, None)

        if plain is not None:
            self._writer.submit_then(*plain, done)
        else:
            self._writer.call_then(done, apply_unit, unit)

    async def fleet_snapshot(self) -> dict[str, Any]:
        """The fleet as the store last knew it (store/fleet.py), in one read."""
        return await self._writer.read(fleet.snapshot)

    async def _one(self, fn: Callable[..., T], *args: Any) -> tuple[T, Unit]:
        unit = Unit()
        unit.do(fn, *args)
        result: T = (await self.commit(unit))[0]
        return result, unit

    # The messages' writes one at a time (tools, tests); sessions build whole units.

    async def station_connected(self, station_id: str, ocpp_version: str, remote: str | None,
                                ts: float) -> None:
        unit = Unit()
        messages.connected(unit, station_id, ocpp_version, remote or "", ts)
        await self.commit(unit)

    async def station_disconnected(self, station_id: str, ts: float) -> None:
        unit = Unit()
        messages.disconnected(unit, station_id, "", None, "", ts)
        await self.commit(unit)

    async def station_booted(self, station_id: str, ocpp_version: str, vendor: str | None,
                             model: str | None, serial: str | None, firmware: str | None,
                             registration: str | None, ts: float) -> None:
        unit = Unit()
        messages.booted(unit, StationBooted(station_id, ocpp_version, vendor or "", model or "", serial,
                                            firmware, None, registration or "", time=ts))
        await self.commit(unit)

    async def heartbeat(self, station_id: str, ts: float) -> None:
        await self._writer.submit(_HEARTBEAT, [(station_id, ts, ts)])

    async def heartbeats(self, seen: list[tuple[str, float]]) -> None:
        """Many stations' last-seen times in one statement (see ocpp/lastseen.py)."""
        await self._writer.submit(_HEARTBEAT, [(station_id, ts, ts) for station_id, ts in seen])

    async def connector_status(self, station_id: str, evse_id: int | None,
                               connector_id: int | None, status: str,
                               error_code: str | None = None,
                               vendor_error_code: str | None = None, info: str | None = None,
                               ts: float | None = None) -> str | None:
        """-> the previous status, or None."""
        if connector_id is None:
            connector_id = 0
        if evse_id is None:  # 1.6: the connector is the EVSE
            evse_id = connector_id
        _, unit = await self._one(messages.connector_status, station_id, evse_id, connector_id, status,
                                  error_code, vendor_error_code, info, time.time() if ts is None else ts)
        changed = unit.events[0]
        assert isinstance(changed, StatusChanged)
        return changed.previous

    async def start_transaction(self, station_id: str, connector_id: int, id_tag: str | None,
                                meter_start_wh: float | None, started_at: float,
                                reservation_id: int | None = None) -> int:
        return (await self._one(messages.start_transaction, station_id, connector_id, id_tag,
                                meter_start_wh, started_at, reservation_id))[0]

    async def stop_transaction(self, station_id: str, transaction_id: int | str,
                               meter_stop_wh: float | None, stopped_at: float,
                               reason: str | None, id_tag: str | None = None) -> str:
        return (await self._one(messages.stop_transaction, station_id, transaction_id, meter_stop_wh,
                                stopped_at, reason, id_tag, []))[0]

    async def transaction_event(self, station_id: str, event_type: str, transaction_id: str,
                                seq_no: int | None, ts: float, trigger_reason: str | None = None,
                                evse_id: int | None = None, connector_id: int | None = None,
                                id_token: str | None = None, charging_state: str | None = None,
                                stopped_reason: str | None = None,
                                meter_wh: float | None = None) -> bool:
        evse = None if evse_id is None else (evse_id, connector_id or 0)
        return (await self._one(messages.transaction_event, station_id, event_type, str(transaction_id),
                                seq_no, ts, trigger_reason, evse, id_token, charging_state,
                                stopped_reason, [], None, meter_wh))[0]

    async def meter_samples(self, station_id: str, evse_id: int, connector_id: int,
                            transaction_id: int | str | None, samples: Iterable[Sample]) -> None:
        unit = Unit()
        tx_key = None if transaction_id is None else str(transaction_id)
        messages.meter(unit, station_id, evse_id, connector_id, tx_key, list(samples))
        await self.commit(unit)

    async def event(self, event: Event) -> None:
        """One event into the log (for events no message unit carries)."""
        unit = Unit()
        unit.emit(event)
        await self.commit(unit)

    async def command(self, station_id: str | None, command: str, action: str | None,
                      payload: Any, source: str | None, ts: float) -> int:
        return await self._writer.call(
            _command, station_id, command, action, dumps(payload), source, ts
        )

    async def command_result(self, cmd_id: int, ok: bool | None, status: str | None,
                             result: Any, error: str | None, ts: float) -> None:
        await self._writer.submit(_COMMAND_RESULT, [(
            ts, None if ok is None else int(bool(ok)), status, dumps(result), error, cmd_id,
        )])
