"""Store tables of the rules engine: run traces, and the normalized events rules read
(kept in the `events` table, so `zaspot rules test` can replay them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from zaspot.core.events import Event

_TRACE = (
    "INSERT INTO rule_traces (run_id, rule_id, station_id, started, finished, outcome, errors, trace) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_EVENT = "INSERT INTO events (ts, station_id, type, data) VALUES (?, ?, ?, ?)"


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class RulesStore:
    _writer: Any

    async def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def rule_trace(self, trace: dict[str, Any]) -> None:
        """One run of a rule (zaspot.rules.traces.Trace.to_dict())."""
        await self._writer.submit(_TRACE, [(
            trace["run_id"], trace["rule_id"], trace.get("station_id"), trace["started"], trace.get("finished"),
            trace["outcome"], trace.get("errors", 0), _json(trace),
        )])

    async def rule_traces(self, rule_id: str | None = None, station_id: str | None = None,
                          limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; each is the whole trace (trigger, conditions with values, actions)."""
        rows = await self._query(
            "SELECT trace FROM rule_traces WHERE (?1 IS NULL OR rule_id = ?1) AND (?2 IS NULL OR station_id = ?2) "
            "ORDER BY id DESC LIMIT ?3",
            (rule_id, station_id, limit),
        )
        return [orjson.loads(r["trace"]) for r in rows]

    async def record_events(self, events: Iterable[Event]) -> None:
        """Many events in one statement (the rules' event recorder batches them)."""
        rows = [(e.time, e.station_id, e.type, _json(e.to_dict())) for e in events]
        if rows:
            await self._writer.submit(_EVENT, rows)


def read_events(path: str, since: float | None, types: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Stored events of these types, oldest first, from a database file opened read-only
    (a running server may keep writing to it)."""
    kinds = sorted(set(types))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        marks = ", ".join("?" for _ in kinds)
        cursor = conn.execute(
            f"SELECT ts, type, data FROM events WHERE type IN ({marks}) AND ts >= ? ORDER BY ts, id",
            (*kinds, since or 0.0),
        )
        for ts, kind, data in cursor:
            yield {"ts": ts, "type": kind, "data": orjson.loads(data) if data else {}}
    finally:
        conn.close()
