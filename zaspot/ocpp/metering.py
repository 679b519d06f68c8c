"""Sampled values of both versions -> normalized `Sample`s (W, Wh, V, A, °C, %, Hz, var, varh, VA, VAh)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zaspot.core.events import Sample

# unit -> (normalized unit, factor); temperatures are converted separately.
_UNITS = {
    "Wh": ("Wh", 1.0), "kWh": ("Wh", 1000.0),
    "varh": ("varh", 1.0), "kvarh": ("varh", 1000.0),
    "VAh": ("VAh", 1.0), "kVAh": ("VAh", 1000.0),
    "W": ("W", 1.0), "kW": ("W", 1000.0),
    "VA": ("VA", 1.0), "kVA": ("VA", 1000.0),
    "var": ("var", 1.0), "kvar": ("var", 1000.0),
    "A": ("A", 1.0), "V": ("V", 1.0),
    "Percent": ("%", 1.0), "Hertz": ("Hz", 1.0),
    "Celsius": ("°C", 1.0), "Celcius": ("°C", 1.0),  # 1.6's schema allows the typo
}
_DEFAULT_MEASURAND = "Energy.Active.Import.Register"

# The unit a sampled value has when it states none: each measurand has its own (OCPP
# 1.6 and 2.0.1 alike); only energy defaults to Wh. Names as the station sends them,
# normalized by `normalize` like a stated unit. Power.Factor has no unit ("").
_DEFAULT_UNITS = {
    "Power.Factor": "", "Power.Offered": "W", "Voltage": "V", "Frequency": "Hz",
    "Temperature": "Celsius", "SoC": "Percent", "RPM": "RPM",
}
_DEFAULT_UNIT_PREFIXES = (
    ("Energy.Reactive.", "varh"), ("Energy.Apparent.", "VAh"), ("Energy.", "Wh"),
    ("Power.Active.", "W"), ("Power.Reactive.", "var"), ("Power.Apparent", "VA"),
    ("Current.", "A"),
)


def default_unit(measurand: str) -> str:
    """What a value of this measurand is in when its unit is not given ("" if unknown)."""
    unit = _DEFAULT_UNITS.get(measurand)
    if unit is not None:
        return unit
    for prefix, unit in _DEFAULT_UNIT_PREFIXES:
        if measurand.startswith(prefix):
            return unit
    return ""


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def normalize(value: float, unit: str) -> tuple[float, str]:
    if unit == "K":
        return value - 273.15, "°C"
    if unit == "Fahrenheit":
        return (value - 32.0) * 5.0 / 9.0, "°C"
    norm, factor = _UNITS.get(unit, (unit, 1.0))
    return value * factor, norm


def samples_v16(meter_values: list[dict[str, Any]]) -> list[Sample]:
    out = []
    for mv in meter_values:
        ts = parse_time(mv.get("timestamp"))
        for sv in mv["sampledValue"]:
            if sv.get("format") == "SignedData":
                continue  # an opaque signed blob, not a number
            try:
                raw = float(sv["value"])
            except ValueError:
                continue
            measurand = sv.get("measurand", _DEFAULT_MEASURAND)
            value, unit = normalize(raw, sv.get("unit") or default_unit(measurand))
            location = sv.get("location", "Outlet")  # the spec's default
            out.append(Sample(measurand, value, unit, sv.get("phase"), location, sv.get("context"), ts))
    return out


def samples_v201(meter_values: list[dict[str, Any]]) -> list[Sample]:
    out = []
    for mv in meter_values:
        ts = parse_time(mv.get("timestamp"))
        for sv in mv["sampledValue"]:
            measurand = sv.get("measurand", _DEFAULT_MEASURAND)
            uom = sv.get("unitOfMeasure") or {}
            raw = float(sv["value"]) * (10.0 ** uom.get("multiplier", 0))
            value, unit = normalize(raw, uom.get("unit") or default_unit(measurand))
            out.append(
                Sample(
                    measurand, value, unit,
                    sv.get("phase"), sv.get("location", "Outlet"), sv.get("context"), ts,
                )
            )
    return out
