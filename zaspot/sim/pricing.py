"""The simulated station's side of prices and costs (both versions), registered in zaspot.sim.features.

What a real station shows its driver, kept for tests to read (`told(st)`):
- 2.0.1: the personalMessage of an Authorize or TransactionEvent answer, the totalCost of
  a TransactionEvent answer (the `heard` hook in zaspot.sim.v201) and of a CostUpdated
  CALL, the updatedPersonalMessage at the end;
- 1.6: the OCA California Pricing DataTransfer (vendor `org.openchargealliance.costmsg`):
  SetUserPrice, RunningCost, FinalCost, their `data` checked against the fields the
  application note defines (COSTMSG: a JSON schema per message, no field besides them).

Knobs: `features={"cost_messages": True}` a 1.6 station that takes the cost messages (else
it answers UnknownVendorId, as stations without them do); `{"cost_updated": False}` a 2.0.1
station without CostUpdated (CALLERROR NotSupported). With `validate=True` every CALL and
answer here is checked strictly; a bad one is kept in `st.errors` (and a bad CALL answered
with a CALLERROR, as a real station would).
"""
from __future__ import annotations

import json
from typing import Any, NoReturn

import fastjsonschema

from . import schemas
from .features import handles
from .rpc import NotImplementedAction

VENDOR_ID = "org.openchargealliance.costmsg"

_PRICE = {"type": "object", "additionalProperties": False, "minProperties": 1,
          "properties": {"kWhPrice": {"type": "number", "minimum": 0}, "hourPrice": {"type": "number", "minimum": 0},
                         "flatFee": {"type": "number", "minimum": 0}}}
_IDLE = {"type": "object", "additionalProperties": False,
         "properties": {"graceMinutes": {"type": "integer", "minimum": 0},
                        "hourPrice": {"type": "number", "minimum": 0}}}
_TEXTS = {"type": "array", "items": {
    "type": "object", "additionalProperties": False, "required": ["format", "content"],
    "properties": {"format": {"enum": ["ASCII", "HTML", "URI", "UTF8"]}, "language": {"type": "string"},
                   "content": {"type": "string"}}}}
_TIME = {"type": "string", "format": "date-time"}
_COST = {"type": "number", "minimum": 0}
# The `data` of each message, as the application note has it (optional fields included).
COSTMSG: dict[str, dict[str, Any]] = {
    "SetUserPrice": {"required": ["idToken", "priceText"], "properties": {
        "idToken": {"type": "string", "maxLength": 20}, "priceText": {"type": "string"}, "priceTextExtra": _TEXTS}},
    "RunningCost": {"required": ["transactionId", "timestamp", "meterValue", "cost", "state", "chargingPrice"],
                    "properties": {
        "transactionId": {"type": "integer"}, "timestamp": _TIME, "meterValue": {"type": "integer", "minimum": 0},
        "cost": _COST, "state": {"enum": ["Charging", "Idle"]}, "chargingPrice": _PRICE, "idlePrice": _IDLE,
        "nextPeriod": {"type": "object", "additionalProperties": False, "required": ["atTime"], "properties": {
            "atTime": _TIME, "chargingPrice": _PRICE, "idlePrice": _IDLE}},
        "triggerMeterValue": {"type": "object", "additionalProperties": False, "properties": {
            "atTime": _TIME, "atEnergykWh": {"type": "number"}, "atPowerkW": {"type": "number"},
            "atCPStatus": {"type": "array", "items": {"type": "string"}}}},
        "priceText": {"type": "string"}, "priceTextExtra": _TEXTS, "qrCodeText": {"type": "string"}}},
    "FinalCost": {"required": ["transactionId", "cost", "priceText"], "properties": {
        "transactionId": {"type": "integer"}, "cost": _COST, "priceText": {"type": "string"},
        "priceTextExtra": _TEXTS, "qrCodeText": {"type": "string"}}},
}
_CHECKS = {name: fastjsonschema.compile({"type": "object", "additionalProperties": False, **schema})
           for name, schema in COSTMSG.items()}


def told(st: Any) -> dict[str, Any]:
    """What this station was told of prices and costs, newest last:
    `personal_message` (2.0.1: the last tariff text), `total_cost` {tx: last totalCost,
    from answers and CostUpdated}, `cost_updated` [payloads], `updated_message` {tx: text};
    1.6 `user_price` {idToken: priceText}, `running_cost` {tx: [data, …]}, `final_cost` {tx: data}."""
    return st.feature_state.setdefault("pricing", {
        "personal_message": None, "total_cost": {}, "cost_updated": [], "updated_message": {},
        "user_price": {}, "running_cost": {}, "final_cost": {}})


def check_costmsg(message_id: str, data: Any) -> dict[str, Any]:
    """The parsed `data` of a costmsg DataTransfer; ValueError saying what is wrong."""
    if not isinstance(data, str):
        raise ValueError(f"{message_id}: data must be a JSON text, not {type(data).__name__}")
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{message_id}: data is not JSON: {exc}") from None
    try:
        _CHECKS[message_id](parsed)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise ValueError(f"{message_id}: {exc.message}") from None
    return parsed


def _refuse(st: Any, action: str, problem: str, code: str) -> NoReturn:
    st.errors.append(f"{action}: {problem}")
    raise NotImplementedAction(action, code)  # answered as a CALLERROR with this code


def heard(st: Any, action: str, answer: dict, transaction_id: str | None = None) -> None:
    """A 2.0.1 Authorize or TransactionEvent answer arrived: check it, keep what it told."""
    if st.validate:
        try:
            schemas.validate_response(st.protocol, action, answer)
        except fastjsonschema.JsonSchemaValueException as exc:
            st.errors.append(f"{action} answer: {exc.message}")
    state = told(st)
    message = (answer.get("idTokenInfo") or {}).get("personalMessage")
    if message:
        state["personal_message"] = message["content"]
    if transaction_id is not None and "totalCost" in answer:
        state["total_cost"][transaction_id] = answer["totalCost"]
    if transaction_id is not None and answer.get("updatedPersonalMessage"):
        state["updated_message"][transaction_id] = answer["updatedPersonalMessage"]["content"]


@handles("2.0.1", "CostUpdated")
async def on_cost_updated(proto: Any, p: dict):
    st = proto.st
    if not st.features.get("cost_updated", True):
        raise NotImplementedAction("CostUpdated", "NotSupported")
    if st.validate:
        try:
            schemas.validate_request(st.protocol, "CostUpdated", p)
        except fastjsonschema.JsonSchemaValueException as exc:
            _refuse(st, "CostUpdated", exc.message, "FormatViolation")
    state = told(st)
    state["cost_updated"].append(p)
    state["total_cost"][p["transactionId"]] = p["totalCost"]
    return {}, None


async def on_costmsg(proto: Any, p: dict):
    """1.6 DataTransfer of vendor costmsg (zaspot.sim.v16 hands it here)."""
    st = proto.st
    if not st.features.get("cost_messages", False):
        return {"status": "UnknownVendorId"}, None
    message_id = p.get("messageId")
    if message_id not in COSTMSG:
        return {"status": "UnknownMessageId"}, None
    try:
        data = check_costmsg(message_id, p.get("data"))
    except ValueError as exc:
        _refuse(st, "DataTransfer", str(exc), "FormationViolation")
    state = told(st)
    if message_id == "SetUserPrice":
        state["user_price"][data["idToken"]] = data["priceText"]
        return {"status": "Accepted"}, None
    tx = str(data["transactionId"])
    if message_id == "FinalCost":
        state["final_cost"][tx] = data
        return {"status": "Accepted"}, None
    if not any(str(t["id"]) == tx for t in st.transactions.values()):
        return {"status": "Rejected"}, None  # a running cost for a transaction it does not run
    state["running_cost"].setdefault(tx, []).append(data)
    return {"status": "Accepted"}, None
