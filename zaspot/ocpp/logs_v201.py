"""OCPP 2.0.1 log retrieval over the wire: GetLog, LogStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

from typing import Any

from zaspot.ocpp.logs_v16 import security_get_log
from zaspot.ocpp.session import on

_LOG_TYPES = {"diagnostics": "DiagnosticsLog", "security": "SecurityLog"}


def get_log(log_type: str, request_id: int, location: str, since: float | None = None,
            until: float | None = None) -> tuple[str, dict[str, Any]]:
    return "GetLog", security_get_log(_LOG_TYPES[log_type], request_id, location, since, until)


class Handlers:
    # self: the station session these are mixed into (Any: a mixin cannot name its host)
    @on("LogStatusNotification")
    async def log_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("LogStatusNotification", payload, self.ctx.logs, payload.get("requestId"))
        return {}
