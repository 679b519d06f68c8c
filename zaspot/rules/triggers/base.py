"""What a trigger platform gets: a handle to fire its rule, and `Level` for the
"above 70 °C for 30 s" kind of trigger.

A platform is a module (or any object) with:

    CONFIG = MyConfig                                 # dataclass: the trigger's keys
    EVENTS = ("temperature",)                         # optional: event types it reads (for replay)
    def attach(engine, trigger: TriggerHandle, config: MyConfig) -> detach

`attach` listens through `engine.listen(event_type, callback)` (the engine's own bus
queue, shared by every rule) or `engine.scheduler`, and calls `trigger.fire(variables)`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from zaspot.core.events import Event

if TYPE_CHECKING:
    from zaspot.rules.engine import Engine
    from zaspot.rules.model import Rule, TriggerSpec

Detach = Callable[[], None]


class TriggerHandle:
    """One trigger of one rule, bound to the engine."""

    def __init__(self, engine: Engine, rule: Rule, spec: TriggerSpec) -> None:
        self.engine, self.rule, self.spec = engine, rule, spec

    def fire(self, variables: dict[str, Any]) -> None:
        self.engine.fire(self.rule, {"platform": self.spec.platform, "trigger_index": self.spec.index,
                                     "id": self.spec.id, **variables})


class Level:
    """Fires on the rising edge of a per-key condition, or once it has held `for_s`.

    A key (a station's connector, a module) that stops matching resets its timer, so
    "above 70 for 30 s" means 30 s without a reading below.
    """

    def __init__(self, trigger: TriggerHandle) -> None:
        self.trigger = trigger
        self.for_s = trigger.spec.for_s
        self._held: dict[Hashable, Any] = {}  # key -> pending timer handle, or None once fired
        self._latest: dict[Hashable, dict[str, Any]] = {}  # the newest reading while waiting out `for`

    def update(self, key: Hashable, matches: bool, variables: dict[str, Any]) -> None:
        if not matches:
            timer = self._held.pop(key, None)
            self._latest.pop(key, None)
            if timer is not None:
                timer.cancel()
            return
        if key in self._held:
            if self._held[key] is not None:
                self._latest[key] = variables
            return  # still matching: already fired or waiting
        if not self.for_s:
            self._held[key] = None
            self.trigger.fire(variables)
            return
        self._latest[key] = variables
        self._held[key] = self.trigger.engine.clock.call_later(self.for_s, self._elapsed, key)

    def active(self, key: Hashable) -> bool:
        """True while `key` matches (fired, or waiting out `for`)."""
        return key in self._held

    def _elapsed(self, key: Hashable) -> None:
        self._held[key] = None
        self.trigger.fire({**self._latest.pop(key, {}), "for_s": self.for_s})

    def close(self) -> None:
        for timer in self._held.values():
            if timer is not None:
                timer.cancel()
        self._held.clear()
        self._latest.clear()


def event_vars(event: Event) -> dict[str, Any]:
    """An event's fields as trigger variables (`station_id`, `celsius`, …)."""
    out = event.to_dict()
    out["event_type"] = out.pop("type")
    return out


def one_or_many(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


E = TypeVar("E", bound=Event)


def listen_all(engine: Engine, types: tuple[str, ...], callback: Callable[[E], None],
               extra: Callable[[], None] | None = None) -> Detach:
    """`callback` hears the events of `types`: each an E (the engine routes them by type)."""
    routed = cast("Callable[[Event], None]", callback)
    unsubs = [engine.listen(t, routed) for t in types]

    def detach() -> None:
        for unsub in unsubs:
            unsub()
        if extra is not None:
            extra()

    return detach
