"""Temperatures against their own limits: a module at 75 °C is fine (its alarm opens at 80),
a body at 62 °C is not (60). The limits are the server's (`diagnostics/limits`: the
`diagnostics.temperature` rules of its zaspot.yaml, then the built-in ones), looked up as the
server looks them up (zaspot.diagnostics.config: the station model's rule, the site's rule,
the built-in one); an older server without that command: the built-in ones.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from zaspot.core.state import temperature_key
from zaspot.diagnostics.config import DiagnosticsConfig, TemperatureLimit

WARM_BELOW = 15.0  # °C under the alarm limit a reading turns yellow (at most: from clear_c on)


def limits_config(answer: dict[str, Any] | None) -> DiagnosticsConfig:
    """The configured rules first, the server's built-in ones after them (as site rules:
    a configured site rule for the same location wins, as on the server)."""
    rows = [*(answer or {}).get("temperature", []), *(answer or {}).get("defaults", [])]
    try:
        return DiagnosticsConfig(temperature=[TemperatureLimit(**row) for row in rows])
    except TypeError:  # a newer server's rule with fields we do not know: the built-in ones
        return DiagnosticsConfig()


def reading_key(e: dict[str, Any]) -> str:
    """A `temperature` event's place as the fleet state keys it: 'connector@1/1', 'module:3', 'body'."""
    return temperature_key(e.get("location") or "?", e.get("instance"), e.get("evse_id") or 0,
                           e.get("connector_id") or 0)


def location_of(key: str) -> str:
    """A reading's key in the fleet state ('connector@1/1', 'module:3', 'body') -> its location."""
    return key.split("@", 1)[0].split(":", 1)[0].lower()


def warm_from(limit: TemperatureLimit) -> float:
    return min(limit.clear_c, limit.raise_c - WARM_BELOW)


def celsius(value: float | None, limit: TemperatureLimit | None) -> Text:
    """Red at the alarm limit and above, yellow close under it; plain without a limit."""
    if value is None:
        return Text("–", style="bright_black")
    style = ""
    if limit is not None:
        style = "bold red" if value >= limit.raise_c else "yellow" if value >= warm_from(limit) else ""
    return Text(f"{value:.0f} °C", style=style)


def margin(value: float, limit: TemperatureLimit | None) -> float:
    """How far over (positive) or under its limit a reading is; no limit: far under."""
    return value - limit.raise_c if limit is not None else value - 1000.0
