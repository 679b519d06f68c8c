"""OCPP 2.0.1 reservations over the wire: ReserveNow, CancelReservation, ReservationStatusUpdate.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

from zaspot.ocpp.station import recorded


class Handlers:
    reservation_status = recorded("ReservationStatusUpdate")
