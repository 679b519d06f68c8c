"""What both versions' sessions do alike: registration, status, metering, storage.

The version modules parse their payloads into one unit of work per message
(zaspot/store/unit.py, steps from zaspot/store/messages.py); `commit` stores it
whole, rows and events in one transaction, before the station gets its answer,
and only then fires the events it gave.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from zaspot.core import events as ev
from zaspot.core.logformat import printable, where
from zaspot.diagnostics.temperature import location_v16
from zaspot.ocpp import leniency
from zaspot.ocpp.session import Session, on
from zaspot.store import messages
from zaspot.store.outcome import Done
from zaspot.store.publish import publish, publish_then
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)


class StationSession(Session):
    registration: str | None = None
    model: str | None = None  # known once booted (or restored from the store)
    _restored = False

    async def commit(self, unit: Unit) -> list[Any]:
        """Store the unit whole, then fire its events (in order, with their log positions)."""
        return await publish(self.ctx.store, self.ctx.bus, unit)

    def commit_then(self, unit: Unit, then: Done) -> None:
        """`commit`, then `then(results, error)`, without a task waiting (session.AfterCommit)."""
        publish_then(self.ctx.store, self.ctx.bus, unit, then)

    async def on_connect(self) -> None:
        unit = Unit()
        messages.connected(unit, self.station_id, self.version, self.remote, time.time())
        await self.commit(unit)
        _LOGGER.info("%s connected (%s)", self.station_id, where(self.version, self.remote), extra=self.log_extra())

    async def restore(self) -> None:
        """Read what we knew of the station, once, when it matters: a station accepted
        before may resume without booting again. Lazy, because in a reconnect storm most
        stations boot first and a read per connection would only slow them down."""
        if self._restored:
            return
        self._restored = True
        row = await self.ctx.store.station(self.station_id)
        if row and not self.accepted:
            self.accepted = row.get("registration") == "Accepted"
            self.registration = row.get("registration")
            self.model = self.model or row.get("model")

    async def on_disconnect(self, code: int | None, reason: str) -> None:
        unit = Unit()
        messages.disconnected(unit, self.station_id, self.version, code, reason, time.time())
        await self.commit(unit)
        why = f"code {code}" + (f": {printable(reason)}" if reason else "") if code is not None else "no close code"
        _LOGGER.info("%s disconnected (%s, %s)", self.station_id, where(self.version, self.remote), why,
                     extra=self.log_extra())

    def is_lenient(self, payload: dict[str, Any]) -> bool:
        """Lenient if listed so, or if its model is (read from the payload for the boot itself)."""
        cfg = self.ctx.config
        for station in cfg.stations:
            if station.id == self.station_id and station.lenient is not None:
                return station.lenient
        if cfg.ocpp.lenient:
            return True
        if not cfg.ocpp.lenient_models:
            return False
        model = self.model or payload.get("chargePointModel") or (payload.get("chargingStation") or {}).get("model")
        return model in cfg.ocpp.lenient_models

    async def deviated(self, action: str, deviations: list[leniency.Deviation]) -> None:
        self.ctx.metrics.schema_deviations += len(deviations)
        await self.device_event(
            "SchemaDeviation", {"action": action, "deviations": [d.to_dict() for d in deviations]}
        )

    async def _registration_policy(self) -> str:
        policy = self.ctx.config.ocpp.unknown_stations
        if policy == "accept":
            return "Accepted"
        await self.restore()  # was it accepted before?
        known = self.registration == "Accepted" or any(
            s.id == self.station_id for s in self.ctx.config.stations
        )
        if known:
            return "Accepted"
        return "Pending" if policy == "pending" else "Rejected"

    async def booted(
        self, vendor: str, model: str, serial: str | None, firmware: str | None, reason: str | None
    ) -> tuple[str, int]:
        """Persist a boot; returns (registration status, heartbeat interval)."""
        status = await self._registration_policy()
        unit = Unit()
        messages.booted(unit, ev.StationBooted(self.station_id, self.version, vendor, model, serial, firmware,
                                               reason, status))
        await self.commit(unit)
        self.registration = status
        self.accepted = status == "Accepted"
        self.model = model
        what = printable(" ".join(part for part in (vendor, model, f"fw {firmware}" if firmware else "") if part))
        _LOGGER.info("%s booted: %s (%s)%s", self.station_id, what or "no vendor or model",
                     where(self.version, self.remote), "" if self.accepted else f", registration {status}",
                     extra=self.log_extra())
        interval = self.ctx.config.ocpp.heartbeat_interval
        return status, interval

    async def status(
        self,
        evse_id: int,
        connector_id: int,
        status: str,
        error_code: str | None,
        vendor_error_code: str | None = None,
        info: str | None = None,
        ts: float | None = None,
    ) -> None:
        unit = Unit()
        unit.do(messages.connector_status, self.station_id, evse_id, connector_id, status, error_code,
                vendor_error_code, info, ts or time.time())
        await self.commit(unit)

    async def authorize(self, id_token: str) -> Any:
        """What the station is told of a card: zaspot.cards' verdict (status, expiry, group),
        answered from memory; the version modules put it on the wire."""
        return self.ctx.cards.authorize(self.station_id, id_token)

    def meter(self, unit: Unit, evse_id: int, connector_id: int, tx_id: str | None,
              samples: list[ev.Sample]) -> None:
        """A MeterValues' samples into its unit: rows and a MeterSample event; 1.6 carries
        temperatures as a measurand, each also a Temperature (2.0.1 has none)."""
        if not samples:
            return
        if tx_id is None:
            messages.meter(unit, self.station_id, evse_id, connector_id, None, samples)
        else:
            unit.do(messages.metered_transaction, self.station_id, evse_id, connector_id, tx_id, samples)
        if self.version == "1.6":
            for s in samples:
                if s.measurand == "Temperature":
                    messages.temperature(unit, ev.Temperature(
                        self.station_id, location_v16(s.location), s.value, evse_id, connector_id,
                        source="MeterValues", time=s.timestamp or time.time(),
                    ))

    async def device_event(self, action: str, payload: dict[str, Any], unit: Unit | None = None) -> None:
        """Keep a message we don't interpret (yet) as a device event: in the log and on the bus."""
        mine = unit is None
        unit = unit or Unit()
        unit.emit(ev.DeviceEvent(self.station_id, action, payload))
        if mine:
            await self.commit(unit)


    async def progress_reported(self, action: str, payload: dict[str, Any], follower: Any,
                                request_id: int | None) -> None:
        """A firmware or log status: kept as a device event, and handed to what follows that
        update or upload (ctx.firmware / ctx.logs: `reported(unit, station, status, request_id)`)
        in the same unit."""
        unit = Unit()
        await self.device_event(action, payload, unit)
        if follower is not None:
            follower.reported(unit, self.station_id, payload["status"], request_id)
        await self.commit(unit)


def recorded(action: str, response: dict[str, Any] | None = None) -> Any:
    """A handler that stores the message as a device event and gives a fixed answer."""
    answer = response or {}

    @on(action)
    async def handler(self: StationSession, payload: dict[str, Any]) -> dict[str, Any]:
        await self.device_event(action, payload)
        return dict(answer)

    handler.__name__ = f"on_{action}"
    return handler
