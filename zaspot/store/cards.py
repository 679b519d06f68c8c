"""Store tables of cards (id tokens) and stations' local authorization lists."""

from __future__ import annotations


class CardStore:
    """Mixed into Store."""
