"""OCPP 2.0.1: station messages -> store + normalized events.

Temperatures have no measurand in 2.0.1; they arrive as the device-model
variable `Temperature` of a component (NotifyEvent, NotifyReport), mapped to
user locations in zaspot.diagnostics.temperature.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics.temperature import location_v201
from zaspot.ocpp import cards_v201, firmware_v201, logs_v201, needs_v201, pricing_v201, reservations_v201
from zaspot.ocpp.clock import now_iso
from zaspot.ocpp.metering import parse_time, samples_v201
from zaspot.ocpp.session import AfterCommit, on
from zaspot.ocpp.station import StationSession, recorded
from zaspot.store import messages
from zaspot.store.unit import Unit


def _temperature(component: dict[str, Any], value: Any) -> tuple[str, float, int, int, str | None] | None:
    try:
        celsius = float(value)
    except (TypeError, ValueError):
        return None
    evse = component.get("evse") or {}
    return (
        location_v201(component["name"]), celsius, evse.get("id", 0), evse.get("connectorId", 0),
        component.get("instance"),
    )


class SessionV201(StationSession, cards_v201.Handlers, reservations_v201.Handlers, firmware_v201.Handlers,
                  logs_v201.Handlers, needs_v201.Handlers):
    version = "2.0.1"

    @on("BootNotification")
    async def boot_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        cs = p["chargingStation"]
        status, interval = await self.booted(
            cs["vendorName"], cs["model"], cs.get("serialNumber"), cs.get("firmwareVersion"), p["reason"]
        )
        return {"status": status, "currentTime": now_iso(), "interval": interval}

    @on("Heartbeat")
    def on_heartbeat(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": now_iso()}  # the frame itself moved last_seen (ocpp/liveness.py)

    @on("StatusNotification")
    async def status_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        status = p["connectorStatus"]
        await self.status(
            p["evseId"], p["connectorId"], status, "Faulted" if status == "Faulted" else None,
            ts=parse_time(p["timestamp"]),
        )
        return {}

    @on("Authorize")
    async def on_authorize(self, p: dict[str, Any]) -> dict[str, Any]:
        token = p["idToken"]["idToken"]
        verdict = await self.authorize(token)
        return {"idTokenInfo": pricing_v201.with_tariff(self, cards_v201.id_token_info(verdict), token)}

    @on("TransactionEvent")
    async def transaction_event(self, p: dict[str, Any]) -> dict[str, Any]:
        info, evse = p["transactionInfo"], p.get("evse")
        token = (p.get("idToken") or {}).get("idToken")
        unit = Unit()
        unit.do(
            messages.transaction_event, self.station_id, p["eventType"], info["transactionId"], p["seqNo"],
            parse_time(p["timestamp"]) or time.time(), p["triggerReason"],
            (evse["id"], evse.get("connectorId", 1)) if evse else None, token, info.get("chargingState"),
            info.get("stoppedReason"), samples_v201(p.get("meterValue") or []), info.get("remoteStartId"),
            None, p.get("reservationId"),  # no meter_wh apart from the samples; the reservation it uses
        )
        await self.commit(unit)  # a repeated seqNo after a reconnect is answered, stored once
        answer = ({"idTokenInfo": pricing_v201.with_tariff(self, cards_v201.id_token_info(await self.authorize(token)),
                                                           token)} if token else {})
        return pricing_v201.with_cost(self, answer, p["eventType"], info["transactionId"])  # the cost so far

    @on("MeterValues")
    def meter_values(self, p: dict[str, Any]) -> AfterCommit:
        evse = p["evseId"]
        unit = Unit()
        self.meter(unit, evse, 1 if evse else 0, None, samples_v201(p["meterValue"]))
        return AfterCommit(unit, {})

    @on("NotifyEvent")
    async def notify_event(self, p: dict[str, Any]) -> dict[str, Any]:
        unit = Unit()
        await self.device_event("NotifyEvent", p, unit)
        for item in p["eventData"]:
            if item["variable"]["name"] == "Temperature":
                self._temperature(unit, item["component"], item["actualValue"], "NotifyEvent", p["generatedAt"])
        await self.commit(unit)
        return {}

    @on("NotifyReport")
    async def notify_report(self, p: dict[str, Any]) -> dict[str, Any]:
        unit = Unit()
        await self.device_event("NotifyReport", p, unit)
        for item in p.get("reportData") or []:
            if item["variable"]["name"] != "Temperature":
                continue
            for attribute in item["variableAttribute"]:
                if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                    self._temperature(unit, item["component"], attribute["value"], "NotifyReport", p["generatedAt"])
        await self.commit(unit)
        return {}

    def _temperature(self, unit: Unit, component: dict[str, Any], value: Any, source: str, when: str) -> None:
        parsed = _temperature(component, value)
        if parsed is None:
            return
        location, celsius, evse_id, connector_id, instance = parsed
        messages.temperature(unit, ev.Temperature(
            self.station_id, location, celsius, evse_id, connector_id, instance, source,
            time=parse_time(when) or time.time(),
        ))

    # Kept as device events for the diagnostics layer; answered as the spec asks.
    data_transfer = recorded("DataTransfer", {"status": "UnknownVendorId"})
    security_event = recorded("SecurityEventNotification")
    monitoring_report = recorded("NotifyMonitoringReport")
    charging_limit = recorded("NotifyChargingLimit")
    cleared_charging_limit = recorded("ClearedChargingLimit")
    charging_profiles_report = recorded("ReportChargingProfiles")
    customer_information = recorded("NotifyCustomerInformation")
    display_messages = recorded("NotifyDisplayMessages")
    publish_firmware_status = recorded("PublishFirmwareStatusNotification")
    ev_charging_schedule = recorded("NotifyEVChargingSchedule", {"status": "Accepted"})
    # No certificate authority yet: say so honestly. (NotifyEVChargingNeeds: needs_v201.)
    sign_certificate = recorded("SignCertificate", {"status": "Rejected"})
    certificate_status = recorded("GetCertificateStatus", {"status": "Failed"})
    ev_certificate = recorded("Get15118EVCertificate", {"status": "Failed", "exiResponse": ""})
