"""The simulated station's side of prices and costs (both versions), registered in zaspot.sim.features."""
from __future__ import annotations

from .features import handles  # noqa: F401
