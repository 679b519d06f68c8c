"""Trigger platforms by name. Plugins add theirs with `api.register_trigger(name, module)`."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from zaspot.core.registry import TRIGGER, Registry
from zaspot.rules.triggers import (
    alarm,
    converter,
    event,
    fault,
    meter,
    price,
    station,
    status,
    temperature,
    time,
    transaction,
)

BUILTIN: dict[str, ModuleType] = {
    "status": status, "temperature": temperature, "converter": converter, "fault": fault, "alarm": alarm,
    "meter": meter, "station": station, "transaction": transaction, "price": price, "time": time,
    "event": event,
}


def platforms(registry: Registry | None) -> dict[str, Any]:
    """Built-ins, then whatever plugins registered (a plugin cannot replace a built-in)."""
    found: dict[str, Any] = {}
    if registry is not None:
        for name in registry.names(TRIGGER):
            registered = registry.get(TRIGGER, name)
            if registered is not None:  # listed just now
                found[name] = registered.obj
    found.update(BUILTIN)
    return found
