"""Store table of reservations."""

from __future__ import annotations


class ReservationStore:
    """Mixed into Store."""
