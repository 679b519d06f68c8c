"""Normalized events of prices and session costs (see zaspot.core.events)."""

from __future__ import annotations
