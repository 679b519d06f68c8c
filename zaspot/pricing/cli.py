"""`zaspot prices …`, `zaspot sessions …`, `zaspot session plan …`: through a running zaspot's API."""

from __future__ import annotations

from typing import Any


def configure(sub: Any) -> None:
    """Add the pricing commands to the `zaspot` parser."""
