"""Where a temperature was measured, in words users use, for both versions.

| user location | OCPP 1.6 MeterValues `Temperature` | OCPP 2.0.1 device model component |
|---------------|------------------------------------|-----------------------------------|
| connector     | location Outlet (the default)      | Connector                         |
| cable         | location Cable                     | ChargingCable, Cable              |
| inlet         | location Inlet                     | (vendor components only)          |
| body          | location Body                      | ChargingStation                   |
| ev            | location EV                        | ConnectedEV                       |
| evse          | —                                  | EVSE                              |
| module        | —                                  | AcDcConverter, DCConverter, PowerConverter (instance = module) |

OCPP 2.0.1 has no Temperature measurand: temperatures arrive as variable
`Temperature` of a component, through NotifyEvent, NotifyReport or GetVariables.
"""

from __future__ import annotations

V16_LOCATIONS = {"Outlet": "connector", "Cable": "cable", "Inlet": "inlet", "Body": "body", "EV": "ev"}

V201_COMPONENTS = {
    "Connector": "connector",
    "ChargingCable": "cable",
    "Cable": "cable",
    "ChargingStation": "body",
    "ConnectedEV": "ev",
    "EVSE": "evse",
    "AcDcConverter": "module",
    "DCConverter": "module",
    "PowerConverter": "module",
}


def location_v16(location: str | None) -> str:
    return V16_LOCATIONS.get(location or "Outlet", (location or "outlet").lower())


def location_v201(component: str) -> str:
    return V201_COMPONENTS.get(component, component.lower())
