"""OCPP 1.6 firmware updates over the wire: UpdateFirmware (and the security extension's
SignedUpdateFirmware), FirmwareStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

from zaspot.ocpp.station import recorded


class Handlers:
    firmware_status = recorded("FirmwareStatusNotification")
    signed_firmware_status = recorded("SignedFirmwareStatusNotification")
