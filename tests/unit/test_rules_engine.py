"""The engine's safety behaviour on a real engine with a test service: modes, cooldown,
the per-station cap, `for` holds that reset, and hot reload of a rules folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from zaspot.core.events import Temperature
from zaspot.core.state import FleetState
from zaspot.rules import services
from zaspot.rules.catalog import offline_registry
from zaspot.rules.engine import Engine
from zaspot.rules.loader import Loader
from zaspot.rules.reload import RuleFolder
from zaspot.rules.services import RuleEvent
from zaspot.rules.source import compose_file


class Hold:
    """A service that records each call and finishes when the test lets it."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.release = asyncio.Event()
        self.target = "station"
        self.keys = None

    async def __call__(self, data):
        self.calls.append(dict(data))
        await self.release.wait()
        return {"ok": True}


@pytest.fixture
def hold() -> Hold:
    return Hold()


@pytest.fixture
async def engine(hold) -> Engine:
    registry = offline_registry()
    services.register(registry, {"hold": hold})
    engine = Engine(FleetState(), registry, actions_per_hour=3)
    yield engine
    await engine.stop()


def load(engine: Engine, text: str) -> None:
    loader = Loader(engine.platforms(), engine.service)
    root = compose_file("t.yaml", text)
    engine.set_rules([loader.load_rule(item) for item in root.as_list()])


def ping(station: str = "S1") -> RuleEvent:
    return RuleEvent(station, "ping")


RULE = "- id: r\n  trigger: {platform: event, event_type: ping}\n  action: [{service: hold}]\n"


async def fire_and_settle(engine: Engine, *events) -> None:
    for event in events:
        engine.dispatch(event)
        await asyncio.sleep(0)  # the run reaches its action


async def outcomes(engine: Engine, hold: Hold) -> list[str]:
    hold.release.set()
    await engine.idle()
    return [t.outcome for t in engine.traces.recent["r"]]


@pytest.mark.parametrize("mode, expected_calls, expected", [
    ("single", 1, ["already_running", "done"]),
    ("restart", 2, ["cancelled", "done"]),
    ("queued", 2, ["done", "done"]),
    ("parallel", 2, ["done", "done"]),
])
async def test_modes_decide_what_a_second_trigger_does_while_a_run_is_going(engine, hold, mode, expected_calls, expected):
    load(engine, RULE + f"  mode: {mode}\n")
    await fire_and_settle(engine, ping(), ping())
    assert len(hold.calls) == (1 if mode == "queued" else expected_calls)  # queued waits its turn
    assert await outcomes(engine, hold) == expected
    assert len(hold.calls) == expected_calls


async def test_cooldown_skips_triggers_and_the_cap_stops_a_flapping_station(engine, hold):
    hold.release.set()
    load(engine, RULE + "  mode: parallel\n")
    for _ in range(5):
        await fire_and_settle(engine, ping())
        await engine.idle()
    steps = [t.actions[0] for t in engine.traces.recent["r"]]
    assert [s.get("error") for s in steps] == [None, None, None, "capped", "capped"]  # 3 per station per hour

    load(engine, RULE.replace("id: r", "id: r2") + "  cooldown: 1h\n")
    await fire_and_settle(engine, ping("S2"), ping("S2"))
    await engine.idle()
    assert [t.outcome for t in engine.traces.recent["r2"]] == ["done", "cooldown"]


async def test_a_for_hold_resets_when_the_condition_stops(engine, hold):
    hold.release.set()
    load(engine, "- id: r\n  trigger: {platform: temperature, above: 70, for: 0.2s}\n  action: [{service: hold}]\n")
    hot, cool = (Temperature("S1", "connector", c, evse_id=1, connector_id=1) for c in (80.0, 60.0))

    await fire_and_settle(engine, hot, cool)  # cools down before 0.2 s
    await asyncio.sleep(0.3)
    assert hold.calls == []
    await fire_and_settle(engine, hot, hot)  # stays hot: fires once, not per reading
    await asyncio.sleep(0.3)
    await engine.idle()
    assert [c["connector_id"] for c in hold.calls] == [1]


async def test_conditions_and_their_values_are_in_the_trace(engine, hold):
    hold.release.set()
    load(engine, RULE + "  condition:\n    - \"station_id == 'S9'\"\n")
    await fire_and_settle(engine, ping("S1"))
    await engine.idle()
    (trace,) = engine.traces.recent["r"]
    assert trace.outcome == "conditions_failed"
    assert trace.conditions == [{"condition": "station_id == 'S9'", "result": False, "values": {"station_id": "S1"}}]


async def test_a_changed_file_is_reloaded_and_a_broken_rule_keeps_its_last_good_version(tmp_path: Path, engine, hold):
    hold.release.set()
    path = tmp_path / "rules.yaml"
    path.write_text(RULE + RULE.replace("id: r", "id: other"))
    folder = RuleFolder(tmp_path, engine, poll_s=0.05)
    folder.start()
    first = engine.rules["r"]

    path.write_text(RULE.replace("service: hold", "service: nope") + RULE.replace("id: r", "id: other") +
                    RULE.replace("id: r", "id: new"))
    for _ in range(100):
        if "new" in engine.rules:
            break
        await asyncio.sleep(0.05)
    await folder.stop()

    assert sorted(engine.rules) == ["new", "other", "r"]
    assert engine.rules["r"] is first  # still the good version
    assert [str(e) for e in folder.all_errors()] == [f"{path}:3: unknown service 'nope'"]
