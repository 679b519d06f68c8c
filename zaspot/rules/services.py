"""The built-in rule services (`service: reset`, …), registered in the Registry the same
way a plugin's `api.register_action()` does, so a rule cannot tell them apart.

A service is `async fn(data) -> result`. One that acts on a station carries
`fn.target = "station" | "connector"`: the engine then runs it once per target with
`station_id`, `evse_id` and `connector_id` in `data`, and counts it against the
per-station hourly cap. `fn.keys` (optional) lists the `data:` keys it accepts, so a
typo is a load error. One with `fn.wants_rule_id = True` also gets the running rule's
id as `data["rule_id"]` (the station services record `rule:<id>` as the command's
source); other services, a plugin's among them, never see that key.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from zaspot.core.events import Event
from zaspot.core.registry import ACTION, Registry, RegistryError
from zaspot.rules.durations import parse_duration

_LOGGER = logging.getLogger("zaspot.rules")
OWNER = "rules"
Service = Callable[[Mapping[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RuleEvent(Event):
    """What `service: fire_event` fires; `platform: event` with `event_type: <name>` hears it."""

    type: ClassVar[str] = "rule_event"
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    rule_id: str = ""


def _service(target: str | None = None, keys: tuple[str, ...] = (),
             wants_rule_id: bool = False) -> Callable[[Service], Service]:
    def mark(fn: Service) -> Service:
        fn.target, fn.keys = target, {"station_id", "evse_id", "connector_id", *keys}  # type: ignore[attr-defined]
        fn.wants_rule_id = wants_rule_id  # type: ignore[attr-defined]
        return fn

    return mark


def _station(target: str, keys: tuple[str, ...] = ()) -> Callable[[Service], Service]:
    """A service that sends a station command, as the rule that runs it (`rule_id`)."""
    return _service(target, keys, wants_rule_id=True)


def _scope(data: Mapping[str, Any], default: str) -> int:
    """The EVSE a station command is about: 0 (the whole station) or the target's."""
    scope = data.get("scope", default)
    if scope not in ("station", "connector"):
        raise ValueError(f"scope: expected station or connector, got {scope!r}")
    return 0 if scope == "station" else int(data.get("evse_id") or data.get("connector_id") or 0)


def _operative(d: Mapping[str, Any]) -> bool:
    state = d.get("state", "Inoperative")
    if state not in ("Operative", "Inoperative"):
        raise ValueError(f"change_availability: state must be Operative or Inoperative, got {state!r}")
    return state == "Operative"


def station_services(commands: Any, source: str = "rule") -> dict[str, Service]:
    """The services that send a version-neutral command (commands: zaspot.ocpp.commands.Commands).
    Each command's source is `rule:<id>` of the rule that sent it (`source` without one)."""

    def by(d: Mapping[str, Any]) -> str:
        return f"rule:{d['rule_id']}" if d.get("rule_id") else source

    @_station("station", ("kind",))
    async def reset(d: Mapping[str, Any]) -> Any:
        return await commands.reset(d["station_id"], d.get("kind", "soft"), source=by(d))

    @_station("station", ("kw", "amps", "scope", "duration"))
    async def set_power_limit(d: Mapping[str, Any]) -> Any:
        if (d.get("kw") is None) == (d.get("amps") is None):
            raise ValueError("set_power_limit: give either kw or amps")
        duration = parse_duration(d["duration"]) if d.get("duration") is not None else None
        return await commands.set_power_limit(d["station_id"], d.get("kw"), d.get("amps"), _scope(d, "station"),
                                              duration, source=by(d))

    @_station("station", ("scope",))
    async def clear_power_limit(d: Mapping[str, Any]) -> Any:
        return await commands.clear_power_limit(d["station_id"], _scope(d, "station"), source=by(d))

    @_station("connector", ("state", "scope"))
    async def change_availability(d: Mapping[str, Any]) -> Any:
        evse = _scope(d, "connector")
        connector = d.get("connector_id") if evse else None
        return await commands.change_availability(d["station_id"], _operative(d), evse, connector or None,
                                                  source=by(d))

    @_station("connector", ("id_token",))
    async def remote_start(d: Mapping[str, Any]) -> Any:
        return await commands.remote_start(d["station_id"], str(d["id_token"]), d.get("evse_id") or None,
                                           d.get("connector_id") or None, source=by(d))

    @_station("connector", ("transaction_id",))
    async def remote_stop(d: Mapping[str, Any]) -> Any:
        if not d.get("transaction_id"):
            raise ValueError("remote_stop: no transaction_id (the trigger had none; give one in data)")
        return await commands.remote_stop(d["station_id"], str(d["transaction_id"]), source=by(d))

    @_station("connector")
    async def unlock_connector(d: Mapping[str, Any]) -> Any:
        return await commands.unlock_connector(d["station_id"], d.get("connector_id") or 1, d.get("evse_id") or None,
                                               source=by(d))

    @_station("station", ("message",))
    async def trigger_message(d: Mapping[str, Any]) -> Any:
        return await commands.trigger_message(d["station_id"], d["message"], d.get("evse_id") or None,
                                              d.get("connector_id") or None, source=by(d))

    @_station("station", ("values",))
    async def set_variables(d: Mapping[str, Any]) -> Any:
        if not isinstance(d.get("values"), Mapping):
            raise ValueError("set_variables: 'values' must be a mapping of key: value")
        return await commands.set_variables(d["station_id"], dict(d["values"]), source=by(d))

    return {fn.__name__: fn for fn in (reset, set_power_limit, clear_power_limit, change_availability,
                                       remote_start, remote_stop, unlock_connector, trigger_message, set_variables)}


def local_services(emit: Callable[[Event], Awaitable[None] | None]) -> dict[str, Service]:
    """Services that stay inside zaspot: log and fire_event."""

    @_service(None, ("message", "level"))
    async def log(d: Mapping[str, Any]) -> Any:
        level = getattr(logging, str(d.get("level", "info")).upper(), logging.INFO)
        _LOGGER.log(level, "%s", d.get("message", ""))
        return {"logged": d.get("message", "")}

    @_service(None, ("event_type", "data", "rule_id"))
    async def fire_event(d: Mapping[str, Any]) -> Any:
        if not d.get("event_type"):
            raise ValueError("fire_event: 'event_type' is required")
        done = emit(RuleEvent(d.get("station_id") or "", str(d["event_type"]), dict(d.get("data") or {}),
                              d.get("rule_id", "")))
        if inspect.isawaitable(done):  # a running server logs it before firing it
            await done
        return {"fired": d["event_type"]}

    return {"log": log, "fire_event": fire_event}


def register(registry: Registry, services: Mapping[str, Service]) -> Callable[[], None]:
    """Register built-ins as plugins do; a name a plugin took first stays the plugin's."""
    added = []
    for name, fn in services.items():
        try:
            added.append(registry.add(ACTION, name, fn, OWNER))
        except RegistryError as exc:
            _LOGGER.warning("built-in rule service not registered: %s", exc)
    def unregister() -> None:
        for item in added:
            registry.remove(item)

    return unregister
