"""OCPP 2.0.1 behaviour of the simulated station: what it sends and how it answers.

Each simulated connector is EVSE <n> with one connector (connectorId 1), the usual
layout of real 2.0.1 stations.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import features, pricing, reservations, v201_handlers
from .devmodel import DeviceModel
from .meter import module_temperature, now_iso, sampled_values_201, station_body_temperature
from .rpc import NotImplementedAction

if TYPE_CHECKING:
    from .station import SimStation

_REASONS = {"DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
            "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault",
            "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV",
            "TimeLimitReached", "Timeout"}
_STOP_TRIGGER = {"Remote": "RemoteStop", "Local": "StopAuthorized", "EVDisconnected": "EVDeparted",
                 "ImmediateReset": "ResetCommand", "GroundFault": "AbnormalCondition",
                 "UnlockCommand": "UnlockCommand"}


class V201:
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"

    def __init__(self, st: SimStation):
        self.st = st
        self.dm = DeviceModel(st)
        self._event_ids = itertools.count(1)
        self._seq = itertools.count(0)   # NotifyEvent seqNo across the session
        self.monitors: dict[int, dict] = {}

    # ---- messages the station sends -------------------------------------------------
    def boot_payload(self) -> dict:
        s = self.st
        return {"reason": s.boot_reason, "chargingStation": {
            "model": s.model, "vendorName": s.vendor, "serialNumber": s.serial,
            "firmwareVersion": s.firmware}}

    async def send_status(self, evse: int, status: str) -> None:
        await self.st.call("StatusNotification", {"timestamp": now_iso(), "connectorStatus": status,
                                                  "evseId": evse, "connectorId": 1})

    async def send_all_status(self) -> None:
        for c in self.st.connectors.values():
            await self.send_status(c.connector_id, c.status)

    def _id_token(self, id_tag: str) -> dict:
        return {"idToken": id_tag, "type": "ISO14443"}

    async def authorize(self, id_tag: str) -> bool:
        resp = await self.st.call("Authorize", {"idToken": self._id_token(id_tag)})
        pricing.heard(self.st, "Authorize", resp)  # the tariff it was told
        return resp["idTokenInfo"]["status"] == "Accepted"

    async def _tx_event(self, cid: int, event: str, trigger: str, context: str, **extra) -> dict:
        tx, c = self.st.transactions[cid], self.st.connectors[cid]
        info = {"transactionId": tx["id"], "chargingState": "Charging" if c.charging else "Idle"}
        info.update(extra.pop("info", {}))
        p = {"eventType": event, "timestamp": now_iso(), "triggerReason": trigger,
             "seqNo": tx["seq"], "transactionInfo": info, "evse": {"id": cid, "connectorId": 1},
             "meterValue": [{"timestamp": now_iso(), "sampledValue": sampled_values_201(c, context)}]}
        p.update(extra)
        tx["seq"] += 1
        resp = await self.st.call("TransactionEvent", p)
        pricing.heard(self.st, "TransactionEvent", resp, tx["id"])  # the tariff and the cost it was told
        return resp

    async def start_tx(self, cid: int, id_tag: str, remote_start_id: int | None = None) -> str | None:
        c = self.st.connectors[cid]
        tx_id = str(uuid.uuid4())
        self.st.transactions[cid] = {"id": tx_id, "id_tag": id_tag, "seq": 0}
        c.start(soc=self.st.rng.uniform(10, 50))
        c.status = "Occupied"
        await self.send_status(cid, "Occupied")
        extra: dict[str, Any] = {"idToken": self._id_token(id_tag)}
        reservation = reservations.claim(self.st, cid, id_tag)  # the card's reservation: used now
        if reservation is not None:
            extra["reservationId"] = reservation
        if remote_start_id is not None:
            extra["info"] = {"remoteStartId": remote_start_id}
        trigger = "RemoteStart" if remote_start_id is not None else "Authorized"
        resp = await self._tx_event(cid, "Started", trigger, "Transaction.Begin", **extra)
        status = (resp.get("idTokenInfo") or {}).get("status", "Accepted")
        if status != "Accepted":
            await self.stop_tx(cid, "DeAuthorized")
            return None
        if self.st.features.get("charging_needs") is not None:
            await self.tell_charging_needs(cid)
        return tx_id

    async def tell_charging_needs(self, cid: int) -> dict:
        """ISO 15118: the EV's energy need and departure (knob `charging_needs`: {kwh, hours}).
        What the CSMS answered is kept in feature_state["charging_needs"]."""
        knob, dc = self.st.features.get("charging_needs") or {}, self.st.kind == "dc"
        needs: dict = {"requestedEnergyTransfer": "DC" if dc else "AC_three_phase"}
        if knob.get("hours") is not None:
            leave = datetime.now(UTC) + timedelta(hours=knob["hours"])
            needs["departureTime"] = leave.isoformat(timespec="seconds").replace("+00:00", "Z")
        if knob.get("kwh") is not None:
            wh = int(knob["kwh"] * 1000)
            needs["dcChargingParameters" if dc else "acChargingParameters"] = (
                {"energyAmount": wh, "evMaxCurrent": 200, "evMaxVoltage": 500} if dc else
                {"energyAmount": wh, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400})
        answer = await self.st.call("NotifyEVChargingNeeds", {"evseId": cid, "chargingNeeds": needs})
        self.st.feature_state.setdefault("charging_needs", []).append(answer)
        return answer

    async def stop_tx(self, cid: int, reason: str = "Local") -> None:
        c = self.st.connectors[cid]
        c.stop()
        if cid not in self.st.transactions:
            return
        reason = reason if reason in _REASONS else "Other"
        await self._tx_event(cid, "Ended", _STOP_TRIGGER.get(reason, "AbnormalCondition"),
                             "Transaction.End", info={"stoppedReason": reason})
        self.st.transactions.pop(cid, None)
        if c.status != "Faulted":
            c.status = "Available"
            await self.send_status(cid, "Available")

    async def meter(self, cid: int, context: str = "Sample.Periodic") -> None:
        if cid in self.st.transactions:
            trig = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
            await self._tx_event(cid, "Updated", trig, context)
            return
        c = self.st.connectors[cid]
        await self.st.call("MeterValues", {"evseId": cid, "meterValue": [
            {"timestamp": now_iso(), "sampledValue": sampled_values_201(c, context)}]})

    async def notify_event(self, items: list[dict]) -> None:
        """items: dicts with component, variable, actualValue and optional extras."""
        data = []
        for it in items:
            ev = {"eventId": next(self._event_ids), "timestamp": now_iso(),
                  "trigger": it.pop("trigger", "Periodic"),
                  "eventNotificationType": "HardWiredMonitor"}
            ev.update(it)
            data.append(ev)
        await self.st.call("NotifyEvent", {"generatedAt": now_iso(), "seqNo": next(self._seq),
                                           "tbc": False, "eventData": data})

    async def report_temperatures(self, cids: list[int]) -> None:
        # 2.0.1 has no Temperature measurand: temperatures travel in NotifyEvent.
        conns = list(self.st.connectors.values())
        items = [{"component": {"name": "Connector", "evse": {"id": cid, "connectorId": 1}},
                  "variable": {"name": "Temperature"},
                  "actualValue": str(self.st.connectors[cid].temperature_c),
                  "trigger": "Alerting" if self.st.connectors[cid].temperature_c > 70 else "Periodic"}
                 for cid in cids]
        items.append({"component": {"name": "ChargingStation"}, "variable": {"name": "Temperature"},
                      "actualValue": str(station_body_temperature(conns))})
        total = sum(c.power_w for c in conns)
        for i, m in enumerate(self.st.modules, start=1):
            items.append({"component": {"name": "AcDcConverter", "instance": str(i)},
                          "variable": {"name": "Temperature"},
                          "actualValue": str(module_temperature(len(self.st.modules), i, total, m["heat"]))})
        await self.notify_event(items)

    async def report_problem(self, cid: int, code: str, active: bool) -> None:
        c = self.st.connectors[cid]
        c.status = "Faulted" if active else ("Occupied" if cid in self.st.transactions else "Available")
        c.error_code = code if active else "NoError"
        await self.send_status(cid, c.status)
        item = {"component": {"name": "Connector", "evse": {"id": cid, "connectorId": 1}},
                "variable": {"name": "Problem"}, "actualValue": "true" if active else "false",
                "trigger": "Alerting", "techCode": code}
        if not active:
            item["cleared"] = True
        await self.notify_event([item])

    async def report_module(self, index: int, tripped: bool) -> None:
        item: dict[str, Any] = {"component": {"name": "AcDcConverter", "instance": str(index)},
                "variable": {"name": "Tripped"}, "actualValue": "true" if tripped else "false",
                "trigger": "Alerting"}
        if not tripped:
            item["cleared"] = True
        await self.notify_event([item])

    # ---- calls from the central system: answered in v201_handlers.py ----------------
    async def handle(self, action: str, p: dict):
        fn = getattr(v201_handlers, f"on_{action}", None) or features.find(self.version, action)
        if fn is None:
            raise NotImplementedAction(action)
        return await fn(self, p)
