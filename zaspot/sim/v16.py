"""OCPP 1.6J behaviour of the simulated station: what it sends and how it answers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import features, pricing, reservations
from .meter import now_iso, sampled_values_16, station_body_temperature
from .rpc import NotImplementedAction

if TYPE_CHECKING:
    from .station import SimStation

TRIGGERABLE = {"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"}


def _limit_w(schedule: dict, volts: float) -> float | None:
    """First period's limit in W; A limits are converted with 3 phases."""
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods:
        return None
    limit = float(periods[0]["limit"])
    if schedule.get("chargingRateUnit") == "A":
        phases = periods[0].get("numberPhases", 3)
        return limit * volts * phases
    return limit


class V16:
    version = "1.6"
    subprotocol = "ocpp1.6"

    def __init__(self, st: SimStation):
        self.st = st
        self.config = {
            "HeartbeatInterval": ("60", False), "MeterValueSampleInterval": ("10", False),
            "NumberOfConnectors": (str(len(st.connectors)), True),
            "AuthorizeRemoteTxRequests": ("false", False),
            "MeterValuesSampledData": (("Energy.Active.Import.Register,Power.Active.Import,"
                                        "Current.Import,Voltage,Temperature"), False),
        }

    # ---- messages the station sends -------------------------------------------------
    def boot_payload(self) -> dict:
        s = self.st
        return {"chargePointVendor": s.vendor, "chargePointModel": s.model,
                "chargePointSerialNumber": s.serial, "firmwareVersion": s.firmware}

    async def send_status(self, cid: int, status: str, error_code: str = "NoError",
                          info: str | None = None, vendor_error: str | None = None) -> None:
        p = {"connectorId": cid, "errorCode": error_code, "status": status, "timestamp": now_iso()}
        if info:
            p["info"] = info[:50]
        if vendor_error:
            p["vendorErrorCode"] = vendor_error[:50]
        await self.st.call("StatusNotification", p)

    async def send_all_status(self) -> None:
        await self.send_status(0, "Available")
        for c in self.st.connectors.values():
            await self.send_status(c.connector_id, c.status, c.error_code)

    async def authorize(self, id_tag: str) -> bool:
        resp = await self.st.call("Authorize", {"idTag": id_tag})
        return resp["idTagInfo"]["status"] == "Accepted"

    async def start_tx(self, cid: int, id_tag: str, remote_start_id: int | None = None) -> int | None:
        c = self.st.connectors[cid]
        reservation = reservations.claim(self.st, cid, id_tag)  # the card's reservation: used now
        await self._status(cid, "Preparing")
        start = {"connectorId": cid, "idTag": id_tag, "meterStart": int(c.energy_wh), "timestamp": now_iso()}
        if reservation is not None:
            start["reservationId"] = reservation
        resp = await self.st.call("StartTransaction", start)
        if resp["idTagInfo"]["status"] != "Accepted":
            await self._status(cid, "Finishing")
            await self._status(cid, "Available")
            return None
        tx_id = resp["transactionId"]
        self.st.transactions[cid] = {"id": tx_id, "id_tag": id_tag}
        c.start(soc=self.st.rng.uniform(10, 50))
        await self._status(cid, "Charging")
        return tx_id

    async def stop_tx(self, cid: int, reason: str = "Local") -> None:
        tx = self.st.transactions.pop(cid, None)
        c = self.st.connectors[cid]
        c.stop()
        if tx is None:
            return
        await self.st.call("StopTransaction", {
            "transactionId": tx["id"], "meterStop": int(c.energy_wh), "timestamp": now_iso(),
            "reason": _stop_reason(reason), "idTag": tx["id_tag"],
            "transactionData": [{"timestamp": now_iso(),
                                 "sampledValue": sampled_values_16(c, "Transaction.End")}]})
        if c.status != "Faulted":
            await self._status(cid, "Finishing")
            await self._status(cid, "Available")

    async def meter(self, cid: int, context: str = "Sample.Periodic") -> None:
        c = self.st.connectors[cid]
        body = station_body_temperature(list(self.st.connectors.values()))
        p = {"connectorId": cid, "meterValue": [
            {"timestamp": now_iso(), "sampledValue": sampled_values_16(c, context, body_c=body)}]}
        tx = self.st.transactions.get(cid)
        if tx:
            p["transactionId"] = tx["id"]
        await self.st.call("MeterValues", p)

    async def report_temperatures(self, cids: list[int]) -> None:
        # 1.6 carries temperature inside MeterValues: idle hot connectors get their own.
        for cid in cids:
            if cid not in self.st.transactions:
                await self.meter(cid)

    async def report_problem(self, cid: int, code: str, active: bool) -> None:
        c = self.st.connectors[cid]
        if active:
            c.status, c.error_code = "Faulted", code
        else:
            c.status = "Charging" if cid in self.st.transactions else "Available"
            c.error_code = "NoError"
        await self.send_status(cid, c.status, c.error_code)

    async def report_module(self, index: int, tripped: bool) -> None:
        # 1.6 has no device model: a station-level (connector 0) warning carries it.
        code = "OtherError" if tripped else "NoError"
        info = f"AcDcConverter {index} {'tripped' if tripped else 'recovered'}"
        await self.send_status(0, "Available", code, info=info,
                               vendor_error=f"ModuleTrip{index}" if tripped else None)

    async def _status(self, cid: int, status: str) -> None:
        c = self.st.connectors[cid]
        if c.status == "Faulted":
            return
        c.status = status
        await self.send_status(cid, status, c.error_code)

    # ---- calls from the central system ---------------------------------------------
    async def handle(self, action: str, p: dict):
        fn = getattr(self, f"on_{action}", None)
        if fn is not None:
            return await fn(p)
        feature = features.find(self.version, action)
        if feature is None:
            raise NotImplementedAction(action)
        return await feature(self, p)

    async def on_Reset(self, p):
        return {"status": "Accepted"}, lambda: self.st.reboot(
            "HardReset" if p.get("type") == "Hard" else "SoftReset")

    async def on_RemoteStartTransaction(self, p):
        cid = p.get("connectorId") or self.st.free_connector()
        if cid not in self.st.connectors or cid in self.st.transactions \
                or self.st.connectors[cid].status in ("Faulted", "Unavailable"):
            return {"status": "Rejected"}, None
        if "chargingProfile" in p:
            self.st.connectors[cid].limit_w = _limit_w(
                p["chargingProfile"]["chargingSchedule"], 230.0)
        return {"status": "Accepted"}, lambda: self.st.spawn(
            self.st.start_transaction(cid, p["idTag"], authorize=False))

    async def on_RemoteStopTransaction(self, p):
        cid = next((k for k, t in self.st.transactions.items()
                    if t["id"] == p["transactionId"]), None)
        if cid is None:
            return {"status": "Rejected"}, None
        return {"status": "Accepted"}, lambda: self.st.spawn(self.st.stop_transaction(cid, "Remote"))

    async def on_UnlockConnector(self, p):
        cid = p["connectorId"]
        if cid not in self.st.connectors:
            return {"status": "NotSupported"}, None
        if cid in self.st.transactions:
            return {"status": "Unlocked"}, lambda: self.st.spawn(
                self.st.stop_transaction(cid, "UnlockCommand"))
        return {"status": "Unlocked"}, None

    async def on_ChangeAvailability(self, p):
        cid, new = p["connectorId"], ("Available" if p["type"] == "Operative" else "Unavailable")
        targets = list(self.st.connectors) if cid == 0 else [cid]
        if any(t not in self.st.connectors for t in targets):
            return {"status": "Rejected"}, None
        if any(t in self.st.transactions for t in targets):
            return {"status": "Scheduled"}, None

        async def apply():
            for t in targets:
                self.st.connectors[t].status = new
                await self.send_status(t, new)
        return {"status": "Accepted"}, apply

    async def on_ChangeConfiguration(self, p):
        key, value = p["key"], p["value"]
        if key not in self.config:
            return {"status": "NotSupported"}, None
        if self.config[key][1]:
            return {"status": "Rejected"}, None
        self.config[key] = (value, False)
        if key == "HeartbeatInterval" and value.isdigit():
            self.st.heartbeat_interval = float(value)
        if key == "MeterValueSampleInterval" and value.isdigit():
            self.st.meter_interval = float(value)
        return {"status": "Accepted"}, None

    async def on_GetConfiguration(self, p):
        keys = p.get("key") or list(self.config)
        known = [k for k in keys if k in self.config]
        return {"configurationKey": [{"key": k, "readonly": self.config[k][1],
                                      "value": self.config[k][0]} for k in known],
                "unknownKey": [k for k in keys if k not in self.config]}, None

    async def on_TriggerMessage(self, p):
        what, cid = p["requestedMessage"], p.get("connectorId")
        if what not in TRIGGERABLE:
            return {"status": "NotImplemented"}, None
        if cid is not None and cid != 0 and cid not in self.st.connectors:
            return {"status": "Rejected"}, None
        return {"status": "Accepted"}, lambda: self._triggered(what, cid)

    async def _triggered(self, what: str, cid: int | None) -> None:
        cids = [cid] if cid else list(self.st.connectors)
        if what == "BootNotification":
            await self.st.call("BootNotification", self.boot_payload())
        elif what == "Heartbeat":
            await self.st.call("Heartbeat", {})
        elif what == "StatusNotification":
            for c in cids:
                await self.send_status(c, self.st.connectors[c].status, self.st.connectors[c].error_code)
        elif what == "MeterValues":
            for c in cids:
                await self.meter(c, "Trigger")

    async def on_SetChargingProfile(self, p):
        cid, prof = p["connectorId"], p["csChargingProfiles"]
        if cid != 0 and cid not in self.st.connectors:
            return {"status": "Rejected"}, None
        limit = _limit_w(prof["chargingSchedule"], 230.0)
        return await self.st.take_profile(cid, prof["chargingProfileId"], prof, limit), None

    async def on_ClearChargingProfile(self, p):
        if not self.st.profiles:
            return {"status": "Unknown"}, None
        self.st.clear_limits()
        return {"status": "Accepted"}, None

    async def on_DataTransfer(self, p):
        if p["vendorId"] == pricing.VENDOR_ID:  # the OCA cost messages: only with the feature
            return await pricing.on_costmsg(self, p)
        return {"status": "Accepted", "data": "ok"}, None

    async def on_GetCompositeSchedule(self, p):
        cid = p["connectorId"]
        if cid != 0 and cid not in self.st.connectors:
            return {"status": "Rejected"}, None
        limit = self.st.limit_for(cid)
        unit = p.get("chargingRateUnit", "W")
        value = limit / (3 * 230.0) if unit == "A" else limit
        return {"status": "Accepted", "connectorId": cid, "scheduleStart": now_iso(),
                "chargingSchedule": {"duration": p["duration"], "chargingRateUnit": unit,
                                     "chargingSchedulePeriod": [
                                         {"startPeriod": 0, "limit": round(value, 1)}]}}, None


_REASONS_16 = {"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss",
               "Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"}


def _stop_reason(reason: str) -> str:
    return reason if reason in _REASONS_16 else "Other"
