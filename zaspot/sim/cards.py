"""The simulated station's cards (both versions), registered in zaspot.sim.features."""
from __future__ import annotations

from .features import handles  # noqa: F401
