"""`zaspot session plan|charge-now (PLAN)`: through a running zaspot's API."""

from __future__ import annotations

from typing import Any


def configure(sub: Any) -> None:
    """Add these commands to the `zaspot` parser."""
