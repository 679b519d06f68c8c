"""OCPP 1.6 vendor mappings: what a 1.6 station's vendor codes mean for power modules.

1.6 has no device model. Vendors report module trips, module temperatures and
the like in their own way: a vendorErrorCode on connector 0, a DataTransfer.
A `VendorMapping` translates those into the same device-model `Reading`s a
2.0.1 station sends (component AcDcConverter, instance = the module, variables
Enabled / Problem / Tripped / Temperature), so alarms, module state and
temperatures work the same for both versions. A plugin registers one:

    from zaspot.diagnostics import vendor
    unregister = vendor.register(MyMapping())

The example below is the format of zaspot's own simulator (vendor "Zaspot"):
a trip is StatusNotification on connector 0 with vendorErrorCode `ModuleTrip<N>`;
recovery says `AcDcConverter <N> recovered` in `info`; and a DataTransfer with
vendorId `com.zaspot.modules`, messageId `ModuleStatus`, data
`{"modules": [{"id": 1, "tripped": false, "temperature": 41.5}, …]}` (JSON text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from zaspot.diagnostics.readings import Reading

_MODULE = "AcDcConverter"


class VendorMapping(Protocol):
    def matches(self, vendor: str | None, model: str | None) -> bool:
        """True for the stations this mapping understands (from their BootNotification)."""

    def status_readings(self, connector_id: int, error_code: str | None, vendor_error_code: str | None,
                        info: str | None) -> list[Reading]:
        """Readings a StatusNotification implies; [] leaves it to the generic fault codes."""

    def data_transfer_readings(self, vendor_id: str, message_id: str | None, data: Any) -> list[Reading]:
        """Readings carried by a DataTransfer from the station; [] when it is not ours."""


_MAPPINGS: list[VendorMapping] = []


def register(mapping: VendorMapping) -> Callable[[], None]:
    """Add a mapping (first match wins, latest registered first). Returns its unregister."""
    _MAPPINGS.insert(0, mapping)
    return lambda: _MAPPINGS.remove(mapping) if mapping in _MAPPINGS else None


def mapping_for(vendor: str | None, model: str | None) -> VendorMapping | None:
    return next((m for m in _MAPPINGS if m.matches(vendor, model)), None)


def _flag(value: bool) -> str:
    return "true" if value else "false"


class SimulatorModules:
    """The documented example: zaspot's simulator (see the module docstring)."""

    _TRIP = re.compile(r"^ModuleTrip(\d+)$")
    _RECOVERED = re.compile(r"^AcDcConverter (\d+) recovered$")

    def matches(self, vendor: str | None, model: str | None) -> bool:
        return vendor == "Zaspot"

    def status_readings(self, connector_id: int, error_code: str | None, vendor_error_code: str | None,
                        info: str | None) -> list[Reading]:
        if connector_id != 0:
            return []
        if trip := self._TRIP.match(vendor_error_code or ""):
            return [Reading(_MODULE, "Tripped", "true", trip[1], tech_code="Tripped", tech_info=info)]
        if recovered := self._RECOVERED.match(info or ""):
            return [Reading(_MODULE, "Tripped", "false", recovered[1])]
        return []

    def data_transfer_readings(self, vendor_id: str, message_id: str | None, data: Any) -> list[Reading]:
        if vendor_id != "com.zaspot.modules" or message_id != "ModuleStatus":
            return []
        try:
            modules = json.loads(data)["modules"]
        except (TypeError, ValueError, KeyError):
            return []
        out = []
        for m in modules if isinstance(modules, list) else []:
            if not isinstance(m, dict) or "id" not in m:
                continue
            instance = str(m["id"])
            if "tripped" in m:
                out.append(Reading(_MODULE, "Tripped", _flag(bool(m["tripped"])), instance))
            if "temperature" in m:
                out.append(Reading(_MODULE, "Temperature", str(m["temperature"]), instance))
        return out


register(SimulatorModules())
