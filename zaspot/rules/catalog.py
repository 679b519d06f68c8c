"""A registry of rule services without a running server, for `rules check` and replay."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zaspot.core.events import Event
from zaspot.core.registry import Registry
from zaspot.rules import services


async def _notify(data: Mapping[str, Any]) -> Any:
    return {"status": "not sent (offline check)"}


def offline_registry(commands: Any = None, emit: Callable[[Event], None] | None = None,
                     notify: Callable[[Mapping[str, Any]], Any] = _notify) -> Registry:
    """Built-in services plus `notify` (the notify plugin's service in a running server)."""
    registry = Registry()
    services.register(registry, services.station_services(commands))
    services.register(registry, services.local_services(emit or (lambda event: None)))
    services.register(registry, {"notify": notify})
    return registry
