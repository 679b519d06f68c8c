"""Units of work and the durable event log on a real SQLite file: a message is stored
whole or not at all, and a consumer resumes from its position, also after a bus drop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from zaspot.core.bus import EventBus
from zaspot.core.consumer import LogConsumer
from zaspot.core.events import Sample, StatusChanged
from zaspot.store import Store, messages
from zaspot.store.publish import publish
from zaspot.store.unit import Unit


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path / "z.db")
    yield s
    await s.close()


def _status(unit: Unit, station_id: str, status: str, ts: float) -> None:
    unit.do(messages.connector_status, station_id, 1, 1, status, None, None, None, ts)


def _fails(c, unit) -> None:
    raise ValueError("a step that fails")


async def test_a_unit_is_stored_whole_or_not_at_all(store, tmp_path):
    good, bad = Unit(), Unit()
    _status(good, "CP1", "Charging", 1.0)
    messages.meter(good, "CP1", 1, 1, "7", [Sample("Power.Active.Import", 7.0, "W", timestamp=1.0)])
    messages.meter(bad, "CP2", 1, 1, "8", [Sample("Power.Active.Import", 8.0, "W", timestamp=1.0)])
    _status(bad, "CP2", "Charging", 1.0)
    bad.do(_fails)
    # Queued in one loop turn: one batch, in which the bad unit fails alone.
    results = await asyncio.gather(store.commit(good), store.commit(bad), return_exceptions=True)
    assert results[0] == [None] and isinstance(results[1], ValueError)
    con = sqlite3.connect(tmp_path / "z.db")
    assert con.execute("SELECT station_id, value FROM meter_samples").fetchall() == [("CP1", 7.0)]
    assert con.execute("SELECT station_id FROM connectors").fetchall() == [("CP1",)]
    assert con.execute("SELECT station_id, type FROM events").fetchall() == [("CP1", "status_changed")]
    [status] = [e for e in good.events if e.type == "status_changed"]
    assert status.seq == 1  # its log position, once committed


async def _commit_statuses(store: Store, bus: EventBus, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        unit = Unit()
        _status(unit, f"CP{i}", "Faulted", float(i))
        await publish(store, bus, unit)


async def test_a_consumer_resumes_from_its_position_after_a_restart(store):
    bus = EventBus()
    seen: list[str] = []
    first = LogConsumer("test", bus, store, [StatusChanged.type], lambda e: seen.append(e.station_id))
    await _commit_statuses(store, bus, 2)  # before the consumer ever ran: not its business
    await first.start()
    await _commit_statuses(store, bus, 2, start=2)
    await bus.drain()
    await first.stop()  # saves its position
    assert seen == ["CP2", "CP3"]
    # Committed while no consumer ran (a crash between commit and consumers).
    await _commit_statuses(store, bus, 3, start=4)
    again = LogConsumer("test", bus, store, [StatusChanged.type], lambda e: seen.append(e.station_id))
    await again.start()
    await _commit_statuses(store, bus, 1, start=7)
    await bus.drain()
    await again.stop()
    assert seen == ["CP2", "CP3", "CP4", "CP5", "CP6", "CP7"]  # each once, in order
    assert again.caught_up == 3
    await bus.close()


async def test_events_a_full_bus_queue_dropped_are_read_back_from_the_log(store):
    bus = EventBus()
    seen: list[str] = []

    async def slow(e) -> None:
        await asyncio.sleep(0.001)
        seen.append(e.station_id)

    consumer = LogConsumer("slow", bus, store, [StatusChanged.type], slow, queue_size=2)
    await consumer.start()
    units = []
    for i in range(40):  # committed in one batch, fired in one go: the queue of 2 overflows
        unit = Unit()
        _status(unit, f"CP{i}", "Faulted", float(i))
        units.append(unit)
    await asyncio.gather(*(store.commit(u) for u in units))
    for u in units:
        for e in u.events:
            bus.fire(e)
    await _commit_statuses(store, bus, 1, start=40)  # the next event reveals the drops
    deadline = asyncio.get_running_loop().time() + 10
    while len(seen) < 41 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    dropped = bus.dropped
    await consumer.stop()
    assert dropped > 0
    assert seen == [f"CP{i}" for i in range(41)]
    await bus.close()
