"""Version-neutral commands -> OCPP 2.0.1 calls (action, payload), and results back.

Variables are named "Component.Variable", optionally "Component[instance].Variable"
(e.g. "OCPPCommCtrlr.HeartbeatInterval", "AcDcConverter[2].Temperature").
"""

from __future__ import annotations

import re
from typing import Any

from zaspot.ocpp import charging_profiles
from zaspot.ocpp.errors import UnsupportedCommand

_VARIABLE = re.compile(r"^(?P<component>[^.\[\]]+)(\[(?P<instance>[^\]]+)\])?\.(?P<variable>[^.]+)$")


def _address(name: str) -> dict[str, Any]:
    match = _VARIABLE.match(name)
    if not match:
        raise UnsupportedCommand(f"2.0.1 variables are named Component.Variable, got {name!r}")
    component: dict[str, Any] = {"name": match["component"]}
    if match["instance"]:
        component["instance"] = match["instance"]
    return {"component": component, "variable": {"name": match["variable"]}}


def reset(kind: str = "soft") -> tuple[str, dict[str, Any]]:
    return "Reset", {"type": "Immediate" if kind == "hard" else "OnIdle"}


def remote_start(id_token: str, evse_id: int | None = None,
                 connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    # remoteStartId: the command's row id, once it is stored (zaspot.ocpp.remote_start).
    payload: dict[str, Any] = {"idToken": {"idToken": id_token, "type": "Central"}}
    if evse_id:
        payload["evseId"] = evse_id
    return "RequestStartTransaction", payload


def remote_stop(transaction_id: str) -> tuple[str, dict[str, Any]]:
    return "RequestStopTransaction", {"transactionId": str(transaction_id)}


def unlock_connector(connector_id: int = 1, evse_id: int | None = None) -> tuple[str, dict[str, Any]]:
    return "UnlockConnector", {"evseId": evse_id or 1, "connectorId": connector_id or 1}


def change_availability(operative: bool, evse_id: int = 0,
                        connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"operationalStatus": "Operative" if operative else "Inoperative"}
    if evse_id:
        payload["evse"] = {"id": evse_id} | ({"connectorId": connector_id} if connector_id else {})
    return "ChangeAvailability", payload


def trigger_message(message: str, evse_id: int | None = None,
                    connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"requestedMessage": message}
    if evse_id:
        payload["evse"] = {"id": evse_id} | ({"connectorId": connector_id} if connector_id else {})
    return "TriggerMessage", payload


def get_variables(keys: list[str]) -> tuple[str, dict[str, Any]]:
    if not keys:
        raise UnsupportedCommand("2.0.1 needs the variables to get (Component.Variable)")
    return "GetVariables", {"getVariableData": [_address(k) for k in keys]}


def get_variables_result(keys: list[str], result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in result.get("getVariableResult") or []:
        comp = item["component"]
        name = comp["name"] + (f"[{comp['instance']}]" if comp.get("instance") else "") + "." + item["variable"]["name"]
        out.append({"name": name, "value": item.get("attributeValue"), "status": item["attributeStatus"]})
    return out


def set_variables(values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = []
    for name, value in values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        data.append({"attributeValue": text, **_address(name)})
    return "SetVariables", {"setVariableData": data}


def data_transfer(vendor_id: str, message_id: str | None = None, data: Any = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"vendorId": vendor_id}
    if message_id:
        payload["messageId"] = message_id
    if data is not None:
        payload["data"] = data
    return "DataTransfer", payload


def set_power_limit(kw: float | None = None, amps: float | None = None, evse_id: int = 0,
                    duration_s: float | None = None, fallback: float | None = None,
                    fallback_after_s: float | None = None, stack_level: int = 1,
                    station_wide: bool = False) -> tuple[str, dict[str, Any]]:
    try:
        return charging_profiles.v201_set(evse_id, kw, amps, duration_s, fallback, fallback_after_s, stack_level,
                                       station_wide)
    except ValueError as exc:
        raise UnsupportedCommand(str(exc)) from None


def clear_power_limit(evse_id: int = 0) -> tuple[str, dict[str, Any]]:
    return charging_profiles.v201_clear(evse_id)
