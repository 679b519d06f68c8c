"""The Store: zaspot's SQLite persistence (contract in docs/INTERNALS.md, "Store API").

Writes go through the group-commit `Writer` (one transaction per batch, durable
when the call returns). Reads use a second connection (aiosqlite); WAL lets them
run while the writer writes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any, Iterable

import aiosqlite
import orjson

from ..core.events import Event, Sample
from . import schema
from .checkpoint import Checkpointer
from .reads import Reads
from .diagnostics import DiagnosticsStore
from .ems import EmsStore
from .rules import RulesStore
from .security import SecurityStore
from .writer import Writer, WriterStats


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


# --- plain statements (batched with executemany) --------------------------

_STATION_CONNECTED = (
    "INSERT INTO stations (id, ocpp_version, remote, connected, last_seen, first_seen) "
    "VALUES (?, ?, ?, 1, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET ocpp_version = excluded.ocpp_version, "
    "remote = excluded.remote, connected = 1, last_seen = excluded.last_seen"
)
_STATION_DISCONNECTED = (
    "INSERT INTO stations (id, connected, last_seen, first_seen) VALUES (?, 0, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET connected = 0, "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)"
)
_STATION_BOOTED = (
    "INSERT INTO stations (id, ocpp_version, vendor, model, serial, firmware, registration, "
    "last_seen, last_boot, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET ocpp_version = excluded.ocpp_version, "
    "vendor = excluded.vendor, model = excluded.model, serial = excluded.serial, "
    "firmware = excluded.firmware, registration = excluded.registration, "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen), "
    "last_boot = excluded.last_boot"
)
_HEARTBEAT = (
    "INSERT INTO stations (id, last_seen, first_seen) VALUES (?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)"
)
_METER_SAMPLE = (
    "INSERT INTO meter_samples (station_id, evse_id, connector_id, tx_key, ts, measurand, "
    "phase, location, context, unit, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_EVENT = "INSERT INTO events (ts, station_id, type, data) VALUES (?, ?, ?, ?)"
_COMMAND_RESULT = (
    "UPDATE commands SET done_at = ?, ok = ?, status = ?, result = ?, error = ? WHERE id = ?"
)
_ADD_ID_TOKEN = (
    "INSERT INTO id_tokens (id_token, status, expiry) VALUES (?, ?, ?) "
    "ON CONFLICT (id_token) DO UPDATE SET status = excluded.status, expiry = excluded.expiry"
)


# --- writes that read first or return a value (quick: indexed, may run on the loop) ---


def _connector_status(c: sqlite3.Connection, station_id, evse_id, connector_id, status,
                      error_code, vendor_error_code, info, ts):
    row = c.execute(
        "SELECT status FROM connectors WHERE station_id = ? AND evse_id = ? AND connector_id = ?",
        (station_id, evse_id, connector_id),
    ).fetchone()
    c.execute(
        "INSERT INTO connectors (station_id, evse_id, connector_id, status, error_code, "
        "vendor_error_code, info, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET "
        "status = excluded.status, error_code = excluded.error_code, "
        "vendor_error_code = excluded.vendor_error_code, info = excluded.info, "
        "updated_at = excluded.updated_at",
        (station_id, evse_id, connector_id, status, error_code, vendor_error_code, info, ts),
    )
    return row[0] if row else None


def _start_transaction(c: sqlite3.Connection, station_id, connector_id, id_tag, meter_start_wh,
                       started_at, reservation_id):
    # A StartTransaction repeated after a reconnect: same answer, nothing new stored.
    row = c.execute(
        "SELECT id FROM transactions WHERE station_id = ? AND connector_id IS ? "
        "AND started_at IS ? AND id_token IS ? AND meter_start_wh IS ? "
        "AND last_seq_no IS NULL AND state != 'orphan' ORDER BY id LIMIT 1",
        (station_id, connector_id, started_at, id_tag, meter_start_wh),
    ).fetchone()
    if row:
        return row[0]
    while True:
        tx_id = c.execute(
            "INSERT INTO transactions (station_id, evse_id, connector_id, id_token, "
            "reservation_id, meter_start_wh, started_at, state, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            (station_id, connector_id, connector_id, id_tag, reservation_id, meter_start_wh,
             started_at, started_at),
        ).lastrowid
        try:
            c.execute("UPDATE transactions SET tx_key = ? WHERE id = ?", (str(tx_id), tx_id))
            return tx_id
        except sqlite3.IntegrityError:
            # An orphan stop already holds this key for this station: skip the id
            # (AUTOINCREMENT never hands it out again).
            c.execute("DELETE FROM transactions WHERE id = ?", (tx_id,))


def _stop_transaction(c: sqlite3.Connection, station_id, transaction_id, meter_stop_wh,
                      stopped_at, reason, id_tag):
    key = str(transaction_id)
    row = c.execute(
        "SELECT id, state FROM transactions WHERE station_id = ? AND tx_key = ?",
        (station_id, key),
    ).fetchone()
    if row is None:
        c.execute(
            "INSERT INTO transactions (station_id, tx_key, id_token, meter_stop_wh, stopped_at, "
            "stop_reason, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'orphan', ?)",
            (station_id, key, id_tag, meter_stop_wh, stopped_at, reason, stopped_at),
        )
        return "orphan"
    if row[1] != "active":
        return "duplicate"
    c.execute(
        "UPDATE transactions SET stopped_at = ?, meter_stop_wh = ?, stop_reason = ?, "
        "state = 'ended', updated_at = ? WHERE id = ?",
        (stopped_at, meter_stop_wh, reason, stopped_at, row[0]),
    )
    return "stopped"


def _transaction_event(c: sqlite3.Connection, station_id, event_type, tx_key, seq_no, ts,
                       trigger_reason, evse_id, connector_id, id_token, charging_state,
                       stopped_reason, meter_wh):
    if c.execute(
        "INSERT OR IGNORE INTO transaction_events (station_id, tx_key, seq_no, event_type, ts, "
        "trigger_reason, charging_state, meter_wh) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (station_id, tx_key, seq_no, event_type, ts, trigger_reason, charging_state, meter_wh),
    ).rowcount == 0:
        return False
    started = event_type == "Started"
    ended = event_type == "Ended"
    p = {
        "station_id": station_id, "tx_key": tx_key, "evse_id": evse_id,
        "connector_id": connector_id, "id_token": id_token, "ts": ts, "seq_no": seq_no,
        "meter_start": meter_wh if started else None,
        "meter_stop": meter_wh if ended else None,
        "stopped_at": ts if ended else None,
        "reason": stopped_reason if ended else None,
        "state": "ended" if ended else "active",
        "started": started, "ended": ended,
    }
    c.execute(
        "INSERT INTO transactions (station_id, tx_key, evse_id, connector_id, id_token, "
        "meter_start_wh, meter_stop_wh, started_at, stopped_at, stop_reason, state, "
        "last_seq_no, updated_at) VALUES (:station_id, :tx_key, :evse_id, :connector_id, "
        ":id_token, :meter_start, :meter_stop, :ts, :stopped_at, :reason, :state, :seq_no, :ts) "
        "ON CONFLICT (station_id, tx_key) DO UPDATE SET "
        "evse_id = COALESCE(:evse_id, evse_id), "
        "connector_id = COALESCE(:connector_id, connector_id), "
        "id_token = COALESCE(id_token, :id_token), "
        "meter_start_wh = COALESCE(meter_start_wh, :meter_start), "
        "started_at = CASE WHEN :started THEN :ts "
        "  WHEN started_at IS NULL OR :ts < started_at THEN :ts ELSE started_at END, "
        "stopped_at = CASE WHEN :ended THEN :ts ELSE stopped_at END, "
        "meter_stop_wh = CASE WHEN :ended THEN COALESCE(:meter_stop, meter_stop_wh) "
        "  ELSE meter_stop_wh END, "
        "stop_reason = CASE WHEN :ended THEN COALESCE(:reason, stop_reason) ELSE stop_reason END, "
        "state = CASE WHEN :ended THEN 'ended' ELSE state END, "
        "last_seq_no = CASE WHEN :seq_no IS NULL THEN last_seq_no "
        "  WHEN last_seq_no IS NULL OR :seq_no > last_seq_no THEN :seq_no ELSE last_seq_no END, "
        "updated_at = :ts",
        p,
    )
    return True


def _command(c: sqlite3.Connection, station_id, command, action, payload, source, ts):
    return c.execute(
        "INSERT INTO commands (station_id, command, action, payload, source, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (station_id, command, action, payload, source, ts),
    ).lastrowid


class Store(Reads, SecurityStore, DiagnosticsStore, RulesStore, EmsStore):
    """SQLite store. Create with `await Store.open(path)`."""

    def __init__(self, path: str, writer: Writer, reader: aiosqlite.Connection | None) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._closed = False
        self._checkpointer: Checkpointer | None = None

    @classmethod
    async def open(cls, path: str | os.PathLike, *, busy_timeout_ms: int = 5000) -> Store:
        path = os.fspath(path)
        memory = path == ":memory:" or path == "" or path.startswith("file::memory:")
        if not memory:
            parent = os.path.dirname(os.path.abspath(path))
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
        if not memory:
            store._checkpointer = Checkpointer(path)
            store._checkpointer.start()
        return store

    async def close(self) -> None:
        """Flush pending writes and close both connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
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

    async def station_connected(self, station_id: str, ocpp_version: str, remote: str | None,
                                ts: float) -> None:
        await self._writer.submit(_STATION_CONNECTED,
                                  [(station_id, ocpp_version, remote, ts, ts)])

    async def station_disconnected(self, station_id: str, ts: float) -> None:
        await self._writer.submit(_STATION_DISCONNECTED, [(station_id, ts, ts)])

    async def station_booted(self, station_id: str, ocpp_version: str, vendor: str | None,
                             model: str | None, serial: str | None, firmware: str | None,
                             registration: str | None, ts: float) -> None:
        await self._writer.submit(_STATION_BOOTED, [(
            station_id, ocpp_version, vendor, model, serial, firmware, registration, ts, ts, ts,
        )])

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
        if connector_id is None:
            connector_id = 0
        if evse_id is None:  # 1.6: the connector is the EVSE
            evse_id = connector_id
        return await self._writer.call(
            _connector_status, station_id, evse_id, connector_id, status, error_code,
            vendor_error_code, info, time.time() if ts is None else ts,
        )

    async def start_transaction(self, station_id: str, connector_id: int, id_tag: str | None,
                                meter_start_wh: float | None, started_at: float,
                                reservation_id: int | None = None) -> int:
        return await self._writer.call(
            _start_transaction, station_id, connector_id, id_tag, meter_start_wh, started_at,
            reservation_id,
        )

    async def stop_transaction(self, station_id: str, transaction_id: int | str,
                               meter_stop_wh: float | None, stopped_at: float,
                               reason: str | None, id_tag: str | None = None) -> str:
        return await self._writer.call(
            _stop_transaction, station_id, transaction_id, meter_stop_wh, stopped_at, reason,
            id_tag,
        )

    async def transaction_event(self, station_id: str, event_type: str, transaction_id: str,
                                seq_no: int | None, ts: float, trigger_reason: str | None = None,
                                evse_id: int | None = None, connector_id: int | None = None,
                                id_token: str | None = None, charging_state: str | None = None,
                                stopped_reason: str | None = None,
                                meter_wh: float | None = None) -> bool:
        return await self._writer.call(
            _transaction_event, station_id, event_type, str(transaction_id), seq_no, ts,
            trigger_reason, evse_id, connector_id, id_token, charging_state, stopped_reason,
            meter_wh,
        )

    async def meter_samples(self, station_id: str, evse_id: int | None, connector_id: int | None,
                            transaction_id: int | str | None, samples: Iterable[Sample]) -> None:
        tx_key = None if transaction_id is None else str(transaction_id)
        now = None
        rows = []
        for s in samples:
            ts = s.timestamp
            if ts is None:
                ts = now = now or time.time()
            rows.append((station_id, evse_id, connector_id, tx_key, ts, s.measurand, s.phase,
                         s.location, s.context, s.unit, s.value))
        if rows:
            await self._writer.submit(_METER_SAMPLE, rows)

    async def event(self, event: Event) -> None:
        await self._writer.submit(
            _EVENT, [(event.time, event.station_id, event.type, dumps(event.to_dict()))]
        )

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

    async def add_id_token(self, id_token: str, status: str = "Accepted",
                           expiry: float | None = None) -> None:
        await self._writer.submit(_ADD_ID_TOKEN, [(id_token, status, expiry)])
