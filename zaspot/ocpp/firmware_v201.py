"""OCPP 2.0.1 firmware updates over the wire: UpdateFirmware, FirmwareStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

from zaspot.ocpp.station import recorded


class Handlers:
    firmware_status = recorded("FirmwareStatusNotification")
