"""De-duplication and rate limiting, on a clock the test turns by hand."""

from __future__ import annotations

from zaspot.config import NotifyPolicy
from zaspot.notify import Notification
from zaspot.notify.policy import NotifyGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flapping_fault_sends_a_handful_not_hundreds() -> None:
    clock = Clock()
    gate = NotifyGate(NotifyPolicy(dedupe_window=300, rate_limit=5, rate_window=600), clock)
    verdicts = []
    for i in range(300):  # a connector flapping between 69 and 71 °C, one message per second
        clock.now += 1
        verdicts.append(gate.admit(Notification(f"CP-1 connector at {69 + i % 3} °C", key="CP-1:overheat")))
    assert verdicts.count("queued") == 3  # 69, 70, 71 once each; the repeats are duplicates
    clock.now += 300  # past the dedupe window, still inside the rate window
    more = [gate.admit(Notification(f"CP-1 connector at {t} °C", key="CP-1:overheat")) for t in (72, 73, 74, 75)]
    assert more == ["queued", "queued", "rate_limited", "rate_limited"]
    assert gate.counts == {"queued": 5, "duplicate": 297, "rate_limited": 2}


def test_the_limit_lifts_after_the_window_and_keys_do_not_share_it() -> None:
    clock = Clock()
    gate = NotifyGate(NotifyPolicy(dedupe_window=0, rate_limit=2, rate_window=60), clock)
    assert [gate.admit(Notification("a")) for _ in range(3)] == ["queued", "queued", "rate_limited"]
    assert gate.admit(Notification("b")) == "queued"
    clock.now += 60
    assert gate.admit(Notification("a")) == "queued"


def test_the_same_message_to_another_target_is_not_a_duplicate() -> None:
    gate = NotifyGate(NotifyPolicy(), Clock())
    assert gate.admit(Notification("down", target=("ops",))) == "queued"
    assert gate.admit(Notification("down", target=("phones",))) == "queued"
    assert gate.admit(Notification("down", target=("ops",))) == "duplicate"


def test_rate_limit_zero_means_no_limit() -> None:
    gate = NotifyGate(NotifyPolicy(dedupe_window=0, rate_limit=0), Clock())
    assert all(gate.admit(Notification("x")) == "queued" for _ in range(50))
