"""Did the limit take effect: GetCompositeSchedule, both versions.

Many chargers accept a profile and ignore it, or compose it with one of their own. The
composite schedule is what the station says it will do now: its first period's limit,
compared with what was sent. A station that does not answer the request (NotSupported,
Rejected, a timeout) leaves the question open (None), which is no alarm by itself;
drawing above the limit is (see owner.check_drawing).
"""

from __future__ import annotations

from typing import Any

DURATION_S = 60
TOLERANCE = 0.05  # what rounding in a station's own unit leaves


async def read_back(commands: Any, station_id: str, evse_id: int, unit: str, sent: float) -> bool | None:
    """True when the station's composite schedule holds `sent` (or less) now."""
    version = commands.version_of(station_id)
    if version is None:
        return None
    where = {"connectorId": evse_id} if version == "1.6" else {"evseId": evse_id}
    outcome = await commands.raw(station_id, "GetCompositeSchedule",
                                 {**where, "duration": DURATION_S, "chargingRateUnit": unit}, source="limits")
    if not outcome.ok:
        return None
    limit = first_limit(outcome.result or {})
    if limit is None:
        return None
    return limit <= sent * (1 + TOLERANCE) + 0.1


def first_limit(result: dict[str, Any]) -> float | None:
    """The limit in force now, from either version's answer."""
    schedule = result.get("chargingSchedule") or result.get("schedule") or {}
    periods = schedule.get("chargingSchedulePeriod") or []
    now = [p for p in periods if p.get("startPeriod", 0) == 0]
    return float(now[0]["limit"]) if now else None
