"""Store tables for the operator API and what an operator keeps about stations: API
tokens, station passwords (set and cleared), station names, sites and notes (the stations
table's name, site and notes: their one owner), and the bounded raw OCPP frame log."""

from __future__ import annotations

import sqlite3
import struct
import time
import zlib
from typing import TYPE_CHECKING, Any

from zaspot.api.auth import new_token, token_hash
from zaspot.core.connection_events import StationUpdated

if TYPE_CHECKING:
    from .writer import Writer

_CHUNK = "INSERT INTO frame_chunks (station_id, ts, frames, data) VALUES (?, ?, ?, ?)"
_HEADER = struct.Struct("<dcI")  # timestamp, b"i" | b"o", frame length
CHUNKS_PER_COMMIT = 10


def pack_frame(buffer: bytearray, ts: float, direction: bytes, frame: bytes) -> None:
    buffer += _HEADER.pack(ts, direction, len(frame))
    buffer += frame


def compress_chunks(rows: list[tuple[str, float, int, bytes | bytearray]]) -> list[tuple[str, float, int, bytes]]:
    """zlib each chunk: OCPP JSON shrinks several-fold, and so does what SQLite writes and
    checkpoints. Meant for a worker thread (zlib lets go of the GIL), not the store's writer,
    whose queue stations' durable writes are waiting in."""
    return [(sid, ts, n, zlib.compress(data, 1)) for sid, ts, n, data in rows]


def unpack_frames(data: bytes) -> list[tuple[float, str, bytes]]:
    data = zlib.decompress(data)
    out, offset, size = [], 0, _HEADER.size
    while offset < len(data):
        ts, direction, length = _HEADER.unpack_from(data, offset)
        offset += size
        out.append((ts, "in" if direction == b"i" else "out", data[offset: offset + length]))
        offset += length
    return out


def _add_chunks(c: sqlite3.Connection, rows: list[tuple[str, float, int, bytes]]) -> None:
    c.executemany(_CHUNK, rows)


def _prune_frames(c: sqlite3.Connection, keep_chunks: int) -> int:
    """Keep the newest `keep_chunks` chunks: a rowid range, so it costs what it deletes
    (the writer is shared with every durable write; a table scan here would stall them)."""
    newest = c.execute("SELECT MAX(id) FROM frame_chunks").fetchone()[0]
    if newest is None or newest <= keep_chunks:
        return 0
    return c.execute("DELETE FROM frame_chunks WHERE id <= ?", (newest - keep_chunks,)).rowcount


def _revoke(c: sqlite3.Connection, name: str, ts: float) -> bool:
    cur = c.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (ts, name))
    return cur.rowcount > 0


def _clear_password(c: sqlite3.Connection, station_id: str, ts: float) -> bool:
    cur = c.execute("UPDATE station_credentials SET password_hash = NULL, updated_at = ? "
                    "WHERE station_id = ? AND password_hash IS NOT NULL", (ts, station_id))
    return cur.rowcount > 0


# A station's name, site and notes from the config: its non-empty values win, the rest stays.
_NAME_STATION = (
    "INSERT INTO stations (id, name, site, notes) VALUES (?, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, '')) "
    "ON CONFLICT (id) DO UPDATE SET name = COALESCE(excluded.name, name), "
    "site = COALESCE(excluded.site, site), notes = COALESCE(excluded.notes, notes)"
)
STATION_TEXT_FIELDS = ("name", "site", "notes")


def rename_station(c: sqlite3.Connection, unit: Any, station_id: str, fields: dict[str, str]) -> bool:
    """A unit step: set some of a known station's name, site and notes ("" clears one) and
    emit StationUpdated with all three; False (nothing written) for an unknown station."""
    if c.execute("SELECT 1 FROM stations WHERE id = ?", (station_id,)).fetchone() is None:
        return False
    keys = [k for k in STATION_TEXT_FIELDS if k in fields]  # the column names are ours, never the caller's
    c.execute(f"UPDATE stations SET {', '.join(f'{k} = ?' for k in keys)} WHERE id = ?",
              (*(fields[k] or None for k in keys), station_id))
    name, site, notes = c.execute("SELECT name, site, notes FROM stations WHERE id = ?", (station_id,)).fetchone()
    unit.emit(StationUpdated(station_id, name or "", site or "", notes or ""))
    return True


class SecurityStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    # --- operator API tokens ---------------------------------------------

    async def create_api_token(self, name: str) -> str:
        """A new token for `name` (shown once; only its hash is kept)."""
        token = new_token()
        await self._writer.submit(
            "INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)",
            [(name, token_hash(token), time.time())],
        )
        return token

    async def revoke_api_token(self, name: str) -> bool:
        return await self._writer.call(_revoke, name, time.time())

    async def api_tokens(self) -> list[dict[str, Any]]:
        return await self._query("SELECT name, created_at, revoked_at FROM api_tokens ORDER BY id")

    async def api_token_name(self, token: str) -> str | None:
        rows = await self._query(
            "SELECT name FROM api_tokens WHERE hash = ? AND revoked_at IS NULL", (token_hash(token),)
        )
        return rows[0]["name"] if rows else None

    async def has_api_tokens(self) -> bool:
        rows = await self._query("SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS any_token")
        return bool(rows[0]["any_token"])

    # --- station passwords (security profiles 1 and 2) ------------------

    async def set_station_password(self, station_id: str, hashed: str | None) -> None:
        await self._writer.submit(
            "INSERT INTO station_credentials (station_id, password_hash, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (station_id) DO UPDATE SET password_hash = excluded.password_hash, "
            "updated_at = excluded.updated_at",
            [(station_id, hashed, time.time())],
        )

    async def clear_station_password(self, station_id: str) -> bool:
        """Remove a station's password; False when it had none."""
        return await self._writer.call(_clear_password, station_id, time.time())

    async def station_password_hashes(self) -> dict[str, str]:
        rows = await self._query("SELECT station_id, password_hash FROM station_credentials"
                                 " WHERE password_hash IS NOT NULL")
        return {r["station_id"]: r["password_hash"] for r in rows}

    # --- station names, sites and notes -------------------------------------

    async def name_stations(self, named: list[tuple[str, str, str, str]]) -> None:
        """(id, name, site, notes) of the config's stations: what it sets wins over what
        `station/update` set; a station not seen yet gets its row (listed, offline)."""
        await self._writer.submit(_NAME_STATION, [row for row in named if any(row[1:])])

    async def station_names(self) -> dict[str, tuple[str, str]]:
        """Every station's id -> (name, site), "" for what it has none of."""
        rows = await self._query("SELECT id, name, site FROM stations")
        return {r["id"]: (r["name"] or "", r["site"] or "") for r in rows}

    # --- raw frame log -----------------------------------------------------

    async def add_frame_chunks(self, rows: list[tuple[str, float, int, bytes]]) -> None:
        """rows: (station_id, ts, number of frames, packed frames after compress_chunks).
        On the writer's thread, a few chunks a transaction: a second's chunks are hundreds
        of kilobytes under load, which in one commit on the event loop held up every
        station for a millisecond or more."""
        for i in range(0, len(rows), CHUNKS_PER_COMMIT):
            await self._writer.call_long(_add_chunks, rows[i:i + CHUNKS_PER_COMMIT])

    async def prune_frames(self, keep_chunks: int) -> int:
        return await self._writer.call_long(_prune_frames, keep_chunks)

    async def frames(self, station_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The station's last `limit` frames, oldest first."""
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < limit:
            rows = await self._query(
                "SELECT data FROM frame_chunks WHERE station_id = ? ORDER BY id DESC LIMIT 20 OFFSET ?",
                (station_id, offset),
            )
            if not rows:
                break
            for row in rows:
                chunk = unpack_frames(row["data"])
                out.extend({"ts": ts, "direction": d, "frame": f.decode(errors="replace")}
                           for ts, d, f in reversed(chunk))
            offset += len(rows)
        return out[:limit][::-1]
