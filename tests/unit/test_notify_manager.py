"""The manager's fan-out: a stuck or failing notifier never holds up another."""

from __future__ import annotations

import asyncio

import pytest

from zaspot.config import NotifyPolicy
from zaspot.notify import Notification
from zaspot.notify.manager import QUEUE_SIZE, NotifyManager

OPEN = NotifyPolicy(dedupe_window=0, rate_limit=0)


class Recording:
    def __init__(self) -> None:
        self.got: list[str] = []
        self.arrived = asyncio.Event()

    async def send(self, n: Notification) -> None:
        self.got.append(n.message)
        self.arrived.set()


class Stuck:
    """Never returns: a notifier whose server stopped answering."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def send(self, n: Notification) -> None:
        await self.release.wait()


class Failing:
    async def send(self, n: Notification) -> None:
        raise ConnectionRefusedError("no route to hook")


@pytest.fixture
async def manager():
    m = NotifyManager(OPEN)
    yield m
    await m.close()


async def test_a_stuck_notifier_does_not_hold_up_the_others(manager: NotifyManager) -> None:
    stuck, phone = Stuck(), Recording()
    manager.add("stuck", stuck)
    manager.add("phone", phone)
    manager.start()
    for i in range(QUEUE_SIZE + 5):
        assert manager.submit(Notification(f"alert {i}")) == "queued"
        await manager.channels["phone"].queue.join()
    assert len(phone.got) == QUEUE_SIZE + 5
    # The stuck one holds 1 in send() and QUEUE_SIZE waiting; the rest were dropped for it alone.
    assert manager.stats()["notifiers"]["stuck"]["dropped"] == 4


async def test_a_failing_notifier_is_counted_and_keeps_going(manager: NotifyManager) -> None:
    manager.add("broken", Failing())
    manager.start()
    manager.submit(Notification("one"))
    manager.submit(Notification("two"))
    await manager.drain()
    assert manager.stats()["notifiers"]["broken"] == {"delivered": 0, "failed": 2, "dropped": 0, "queued": 0}


async def test_target_picks_notifiers_by_name(manager: NotifyManager) -> None:
    ops, phone = Recording(), Recording()
    manager.add("ops", ops)
    manager.add("phone", phone)
    manager.start()
    manager.submit(Notification("for ops only", target=("ops",)))
    assert manager.submit(Notification("nobody", target=("pager",))) == "no_notifier"
    await manager.drain()
    assert (ops.got, phone.got) == (["for ops only"], [])


async def test_notifications_sent_before_start_are_delivered_once_notifiers_are_up(manager: NotifyManager) -> None:
    early = Recording()
    manager.submit(Notification("sent during plugin setup"))
    manager.add("early", early)
    manager.start()
    await manager.drain()
    assert early.got == ["sent during plugin setup"]


def test_bad_notify_data_is_named() -> None:
    with pytest.raises(ValueError, match="'message'"):
        Notification.from_data({"title": "no message"})
    with pytest.raises(ValueError, match="'target'"):
        Notification.from_data({"message": "m", "target": 3})
    n = Notification.from_data({"message": "m", "target": "ops", "id": 4, "type": "notify"})
    assert n.target == ("ops",)
