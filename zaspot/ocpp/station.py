"""What both versions' sessions do alike: registration, status, metering, storage.

The version modules parse their payloads and call these helpers with plain
values; the helpers persist first (durable before the station gets its answer)
and then fire the normalized event.
"""

from __future__ import annotations

import time
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics.temperature import location_v16
from zaspot.ocpp import leniency
from zaspot.ocpp.session import Session, on


class StationSession(Session):
    registration: str | None = None
    model: str | None = None  # known once booted (or restored from the store)
    _restored = False

    async def on_connect(self) -> None:
        now = time.time()
        await self.ctx.store.station_connected(self.station_id, self.version, self.remote, now)
        self.ctx.bus.fire(ev.StationConnected(self.station_id, self.version, self.remote, time=now))

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
        now = time.time()
        await self.ctx.store.station_disconnected(self.station_id, now)
        self.ctx.bus.fire(ev.StationDisconnected(self.station_id, self.version, code, reason, time=now))

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
        now = time.time()
        await self.ctx.store.station_booted(
            self.station_id, self.version, vendor, model, serial, firmware, status, now
        )
        self.registration = status
        self.accepted = status == "Accepted"
        self.model = model
        self.ctx.bus.fire(
            ev.StationBooted(
                self.station_id, self.version, vendor, model, serial, firmware, reason, status, time=now
            )
        )
        interval = self.ctx.config.ocpp.heartbeat_interval
        return status, interval

    async def heartbeat(self) -> None:
        if self.ctx.last_seen is not None:
            self.ctx.last_seen.heard(self.station_id, self.last_seen)
        else:  # no batching configured (a bare context in a test): write it now
            await self.ctx.store.heartbeat(self.station_id, self.last_seen)

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
        ts = ts or time.time()
        previous = await self.ctx.store.connector_status(
            self.station_id, evse_id, connector_id, status, error_code, vendor_error_code, info, ts
        )
        self.ctx.bus.fire(
            ev.StatusChanged(
                self.station_id, evse_id, connector_id, status, error_code, vendor_error_code, info,
                previous, time=ts,
            )
        )

    async def authorize(self, id_token: str) -> str:
        return await self.ctx.store.id_token_status(id_token)

    async def metered(
        self, evse_id: int, connector_id: int, tx_id: str | None, samples: list[ev.Sample]
    ) -> None:
        if not samples:
            return
        await self.ctx.store.meter_samples(self.station_id, evse_id, connector_id, tx_id, samples)
        bus = self.ctx.bus
        # The station's own time: a backlog replayed after hours offline stays in the past.
        taken = samples[0].timestamp or time.time()
        bus.fire(ev.MeterSample(self.station_id, evse_id, connector_id, tx_id, tuple(samples), time=taken))
        if self.version == "1.6":
            for s in samples:
                if s.measurand == "Temperature":
                    bus.fire(
                        ev.Temperature(
                            self.station_id, location_v16(s.location), s.value, evse_id, connector_id,
                            source="MeterValues", time=s.timestamp or time.time(),
                        )
                    )

    async def device_event(self, action: str, payload: dict[str, Any]) -> None:
        """Keep a message we don't interpret (yet) as a device event in the store and on the bus."""
        event = ev.DeviceEvent(self.station_id, action, payload)
        await self.ctx.store.event(event)
        self.ctx.bus.fire(event)


def recorded(action: str, response: dict[str, Any] | None = None) -> Any:
    """A handler that stores the message as a device event and gives a fixed answer."""
    answer = response or {}

    @on(action)
    async def handler(self: StationSession, payload: dict[str, Any]) -> dict[str, Any]:
        await self.device_event(action, payload)
        return dict(answer)

    handler.__name__ = f"on_{action}"
    return handler
