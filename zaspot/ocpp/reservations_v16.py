"""OCPP 1.6 reservations over the wire: ReserveNow, CancelReservation.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

import time
from typing import Any


def iso(ts: float) -> str:
    """UTC, ISO 8601, milliseconds, `Z`: how OCPP writes a time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}Z"


def reserve_now(reservation_id: int, id_token: str, expires_at: float, evse_id: int | None = None,
                connector_id: int | None = None, group_id: str | None = None,
                token_type: str | None = None) -> tuple[str, dict[str, Any]]:
    """1.6 reserves a connector (N, as EVSE N is addressed in 1.6), or any (0) when none is named."""
    payload: dict[str, Any] = {"connectorId": connector_id or evse_id or 0, "expiryDate": iso(expires_at),
                               "idTag": id_token, "reservationId": reservation_id}
    if group_id:
        payload["parentIdTag"] = group_id
    return "ReserveNow", payload


def cancel_reservation(reservation_id: int) -> tuple[str, dict[str, Any]]:
    return "CancelReservation", {"reservationId": reservation_id}


class Handlers:
    """Inbound 1.6 messages of this feature (1.6 has none: a reservation's use shows in
    StartTransaction's reservationId, its end in StatusNotification)."""
