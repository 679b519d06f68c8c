"""OCPP 2.0.1 reservations over the wire: ReserveNow, CancelReservation, ReservationStatusUpdate.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.ocpp.errors import UnsupportedCommand
from zaspot.ocpp.reservations_v16 import iso
from zaspot.ocpp.session import on
from zaspot.store import reservations
from zaspot.store.unit import Unit


def reserve_now(reservation_id: int, id_token: str, expires_at: float, evse_id: int | None = None,
                connector_id: int | None = None, group_id: str | None = None,
                token_type: str | None = None) -> tuple[str, dict[str, Any]]:
    """2.0.1 reserves an EVSE, or any of the station's when none is named (it has no
    connector-level reservation: a connector alone cannot be said)."""
    if evse_id is None and connector_id:
        raise UnsupportedCommand("2.0.1 reserves an EVSE, not a connector: give the EVSE (evse_id, --evse)")
    # A card is an RFID card unless told otherwise.
    payload: dict[str, Any] = {"id": reservation_id, "expiryDateTime": iso(expires_at),
                               "idToken": {"idToken": id_token, "type": token_type or "ISO14443"}}
    if evse_id:
        payload["evseId"] = evse_id
    if group_id:
        payload["groupIdToken"] = {"idToken": group_id, "type": "Central"}
    return "ReserveNow", payload


def cancel_reservation(reservation_id: int) -> tuple[str, dict[str, Any]]:
    return "CancelReservation", {"reservationId": reservation_id}


class Handlers:
    @on("ReservationStatusUpdate")
    async def reservation_status(self: Any, p: dict[str, Any]) -> dict[str, Any]:
        """The station holds a reservation no longer (Expired, or Removed: e.g. its EVSE went
        out of order): it is expired here too. One we do not know is kept as a device event."""
        unit = Unit()
        unit.do(reservations.ended_by_station, self.station_id, p["reservationId"], p["reservationUpdateStatus"],
                time.time())
        [known] = await self.commit(unit)
        if not known:
            await self.device_event("ReservationStatusUpdate", p)
        return {}
