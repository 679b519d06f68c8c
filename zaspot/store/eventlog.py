"""The durable event log, read back: the `events` table in order, and where each
consumer is in it.

Units (store/unit.py) append to the log in the transaction of the message that gave
the events; an event's `seq` is its row id. A consumer (alarms, rules) saves the
position it has handled and, after a restart, reads what came after it. This is the
seam where a message broker could carry the log between nodes: the log is ordered,
positions are per consumer, delivery is at least once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from zaspot.core.event_catalog import rebuild
from zaspot.core.events import Event

from .unit import Unit

if TYPE_CHECKING:
    from .writer import Writer

_POSITION = (
    "INSERT INTO consumer_positions (name, seq, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET seq = MAX(seq, excluded.seq), updated_at = excluded.updated_at"
)
READ_CHUNK = 2000


def save_position(unit: Unit, name: str, seq: int) -> None:
    """The consumer's position, committed with what it wrote for the events up to it."""
    unit.write(_POSITION, [(name, seq, time.time())])


class EventLogStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def log_end(self) -> int:
        """The newest position in the log (0 when it is empty)."""
        rows = await self._query("SELECT COALESCE(MAX(id), 0) AS seq FROM events")
        end: int = rows[0]["seq"]
        return end

    async def log_after(self, seq: int, types: Iterable[str], limit: int = READ_CHUNK) -> list[Event]:
        """Events of these types after `seq`, oldest first, each with its seq."""
        kinds = sorted(set(types))
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        rows = await self._query(
            f"SELECT id, type, data FROM events WHERE id > ? AND type IN ({marks}) ORDER BY id LIMIT ?",
            (seq, *kinds, limit),
        )
        out = []
        for r in rows:
            event = rebuild(r["type"], orjson.loads(r["data"]) if r["data"] else {}, r["id"])
            if event is not None:
                out.append(event)
        return out

    async def position(self, name: str) -> int | None:
        rows = await self._query("SELECT seq FROM consumer_positions WHERE name = ?", (name,))
        return rows[0]["seq"] if rows else None

    async def save_position(self, name: str, seq: int) -> None:
        await self._writer.submit(_POSITION, [(name, seq, time.time())])

