"""Store tables of cards (id tokens) and stations' local authorization lists.

The running server's card book (zaspot.cards.book) is the one writer of `id_tokens` and
`card_removals`: it changes them with the steps below inside a unit of work, with the
`card_changed` events, and keeps the same cards in memory. `local_lists` holds, per
station, the list version it was last seen to hold and whether it has a local list.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .writer import Writer

_ADD_ID_TOKEN = (
    "INSERT INTO id_tokens (id_token, status, expiry) VALUES (?, ?, ?) "
    "ON CONFLICT (id_token) DO UPDATE SET status = excluded.status, expiry = excluded.expiry"
)
_SAVE_CARD = (
    "INSERT INTO id_tokens (id_token, status, expiry, group_id, driver, note, updated_at, list_version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_token) DO UPDATE SET status = excluded.status, "
    "expiry = excluded.expiry, group_id = excluded.group_id, driver = excluded.driver, note = excluded.note, "
    "updated_at = excluded.updated_at, list_version = excluded.list_version"
)
_SAVE_LIST = (
    "INSERT INTO local_lists (station_id, version, supported, synced_at, error) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (station_id) DO UPDATE SET version = excluded.version, supported = excluded.supported, "
    "synced_at = excluded.synced_at, error = excluded.error"
)


def save_card(c: sqlite3.Connection, unit: Any, row: tuple[Any, ...]) -> None:
    """A unit step: one card as _SAVE_CARD's row; a card added again is no longer removed."""
    c.execute(_SAVE_CARD, row)
    c.execute("DELETE FROM card_removals WHERE id_token = ?", (row[0],))


def remove_card(c: sqlite3.Connection, unit: Any, id_token: str, version: int, ts: float) -> None:
    """A unit step: the card goes; its removal keeps its version for differential lists."""
    c.execute("DELETE FROM id_tokens WHERE id_token = ?", (id_token,))
    c.execute(
        "INSERT INTO card_removals (id_token, list_version, removed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (id_token) DO UPDATE SET list_version = excluded.list_version, removed_at = excluded.removed_at",
        (id_token, version, ts),
    )


def save_local_list(c: sqlite3.Connection, unit: Any, station_id: str, version: int | None,
                    supported: bool | None, synced_at: float | None, error: str | None) -> None:
    c.execute(_SAVE_LIST, (station_id, version, None if supported is None else int(supported), synced_at, error))


class CardStore:
    """Mixed into Store."""

    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def cards(self) -> list[dict[str, Any]]:
        """Every card row (what the card book loads at start)."""
        return await self._query(
            "SELECT id_token, status, expiry, group_id, driver, note, updated_at, list_version "
            "FROM id_tokens ORDER BY id_token"
        )

    async def card(self, id_token: str) -> dict[str, Any] | None:
        rows = await self._query("SELECT * FROM id_tokens WHERE id_token = ?", (id_token,))
        return rows[0] if rows else None

    async def card_removals(self) -> list[dict[str, Any]]:
        return await self._query("SELECT id_token, list_version, removed_at FROM card_removals")

    async def local_lists(self) -> list[dict[str, Any]]:
        rows = await self._query("SELECT * FROM local_lists ORDER BY station_id")
        for row in rows:
            row["supported"] = None if row["supported"] is None else bool(row["supported"])
        return rows

    async def add_id_token(self, id_token: str, status: str = "Accepted", expiry: float | None = None) -> None:
        """A bare row, as one plain statement (it may share a batch): for tools and tests
        with no server running. A running server's card book does not see it until it
        starts again; change cards through the API (`cards/add`) instead."""
        await self._writer.submit(_ADD_ID_TOKEN, [(id_token, status, expiry)])
