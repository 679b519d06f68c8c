"""OCPP 1.6 log retrieval over the wire: GetDiagnostics, DiagnosticsStatusNotification
(and the security extension's GetLog / LogStatusNotification).

Translations for zaspot.ocpp.commands, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.
"""

from __future__ import annotations

from zaspot.ocpp.station import recorded


class Handlers:
    diagnostics_status = recorded("DiagnosticsStatusNotification")
    log_status = recorded("LogStatusNotification")
