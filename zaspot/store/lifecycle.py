"""Store tables of firmware files, updates and rollouts, and uploaded logs.

Writes are unit steps (`fn(conn, unit, ...)`, see store/unit.py): each change of a row
and the event it gives commit in one transaction. Reads are LifecycleStore methods.
A step that finds nothing to change writes nothing and emits nothing, so a repeated
notification is stored once.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from zaspot.core.lifecycle_events import FirmwareStatus, LogStatus, RolloutChanged

from .rowid import inserted_id
from .unit import Unit

# What a firmware update's status may be besides the station's own words.
FIRMWARE_FAILED = frozenset({"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature",
                             "rejected", "timed_out"})
FIRMWARE_DONE = FIRMWARE_FAILED | {"Installed", "skipped"}
LOG_FAILED = frozenset({"UploadFailed", "UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied",
                        "Rejected", "timed_out"})
LOG_DONE = LOG_FAILED | {"Uploaded"}

_UPDATE_COLUMNS = ("id, station_id, rollout_id, firmware, token, status, detail, position, sent_at, created_at, "
                   "updated_at, done_at")
_LOG_COLUMNS = "id, station_id, log_type, token, status, filename, path, size, detail, source, created_at, updated_at"


def _row(c: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    cur = c.execute(sql, params)
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


# --- firmware files and rollouts --------------------------------------------------------


def add_firmware_file(c: sqlite3.Connection, unit: Unit, name: str, path: str, size: int, sha256: str,
                      ts: float) -> None:
    c.execute("INSERT INTO firmware_files (name, path, size, sha256, added_at) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT (name) DO UPDATE SET path = excluded.path, size = excluded.size, "
              "sha256 = excluded.sha256, added_at = excluded.added_at", (name, path, size, sha256, ts))


def create_rollout(c: sqlite3.Connection, unit: Unit, firmware: str, stations: list[tuple[str, str]],
                   concurrency: int, max_failures: int, options: dict[str, Any], source: str, ts: float) -> int:
    """A rollout and one pending update per (station_id, token), in the given order."""
    rollout_id = inserted_id(c.execute(
        "INSERT INTO firmware_rollouts (firmware, concurrency, max_failures, state, install_at, signature, "
        "signing_certificate, source, created_at, updated_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
        (firmware, concurrency, max_failures, options.get("install_at"), options.get("signature"),
         options.get("signing_certificate"), source, ts, ts),
    ))
    c.executemany(
        "INSERT INTO firmware_updates (station_id, rollout_id, firmware, token, status, position, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        [(station_id, rollout_id, firmware, token, i, ts, ts) for i, (station_id, token) in enumerate(stations)],
    )
    unit.emit(RolloutChanged("", rollout_id, "running", firmware, time=ts))
    return rollout_id


def set_update_status(c: sqlite3.Connection, unit: Unit, update_id: int, status: str, detail: str | None,
                      ts: float, only_if: frozenset[str] | None = None) -> bool:
    """Change one update (when its status is one of `only_if`, if given); False: nothing changed."""
    row = _row(c, f"SELECT {_UPDATE_COLUMNS} FROM firmware_updates WHERE id = ?", (update_id,))
    if row is None or (only_if is not None and row["status"] not in only_if):
        return False
    if row["status"] == status and (detail is None or detail == row["detail"]):
        return False  # a repeat
    done_at = ts if status in FIRMWARE_DONE else None
    c.execute("UPDATE firmware_updates SET status = ?, detail = ?, updated_at = ?, done_at = ?, "
              "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
              (status, detail, ts, done_at, status, ts, update_id))
    unit.emit(FirmwareStatus(row["station_id"], update_id, row["rollout_id"], row["firmware"], status, detail,
                             time=ts))
    return True


def station_firmware_status(c: sqlite3.Connection, unit: Unit, station_id: str, status: str,
                            request_id: int | None, ts: float) -> int | None:
    """A FirmwareStatusNotification onto its update: the one with its requestId, or (1.6 has
    none) the station's last update sent. Idle says nothing about an update: it changes none.
    A station's word after our own verdict (a late Installed after timed_out) is the truth."""
    if status == "Idle":
        return None
    if request_id is not None:
        row = _row(c, "SELECT id, status FROM firmware_updates WHERE id = ? AND station_id = ?",
                   (request_id, station_id))
    else:
        row = _row(c, "SELECT id, status FROM firmware_updates WHERE station_id = ? AND sent_at IS NOT NULL "
                      "ORDER BY sent_at DESC, id DESC LIMIT 1", (station_id,))
    if row is None or row["status"] in ("pending", "skipped"):
        return None
    return row["id"] if set_update_status(c, unit, row["id"], status, None, ts) else None


def set_rollout_state(c: sqlite3.Connection, unit: Unit, rollout_id: int, state: str, ts: float) -> bool:
    row = _row(c, "SELECT firmware, state FROM firmware_rollouts WHERE id = ?", (rollout_id,))
    if row is None or row["state"] == state:
        return False
    c.execute("UPDATE firmware_rollouts SET state = ?, updated_at = ? WHERE id = ?", (state, ts, rollout_id))
    unit.emit(RolloutChanged("", rollout_id, state, row["firmware"], time=ts))
    return True


def stop_rollout(c: sqlite3.Connection, unit: Unit, rollout_id: int, detail: str, ts: float) -> None:
    """Its failures reached max_failures: the updates not sent yet are skipped, the rollout stopped."""
    pending = c.execute("SELECT id FROM firmware_updates WHERE rollout_id = ? AND status = 'pending' "
                        "ORDER BY position", (rollout_id,)).fetchall()
    for (update_id,) in pending:
        set_update_status(c, unit, update_id, "skipped", detail, ts, only_if=frozenset({"pending"}))
    set_rollout_state(c, unit, rollout_id, "stopped", ts)


def time_out_updates(c: sqlite3.Connection, unit: Unit, cutoff: float, ts: float) -> list[int]:
    """Updates sent and not finished, silent since before `cutoff`: timed_out."""
    done = tuple(FIRMWARE_DONE | {"pending"})
    rows = c.execute(f"SELECT id FROM firmware_updates WHERE status NOT IN ({','.join('?' * len(done))}) "
                     "AND updated_at < ?", (*done, cutoff)).fetchall()
    return [update_id for (update_id,) in rows
            if set_update_status(c, unit, update_id, "timed_out", "no word from the station", ts)]


# --- log uploads ----------------------------------------------------------------------------


def create_log_upload(c: sqlite3.Connection, unit: Unit, station_id: str, log_type: str, token: str, source: str,
                      ts: float) -> int:
    upload_id = inserted_id(c.execute(
        "INSERT INTO log_uploads (station_id, log_type, token, status, source, created_at, updated_at) "
        "VALUES (?, ?, ?, 'requested', ?, ?, ?)", (station_id, log_type, token, source, ts, ts),
    ))
    unit.emit(LogStatus(station_id, upload_id, "requested", None, log_type, time=ts))
    return upload_id


def set_log_status(c: sqlite3.Connection, unit: Unit, upload_id: int, status: str, detail: str | None, ts: float,
                   filename: str | None = None, only_if: frozenset[str] | None = None) -> bool:
    """Change one log request; a request whose file arrived keeps Uploaded (the file is the truth)."""
    row = _row(c, f"SELECT {_LOG_COLUMNS} FROM log_uploads WHERE id = ?", (upload_id,))
    if row is None or row["path"] is not None:
        return False
    if only_if is not None and row["status"] not in only_if:
        if filename and not row["filename"]:  # the answer's file name, after the station's first word
            c.execute("UPDATE log_uploads SET filename = ? WHERE id = ?", (filename, upload_id))
        return False
    filename = filename or row["filename"]
    if row["status"] == status and detail == row["detail"] and filename == row["filename"]:
        return False
    c.execute("UPDATE log_uploads SET status = ?, detail = ?, filename = ?, updated_at = ? WHERE id = ?",
              (status, detail, filename, ts, upload_id))
    unit.emit(LogStatus(row["station_id"], upload_id, status, filename, row["log_type"], None, detail, time=ts))
    return True


def station_log_status(c: sqlite3.Connection, unit: Unit, station_id: str, status: str, request_id: int | None,
                       ts: float) -> int | None:
    """A Diagnostics- or LogStatusNotification onto its request: the one with its requestId, or
    (1.6 DiagnosticsStatusNotification has none) the station's last diagnostics request."""
    if status == "Idle":
        return None
    if request_id is not None:
        row = _row(c, "SELECT id FROM log_uploads WHERE id = ? AND station_id = ?", (request_id, station_id))
    else:
        row = _row(c, "SELECT id FROM log_uploads WHERE station_id = ? AND log_type = 'diagnostics' "
                      "ORDER BY id DESC LIMIT 1", (station_id,))
    if row is None:
        return None
    detail = None
    if status == "Uploaded":  # the file would be here before the station heard our 200
        status, detail = "UploadFailed", "the station says Uploaded, but no file reached zaspot"
    return row["id"] if set_log_status(c, unit, row["id"], status, detail, ts) else None


def log_file_stored(c: sqlite3.Connection, unit: Unit, upload_id: int, filename: str, path: str, size: int,
                    ts: float) -> None:
    row = _row(c, "SELECT station_id, log_type FROM log_uploads WHERE id = ?", (upload_id,))
    if row is None:
        return
    c.execute("UPDATE log_uploads SET status = 'Uploaded', detail = NULL, filename = ?, path = ?, size = ?, "
              "updated_at = ? WHERE id = ?", (filename, path, size, ts, upload_id))
    unit.emit(LogStatus(row["station_id"], upload_id, "Uploaded", filename, row["log_type"], size, time=ts))


def time_out_logs(c: sqlite3.Connection, unit: Unit, cutoff: float, ts: float) -> list[int]:
    done = tuple(LOG_DONE)
    rows = c.execute(f"SELECT id FROM log_uploads WHERE path IS NULL AND status NOT IN "
                     f"({','.join('?' * len(done))}) AND updated_at < ?", (*done, cutoff)).fetchall()
    return [upload_id for (upload_id,) in rows
            if set_log_status(c, unit, upload_id, "timed_out", "no file and no word from the station", ts)]


# --- reads ---------------------------------------------------------------------------------


class LifecycleStore:
    """Mixed into Store."""

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def firmware_files(self) -> list[dict[str, Any]]:
        return await self._query("SELECT name, path, size, sha256, added_at FROM firmware_files ORDER BY name")

    async def firmware_file(self, name: str) -> dict[str, Any] | None:
        rows = await self._query("SELECT name, path, size, sha256, added_at FROM firmware_files WHERE name = ?",
                                 (name,))
        return rows[0] if rows else None

    async def firmware_updates(self, station_id: str | None = None, rollout_id: int | None = None,
                               limit: int = 1000) -> list[dict[str, Any]]:
        """Newest first (a rollout's own in its order)."""
        where, params = _filters(station_id=station_id, rollout_id=rollout_id)
        order = "position" if rollout_id is not None and station_id is None else "id DESC"
        return await self._query(f"SELECT {_UPDATE_COLUMNS} FROM firmware_updates{where} ORDER BY {order} LIMIT ?",
                                 (*params, limit))

    async def firmware_update_by_token(self, token: str) -> dict[str, Any] | None:
        rows = await self._query(f"SELECT {_UPDATE_COLUMNS} FROM firmware_updates WHERE token = ?", (token,))
        return rows[0] if rows else None

    async def unfinished_firmware_updates(self) -> list[dict[str, Any]]:
        done = tuple(FIRMWARE_DONE)
        return await self._query(f"SELECT {_UPDATE_COLUMNS} FROM firmware_updates WHERE status NOT IN "
                                 f"({','.join('?' * len(done))}) ORDER BY id", done)

    async def firmware_rollout(self, rollout_id: int) -> dict[str, Any] | None:
        rows = await self._query("SELECT * FROM firmware_rollouts WHERE id = ?", (rollout_id,))
        return rows[0] if rows else None

    async def firmware_rollouts(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, params = _filters(state=state)
        return await self._query(f"SELECT * FROM firmware_rollouts{where} ORDER BY id DESC LIMIT ?", (*params, limit))

    async def log_uploads(self, station_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        where, params = _filters(station_id=station_id)
        return await self._query(f"SELECT {_LOG_COLUMNS} FROM log_uploads{where} ORDER BY id DESC LIMIT ?",
                                 (*params, limit))

    async def log_upload(self, upload_id: int) -> dict[str, Any] | None:
        rows = await self._query(f"SELECT {_LOG_COLUMNS} FROM log_uploads WHERE id = ?", (upload_id,))
        return rows[0] if rows else None

    async def log_upload_by_token(self, token: str) -> dict[str, Any] | None:
        rows = await self._query(f"SELECT {_LOG_COLUMNS} FROM log_uploads WHERE token = ?", (token,))
        return rows[0] if rows else None


def _filters(**values: Any) -> tuple[str, tuple[Any, ...]]:
    pairs = [(k, v) for k, v in values.items() if v is not None]
    if not pairs:
        return "", ()
    return " WHERE " + " AND ".join(f"{k} = ?" for k, _ in pairs), tuple(v for _, v in pairs)
