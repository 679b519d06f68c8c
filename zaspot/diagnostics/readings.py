"""OCPP 2.0.1 device-model values, whichever message carried them.

NotifyEvent (a monitor or the station pushed it), NotifyReport (an answer to
GetBaseReport) and GetVariables results all reduce to the same `Reading`: a
variable of a component (with its instance, EVSE and connector) and its value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reading:
    component: str
    variable: str
    value: str
    instance: str | None = None
    evse_id: int = 0
    connector_id: int = 0
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool = False

    @property
    def flag(self) -> bool:
        return self.value.strip().lower() == "true"

    @property
    def celsius(self) -> float | None:
        try:
            return float(self.value)
        except ValueError:
            return None


def _reading(component: dict[str, Any], variable: dict[str, Any], value: str, **extra: Any) -> Reading:
    evse = component.get("evse") or {}
    return Reading(
        component["name"], variable["name"], value, component.get("instance"),
        evse.get("id", 0), evse.get("connectorId", 0), **extra,
    )


def from_notify_event(payload: dict[str, Any]) -> Iterator[Reading]:
    for item in payload["eventData"]:
        yield _reading(
            item["component"], item["variable"], item["actualValue"],
            tech_code=item.get("techCode"), tech_info=item.get("techInfo"),
            cleared=bool(item.get("cleared")),
        )


def from_notify_report(payload: dict[str, Any]) -> Iterator[Reading]:
    for item in payload.get("reportData") or []:
        for attribute in item["variableAttribute"]:
            if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                yield _reading(item["component"], item["variable"], attribute["value"])


def from_get_variables(result: dict[str, Any]) -> Iterator[Reading]:
    for item in result.get("getVariableResult") or []:
        if item["attributeStatus"] == "Accepted" and "attributeValue" in item:
            yield _reading(item["component"], item["variable"], item["attributeValue"])


def address(component: str, variable: str, instance: str | None = None,
            evse_id: int = 0, connector_id: int = 0) -> dict[str, Any]:
    """The component/variable pair of a GetVariables or SetVariableMonitoring item."""
    comp: dict[str, Any] = {"name": component}
    if instance is not None:
        comp["instance"] = instance
    if evse_id:
        comp["evse"] = {"id": evse_id} | ({"connectorId": connector_id} if connector_id else {})
    return {"component": comp, "variable": {"name": variable}}
