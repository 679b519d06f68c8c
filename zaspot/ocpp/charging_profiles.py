"""Power limits as charging profiles, for both versions.

A station-wide limit (evse 0) is the station's max profile (1.6
ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile); an EVSE limit is its
TxDefaultProfile, which also caps a transaction already running. Profile ids
are fixed per EVSE so that a new limit replaces the old one, and a clear
removes exactly what we set.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

PROFILE_ID_BASE = 90_000  # away from ids a station or another system may use


def profile_id(evse_id: int) -> int:
    return PROFILE_ID_BASE + evse_id


def _limit(kw: float | None, amps: float | None) -> tuple[str, float]:
    if (kw is None) == (amps is None):
        raise ValueError("give exactly one of kw or amps")
    # 1.6 schedules carry multipleOf 0.1: round here, once.
    return ("W", round(kw * 1000, 1)) if kw is not None else ("A", round(amps, 1))  # type: ignore[arg-type]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _schedule(unit: str, limit: float, duration_s: float | None) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        "startSchedule": _now(),
    }
    if duration_s:
        schedule["duration"] = int(duration_s)
    return schedule


def v16_set(evse_id: int, kw: float | None, amps: float | None, duration_s: float | None) -> tuple[str, dict[str, Any]]:
    unit, limit = _limit(kw, amps)
    return "SetChargingProfile", {
        "connectorId": evse_id,
        "csChargingProfiles": {
            "chargingProfileId": profile_id(evse_id),
            "stackLevel": 1,
            "chargingProfilePurpose": "ChargePointMaxProfile" if evse_id == 0 else "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": _schedule(unit, limit, duration_s),
        },
    }


def v16_clear(evse_id: int) -> tuple[str, dict[str, Any]]:
    return "ClearChargingProfile", {"id": profile_id(evse_id)}


def v201_set(evse_id: int, kw: float | None, amps: float | None, duration_s: float | None) -> tuple[str, dict[str, Any]]:
    unit, limit = _limit(kw, amps)
    return "SetChargingProfile", {
        "evseId": evse_id,
        "chargingProfile": {
            "id": profile_id(evse_id),
            "stackLevel": 1,
            "chargingProfilePurpose": "ChargingStationMaxProfile" if evse_id == 0 else "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": profile_id(evse_id), **_schedule(unit, limit, duration_s)}],
        },
    }


def v201_clear(evse_id: int) -> tuple[str, dict[str, Any]]:
    return "ClearChargingProfile", {"chargingProfileId": profile_id(evse_id)}
