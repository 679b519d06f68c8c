"""What each kind of station message writes, as steps of its unit (store/unit.py).

A step is `fn(conn, unit, ...)`, run inside the unit's transaction: it reads what it
must (is this a repeat? which connector was that transaction on?), writes, and emits
the normalized events the message gives. A repeat of a message whose first try
committed writes nothing and emits nothing; one whose first try was lost (it never
committed) is stored in full, because nothing of it is there.

Versions end at the session layer: these take plain values, not OCPP payloads.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

from zaspot.core import events as ev

from . import reservations, stale
from .rowid import inserted_id
from .unit import Unit

ENERGY = "Energy.Active.Import.Register"

STATION_CONNECTED = (
    "INSERT INTO stations (id, ocpp_version, remote, connected, last_seen, first_seen) "
    "VALUES (?, ?, ?, 1, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET ocpp_version = excluded.ocpp_version, "
    "remote = excluded.remote, connected = 1, "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)"
)
STATION_DISCONNECTED = (
    "INSERT INTO stations (id, connected, last_seen, first_seen) VALUES (?, 0, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET connected = 0, "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)"
)
STATION_BOOTED = (
    "INSERT INTO stations (id, ocpp_version, vendor, model, serial, firmware, registration, "
    "last_seen, last_boot, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET ocpp_version = excluded.ocpp_version, "
    "vendor = excluded.vendor, model = excluded.model, serial = excluded.serial, "
    "firmware = excluded.firmware, registration = excluded.registration, "
    "last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen), "
    "last_boot = excluded.last_boot"
)
# A meter value: one timestamp's sampled values, packed; store/filing.py puts it in the
# station index a moment later (store/migrations.py, schema 14).
METER_VALUE = (
    "INSERT INTO meter_values (station_id, evse_id, connector_id, tx_key, ts, after_tx_end, samples) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TEMPERATURE = (
    "INSERT INTO temperatures (station_id, ts, location, celsius, evse_id, connector_id, "
    "instance, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


# --- connection and boot ----------------------------------------------------------------


def connected(unit: Unit, station_id: str, version: str, remote: str, ts: float) -> None:
    unit.write(STATION_CONNECTED, [(station_id, version, remote, ts, ts)])
    unit.emit(ev.StationConnected(station_id, version, remote, time=ts))


def disconnected(unit: Unit, station_id: str, version: str, code: int | None, reason: str, ts: float) -> None:
    unit.write(STATION_DISCONNECTED, [(station_id, ts, ts)])
    unit.emit(ev.StationDisconnected(station_id, version, code, reason, time=ts))


def booted(unit: Unit, e: ev.StationBooted) -> None:
    unit.write(STATION_BOOTED, [(e.station_id, e.ocpp_version, e.vendor, e.model, e.serial, e.firmware,
                                 e.registration, e.time, e.time, e.time)])
    unit.emit(e)
    unit.do(stale.close_at_boot, e.station_id, e.reason)  # what it left open is stale (store/stale.py)


# --- meter values and temperatures ------------------------------------------------------


def meter(unit: Unit, station_id: str, evse_id: int, connector_id: int, tx_key: str | None,
          samples: list[ev.Sample], after_end: bool = False) -> None:
    """A message's sampled values: a row per timestamp, and one MeterSample event (fired,
    not logged). A sample that arrived for a transaction already ended (a late
    MeterValues) is kept, and says so (after_end)."""
    if not samples:
        return
    now = time.time()
    late = 1 if after_end else None
    unit.write(METER_VALUE, [(station_id, evse_id, connector_id, tx_key, ts, late, packed)
                             for ts, packed in _by_timestamp(samples, now)])
    # The station's own time: a backlog replayed after hours offline stays in the past.
    taken = samples[0].timestamp
    unit.emit(ev.MeterSample(station_id, evse_id, connector_id, tx_key, tuple(samples),
                             time=now if taken is None else taken))


def _by_timestamp(samples: list[ev.Sample], now: float) -> list[tuple[float, str]]:
    """(ts, packed samples) per run of samples with one timestamp (a meterValue element's).
    A plain loop: it runs for every MeterValues (groupby and its key cost a third more)."""
    out: list[tuple[float, str]] = []
    run: list[tuple[str, str | None, str | None, str | None, str, float]] = []
    at = now
    for s in samples:
        ts = now if s.timestamp is None else s.timestamp
        if run and ts != at:
            out.append((at, orjson.dumps(run).decode()))
            run = []
        at = ts
        run.append((s.measurand, s.phase, s.location, s.context, s.unit, s.value))
    out.append((at, orjson.dumps(run).decode()))
    return out


def temperature(unit: Unit, t: ev.Temperature) -> None:
    """A temperature: its history row and its event, in one unit."""
    unit.write(TEMPERATURE, [(t.station_id, t.time, t.location, t.celsius, t.evse_id, t.connector_id,
                              t.instance, t.source)])
    unit.emit(t)


def energy_wh(samples: list[ev.Sample]) -> float | None:
    values = [s.value for s in samples if s.measurand == ENERGY and s.phase is None]
    return values[-1] if values else None


def metered_transaction(c: sqlite3.Connection, unit: Unit, station_id: str, evse_id: int, connector_id: int,
                        tx_key: str, samples: list[ev.Sample]) -> None:
    """MeterValues that name a transaction: marked when that transaction has ended."""
    row = c.execute("SELECT state FROM transactions WHERE station_id = ? AND tx_key = ?",
                    (station_id, tx_key)).fetchone()
    meter(unit, station_id, evse_id, connector_id, tx_key, samples, after_end=bool(row and row[0] != "active"))


# --- connector status -------------------------------------------------------------------


def connector_status(c: sqlite3.Connection, unit: Unit, station_id: str, evse_id: int, connector_id: int,
                     status: str, error_code: str | None, vendor_error_code: str | None, info: str | None,
                     ts: float) -> None:
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
    unit.emit(ev.StatusChanged(station_id, evse_id, connector_id, status, error_code, vendor_error_code, info,
                               row[0] if row else None, time=ts))


# --- OCPP 1.6 transactions --------------------------------------------------------------


def start_transaction(c: sqlite3.Connection, unit: Unit, station_id: str, connector_id: int,
                      id_tag: str | None, meter_start_wh: float | None, started_at: float,
                      reservation_id: int | None) -> int:
    """A 1.6 StartTransaction; its transactionId. A repeat gets the same id, nothing new."""
    row = c.execute(
        "SELECT id FROM transactions WHERE station_id = ? AND connector_id IS ? "
        "AND started_at IS ? AND id_token IS ? AND meter_start_wh IS ? "
        "AND last_seq_no IS NULL AND state != 'orphan' ORDER BY id LIMIT 1",
        (station_id, connector_id, started_at, id_tag, meter_start_wh),
    ).fetchone()
    if row:
        same: int = row[0]
        return same
    while True:
        tx_id = inserted_id(c.execute(
            "INSERT INTO transactions (station_id, evse_id, connector_id, id_token, "
            "reservation_id, meter_start_wh, started_at, state, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            (station_id, connector_id, connector_id, id_tag, reservation_id, meter_start_wh,
             started_at, started_at),
        ))
        try:
            c.execute("UPDATE transactions SET tx_key = ? WHERE id = ?", (str(tx_id), tx_id))
            break
        except sqlite3.IntegrityError:
            # An orphan stop already holds this key for this station: skip the id
            # (AUTOINCREMENT never hands it out again).
            c.execute("DELETE FROM transactions WHERE id = ?", (tx_id,))
    unit.emit(ev.TransactionStarted(station_id, str(tx_id), connector_id, connector_id, id_tag, meter_start_wh,
                                    time=started_at))
    reservations.used(c, unit, station_id, reservation_id, str(tx_id), started_at)
    return tx_id


def stop_transaction(c: sqlite3.Connection, unit: Unit, station_id: str, transaction_id: int | str,
                     meter_stop_wh: float, stopped_at: float, reason: str | None, id_tag: str | None,
                     samples: list[ev.Sample]) -> str:
    """A 1.6 StopTransaction with its transactionData: "stopped" | "duplicate" | "orphan"."""
    key = str(transaction_id)
    row = c.execute(
        "SELECT id, state, connector_id, meter_start_wh FROM transactions WHERE station_id = ? AND tx_key = ?",
        (station_id, key),
    ).fetchone()
    if row is None:
        c.execute(
            "INSERT INTO transactions (station_id, tx_key, id_token, meter_stop_wh, stopped_at, "
            "stop_reason, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'orphan', ?)",
            (station_id, key, id_tag, meter_stop_wh, stopped_at, reason, stopped_at),
        )
        outcome, connector, start = "orphan", 0, None
    elif row[1] not in ("active", "stale"):
        return "duplicate"  # a repeat after a reconnect: answered, stored once
    else:
        c.execute(
            "UPDATE transactions SET stopped_at = ?, meter_stop_wh = ?, stop_reason = ?, "
            "state = 'ended', updated_at = ? WHERE id = ?",
            (stopped_at, meter_stop_wh, reason, stopped_at, row[0]),
        )
        outcome, connector, start = "stopped", row[2] or 0, row[3]
    meter(unit, station_id, connector, connector, key, samples)  # its own data: not "after the end"
    unit.emit(ev.TransactionEnded(
        station_id, key, connector, connector, meter_stop_wh,
        None if start is None else meter_stop_wh - start,
        reason or ("orphan" if outcome == "orphan" else None), time=stopped_at,
    ))
    return outcome


# --- OCPP 2.0.1 transactions ------------------------------------------------------------


def transaction_event(c: sqlite3.Connection, unit: Unit, station_id: str, kind: str, tx_key: str,
                      seq_no: int | None, ts: float, trigger_reason: str | None, evse: tuple[int, int] | None,
                      id_token: str | None, charging_state: str | None, stopped_reason: str | None,
                      samples: list[ev.Sample], remote_start_id: int | None = None,
                      meter_wh: float | None = None, reservation_id: int | None = None) -> bool:
    """A 2.0.1 TransactionEvent with its meter values; False for a repeated seqNo.
    meter_wh: the energy register, when not among the samples; reservation_id: the
    reservation the transaction uses."""
    meter_wh = energy_wh(samples) if meter_wh is None else meter_wh
    if c.execute(
        "INSERT OR IGNORE INTO transaction_events (station_id, tx_key, seq_no, event_type, ts, "
        "trigger_reason, charging_state, meter_wh) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (station_id, tx_key, seq_no, kind, ts, trigger_reason, charging_state, meter_wh),
    ).rowcount == 0:
        return False
    row = c.execute(
        "SELECT evse_id, connector_id, state FROM transactions WHERE station_id = ? AND tx_key = ?",
        (station_id, tx_key),
    ).fetchone()
    if evse is None:  # Updated and Ended may leave the EVSE out
        evse = (row[0] or 0, row[1] or 0) if row else (0, 0)
    evse_id, connector_id = evse
    ended_before = row is not None and row[2] == "ended"
    # Started once: a second Started (after an Immediate reset) is an update; an Updated
    # that overtook its Started (stations send them out of order) does not make it one.
    started_before = kind == "Started" and c.execute(
        "SELECT 1 FROM transaction_events WHERE station_id = ? AND tx_key = ? AND event_type = 'Started' "
        "AND seq_no IS NOT ? LIMIT 1", (station_id, tx_key, seq_no)).fetchone() is not None
    _upsert_transaction(c, station_id, kind, tx_key, seq_no, ts, evse_id, connector_id, id_token,
                        stopped_reason, meter_wh, remote_start_id)
    meter(unit, station_id, evse_id, connector_id, tx_key, samples, after_end=ended_before)
    if kind == "Started" and not started_before:
        unit.emit(ev.TransactionStarted(station_id, tx_key, evse_id, connector_id, id_token, meter_wh, time=ts))
    elif kind == "Ended":
        unit.emit(ev.TransactionEnded(station_id, tx_key, evse_id, connector_id, meter_wh, None, stopped_reason,
                                      time=ts))
    else:  # Updated, or a Started again on a known transaction (after an Immediate reset)
        unit.emit(ev.TransactionUpdated(station_id, tx_key, evse_id, connector_id, trigger_reason, charging_state,
                                        time=ts))
    reservations.used(c, unit, station_id, reservation_id, tx_key, ts)
    return True


def _upsert_transaction(c: sqlite3.Connection, station_id: str, kind: str, tx_key: str, seq_no: int | None,
                        ts: float, evse_id: int, connector_id: int, id_token: str | None,
                        stopped_reason: str | None, meter_wh: float | None, remote_start_id: int | None) -> None:
    started, ended = kind == "Started", kind == "Ended"
    p: dict[str, Any] = {
        "station_id": station_id, "tx_key": tx_key, "evse_id": evse_id or None,
        "connector_id": connector_id or None, "id_token": id_token, "ts": ts, "seq_no": seq_no,
        "meter_start": meter_wh if started else None,
        "meter_stop": meter_wh if ended else None,
        "stopped_at": ts if ended else None,
        "reason": stopped_reason if ended else None,
        "state": "ended" if ended else "active",
        "ended": ended, "remote_start_id": remote_start_id,
    }
    # started_at is the earliest time the transaction was seen: a second Started (after
    # an Immediate reset) or an Updated that arrives first never moves it later.
    c.execute(
        "INSERT INTO transactions (station_id, tx_key, evse_id, connector_id, id_token, "
        "meter_start_wh, meter_stop_wh, started_at, stopped_at, stop_reason, state, "
        "last_seq_no, updated_at, remote_start_id) VALUES (:station_id, :tx_key, :evse_id, :connector_id, "
        # A remote start's transaction takes the token we sent, when the station leaves it out.
        "COALESCE(:id_token, (SELECT json_extract(payload, '$.idToken.idToken') FROM commands "
        "  WHERE id = :remote_start_id AND station_id = :station_id AND action = 'RequestStartTransaction')), "
        ":meter_start, :meter_stop, :ts, :stopped_at, :reason, :state, :seq_no, :ts, "
        ":remote_start_id) "
        "ON CONFLICT (station_id, tx_key) DO UPDATE SET "
        "evse_id = COALESCE(:evse_id, evse_id), "
        "connector_id = COALESCE(:connector_id, connector_id), "
        "id_token = COALESCE(id_token, excluded.id_token), "
        "meter_start_wh = COALESCE(meter_start_wh, :meter_start), "
        "started_at = CASE WHEN started_at IS NULL OR :ts < started_at THEN :ts ELSE started_at END, "
        "stopped_at = CASE WHEN :ended THEN :ts ELSE stopped_at END, "
        "meter_stop_wh = CASE WHEN :ended THEN COALESCE(:meter_stop, meter_stop_wh) "
        "  ELSE meter_stop_wh END, "
        # a real end after a stale close (store/stale.py) replaces the stale reason
        "stop_reason = CASE WHEN NOT :ended THEN stop_reason WHEN state = 'stale' THEN :reason "
        "  ELSE COALESCE(:reason, stop_reason) END, "
        "state = CASE WHEN :ended THEN 'ended' ELSE state END, "
        "last_seq_no = CASE WHEN :seq_no IS NULL THEN last_seq_no "
        "  WHEN last_seq_no IS NULL OR :seq_no > last_seq_no THEN :seq_no ELSE last_seq_no END, "
        "remote_start_id = COALESCE(remote_start_id, :remote_start_id), "
        "updated_at = :ts",
        p,
    )
