"""OCPP 1.6 prices and costs: the Open Charge Alliance's "California Pricing" DataTransfer.

1.6 has no message for prices or costs; the OCA's application note "OCPP & California
Pricing Requirements" adds three DataTransfer messages of vendor
`org.openchargealliance.costmsg`, their `data` a JSON text:

- SetUserPrice `{idToken, priceText}`: the driver's price, once they identified;
- RunningCost `{transactionId, timestamp, meterValue, cost, state, chargingPrice, idlePrice?,
  nextPeriod?}`: the cost so far while charging (meterValue: the energy register in Wh;
  state: Charging or Idle; chargingPrice `{kWhPrice, hourPrice?, flatFee?}`; idlePrice
  `{graceMinutes, hourPrice}`; nextPeriod `{atTime, chargingPrice}`: the price from then on);
- FinalCost `{transactionId, cost, priceText}`: the cost when the transaction ended.

Only stations whose model takes them are sent any (`pricing.cost_messages.models_16`):
others answer UnknownVendorId at best. Translations for zaspot.ocpp.commands; sent by
zaspot.pricing.charger.
"""

from __future__ import annotations

from typing import Any

import orjson

from zaspot.core.pricing_events import DriverIdentified
from zaspot.ocpp.cards_v16 import utc_iso

VENDOR_ID = "org.openchargealliance.costmsg"


def _transfer(message_id: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "DataTransfer", {"vendorId": VENDOR_ID, "messageId": message_id, "data": orjson.dumps(data).decode()}


def user_price(id_token: str, text: str) -> tuple[str, dict[str, Any]]:
    return _transfer("SetUserPrice", {"idToken": id_token, "priceText": text})


def running_cost(transaction_id: str, cost: float, *, at: float, meter_wh: float, state: str,
                 kwh_price: float, flat_fee: float | None = None, idle: tuple[int, float] | None = None,
                 next_price: tuple[float, float] | None = None) -> tuple[str, dict[str, Any]]:
    """`idle`: (grace minutes, price per idle hour); `next_price`: (from when, price per kWh)."""
    charging: dict[str, Any] = {"kWhPrice": kwh_price}
    if flat_fee:
        charging["flatFee"] = flat_fee
    data: dict[str, Any] = {"transactionId": int(transaction_id), "timestamp": utc_iso(at),
                            "meterValue": int(meter_wh), "cost": cost, "state": state,
                            "chargingPrice": charging}
    if idle is not None:
        data["idlePrice"] = {"graceMinutes": idle[0], "hourPrice": idle[1]}
    if next_price is not None:
        data["nextPeriod"] = {"atTime": utc_iso(next_price[0]), "chargingPrice": {"kWhPrice": next_price[1]}}
    return _transfer("RunningCost", data)


def final_cost(transaction_id: str, cost: float, text: str) -> tuple[str, dict[str, Any]]:
    return _transfer("FinalCost", {"transactionId": int(transaction_id), "cost": cost, "priceText": text})


def identified(session: Any, id_tag: str, verdict: Any) -> None:
    """A card was accepted (Authorize): its price follows as SetUserPrice, once the answer
    is out (zaspot.pricing.charger hears this on the bus and sends it, for listed models)."""
    if verdict.status == "Accepted":
        session.ctx.bus.fire(DriverIdentified(session.station_id, id_tag))
