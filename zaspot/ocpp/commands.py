"""The version-neutral command API: what rules, the EMS, the API and the TUI call.

Each command is translated for the station's version (commands_v16 /
commands_v201), sent as one CALL, and recorded with its outcome in the store
and on the bus. A command never raises for a station-side failure: the
outcome says what happened (ok, status, error) in words an operator reads.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

from zaspot.core import events as ev
from zaspot.ocpp import (
    cards_v16,
    cards_v201,
    commands_v16,
    commands_v201,
    firmware_v16,
    firmware_v201,
    logs_v16,
    logs_v201,
    pricing_v16,
    pricing_v201,
    reservations_v16,
    reservations_v201,
)
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.errors import CallTimeout, CommandError, StationNotConnected
from zaspot.ocpp.remote_start import with_remote_start_id
from zaspot.ocpp.schemas import SchemaError

# Each version's translations: the core commands and one module per feature, looked up in order.
_TRANSLATIONS: dict[str, tuple[ModuleType, ...]] = {
    "1.6": (commands_v16, cards_v16, reservations_v16, firmware_v16, logs_v16, pricing_v16),
    "2.0.1": (commands_v201, cards_v201, reservations_v201, firmware_v201, logs_v201, pricing_v201),
}


class _Translation:
    """A version's translations as one namespace: `translate.reset(...)`."""

    def __init__(self, modules: tuple[ModuleType, ...]) -> None:
        self._modules = modules

    def __getattr__(self, name: str) -> Any:
        for module in self._modules:
            fn = getattr(module, name, None)
            if fn is not None:
                return fn
        raise AttributeError(name)


_BY_VERSION = {version: _Translation(modules) for version, modules in _TRANSLATIONS.items()}
# Statuses that mean the station did what was asked.
_OK_STATUSES = {"Accepted", "Unlocked", "Scheduled", "RebootRequired", None}


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: str | None = None
    result: Any = None
    error: str | None = None
    reason: str | None = None  # machine name of the error: timeout, not_connected, call_error, …

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Commands:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    # --- the commands ------------------------------------------------------

    async def reset(self, station_id: str, kind: str = "soft", *, source: str = "operator") -> Outcome:
        return await self.run(station_id, "reset", {"kind": kind}, source)

    async def remote_start(
        self, station_id: str, id_token: str, evse_id: int | None = None, connector_id: int | None = None,
        *, source: str = "operator",
    ) -> Outcome:
        args = {"id_token": id_token, "evse_id": evse_id, "connector_id": connector_id}
        return await self.run(station_id, "remote_start", args, source)

    async def remote_stop(self, station_id: str, transaction_id: str, *, source: str = "operator") -> Outcome:
        return await self.run(station_id, "remote_stop", {"transaction_id": transaction_id}, source)

    async def unlock_connector(
        self, station_id: str, connector_id: int = 1, evse_id: int | None = None, *, source: str = "operator"
    ) -> Outcome:
        args = {"connector_id": connector_id, "evse_id": evse_id}
        return await self.run(station_id, "unlock_connector", args, source)

    async def change_availability(
        self, station_id: str, operative: bool, evse_id: int = 0, connector_id: int | None = None,
        *, source: str = "operator",
    ) -> Outcome:
        args = {"operative": operative, "evse_id": evse_id, "connector_id": connector_id}
        return await self.run(station_id, "change_availability", args, source)

    async def trigger_message(
        self, station_id: str, message: str, evse_id: int | None = None, connector_id: int | None = None,
        *, source: str = "operator",
    ) -> Outcome:
        args = {"message": message, "evse_id": evse_id, "connector_id": connector_id}
        return await self.run(station_id, "trigger_message", args, source)

    async def data_transfer(
        self, station_id: str, vendor_id: str, message_id: str | None = None, data: Any = None,
        *, source: str = "operator",
    ) -> Outcome:
        args = {"vendor_id": vendor_id, "message_id": message_id, "data": data}
        return await self.run(station_id, "data_transfer", args, source)

    async def set_power_limit(
        self, station_id: str, kw: float | None = None, amps: float | None = None, evse_id: int = 0,
        duration_s: float | None = None, *, source: str = "operator", reason: str = "",
    ) -> Outcome:
        """Cap the station (evse 0) or one EVSE, in kW or A, optionally for a while: an intent
        of `source` given to the limit owner (zaspot.limits), which sends the lowest one."""
        if station_id not in self.ctx.sessions:
            return Outcome(False, error=f"station {station_id} is not connected", reason="not_connected")
        outcome: Outcome = await self.ctx.limits.set(station_id, evse_id, source, amps=amps, kw=kw, reason=reason,
                                                     duration_s=duration_s)
        return outcome

    async def clear_power_limit(self, station_id: str, evse_id: int = 0, *, source: str = "operator") -> Outcome:
        """Take `source`'s cap away: the next lowest intent (or none) applies."""
        if station_id not in self.ctx.sessions:
            return Outcome(False, error=f"station {station_id} is not connected", reason="not_connected")
        outcome: Outcome = await self.ctx.limits.clear(station_id, evse_id, source)
        return outcome

    async def send_limit(self, station_id: str, evse_id: int, profile: dict[str, Any], *, source: str) -> Outcome:
        """The wire: one SetChargingProfile (zaspot.ocpp.charging_profiles). The limit owner's alone."""
        return await self.run(station_id, "set_power_limit", {"evse_id": evse_id, **profile}, source)

    async def clear_limit(self, station_id: str, evse_id: int, *, source: str) -> Outcome:
        return await self.run(station_id, "clear_power_limit", {"evse_id": evse_id}, source)

    def version_of(self, station_id: str) -> str | None:
        session = self.ctx.sessions.get(station_id)
        return session.version if session is not None else None

    async def get_variables(self, station_id: str, keys: list[str], *, source: str = "operator") -> Outcome:
        outcome = await self.run(station_id, "get_variables", {"keys": keys}, source)
        if outcome.ok:
            translate = self._translation(station_id)
            outcome = Outcome(True, outcome.status, translate.get_variables_result(keys, outcome.result))
        return outcome

    async def set_variables(self, station_id: str, values: dict[str, Any], *, source: str = "operator") -> Outcome:
        translate = self._translation(station_id)
        if getattr(translate, "set_variables", None) is not None:
            outcome = await self.run(station_id, "set_variables", {"values": values}, source)
            if outcome.ok:
                results = outcome.result.get("setVariableResult", [])
                statuses = [r["attributeStatus"] for r in results]
                ok = all(s in _OK_STATUSES for s in statuses)
                return Outcome(ok, "Accepted" if ok else "Rejected", results)
            return outcome
        # 1.6 sets one configuration key per ChangeConfiguration.
        results = []
        for key, value in values.items():
            one = await self.run(station_id, "set_variable", {"key": key, "value": value}, source)
            results.append({"name": key, "status": one.status, "error": one.error})
        ok = all(r["status"] in _OK_STATUSES and r["error"] is None for r in results)
        return Outcome(ok, "Accepted" if ok else "Rejected", results)

    async def raw(self, station_id: str, action: str, payload: dict[str, Any], *, source: str = "operator") -> Outcome:
        """Any CALL the station's version defines (validated against its schema)."""
        return await self._send(station_id, "raw", action, payload, source)

    # --- plumbing ------------------------------------------------------------

    def _translation(self, station_id: str) -> _Translation:
        session = self.ctx.sessions.get(station_id)
        if session is None:
            raise StationNotConnected(station_id)
        return _BY_VERSION[session.version]

    async def run(self, station_id: str, command: str, args: dict[str, Any], source: str) -> Outcome:
        """Any translated command by name (`command` is a function of the version's
        translation modules, `args` its arguments): what feature modules call."""
        try:
            action, payload = getattr(self._translation(station_id), command)(**args)
        except CommandError as exc:
            return Outcome(False, error=str(exc), reason=exc.reason)
        return await self._send(station_id, command, action, payload, source)

    async def _send(self, station_id: str, command: str, action: str, payload: dict[str, Any], source: str) -> Outcome:
        store, bus = self.ctx.store, self.ctx.bus
        session = self.ctx.sessions.get(station_id)
        if session is None:
            return Outcome(False, error=f"station {station_id} is not connected", reason="not_connected")
        command_id = await store.command(station_id, command, action, payload, source, time.time())
        payload = with_remote_start_id(action, payload, command_id)  # 2.0.1: the row id, unique for good
        bus.fire(ev.CommandSent(station_id, command, action, payload, source))
        try:
            result = await session.call(action, payload)
            status = result.get("status") if isinstance(result.get("status"), str) else None
            outcome = Outcome(status in _OK_STATUSES, status, result)
        except CommandError as exc:
            outcome = Outcome(False, error=str(exc), reason=exc.reason)
            if isinstance(exc, CallTimeout):
                bus.fire(ev.StationUnresponsive(station_id, action, exc.timeout))
        except SchemaError as exc:
            outcome = Outcome(False, error=f"{action} payload is invalid: {exc.description}", reason="invalid_request")
        await store.command_result(command_id, outcome.ok, outcome.status, outcome.result, outcome.error, time.time())
        bus.fire(
            ev.CommandResult(
                station_id, command, action, outcome.ok, outcome.status, outcome.result, outcome.error, source
            )
        )
        return outcome
