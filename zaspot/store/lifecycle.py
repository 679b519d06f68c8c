"""Store tables of firmware files, updates and rollouts, and uploaded logs."""

from __future__ import annotations


class LifecycleStore:
    """Mixed into Store."""
