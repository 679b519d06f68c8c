"""Store tables of the rules engine: run traces, and the event log read back for
`zaspot rules test` (the `events` table, which the running rules consume too)."""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .writer import Writer

_TRACE = (
    "INSERT INTO rule_traces (run_id, rule_id, station_id, started, finished, outcome, errors, trace, "
    "trigger_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class RulesStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def rule_trace(self, trace: dict[str, Any]) -> None:
        """One run of a rule (zaspot.rules.traces.Trace.to_dict())."""
        await self._writer.submit(_TRACE, [(
            trace["run_id"], trace["rule_id"], trace.get("station_id"), trace["started"], trace.get("finished"),
            trace["outcome"], trace.get("errors", 0), _json(trace), (trace.get("trigger") or {}).get("seq"),
        )])

    async def rule_runs_after(self, seq: int) -> set[tuple[str, int]]:
        """(rule, trigger seq) of the runs triggered by events after `seq` in the log."""
        rows = await self._query(
            "SELECT rule_id, trigger_seq FROM rule_traces WHERE trigger_seq > ?", (seq,)
        )
        return {(r["rule_id"], r["trigger_seq"]) for r in rows}

    async def rule_traces(self, rule_id: str | None = None, station_id: str | None = None,
                          limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; each is the whole trace (trigger, conditions with values, actions)."""
        rows = await self._query(
            "SELECT trace FROM rule_traces WHERE (?1 IS NULL OR rule_id = ?1) AND (?2 IS NULL OR station_id = ?2) "
            "ORDER BY id DESC LIMIT ?3",
            (rule_id, station_id, limit),
        )
        return [orjson.loads(r["trace"]) for r in rows]


def read_events(path: str, since: float | None, types: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Stored events of these types, oldest first, from a database file opened read-only
    (a running server may keep writing to it). Meter samples are not kept twice: their
    events are rebuilt from the meter_samples table."""
    kinds = set(types)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        streams = [_stored_events(conn, sorted(kinds - {"meter_sample"}), since or 0.0)]
        if "meter_sample" in kinds:
            streams.append(_meter_events(conn, since or 0.0))
        yield from heapq.merge(*streams, key=lambda row: row["ts"])
    finally:
        conn.close()


def _stored_events(conn: sqlite3.Connection, kinds: list[str], since: float) -> Iterator[dict[str, Any]]:
    if not kinds:
        return
    marks = ", ".join("?" for _ in kinds)
    cursor = conn.execute(
        f"SELECT ts, type, data FROM events WHERE type IN ({marks}) AND ts >= ? ORDER BY ts, id", (*kinds, since)
    )
    for ts, kind, data in cursor:
        yield {"ts": ts, "type": kind, "data": orjson.loads(data) if data else {}}


def _meter_events(conn: sqlite3.Connection, since: float) -> Iterator[dict[str, Any]]:
    """One meter_sample event per (station, evse, connector, transaction, timestamp)."""
    cursor = conn.execute(
        "SELECT station_id, evse_id, connector_id, tx_key, ts, measurand, value, unit, phase, location, context "
        "FROM meter_samples WHERE ts >= ? ORDER BY ts, meter_value_id, position",
        (since,),
    )
    for (station_id, evse_id, connector_id, tx_key, ts), rows in groupby(cursor, key=lambda r: r[:5]):
        samples = [
            {"measurand": m, "value": v, "unit": u, "phase": p, "location": loc, "context": ctx, "timestamp": ts}
            for *_, m, v, u, p, loc, ctx in rows
        ]
        yield {"ts": ts, "type": "meter_sample", "data": {
            "station_id": station_id, "time": ts, "evse_id": evse_id, "connector_id": connector_id,
            "transaction_id": tx_key, "samples": samples}}
