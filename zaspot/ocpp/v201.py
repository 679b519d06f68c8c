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
from zaspot.ocpp.metering import parse_time, samples_v201
from zaspot.ocpp.session import on
from zaspot.ocpp.station import StationSession, recorded
from zaspot.ocpp.clock import now_iso

_ENERGY = "Energy.Active.Import.Register"


def _energy_wh(samples: list[ev.Sample]) -> float | None:
    values = [s.value for s in samples if s.measurand == _ENERGY and s.phase is None]
    return values[-1] if values else None


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


class SessionV201(StationSession):
    version = "2.0.1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tx_evse: dict[str, tuple[int, int]] = {}  # Updated/Ended may omit the evse

    @on("BootNotification")
    async def boot_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        cs = p["chargingStation"]
        status, interval = await self.booted(
            cs["vendorName"], cs["model"], cs.get("serialNumber"), cs.get("firmwareVersion"), p["reason"]
        )
        return {"status": status, "currentTime": now_iso(), "interval": interval}

    @on("Heartbeat")
    async def on_heartbeat(self, p: dict[str, Any]) -> dict[str, Any]:
        await self.heartbeat()
        return {"currentTime": now_iso()}

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
        return {"idTokenInfo": {"status": await self.authorize(p["idToken"]["idToken"])}}

    @on("TransactionEvent")
    async def transaction_event(self, p: dict[str, Any]) -> dict[str, Any]:
        info, kind = p["transactionInfo"], p["eventType"]
        tx_id = info["transactionId"]
        evse_id, connector_id = await self._evse_of(tx_id, p.get("evse"))
        token = (p.get("idToken") or {}).get("idToken")
        samples = samples_v201(p.get("meterValue") or [])
        meter_wh, ts = _energy_wh(samples), parse_time(p["timestamp"]) or time.time()
        fresh = await self.ctx.store.transaction_event(
            self.station_id, kind, tx_id, p["seqNo"], ts, p["triggerReason"], evse_id, connector_id,
            token, info.get("chargingState"), info.get("stoppedReason"), meter_wh,
        )
        if fresh:  # a repeated seqNo after a reconnect is answered, stored once
            await self.metered(evse_id, connector_id, tx_id, samples)
            self.ctx.bus.fire(self._tx_event(kind, p, tx_id, evse_id, connector_id, token, meter_wh, ts))
        if kind == "Ended":
            self._tx_evse.pop(tx_id, None)
        return {"idTokenInfo": {"status": await self.authorize(token)}} if token else {}

    async def _evse_of(self, tx_id: str, evse: dict[str, Any] | None) -> tuple[int, int]:
        if evse:
            where = self._tx_evse[tx_id] = (evse["id"], evse.get("connectorId", 1))
            return where
        if tx_id in self._tx_evse:
            return self._tx_evse[tx_id]
        row = await self.ctx.store.transaction(self.station_id, tx_id)
        return (row["evse_id"] or 0, row["connector_id"] or 0) if row else (0, 0)

    def _tx_event(
        self, kind: str, p: dict[str, Any], tx_id: str, evse_id: int, connector_id: int,
        token: str | None, meter_wh: float | None, ts: float,
    ) -> ev.Event:
        info = p["transactionInfo"]
        if kind == "Started":
            return ev.TransactionStarted(self.station_id, tx_id, evse_id, connector_id, token, meter_wh, time=ts)
        if kind == "Updated":
            return ev.TransactionUpdated(
                self.station_id, tx_id, evse_id, connector_id, p["triggerReason"], info.get("chargingState"), time=ts
            )
        return ev.TransactionEnded(
            self.station_id, tx_id, evse_id, connector_id, meter_wh, None, info.get("stoppedReason"), time=ts
        )

    @on("MeterValues")
    async def meter_values(self, p: dict[str, Any]) -> dict[str, Any]:
        evse = p["evseId"]
        await self.metered(evse, 1 if evse else 0, None, samples_v201(p["meterValue"]))
        return {}

    @on("NotifyEvent")
    async def notify_event(self, p: dict[str, Any]) -> dict[str, Any]:
        await self.device_event("NotifyEvent", p)
        for item in p["eventData"]:
            if item["variable"]["name"] == "Temperature":
                self._fire_temperature(item["component"], item["actualValue"], "NotifyEvent", p["generatedAt"])
        return {}

    @on("NotifyReport")
    async def notify_report(self, p: dict[str, Any]) -> dict[str, Any]:
        await self.device_event("NotifyReport", p)
        for item in p.get("reportData") or []:
            if item["variable"]["name"] != "Temperature":
                continue
            for attribute in item["variableAttribute"]:
                if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                    self._fire_temperature(item["component"], attribute["value"], "NotifyReport", p["generatedAt"])
        return {}

    def _fire_temperature(self, component: dict[str, Any], value: Any, source: str, when: str) -> None:
        parsed = _temperature(component, value)
        if parsed is None:
            return
        location, celsius, evse_id, connector_id, instance = parsed
        self.ctx.bus.fire(
            ev.Temperature(
                self.station_id, location, celsius, evse_id, connector_id, instance, source,
                time=parse_time(when) or time.time(),
            )
        )

    # Kept as device events for the diagnostics layer; answered as the spec asks.
    data_transfer = recorded("DataTransfer", {"status": "UnknownVendorId"})
    firmware_status = recorded("FirmwareStatusNotification")
    log_status = recorded("LogStatusNotification")
    security_event = recorded("SecurityEventNotification")
    monitoring_report = recorded("NotifyMonitoringReport")
    charging_limit = recorded("NotifyChargingLimit")
    cleared_charging_limit = recorded("ClearedChargingLimit")
    charging_profiles_report = recorded("ReportChargingProfiles")
    customer_information = recorded("NotifyCustomerInformation")
    display_messages = recorded("NotifyDisplayMessages")
    publish_firmware_status = recorded("PublishFirmwareStatusNotification")
    reservation_status = recorded("ReservationStatusUpdate")
    ev_charging_schedule = recorded("NotifyEVChargingSchedule", {"status": "Accepted"})
    # No smart-charging negotiation and no certificate authority yet: say so honestly.
    ev_charging_needs = recorded("NotifyEVChargingNeeds", {"status": "Rejected"})
    sign_certificate = recorded("SignCertificate", {"status": "Rejected"})
    certificate_status = recorded("GetCertificateStatus", {"status": "Failed"})
    ev_certificate = recorded("Get15118EVCertificate", {"status": "Failed", "exiResponse": ""})
