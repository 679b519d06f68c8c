"""Operator API: firmware/* and logs/*: firmware files, updates, rollouts; log retrieval.

Files move over the file endpoint, never over this WebSocket: `firmware/add` gives a
one-time link to PUT the file to, `logs/get` one to GET the log from (on the address the
client reached this API at, or under files.public_url).
"""

from __future__ import annotations

import calendar
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from zaspot.api.registry import ApiError, arg, handler
from zaspot.lifecycle.links import TransferError, operator_url

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection


def _service(conn: ApiConnection, name: str) -> Any:
    service = getattr(conn.ctx, name, None)
    if service is None:
        raise ApiError("not_available", f"{name} is not running")
    return service


async def _do(coro: Any) -> Any:
    try:
        return await coro
    except TransferError as exc:
        raise ApiError(exc.code, exc.message) from None


def _count(msg: dict[str, Any], key: str, default: int, high: int) -> int:
    value = arg(msg, key, int, default)
    if isinstance(value, bool) or not 1 <= value <= high:
        raise ApiError("invalid_format", f"'{key}' is a whole number from 1 to {high}")
    return value


def _time(msg: dict[str, Any], key: str) -> float | None:
    """UNIX seconds, or an ISO 8601 UTC time (2026-12-01T22:00:00Z)."""
    value = arg(msg, key, (int, float, str), None)
    if value is None or isinstance(value, (int, float)):
        return value
    try:
        return float(calendar.timegm(time.strptime(value.rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        raise ApiError("invalid_format", f"'{key}' is UNIX seconds or YYYY-MM-DDTHH:MM:SSZ, got {value!r}") from None


# --- firmware --------------------------------------------------------------------------


@handler("firmware/list")
async def firmware_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _service(conn, "firmware").files()


@handler("firmware/add")
async def firmware_add(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """A one-time link (15 minutes) to PUT the file to; it is checked against size and sha256."""
    name, size, sha256 = arg(msg, "name"), arg(msg, "size", int), arg(msg, "sha256")
    token, expires = await _do(_service(conn, "firmware").upload_ticket(name, size, sha256.lower()))
    return {"name": name, "upload_url": operator_url(conn.ctx, conn.ws, f"/upload/{token}/{quote(name)}"),
            "method": "PUT", "expires_at": expires}


@handler("firmware/update")
async def firmware_update(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    station_ids = arg(msg, "station_ids", list)
    if not all(isinstance(s, str) for s in station_ids):
        raise ApiError("invalid_format", "'station_ids' is a list of station ids")
    options = {"install_at": _time(msg, "install_at"), "signature": arg(msg, "signature", str, None),
               "signing_certificate": arg(msg, "signing_certificate", str, None)}
    if len(options["signature"] or "") > 800 or len(options["signing_certificate"] or "") > 5500:
        raise ApiError("invalid_format", "a signature has at most 800 characters, a certificate 5500")
    return await _do(_service(conn, "firmware").update(
        station_ids, arg(msg, "firmware"), _count(msg, "concurrency", 2, 1000),
        _count(msg, "max_failures", 1, 100_000), options, source=f"operator:{conn.user}"))


@handler("firmware/status")
async def firmware_status(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _service(conn, "firmware").status(arg(msg, "station_id", str, None),
                                                   arg(msg, "rollout_id", int, None))


@handler("firmware/rollouts")
async def firmware_rollouts(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _service(conn, "firmware").rollout_list()


# --- logs -------------------------------------------------------------------------------


@handler("logs/fetch")
async def logs_fetch(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Ask the station for its log; answers once the station has answered (Accepted, Rejected)."""
    return await _do(_service(conn, "logs").fetch(arg(msg, "station_id"), arg(msg, "log_type", str, "diagnostics"),
                                                  source=f"operator:{conn.user}"))


@handler("logs/list")
async def logs_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _service(conn, "logs").list(arg(msg, "station_id", str, None))


@handler("logs/get")
async def logs_get(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """A one-time link (15 minutes) to GET an uploaded log from."""
    logs = _service(conn, "logs")
    upload_id = arg(msg, "log_id", int)  # not "id": that is the message's own
    upload = await conn.ctx.store.log_upload(upload_id)
    if upload is None:
        raise ApiError("not_found", f"no log request {upload_id}")
    if upload["path"] is None:
        raise ApiError("not_found", f"log {upload_id} has no file (it is {upload['status']})")
    token, expires = logs.download_ticket(upload)
    return {"id": upload_id, "filename": upload["filename"], "size": upload["size"], "expires_at": expires,
            "url": operator_url(conn.ctx, conn.ws, f"/download/{token}/{quote(upload['filename'])}")}
