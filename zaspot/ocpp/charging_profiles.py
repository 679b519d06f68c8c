"""Power limits as charging profiles, for both versions.

A station-wide limit (evse 0) is the station's max profile (1.6
ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile); an EVSE limit is its
TxDefaultProfile, which also caps a transaction already running. Profile ids
are fixed per EVSE so that a new limit replaces the old one, and a clear
removes exactly what we set; only the limit owner (zaspot.limits) sends them, with
the lowest of every source's intents.

A `fallback` adds a second period: after `fallback_after_s` the limit drops to
`fallback` (same unit) and stays there. The EMS sends its limits this way and
renews them, so a station that loses zaspot falls back to a safe limit by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from zaspot.core.rounding import floor_tenth

PROFILE_ID_BASE = 90_000  # away from ids a station or another system may use


def profile_id(evse_id: int) -> int:
    return PROFILE_ID_BASE + evse_id


def _limit(kw: float | None, amps: float | None) -> tuple[str, float]:
    if (kw is None) == (amps is None):
        raise ValueError("give exactly one of kw or amps")
    # 1.6 schedules carry multipleOf 0.1: rounded here, once, down (toward the fuse).
    return ("W", floor_tenth(kw * 1000)) if kw is not None else ("A", floor_tenth(amps))  # type: ignore[arg-type]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _schedule(unit: str, limit: float, duration_s: float | None,
              fallback: tuple[int, float] | None = None) -> dict[str, Any]:
    periods = [{"startPeriod": 0, "limit": limit}]
    if fallback is not None:
        periods.append({"startPeriod": fallback[0], "limit": fallback[1]})
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods, "startSchedule": _now()}
    if duration_s:
        schedule["duration"] = int(duration_s)
    return schedule


def _fallback(after_s: float | None, limit: float | None, unit: str) -> tuple[int, float] | None:
    if after_s is None or limit is None:
        return None
    if after_s < 1:
        raise ValueError("fallback_after_s must be at least 1 s")
    return int(after_s), floor_tenth(limit * 1000 if unit == "W" else limit)


def v16_set(evse_id: int, kw: float | None, amps: float | None, duration_s: float | None,
            fallback: float | None = None, fallback_after_s: float | None = None,
            stack_level: int = 1, station_wide: bool = False) -> tuple[str, dict[str, Any]]:
    """`fallback` is in kW when the limit is, else in A. `station_wide`: for a model that
    rejects TxDefaultProfile, the EVSE's limit goes as the station's max profile."""
    unit, limit = _limit(kw, amps)
    tail = _fallback(fallback_after_s, fallback, unit)
    evse_id = 0 if station_wide else evse_id
    return "SetChargingProfile", {
        "connectorId": evse_id,
        "csChargingProfiles": {
            "chargingProfileId": profile_id(evse_id),
            "stackLevel": stack_level,
            "chargingProfilePurpose": "ChargePointMaxProfile" if evse_id == 0 else "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": _schedule(unit, limit, duration_s, tail),
        },
    }


def v16_clear(evse_id: int) -> tuple[str, dict[str, Any]]:
    return "ClearChargingProfile", {"id": profile_id(evse_id)}


def v201_set(evse_id: int, kw: float | None, amps: float | None, duration_s: float | None,
             fallback: float | None = None, fallback_after_s: float | None = None,
             stack_level: int = 1, station_wide: bool = False) -> tuple[str, dict[str, Any]]:
    """`fallback` is in kW when the limit is, else in A (`station_wide`: as v16_set)."""
    unit, limit = _limit(kw, amps)
    tail = _fallback(fallback_after_s, fallback, unit)
    evse_id = 0 if station_wide else evse_id
    return "SetChargingProfile", {
        "evseId": evse_id,
        "chargingProfile": {
            "id": profile_id(evse_id),
            "stackLevel": stack_level,
            "chargingProfilePurpose": "ChargingStationMaxProfile" if evse_id == 0 else "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": profile_id(evse_id), **_schedule(unit, limit, duration_s, tail)}],
        },
    }


def v201_clear(evse_id: int) -> tuple[str, dict[str, Any]]:
    return "ClearChargingProfile", {"chargingProfileId": profile_id(evse_id)}
