"""Operator API: reservations/*: make, cancel, list (zaspot.lifecycle.reservations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zaspot.api.registry import ApiError, arg, handler
from zaspot.lifecycle.reservations import DEFAULT_MINUTES, ReservationError

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection

_MAKE_ARGS = {"station_id", "id_token", "evse_id", "connector_id", "minutes", "expires_in", "token_type"}


def _service(conn: ApiConnection) -> Any:
    service = conn.ctx.reservations
    if service is None:
        raise ApiError("not_available", "reservations are not running")
    return service


def _int(msg: dict[str, Any], key: str) -> int | None:
    value = arg(msg, key, int, None)
    if isinstance(value, bool) or (value is not None and value < 0):
        raise ApiError("invalid_format", f"'{key}' must be a whole number, 0 or more")
    return value


def _minutes(msg: dict[str, Any]) -> float:
    """`minutes` (default 15), or `expires_in` seconds."""
    if "minutes" in msg and "expires_in" in msg:
        raise ApiError("invalid_format", "give 'minutes' or 'expires_in', not both")
    seconds = arg(msg, "expires_in", (int, float), None)
    if seconds is not None:
        return float(seconds) / 60.0
    minutes = arg(msg, "minutes", (int, float), None)
    return DEFAULT_MINUTES if minutes is None else float(minutes)


@handler("reservations/make")
async def reservations_make(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    unknown = set(msg) - _MAKE_ARGS - {"id", "type"}
    if unknown:
        raise ApiError("invalid_format", f"unknown argument(s) for reservations/make: {', '.join(sorted(unknown))}")
    try:
        return await _service(conn).make(
            arg(msg, "station_id"), arg(msg, "id_token"), evse_id=_int(msg, "evse_id"),
            connector_id=_int(msg, "connector_id"), minutes=_minutes(msg), source=f"operator:{conn.user}",
            token_type=arg(msg, "token_type", str, None),
        )
    except ReservationError as exc:
        raise ApiError(exc.code, exc.message, exc.reservation) from None


@handler("reservations/cancel")
async def reservations_cancel(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    reservation_id = arg(msg, "reservation_id", int)
    try:
        return await _service(conn).cancel(reservation_id, source=f"operator:{conn.user}")
    except ReservationError as exc:
        raise ApiError(exc.code, exc.message, exc.reservation) from None


@handler("reservations/list")
async def reservations_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _service(conn).list(arg(msg, "station_id", str, None),
                                     bool(arg(msg, "active_only", bool, False)))
