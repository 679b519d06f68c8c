import asyncio

from zaspot.core.bus import EventBus
from zaspot.core.events import StationConnected, StatusChanged


async def test_a_failing_listener_does_not_stop_the_others():
    bus = EventBus()
    seen = []

    def broken(event):
        raise RuntimeError("boom")

    bus.listen("status_changed", broken)
    bus.listen("status_changed", seen.append)
    bus.fire(StatusChanged("CP1", 1, 1, "Faulted"))
    bus.fire(StatusChanged("CP1", 1, 1, "Available"))
    await bus.drain()
    assert [e.status for e in seen] == ["Faulted", "Available"]
    assert {s["listener"]: s["failed"] for s in bus.stats()}["test_a_failing_listener_does_not_stop_the_others.<locals>.broken"] == 2
    await bus.close()


async def test_a_slow_listener_never_blocks_fire_and_its_drops_are_counted():
    bus = EventBus()
    release = asyncio.Event()

    async def slow(event):
        await release.wait()

    bus.listen("*", slow, queue_size=3)
    bus.fire(StationConnected("CP0", "1.6"))
    await asyncio.sleep(0.01)  # the listener takes it and gets stuck
    for i in range(1, 10):
        bus.fire(StationConnected(f"CP{i}", "1.6"))  # returns at once even though slow is stuck
    assert bus.dropped == 9 - 3  # three fit in its queue
    release.set()
    await bus.drain()
    await bus.close()


async def test_unsubscribe_stops_delivery():
    bus = EventBus()
    seen = []
    unsubscribe = bus.listen("station_connected", seen.append)
    bus.fire(StationConnected("A", "1.6"))
    await bus.drain()
    unsubscribe()
    bus.fire(StationConnected("B", "1.6"))
    await asyncio.sleep(0.01)
    assert [e.station_id for e in seen] == ["A"]
    await bus.close()
