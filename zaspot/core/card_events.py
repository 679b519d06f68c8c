"""Normalized events of cards and authorization (see zaspot.core.events)."""

from __future__ import annotations
