"""Normalized events of a station's life: reservations, firmware updates, log uploads,
refused connections, stale transactions (see zaspot.core.events)."""

from __future__ import annotations
