"""Everything plugins register, by kind and name, for the parts that look it up later
(the notify manager, the rules engine, the EMS, the operator API).

One `Registry` lives on the ServerContext. A name belongs to the plugin that registered
it first; a second plugin asking for the same name is refused (and fails to load), so
"which webhook is this?" always has one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOTIFIER = "notifier"
STRATEGY = "strategy"
PRICE_SOURCE = "price_source"
TRIGGER = "trigger"
ACTION = "action"
API_COMMAND = "api_command"
SENSOR_KINDS = ("site_meter", "pv", "battery")
KINDS = (NOTIFIER, STRATEGY, PRICE_SOURCE, TRIGGER, ACTION, API_COMMAND, *(f"sensor.{k}" for k in SENSOR_KINDS))


class RegistryError(Exception):
    """A refused registration, phrased for the plugin author."""


@dataclass(frozen=True, slots=True)
class Registered:
    kind: str
    name: str
    obj: Any  # a factory, a class, a module or a function, depending on the kind
    config_type: type | None  # the dataclass its config section decodes into, if any
    owner: str  # the plugin that registered it


class Registry:
    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registered]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, name: str, obj: Any, owner: str, config_type: type | None = None) -> Registered:
        table = self._table(kind)
        if not name or not isinstance(name, str):
            raise RegistryError(f"{kind} name must be non-empty text, got {name!r}")
        if name in table:
            raise RegistryError(f"{kind} '{name}' is already registered by plugin '{table[name].owner}'")
        table[name] = item = Registered(kind, name, obj, config_type, owner)
        return item

    def remove(self, item: Registered) -> None:
        table = self._table(item.kind)
        if table.get(item.name) is item:
            del table[item.name]

    def get(self, kind: str, name: str) -> Registered | None:
        return self._table(kind).get(name)

    def names(self, kind: str) -> list[str]:
        return sorted(self._table(kind))

    def _table(self, kind: str) -> dict[str, Registered]:
        try:
            return self._items[kind]
        except KeyError:
            raise RegistryError(f"unknown kind '{kind}' (known: {', '.join(KINDS)})") from None
