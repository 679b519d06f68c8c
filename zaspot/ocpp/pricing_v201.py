"""OCPP 2.0.1 tariff and cost (use cases I01-I03): what a driver is told of prices and costs.

- I01: the driver's tariff as text in `idTokenInfo.personalMessage` of the Authorize and
  TransactionEvent answers (`with_tariff`);
- I02: the running cost incl. VAT in `TransactionEventResponse.totalCost` of Updated events
  (`with_cost`) and in `CostUpdated` CALLs while charging (`running_cost`, a translation for
  zaspot.ocpp.commands, sent by zaspot.pricing.charger);
- I03: the final cost in the answer to the Ended event, with a line of text for the display
  (`updatedPersonalMessage`).

What is said comes from zaspot.pricing.charger (version-neutral): nothing is added when
pricing is not configured.
"""

from __future__ import annotations

from typing import Any

from zaspot.pricing import charger

MESSAGE_MAX = 512  # MessageContentType.content


def message(text: str) -> dict[str, Any]:
    """A MessageContentType: UTF-8 text, cut to what the schema allows."""
    return {"format": "UTF8", "content": text[:MESSAGE_MAX]}


def with_tariff(session: Any, info: dict[str, Any], id_token: str | None) -> dict[str, Any]:
    """An idTokenInfo with the card's tariff as its personalMessage (an accepted card only:
    a refused one has nothing to pay)."""
    if id_token and info.get("status") == "Accepted":
        text = charger.tariff_text(session.ctx, session.station_id, id_token)
        if text:
            info["personalMessage"] = message(text)
    return info


def with_cost(session: Any, answer: dict[str, Any], event_type: str, transaction_id: str) -> dict[str, Any]:
    """A TransactionEventResponse with the cost so far (Updated) or the final cost (Ended)."""
    if event_type == "Started":
        return answer
    cost = charger.cost_of(session.ctx, session.station_id, transaction_id, final=event_type == "Ended")
    if cost is None:
        return answer
    answer["totalCost"] = charger.amount(cost.incl_vat, cost.currency)
    if event_type == "Ended":
        answer["updatedPersonalMessage"] = message(charger.final_text(cost))
    return answer


def running_cost(transaction_id: str, cost: float, **details: Any) -> tuple[str, dict[str, Any]]:
    """CostUpdated: the cost so far incl. VAT, in the station's currency (the 1.6 message's
    other details have no place in 2.0.1)."""
    return "CostUpdated", {"totalCost": cost, "transactionId": transaction_id}
