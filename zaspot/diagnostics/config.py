"""The `diagnostics:` section of zaspot.yaml.

    diagnostics:
      poll_interval: 60          # s: GetVariables for 2.0.1 stations that refuse monitors
      module_monitors: true      # ask 2.0.1 stations to push power-module changes
      resume_after: 10           # s: inventory again for a 2.0.1 station back without booting
      temperature:               # alarm thresholds in °C, on top of the built-in ones
        - {location: connector, raise_c: 70, clear_c: 65}
        - {location: connector, model: HPC-350, raise_c: 85, clear_c: 80, severity: critical}

A temperature alarm opens at raise_c or above and clears below clear_c (the gap
keeps a value hovering at the limit from opening and closing it every minute), so
clear_c must be below raise_c; both are -50 to 200 °C.
A rule with `model:` applies to stations of that model (as in their
BootNotification) and wins over a rule without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from zaspot.ranges import Invalid, Range, num

Severity = Literal["critical", "error", "warning", "info"]
Celsius = Annotated[float, Range(-50, 200)]


@dataclass
class TemperatureLimit:
    # connector, cable, inlet, body, ev, evse, module, or a vendor component's name in
    # lower case (zaspot/diagnostics/temperature.py): not a closed list.
    location: str
    raise_c: Celsius
    clear_c: Celsius
    model: str = ""  # "" = every station
    severity: Severity = "warning"

    def validate(self) -> None:
        if self.clear_c >= self.raise_c:
            raise Invalid("clear_c", f"{num(self.clear_c)} must be below raise_c ({num(self.raise_c)})")


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
    poll_interval: Annotated[float, Range(1, 86400)] = 60.0
    module_monitors: bool = True
    resume_after: Annotated[float, Range(0, 3600)] = 10.0
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
