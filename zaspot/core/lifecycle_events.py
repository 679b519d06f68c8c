"""Normalized events of a station's life: reservations, firmware updates, log uploads,
refused connections, stale transactions (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event

# reservations and stale transactions


@dataclass(frozen=True, slots=True)
class ReservationChanged(Event):
    """A reservation was made, refused, used, cancelled or expired (zaspot.lifecycle.reservations)."""

    type: ClassVar[str] = "reservation_changed"
    reservation_id: int
    evse_id: int | None  # None: any EVSE of the station
    connector_id: int | None
    id_token: str
    status: str  # active | used | cancelled | expired | rejected
    expires_at: float
    transaction_id: str | None = None  # the transaction that used it
    detail: str | None = None  # the station's answer or why it ended, e.g. "Occupied", "Removed"


@dataclass(frozen=True, slots=True)
class TransactionStale(Event):
    """A transaction closed by us, not the station: it booted again without stopping it, or
    the transaction was silent too long. Its end is its last meter reading."""

    type: ClassVar[str] = "transaction_stale"
    transaction_id: str
    evse_id: int
    connector_id: int
    reason: str  # "Stale: station rebooted", "Stale: silent for 24 h"
    meter_stop_wh: float | None
