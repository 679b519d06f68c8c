"""OCPP 1.6 log retrieval over the wire: GetDiagnostics, DiagnosticsStatusNotification
(and the security extension's GetLog / LogStatusNotification, for the security log).

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

from typing import Any

from zaspot.ocpp.firmware_v16 import iso
from zaspot.ocpp.session import on
from zaspot.store.unit import Unit


def get_log(log_type: str, request_id: int, location: str, since: float | None = None,
            until: float | None = None) -> tuple[str, dict[str, Any]]:
    """The diagnostics as GetDiagnostics; the security log as the security extension's GetLog."""
    if log_type == "security":
        return "GetLog", security_get_log("SecurityLog", request_id, location, since, until)
    payload: dict[str, Any] = {"location": location}
    if since is not None:
        payload["startTime"] = iso(since)
    if until is not None:
        payload["stopTime"] = iso(until)
    return "GetDiagnostics", payload


def security_get_log(log_type: str, request_id: int, location: str, since: float | None,
                     until: float | None) -> dict[str, Any]:
    """GetLog's payload: the same in 2.0.1 and in 1.6's security extension."""
    log: dict[str, Any] = {"remoteLocation": location}
    if since is not None:
        log["oldestTimestamp"] = iso(since)
    if until is not None:
        log["latestTimestamp"] = iso(until)
    return {"logType": log_type, "requestId": request_id, "log": log}


async def log_reported(session: Any, action: str, payload: dict[str, Any], request_id: int | None) -> None:
    """Kept as a device event, and onto its request (zaspot.lifecycle.logs) in the same unit."""
    unit = Unit()
    await session.device_event(action, payload, unit)
    if session.ctx.logs is not None:
        session.ctx.logs.reported(unit, session.station_id, payload["status"], request_id)
    await session.commit(unit)


class Handlers:
    @on("DiagnosticsStatusNotification")
    async def diagnostics_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        await log_reported(self, "DiagnosticsStatusNotification", payload, None)  # no request id in 1.6
        return {}

    @on("LogStatusNotification")
    async def log_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        await log_reported(self, "LogStatusNotification", payload, payload.get("requestId"))
        return {}
