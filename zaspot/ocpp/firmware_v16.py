"""OCPP 1.6 firmware updates over the wire: UpdateFirmware (and the security extension's
SignedUpdateFirmware), FirmwareStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.ocpp.errors import UnsupportedCommand
from zaspot.ocpp.session import on


def iso(ts: float) -> str:
    """UNIX seconds as OCPP writes a time (UTC, `Z`)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def update_firmware(location: str, request_id: int, retrieve_at: float, install_at: float | None = None,
                    signature: str | None = None, signing_certificate: str | None = None,
                    retries: int | None = None, retry_interval: int | None = None) -> tuple[str, dict[str, Any]]:
    """UpdateFirmware; a signed firmware goes as the security extension's SignedUpdateFirmware
    (which has no install time)."""
    extra = {k: v for k, v in (("retries", retries), ("retryInterval", retry_interval)) if v is not None}
    if signature or signing_certificate:
        if not (signature and signing_certificate):
            raise UnsupportedCommand("a signed 1.6 update (SignedUpdateFirmware) needs both the signature "
                                     "and the signing certificate")
        firmware = {"location": location, "retrieveDateTime": iso(retrieve_at), "signature": signature,
                    "signingCertificate": signing_certificate}
        if install_at is not None:
            firmware["installDateTime"] = iso(install_at)
        return "SignedUpdateFirmware", {"requestId": request_id, "firmware": firmware, **extra}
    return "UpdateFirmware", {"location": location, "retrieveDate": iso(retrieve_at), **extra}




class Handlers:
    # self: the station session these are mixed into (Any: a mixin cannot name its host)
    @on("FirmwareStatusNotification")
    async def firmware_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("FirmwareStatusNotification",
                                     payload, self.ctx.firmware, None)  # 1.6: no request id
        return {}

    @on("SignedFirmwareStatusNotification")
    async def signed_firmware_status(self: Any, payload: dict[str, Any]) -> dict[str, Any]:
        await self.progress_reported("SignedFirmwareStatusNotification",
                                     payload, self.ctx.firmware, payload.get("requestId"))
        return {}
