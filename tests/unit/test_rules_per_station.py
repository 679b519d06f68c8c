"""Rules act per station: mode, cooldown, `for:` holds and `rule_runs()` count one
station's runs of a rule, so a busy, silent or cooling-down station A leaves station B
alone. A run whose trigger has no station (time, price) keeps the rule's own lane.

A real engine on a virtual clock, real triggers, and a station service that answers
only when the test opens that station's gate."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from zaspot.core.energy_events import PriceUpdated
from zaspot.core.events import (
    MeterSample,
    PowerModule,
    Sample,
    StationOffline,
    StationOnline,
    StatusChanged,
    Temperature,
)
from zaspot.core.state import FleetState
from zaspot.rules import services
from zaspot.rules.catalog import offline_registry
from zaspot.rules.clock import VirtualClock, VirtualScheduler
from zaspot.rules.engine import Engine
from zaspot.rules.loader import Loader
from zaspot.rules.services import RuleEvent
from zaspot.rules.source import compose_file

T0 = 1_700_000_000.0


class Gate:
    """A station service: records each call, answers once the test opens its station's gate."""

    target, keys = "station", None

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (station, n)
        self.gates: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def open(self, *stations: str) -> None:
        for station in stations:
            self.gates[station].set()

    async def __call__(self, data):
        self.calls.append((data["station_id"], str(data.get("n", ""))))
        await self.gates[data["station_id"]].wait()
        return {"ok": True}


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
async def engine(gate, clock) -> Engine:
    registry = offline_registry()
    services.register(registry, {"gate": gate})
    engine = Engine(FleetState(), registry, clock=clock, scheduler=VirtualScheduler(clock))
    yield engine
    gate.open(*list(gate.gates))
    await engine.stop()


def load(engine: Engine, text: str) -> None:
    loader = Loader(engine.platforms(), engine.service)
    engine.set_rules([loader.load_rule(item) for item in compose_file("t.yaml", text).as_list()])


def ping(station: str, n: int) -> RuleEvent:
    return RuleEvent(station, "ping", {"n": n})


def pinged(mode: str, extra: str = "") -> str:
    return ("- id: r\n  trigger: {platform: event, event_type: ping}\n"
            f"  action: [{{service: gate, data: {{n: '{{n}}'}}}}]\n  mode: {mode}\n{extra}")


async def settle() -> None:
    """Let every run started so far get as far as it can (to its service, or its lock)."""
    for _ in range(10):
        await asyncio.sleep(0)


def outcomes(engine: Engine, rule_id: str = "r") -> list[tuple[str | None, str]]:
    return [(t.station_id, t.outcome) for t in engine.traces.recent.get(rule_id, ())]


def hot(station: str, celsius: float = 80.0) -> Temperature:
    return Temperature(station, "connector", celsius, evse_id=1, connector_id=1)


async def test_two_stations_hot_within_one_cooldown_are_both_limited(engine, gate, clock):
    gate.open("A", "B")
    load(engine, "- id: r\n  trigger: {platform: temperature, above: 70, for: 30s}\n"
                 "  action: [{service: gate}]\n  cooldown: 10m\n")

    engine.dispatch(hot("A"))
    clock.advance(T0 + 30)  # A has held 30 s: the rule runs for A
    await engine.idle()
    clock.advance(T0 + 60)
    engine.dispatch(hot("B"))  # a minute later, inside A's cooldown
    clock.advance(T0 + 90)
    await engine.idle()
    engine.dispatch(hot("A", 60.0))
    engine.dispatch(hot("A"))  # A cools down and runs hot again, still in its cooldown
    clock.advance(T0 + 120)
    await engine.idle()

    assert [station for station, _ in gate.calls] == ["A", "B"]
    assert outcomes(engine) == [("A", "done"), ("B", "done"), ("A", "cooldown")]

    engine.dispatch(hot("B", 60.0))
    engine.dispatch(hot("B"))  # B's own cooldown holds B too
    clock.advance(T0 + 60 + 600)  # A's 10 minutes are over, B's are not
    engine.dispatch(hot("A", 60.0))
    engine.dispatch(hot("A"))
    clock.advance(T0 + 60 + 630)
    await engine.idle()
    assert outcomes(engine)[3:] == [("B", "cooldown"), ("A", "done")]


async def test_single_a_silent_station_does_not_hold_the_rule_for_another(engine, gate):
    gate.open("B")  # A never answers
    load(engine, pinged("single"))

    engine.dispatch(ping("A", 1))
    await settle()
    engine.dispatch(ping("B", 2))
    await settle()

    assert gate.calls == [("A", "1"), ("B", "2")]  # B's action went out while A's waits
    assert outcomes(engine) == [("B", "done")]  # A's run is still in flight
    assert len(engine.states["r"].lane("A").active) == 1

    engine.dispatch(ping("A", 3))  # A's own second trigger is refused, as before
    await settle()
    assert outcomes(engine) == [("B", "done"), ("A", "already_running")]
    gate.open("A")
    await engine.idle()
    assert outcomes(engine)[-1] == ("A", "done")


async def test_queued_keeps_each_stations_order_and_does_not_make_b_wait_for_a(engine, gate):
    gate.open("B")
    load(engine, pinged("queued"))

    for station, n in (("A", 1), ("A", 2), ("B", 3), ("B", 4), ("A", 5)):
        engine.dispatch(ping(station, n))
        await settle()

    assert gate.calls == [("A", "1"), ("B", "3"), ("B", "4")]  # B's runs went while A's first waits
    assert outcomes(engine) == [("B", "done"), ("B", "done")]
    gate.open("A")
    await engine.idle()
    assert gate.calls == [("A", "1"), ("B", "3"), ("B", "4"), ("A", "2"), ("A", "5")]
    assert outcomes(engine)[2:] == [("A", "done")] * 3


@pytest.mark.parametrize("mode, a_again", [
    ("restart", [("A", "cancelled")]),  # A's second trigger restarts A's run, not B's
    ("parallel\n  max: 1", [("A", "queue_full")]),
])
async def test_restart_and_parallel_count_only_the_stations_own_runs(engine, gate, mode, a_again):
    load(engine, pinged(mode))

    engine.dispatch(ping("A", 1))
    engine.dispatch(ping("B", 2))
    await settle()
    engine.dispatch(ping("A", 3))
    await settle()

    assert outcomes(engine) == a_again
    assert ("B", "2") in gate.calls
    gate.open("A", "B")
    await engine.idle()
    assert ("B", "done") in outcomes(engine) and ("B", "cancelled") not in outcomes(engine)


async def test_a_trigger_without_a_station_keeps_the_rules_own_mode_and_cooldown(engine, gate, clock):
    gate.open("A")
    load(engine, "- id: tick\n  trigger: {platform: time, every: 10s}\n"
                 "  action: [{service: gate, target: {station_id: A}}]\n  cooldown: 25s\n"
                 "- id: r\n  trigger: {platform: event, event_type: ping}\n"
                 "  action: [{service: log, data: {message: hi}}]\n  cooldown: 1h\n")

    for t in (10, 20, 30, 40):  # a run at 10 s keeps the next two out
        clock.advance(T0 + t)
        await engine.idle()
    engine.dispatch(ping("", 1))
    engine.dispatch(ping("", 2))  # station_id "": the rule's own lane, like a time trigger
    await engine.idle()

    assert outcomes(engine, "tick") == [(None, "done"), (None, "cooldown"), (None, "cooldown"), (None, "done")]
    assert outcomes(engine) == [(None, "done"), (None, "cooldown")]


async def test_rule_runs_counts_this_rules_runs_for_this_station(engine, gate):
    gate.open("A", "B")
    condition = "  condition: ['rule_runs(3600) == 0']\n"
    load(engine, pinged("parallel", condition) + pinged("parallel", condition).replace("id: r", "id: other"))

    for station, n in (("A", 1), ("B", 2), ("A", 3)):
        engine.dispatch(ping(station, n))
        await engine.idle()

    assert outcomes(engine) == [("A", "done"), ("B", "done"), ("A", "conditions_failed")]
    assert outcomes(engine, "other") == [("A", "done"), ("B", "done"), ("A", "conditions_failed")]


def _meter(station: str, watts: float) -> MeterSample:
    return MeterSample(station, 1, 1, None, (Sample("Power.Active.Import", watts, "W"),))


# Each platform with a `for:` hold: (trigger, the reading that matches, the one that does not).
HOLDS = {
    "temperature": ("{platform: temperature, above: 70, for: 30s}",
                    lambda s: hot(s), lambda s: hot(s, 60.0)),
    "meter": ("{platform: meter, above: 7000, for: 30s}", lambda s: _meter(s, 9000.0), lambda s: _meter(s, 100.0)),
    "status": ("{platform: status, to: Faulted, for: 30s}",
               lambda s: StatusChanged(s, 1, 1, "Faulted"), lambda s: StatusChanged(s, 1, 1, "Available")),
    "converter": ("{platform: converter, variable: Tripped, for: 30s}",
                  lambda s: PowerModule(s, "1", tripped=True), lambda s: PowerModule(s, "1", tripped=False)),
    "station": ("{platform: station, event: offline, for: 30s}",
                lambda s: StationOffline(s, T0), lambda s: StationOnline(s)),
}


@pytest.mark.parametrize("platform", sorted(HOLDS))
async def test_a_for_hold_is_kept_per_station(engine, gate, clock, platform):
    gate.open("A", "B")
    trigger, matching, not_matching = HOLDS[platform]
    load(engine, f"- id: r\n  trigger: {trigger}\n  action: [{{service: gate}}]\n  mode: parallel\n")

    engine.dispatch(matching("A"))
    clock.advance(T0 + 10)
    engine.dispatch(matching("B"))
    clock.advance(T0 + 20)
    engine.dispatch(not_matching("B"))  # B's hold resets; A's goes on
    clock.advance(T0 + 40)
    await engine.idle()

    assert outcomes(engine) == [("A", "done")]


async def test_a_price_hold_is_kept_per_area(engine, gate, clock):
    load(engine, "- id: r\n  trigger: {platform: price, above: 0.3, for: 30s}\n"
                 "  action: [{service: log, data: {message: dear}}]\n")

    engine.dispatch(PriceUpdated("", 0.4, area="DE-LU"))
    clock.advance(T0 + 10)
    engine.dispatch(PriceUpdated("", 0.1, area="AT"))  # another area's price does not reset it
    clock.advance(T0 + 40)
    await engine.idle()

    assert outcomes(engine) == [(None, "done")]


class Commands:
    """Where the station services send their commands: each one's source is kept."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def reset(self, station_id: str, kind: str, *, source: str) -> dict:
        self.sent.append((station_id, f"reset {kind}", source))
        return {"ok": True}


async def test_a_rules_command_names_the_rule_and_a_plugin_service_gets_only_its_data(clock):
    commands, seen = Commands(), []

    async def plugin_service(data):  # a plugin's service: `await fn(data)`, nothing else
        seen.append(dict(data))

    plugin_service.target = "station"
    registry = offline_registry(commands)
    services.register(registry, {"plugin_service": plugin_service})
    engine = Engine(FleetState(), registry, clock=clock, scheduler=VirtualScheduler(clock))
    load(engine, "- id: kick\n  trigger: {platform: event, event_type: ping}\n"
                 "  action: [{service: reset, data: {kind: hard}}, {service: plugin_service}]\n")

    engine.dispatch(ping("A", 1))
    await engine.idle()
    await engine.stop()

    assert commands.sent == [("A", "reset hard", "rule:kick")]
    assert seen == [{"station_id": "A", "evse_id": 0, "connector_id": 0}]  # no rule_id
    (trace,) = engine.traces.recent["kick"]
    target = {"station_id": "A", "evse_id": 0, "connector_id": 0}
    assert [a.get("data") for a in trace.actions] == [{**target, "kind": "hard"}, target]  # no rule_id shown
