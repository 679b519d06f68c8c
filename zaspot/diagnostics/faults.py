"""Fault codes of both versions -> `Fault` events.

OCPP 1.6: a StatusNotification's errorCode (GroundFailure, OverCurrentFailure,
HighTemperature, …, with vendorErrorCode and info). An error code with a status
other than Faulted is the spec's warning: its severity is at most "warning".
OCPP 2.0.1: a Faulted connector status, and device-model variables `Problem`
and `Tripped` (NotifyEvent, NotifyReport, GetVariables), with techCode/techInfo.
"""

from __future__ import annotations

from zaspot.core import events as ev
from zaspot.diagnostics.readings import Reading

SEVERITIES = ("critical", "error", "warning", "info")

SEVERITY = {
    "GroundFailure": "critical",
    "OverCurrentFailure": "critical",
    "HighTemperature": "critical",
    "OverVoltage": "critical",
    "PowerSwitchFailure": "critical",
    "Tripped": "critical",
    "UnderVoltage": "error",
    "ConnectorLockFailure": "error",
    "PowerMeterFailure": "error",
    "ReaderFailure": "error",
    "InternalError": "error",
    "ResetFailure": "error",
    "EVCommunicationError": "warning",
    "WeakSignal": "warning",
    "LocalListConflict": "warning",
}

# 2.0.1 components in the words users use (anything else keeps its own name).
COMPONENTS = {
    "ChargingStation": "station",
    "EVSE": "evse",
    "Connector": "connector",
    "ChargingCable": "cable",
    "ConnectedEV": "ev",
    "AcDcConverter": "module",
    "DCConverter": "module",
    "PowerConverter": "module",
}

FAULT_VARIABLES = ("Problem", "Tripped")
STATUS_ORIGIN = "StatusNotification/"  # + evse/connector: a connector status's faults


def severity_of(code: str, warning_at_most: bool = False) -> str:
    severity = SEVERITY.get(code, "error")
    if warning_at_most and SEVERITIES.index(severity) < SEVERITIES.index("warning"):
        return "warning"
    return severity


def from_status(e: ev.StatusChanged) -> ev.Fault:
    """The fault state a connector status reports (inactive when it reports none)."""
    code = e.error_code or ("Faulted" if e.status == "Faulted" else None)
    component = "station" if e.connector_id == 0 else "connector"
    origin = f"{STATUS_ORIGIN}{e.evse_id}/{e.connector_id}"
    if code is None:
        return ev.Fault(
            e.station_id, origin, component, None, False, evse_id=e.evse_id,
            connector_id=e.connector_id, source="StatusNotification", time=e.time,
        )
    return ev.Fault(
        e.station_id, origin, component, code, True, severity_of(code, e.status != "Faulted"),
        e.evse_id, e.connector_id, None, e.vendor_error_code, e.info, "StatusNotification",
        time=e.time,
    )


def from_reading(station_id: str, r: Reading, source: str, ts: float) -> ev.Fault | None:
    """A Problem or Tripped variable as a fault (None for any other variable)."""
    if r.variable not in FAULT_VARIABLES:
        return None
    active = r.flag and not r.cleared
    # Clearing without a techCode clears whatever this variable had raised.
    code = (r.tech_code or r.variable) if active else r.tech_code
    where = r.component + (f"[{r.instance}]" if r.instance else "")
    return ev.Fault(
        station_id, f"{where}/{r.evse_id}/{r.connector_id}.{r.variable}",
        COMPONENTS.get(r.component, r.component), code, active,
        severity_of(code or r.variable), r.evse_id, r.connector_id, r.instance, None, r.tech_info,
        source, time=ts,
    )
