"""Normalized events of fleet health (zaspot.health; see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event


@dataclass(frozen=True, slots=True)
class TemperatureDrift(Event):
    """A connector's or module's temperature per ampere has risen past its own baseline
    (zaspot.health.drift), or is back within it (active False). Diagnostics turns it into
    the `TemperatureDrift` alarm, opened and cleared as any other fault."""

    type: ClassVar[str] = "temperature_drift"
    location: str  # connector | module | cable | …
    active: bool
    evse_id: int = 0
    connector_id: int = 0
    instance: str | None = None  # a module's instance (2.0.1 AcDcConverter)
    baseline: float = 0.0  # °C per A in the baseline days
    current: float = 0.0  # °C per A now (the smoothed value the test flags)
    rise_pct: float = 0.0

    @property
    def component(self) -> str:
        """The alarm's component: each series its own (a connector's and its cable's drift are two)."""
        return "module" if self.instance else self.location
