"""Version-neutral commands -> OCPP 1.6 calls (action, payload), and results back."""

from __future__ import annotations

from typing import Any

from zaspot.ocpp import charging_profiles
from zaspot.ocpp.errors import UnsupportedCommand


def reset(kind: str = "soft") -> tuple[str, dict[str, Any]]:
    return "Reset", {"type": "Hard" if kind == "hard" else "Soft"}


def remote_start(id_token: str, evse_id: int | None = None,
                 connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"idTag": id_token}
    if connector_id or evse_id:
        payload["connectorId"] = connector_id or evse_id
    return "RemoteStartTransaction", payload


def remote_stop(transaction_id: str) -> tuple[str, dict[str, Any]]:
    try:
        return "RemoteStopTransaction", {"transactionId": int(transaction_id)}
    except ValueError:
        raise UnsupportedCommand(f"1.6 transaction ids are integers, got {transaction_id!r}") from None


def unlock_connector(connector_id: int = 1, evse_id: int | None = None) -> tuple[str, dict[str, Any]]:
    return "UnlockConnector", {"connectorId": connector_id or evse_id or 1}


def change_availability(operative: bool, evse_id: int = 0,
                        connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    return "ChangeAvailability", {
        "connectorId": connector_id if connector_id is not None else evse_id,
        "type": "Operative" if operative else "Inoperative",
    }


def trigger_message(message: str, evse_id: int | None = None,
                    connector_id: int | None = None) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector_id or evse_id:
        payload["connectorId"] = connector_id or evse_id
    return "TriggerMessage", payload


def get_variables(keys: list[str]) -> tuple[str, dict[str, Any]]:
    return "GetConfiguration", {"key": list(keys)} if keys else {}


def get_variables_result(keys: list[str], result: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        {"name": k["key"], "value": k.get("value"), "status": "Accepted", "readonly": k.get("readonly")}
        for k in result.get("configurationKey") or []
    ]
    missing = [{"name": k, "value": None, "status": "UnknownVariable"} for k in result.get("unknownKey") or []]
    return found + missing


def set_variable(key: str, value: Any) -> tuple[str, dict[str, Any]]:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return "ChangeConfiguration", {"key": key, "value": text}


def data_transfer(vendor_id: str, message_id: str | None = None, data: str | None = None) -> tuple[str, dict[str, Any]]:
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
        return charging_profiles.v16_set(evse_id, kw, amps, duration_s, fallback, fallback_after_s, stack_level,
                                       station_wide)
    except ValueError as exc:
        raise UnsupportedCommand(str(exc)) from None


def clear_power_limit(evse_id: int = 0) -> tuple[str, dict[str, Any]]:
    return charging_profiles.v16_clear(evse_id)
