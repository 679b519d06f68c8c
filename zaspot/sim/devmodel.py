"""The 2.0.1 device model of a simulated station: components, variables, reports.

Values are callables so GetVariables / NotifyReport always see live readings
(a connector temperature during an overheat, a tripped power module).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .meter import Connector, module_temperature, station_body_temperature

if TYPE_CHECKING:
    from .station import SimStation


@dataclass
class Var:
    component: str
    variable: str
    get: Callable[[], str]
    evse: int | None = None
    connector: int | None = None
    instance: str | None = None
    data_type: str = "string"
    mutability: str = "ReadOnly"
    unit: str | None = None
    set: Callable[[str], None] | None = None

    def component_json(self) -> dict:
        comp: dict = {"name": self.component}
        if self.instance is not None:
            comp["instance"] = self.instance
        if self.evse is not None:
            comp["evse"] = {"id": self.evse}
            if self.connector is not None:
                comp["evse"]["connectorId"] = self.connector
        return comp

    def report_json(self) -> dict:
        chars: dict = {"dataType": self.data_type, "supportsMonitoring": self.data_type != "string"}
        if self.unit:
            chars["unit"] = self.unit
        return {"component": self.component_json(), "variable": {"name": self.variable},
                "variableAttribute": [{"type": "Actual", "value": self.get()[:2500],
                                       "mutability": self.mutability}],
                "variableCharacteristics": chars}


def _b(v: bool) -> str:
    return "true" if v else "false"


def _setter(obj: dict, key: str, conv=lambda v: v.lower() == "true"):
    def set_(v: str) -> None:
        obj[key] = conv(v)
    return set_


def build(st: SimStation) -> list[Var]:
    conns = list(st.connectors.values())
    out = [
        Var("ChargingStation", "Model", lambda: st.model),
        Var("ChargingStation", "VendorName", lambda: st.vendor),
        Var("ChargingStation", "AvailabilityState", lambda: st.availability),
        Var("ChargingStation", "Temperature", lambda: str(station_body_temperature(conns)),
            data_type="decimal", unit="Celsius"),
        Var("OCPPCommCtrlr", "HeartbeatInterval", lambda: str(int(st.heartbeat_interval or 0)),
            data_type="integer", mutability="ReadWrite", unit="s",
            set=lambda v: setattr(st, "heartbeat_interval", float(v))),
        Var("SampledDataCtrlr", "TxUpdatedInterval", lambda: str(int(st.meter_interval)),
            data_type="integer", mutability="ReadWrite", unit="s",
            set=lambda v: setattr(st, "meter_interval", float(v))),
        Var("SmartChargingCtrlr", "Enabled", lambda: "true", data_type="boolean"),
    ]
    for c in conns:
        out += _connector_vars(c)
    for i, m in enumerate(st.modules, start=1):
        out += _module_vars(st, conns, i, m)
    return out


def _connector_vars(c: Connector) -> list[Var]:
    e = c.connector_id
    return [
        Var("EVSE", "AvailabilityState", lambda: _avail(c), evse=e),
        Var("EVSE", "Power", lambda: f"{c.power_w:.1f}", evse=e, data_type="decimal", unit="W"),
        Var("Connector", "Temperature", lambda: str(c.temperature_c), evse=e, connector=1,
            data_type="decimal", unit="Celsius"),
        Var("Connector", "Problem", lambda: _b(c.status == "Faulted"), evse=e, connector=1,
            data_type="boolean"),
    ]


def _module_vars(st: SimStation, conns: list[Connector], i: int, m: dict[str, Any]) -> list[Var]:
    inst = str(i)

    def temperature() -> str:
        return str(module_temperature(len(st.modules), i, sum(c.power_w for c in conns), m["heat"]))

    return [
        Var("AcDcConverter", "Enabled", lambda: _b(m["enabled"]), instance=inst,
            data_type="boolean", mutability="ReadWrite", set=_setter(m, "enabled")),
        Var("AcDcConverter", "Problem", lambda: _b(m["problem"]), instance=inst, data_type="boolean"),
        Var("AcDcConverter", "Tripped", lambda: _b(m["tripped"]), instance=inst, data_type="boolean"),
        Var("AcDcConverter", "Temperature", temperature, instance=inst, data_type="decimal", unit="Celsius"),
    ]


def _avail(c) -> str:
    return {"Faulted": "Faulted", "Unavailable": "Unavailable"}.get(c.status, c.status)


class DeviceModel:
    def __init__(self, st: SimStation):
        self.vars = build(st)

    def _match(self, comp: dict, var: dict) -> tuple[str, Var | None]:
        name = comp.get("name", "").lower()
        evse = comp.get("evse") or {}
        same_comp = [v for v in self.vars if v.component.lower() == name
                     and (comp.get("instance") is None or v.instance == comp.get("instance"))
                     and (evse.get("id") is None or v.evse == evse.get("id"))
                     and (evse.get("connectorId") is None or v.connector == evse.get("connectorId"))]
        if not same_comp:
            return "UnknownComponent", None
        hit = next((v for v in same_comp if v.variable.lower() == var.get("name", "").lower()
                    and var.get("instance") is None), None)
        return ("Accepted", hit) if hit else ("UnknownVariable", None)

    def get(self, item: dict) -> dict:
        attr = item.get("attributeType", "Actual")
        status, v = self._match(item["component"], item["variable"])
        if v is not None and attr != "Actual":
            status = "NotSupportedAttributeType"
        res = {"attributeStatus": status, "attributeType": attr,
               "component": item["component"], "variable": item["variable"]}
        if status == "Accepted" and v is not None:
            res["attributeValue"] = v.get()
        return res

    def set(self, item: dict) -> dict:
        attr = item.get("attributeType", "Actual")
        status, v = self._match(item["component"], item["variable"])
        if v is not None:
            if attr != "Actual":
                status = "NotSupportedAttributeType"
            elif v.set is None:
                status = "Rejected"
            else:
                try:
                    v.set(item["attributeValue"])
                except ValueError:
                    status = "Rejected"
        return {"attributeStatus": status, "attributeType": attr,
                "component": item["component"], "variable": item["variable"]}

    def report(self, base: str) -> list[dict]:
        if base == "ConfigurationInventory":
            chosen = [v for v in self.vars if v.mutability != "ReadOnly"]
        elif base == "SummaryInventory":
            chosen = [v for v in self.vars
                      if v.variable in ("AvailabilityState", "Problem", "Tripped", "Enabled")]
        else:
            chosen = self.vars
        return [v.report_json() for v in chosen]
