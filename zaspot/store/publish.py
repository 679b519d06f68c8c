"""Commit a unit of work, then fire its events: how a station message's events, and a
consumer's own outputs, reach the bus only once they are in the event log."""

from __future__ import annotations

from typing import Any, Protocol

from zaspot.core.bus import EventBus
from zaspot.core.events import Event

from .outcome import Done
from .unit import Unit


class Committer(Protocol):
    """What publish needs of a store (zaspot.store.Store)."""

    async def commit(self, unit: Unit) -> list[Any]: ...

    def commit_then(self, unit: Unit, then: Done) -> None: ...


async def publish(store: Committer, bus: EventBus, unit: Unit) -> list[Any]:
    """Commit a unit (store/unit.py), then fire its events, in order, with their seqs."""
    results = await store.commit(unit)
    fire = bus.fire
    for event in unit.events:
        fire(event)
    return results


def publish_then(store: Committer, bus: EventBus, unit: Unit, then: Done) -> None:
    """`publish` for a caller that does not wait: `then(results, error)` once committed
    and fired, on the loop (a station's answer written at once: ocpp/session.py)."""

    def fired(results: Any, error: BaseException | None) -> None:
        if error is None:
            fire = bus.fire
            for event in unit.events:
                fire(event)
        then(results, error)

    store.commit_then(unit, fired)


async def publish_event(store: Committer, bus: EventBus, event: Event) -> None:
    """One event of no station message (a rule's fire_event, a new price): logged, then fired."""
    unit = Unit()
    unit.emit(event)
    await publish(store, bus, unit)
