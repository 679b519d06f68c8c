"""OCPP 1.6J: station messages -> store + normalized events.

1.6 has no EVSE level: connector N is addressed as evse N, connector N, so that
version-neutral code can always say (evse_id, connector_id). Connector 0 is
the station itself.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.ocpp import cards_v16, firmware_v16, logs_v16, pricing_v16, reservations_v16
from zaspot.ocpp.clock import now_iso
from zaspot.ocpp.metering import parse_time, samples_v16
from zaspot.ocpp.session import AfterCommit, on
from zaspot.ocpp.station import StationSession, recorded
from zaspot.store import messages
from zaspot.store.unit import Unit


def _no_error(code: str) -> str | None:
    return None if code == "NoError" else code


class SessionV16(StationSession, cards_v16.Handlers, reservations_v16.Handlers, firmware_v16.Handlers,
                 logs_v16.Handlers):
    version = "1.6"

    @on("BootNotification")
    async def boot_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        status, interval = await self.booted(
            p["chargePointVendor"],
            p["chargePointModel"],
            p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
            p.get("firmwareVersion"),
            None,
        )
        return {"status": status, "currentTime": now_iso(), "interval": interval}

    @on("Heartbeat")
    def on_heartbeat(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": now_iso()}  # the frame itself moved last_seen (ocpp/liveness.py)

    @on("StatusNotification")
    async def status_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        connector = p["connectorId"]
        await self.status(
            connector, connector, p["status"], _no_error(p["errorCode"]),
            p.get("vendorErrorCode"), p.get("info"), parse_time(p.get("timestamp")),
        )
        return {}

    @on("Authorize")
    async def on_authorize(self, p: dict[str, Any]) -> dict[str, Any]:
        verdict = await self.authorize(p["idTag"])
        pricing_v16.identified(self, p["idTag"], verdict)  # listed models are told the card's price next
        return {"idTagInfo": cards_v16.id_tag_info(verdict)}

    @on("StartTransaction")
    async def start_transaction(self, p: dict[str, Any]) -> dict[str, Any]:
        connector, id_tag = p["connectorId"], p["idTag"]
        verdict = await self.authorize(id_tag)
        unit = Unit()
        unit.do(messages.start_transaction, self.station_id, connector, id_tag, float(p["meterStart"]),
                parse_time(p["timestamp"]) or time.time(), p.get("reservationId"))
        [tx_id] = await self.commit(unit)
        return {"transactionId": tx_id, "idTagInfo": cards_v16.id_tag_info(verdict)}

    @on("StopTransaction")
    async def stop_transaction(self, p: dict[str, Any]) -> dict[str, Any]:
        id_tag = p.get("idTag")
        unit = Unit()
        unit.do(messages.stop_transaction, self.station_id, p["transactionId"], float(p["meterStop"]),
                parse_time(p["timestamp"]) or time.time(), p.get("reason"), id_tag,
                samples_v16(p.get("transactionData") or []))
        await self.commit(unit)
        return {"idTagInfo": cards_v16.id_tag_info(await self.authorize(id_tag))} if id_tag else {}

    @on("MeterValues")
    def meter_values(self, p: dict[str, Any]) -> AfterCommit:
        connector = p["connectorId"]
        tx = p.get("transactionId")
        unit = Unit()
        self.meter(unit, connector, connector, None if tx is None else str(tx), samples_v16(p["meterValue"]))
        return AfterCommit(unit, {})

    # Kept as device events for the diagnostics layer; answered as the spec asks.
    data_transfer = recorded("DataTransfer", {"status": "UnknownVendorId"})
    # OCPP 1.6 security extension (the whitepaper's messages)
    security_event = recorded("SecurityEventNotification")
    sign_certificate = recorded("SignCertificate", {"status": "Rejected"})  # no CA configured
