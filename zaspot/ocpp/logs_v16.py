"""OCPP 1.6 log retrieval over the wire: GetDiagnostics, DiagnosticsStatusNotification
(and the security extension's GetLog / LogStatusNotification, for the security log).

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

from typing import Any

from zaspot.ocpp.firmware_v16 import iso
from zaspot.ocpp.session import on


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




class Handlers:
    # self: the station session these are mixed into (Any: a mixin cannot name its host)
    @on("DiagnosticsStatusNotification")
    async def diagnostics_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("DiagnosticsStatusNotification",
                                     payload, self.ctx.logs, None)  # no request id in 1.6
        return {}

    @on("LogStatusNotification")
    async def log_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("LogStatusNotification", payload, self.ctx.logs, payload.get("requestId"))
        return {}
