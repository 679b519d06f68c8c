"""OCPP 2.0.1 NotifyEVChargingNeeds: the EV's departure and energy need (ISO 15118), into
zaspot.pricing.needs. `Handlers` is mixed into SessionV201.

The answer says whether we can use it (the spec: Accepted does not promise the need is
met): Accepted when the EMS plans this EVSE by its sessions' needs (spot_price) and its
transaction runs; Processing when the transaction has not started yet (the need waits
for it); Rejected when it says neither an energy nor a departure, or nothing here plans
by it. The message is kept whole in every case, and the need in the same unit of work.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.ocpp.metering import parse_time
from zaspot.ocpp.session import on
from zaspot.pricing import needs
from zaspot.store.unit import Unit


def energy_wh(charging_needs: dict[str, Any]) -> float | None:
    """Wh the EV asks for: `energyAmount` (AC or DC), else a DC EV's capacity x (full - now) SoC."""
    for kind in ("acChargingParameters", "dcChargingParameters"):
        amount = (charging_needs.get(kind) or {}).get("energyAmount")
        if isinstance(amount, int) and amount >= 0:
            return float(amount)
    dc = charging_needs.get("dcChargingParameters") or {}
    capacity, soc = dc.get("evEnergyCapacity"), dc.get("stateOfCharge")
    full = dc.get("fullSoC", 100)
    if isinstance(capacity, int) and capacity > 0 and isinstance(soc, int) and isinstance(full, int):
        return max(0.0, capacity * (full - soc) / 100)
    return None


def _planned_by_needs(ctx: Any, station_id: str, evse_id: int) -> bool:
    ems = getattr(ctx, "ems", None)
    if ems is None or (station_id, evse_id) not in ems.site.evses:
        return False
    return bool(getattr(ems.controller.strategy, "plans_by_needs", False))


class Handlers:
    @on("NotifyEVChargingNeeds")
    async def ev_charging_needs(self: Any, p: dict[str, Any]) -> dict[str, Any]:
        wanted, evse_id = p["chargingNeeds"], p["evseId"]
        energy, departure = energy_wh(wanted), parse_time(wanted.get("departureTime"))
        unit = Unit()
        await self.device_event("NotifyEVChargingNeeds", p, unit)  # the message itself, as every unread one
        if energy is None and departure is None:
            await self.commit(unit)
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NoEnergyOrDeparture",
                                                         "additionalInfo": "no energyAmount and no departureTime"}}
        unit.do(needs.save, self.station_id, evse_id, energy, departure, None, "ev", time.time())
        [need] = await self.commit(unit)
        if not _planned_by_needs(self.ctx, self.station_id, evse_id):
            return {"status": "Rejected", "statusInfo": {
                "reasonCode": "NoSmartCharging", "additionalInfo": "kept; energy management does not plan this EVSE"}}
        return {"status": "Accepted" if need.transaction_id is not None else "Processing"}
