"""The `diagnostics:` section of zaspot.yaml.

    diagnostics:
      poll_interval: 60          # s: GetVariables for 2.0.1 stations that refuse monitors
      module_monitors: true      # ask 2.0.1 stations to push power-module changes
      resume_after: 10           # s: inventory again for a 2.0.1 station back without booting
      temperature:               # alarm thresholds in °C, on top of the built-in ones
        - {location: connector, raise_c: 70, clear_c: 65}
        - {location: connector, model: HPC-350, raise_c: 85, clear_c: 80, severity: critical}

A temperature alarm opens at raise_c or above and clears below clear_c (the gap
keeps a value hovering at the limit from opening and closing it every minute).
A rule with `model:` applies to stations of that model (as in their
BootNotification) and wins over a rule without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["critical", "error", "warning", "info"]


@dataclass
class TemperatureLimit:
    location: str  # connector, cable, inlet, body, ev, evse, module
    raise_c: float
    clear_c: float
    model: str = ""  # "" = every station
    severity: Severity = "warning"

    def __post_init__(self) -> None:
        if self.clear_c > self.raise_c:
            # TypeError: the config loader reports it as `file:line: message`.
            raise TypeError(f"clear_c ({self.clear_c}) must not be above raise_c ({self.raise_c})")


DEFAULT_LIMITS = {
    limit.location: limit
    for limit in (
        TemperatureLimit("connector", 70.0, 65.0),
        TemperatureLimit("cable", 70.0, 65.0),
        TemperatureLimit("inlet", 70.0, 65.0),
        TemperatureLimit("evse", 70.0, 65.0),
        TemperatureLimit("body", 60.0, 55.0),
        TemperatureLimit("module", 80.0, 75.0),
    )
}


@dataclass
class DiagnosticsConfig:
    poll_interval: float = 60.0
    module_monitors: bool = True
    resume_after: float = 10.0
    temperature: list[TemperatureLimit] = field(default_factory=list)

    def limit_for(self, location: str, model: str | None = None) -> TemperatureLimit | None:
        """The threshold for a location on a station model: model rule, site rule, built-in."""
        site = None
        for limit in self.temperature:
            if limit.location != location:
                continue
            if limit.model and limit.model == model:
                return limit
            if not limit.model and site is None:
                site = limit
        return site or DEFAULT_LIMITS.get(location)
