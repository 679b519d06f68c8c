"""OCPP 2.0.1 log retrieval over the wire: GetLog, LogStatusNotification.

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201.
"""

from __future__ import annotations

from zaspot.ocpp.station import recorded


class Handlers:
    log_status = recorded("LogStatusNotification")
