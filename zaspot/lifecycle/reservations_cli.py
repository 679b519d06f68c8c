"""Shell commands of this feature, through a running zaspot's API."""

from __future__ import annotations

from typing import Any


def configure(sub: Any) -> None:
    """Add this feature's commands to the `zaspot` parser."""
