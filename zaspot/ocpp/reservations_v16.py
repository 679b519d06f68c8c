"""OCPP 1.6 reservations over the wire: ReserveNow, CancelReservation.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations


class Handlers:
    """Inbound 1.6 messages of this feature (1.6 has none: a reservation's use shows in
    StartTransaction's reservationId, its end in StatusNotification)."""
