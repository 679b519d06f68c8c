"""The simulated station's transfers (both versions), registered in zaspot.sim.features."""
from __future__ import annotations

from .features import handles  # noqa: F401
