"""OCPP 2.0.1 firmware updates over the wire: UpdateFirmware, FirmwareStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

from typing import Any

from zaspot.ocpp.firmware_v16 import iso
from zaspot.ocpp.session import on


def update_firmware(location: str, request_id: int, retrieve_at: float, install_at: float | None = None,
                    signature: str | None = None, signing_certificate: str | None = None,
                    retries: int | None = None, retry_interval: int | None = None) -> tuple[str, dict[str, Any]]:
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": iso(retrieve_at)}
    if install_at is not None:
        firmware["installDateTime"] = iso(install_at)
    if signing_certificate:
        firmware["signingCertificate"] = signing_certificate
    if signature:
        firmware["signature"] = signature
    extra = {k: v for k, v in (("retries", retries), ("retryInterval", retry_interval)) if v is not None}
    return "UpdateFirmware", {"requestId": request_id, "firmware": firmware, **extra}


class Handlers:
    # self: the station session these are mixed into (Any: a mixin cannot name its host)
    @on("FirmwareStatusNotification")
    async def firmware_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("FirmwareStatusNotification",
                                     payload, self.ctx.firmware, payload.get("requestId"))
        return {}
