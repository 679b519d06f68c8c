"""Safe control, end to end: a real zaspot (in process, real sockets, real SQLite) and
simulated 1.6 and 2.0.1 stations that refuse, stay silent, or accept and ignore their
limits, as real ones do.

What a station has in force is read from the simulated station itself (what it
accepted and follows), never from zaspot: that is what the fuse sees.

- a station that refuses its decrease keeps its room, and nobody else gets it; it is
  asked again, a LimitRefused alarm opens, and once it gives in the room is shared;
- a silent station holds up only itself: the others' new limits go out while its CALL
  is outstanding, and the EMS keeps ticking;
- an operator's limit below the EMS share survives the ticks and a lease renewal, and
  clearing it restores the share;
- a rule's limit and an operator's on one EVSE: the lower is in force, the API shows
  both, and clearing the lower restores the higher;
- did it take effect: read back with GetCompositeSchedule (`applied`), and a station
  drawing above what it accepted opens LimitIgnored.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import zaspot.limits.owner as owner
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.sim import SimStation

pytestmark = pytest.mark.timeout(60)

EMS = "ems:dynamic_load_balancing"
EPS = 1e-6


def config(tmp_path: Path, stations: list[str], *, breaker: float = 32, lease: float = 600,
           call_timeout: float = 2, ignored_after: float = 60, deadband: float = 1) -> str:
    text = f"""
port: 0
host: 127.0.0.1
ocpp: {{ping_interval: 0, call_timeout: {call_timeout}}}
limits: {{ignored_after: {ignored_after}}}
db: {tmp_path / 'zaspot.db'}
rules: {tmp_path / 'rules'}
"""
    if stations:
        text += f"""
ems:
  strategy: dynamic_load_balancing
  interval: 0.2
  lease: {lease}
  deadband: {deadband}
  site:
    main_breaker: {breaker}
    margin: 1
    stations:
""" + "".join(f"      - {s}\n" for s in stations)
    return text


Start = Callable[..., Awaitable[App]]


@pytest.fixture
async def make_app(tmp_path: Path) -> AsyncIterator[Start]:
    apps: list[App] = []
    (tmp_path / "rules").mkdir()

    async def start(stations: list[str] = (), **kw: Any) -> App:
        path = tmp_path / "zaspot.yaml"
        path.write_text(config(tmp_path, list(stations), **kw))
        app = App(load(path))
        await app.start()
        app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
        app.sims = []  # type: ignore[attr-defined]
        apps.append(app)
        return app

    yield start
    for app in apps:
        for st in app.sims:  # type: ignore[attr-defined]
            await st.stop()
        await app.stop()


async def sim(app: App, station_id: str, version: str, **kw: Any) -> SimStation:
    """A booted 1-connector station (meter values every 0.2 s)."""
    kw = {"connectors": 1, "meter_interval": 2, "speed": 10, "seed": len(app.sims), **kw}  # type: ignore[attr-defined]
    st = SimStation(station_id, f"{app.url}/ocpp", version, **kw)
    app.sims.append(st)  # type: ignore[attr-defined]
    await st.start()
    await st.wait_booted()
    return st


async def until(predicate: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    """Poll `predicate` (plain or async) every 0.05 s until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def profiles(st: SimStation) -> list[dict]:
    return [p for a, p in st.received if a == "SetChargingProfile"]


def answered(st: SimStation) -> list[dict]:
    return [r for a, r in st.answered if a == "SetChargingProfile"]


def first_limit(st: SimStation, payload: dict) -> float:
    """The first period's limit of a SetChargingProfile, in A per phase."""
    profile = payload["csChargingProfiles"] if st.protocol == "1.6" else payload["chargingProfile"]
    schedule = profile["chargingSchedule"] if st.protocol == "1.6" else profile["chargingSchedule"][0]
    limit = schedule["chargingSchedulePeriod"][0]["limit"]
    return limit if schedule["chargingRateUnit"] == "A" else limit / (3 * 230)


def near(a: float, b: float) -> bool:
    return abs(a - b) < 0.05


class InForce:
    """Samples what each station has in force (read from the stations) every 0.05 s and
    the moment any of them takes a profile, and keeps every sample whose sum passes what
    the breaker allows (all stations are 3-phase: the sum is each phase's)."""

    def __init__(self, stations: list[SimStation], allowed_a: float) -> None:
        self.stations, self.allowed_a = stations, allowed_a
        self.samples: list[dict[str, float]] = []
        self.over: list[dict[str, float]] = []
        for st in stations:
            st.take_profile = self._checked(st.take_profile)  # type: ignore[method-assign]
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _checked(self, take: Callable[..., Awaitable[dict]]) -> Callable[..., Awaitable[dict]]:
        async def take_and_sample(*args: Any) -> dict:
            answer = await take(*args)
            self.sample()
            return answer

        return take_and_sample

    def sample(self) -> None:
        sample = {st.station_id: round(st.limit_a(1), 3) for st in self.stations}
        self.samples.append(sample)
        if sum(sample.values()) > self.allowed_a + EPS:
            self.over.append(sample)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.05)

    async def held(self, samples: int) -> None:
        """`samples` more samples (0.05 s apart) go by."""
        target = len(self.samples) + samples
        await until(lambda: len(self.samples) >= target, f"{samples} more samples")

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        assert self.over == [], f"more in force than the breaker allows: {self.over[:5]}"


async def api(app: App, name: str = "ops") -> ZaspotClient:
    """An API client authenticated with a token called `name` (so its source is operator:<name>)."""
    token = await app.ctx.store.create_api_token(name)
    return await ZaspotClient(f"{app.url}/api/websocket", token).connect()


async def open_alarms(app: App, station_id: str, code: str) -> list[dict]:
    return [a for a in await app.ctx.store.alarms(station_id, open_only=True) if a["code"] == code]


async def last_command(app: App, station_id: str, command: str = "set_power_limit") -> dict | None:
    rows = [r for r in await app.ctx.store.commands(station_id, limit=20) if r["command"] == command]
    return rows[0] if rows else None


# --- (a) a station that refuses its decrease keeps its room, and nobody else gets it -----------


@pytest.mark.parametrize("refuser", ["1.6", "2.0.1"])
async def test_a_refused_decrease_keeps_its_room_from_the_others(make_app, refuser):
    app = await make_app(["{id: A, max_current: 32}", "{id: B, max_current: 32}",
                          "{id: C, max_current: 32, unit: W}"], breaker=32)
    a = await sim(app, "A", refuser)
    b = await sim(app, "B", "2.0.1" if refuser == "1.6" else "1.6")
    c = await sim(app, "C", "2.0.1")
    for st in (a, b, c):
        await until(lambda st=st: answered(st), f"{st.station_id}'s first profile")
    await a.start_transaction(1)
    await until(lambda: near(a.limit_a(1), 31), "A alone at 31 A")

    a.profile_answer = "refuse_decrease"  # from now on A will not give up room
    asked_before = len(profiles(a))
    in_force = InForce([a, b, c], 31)
    await b.start_transaction(1)
    await c.start_transaction(1)
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        await until(lambda: len(profiles(a)) >= asked_before + 3, "A asked down again and again")
        (alarm,) = await until(lambda: open_alarms(app, "A", "LimitRefused"), "LimitRefused for A")
        assert alarm["evse_id"] == 1
        assert "LimitRefused" in app.ctx.fleet.stations["A"].open_alarms.values()
        history = await client.command("history/alarms", station_id="A", open_only=True)
        assert [x["code"] for x in history] == ["LimitRefused"]
        (limit,) = await client.command("limits/get", station_id="A")
        assert limit["in_force_amps"] == 31.0 and limit["wanted_amps"] < 31 and limit["wanted_by"] == EMS
        assert limit["failures"] >= 3 and limit["error"] == "station answered Rejected"
        assert limit["problems"] == ["LimitRefused"]
        assert all(first_limit(a, p) < 31 for p in profiles(a)[asked_before:])  # asked to go down
        await in_force.held(40)  # a while of A refusing, every tick
        assert near(a.limit_a(1), 31) and b.limit_a(1) == 0 and c.limit_a(1) == 0  # nobody got A's room
        assert len(profiles(a)) >= asked_before + 4  # asked again, less and less often
        assert {first_limit(st, x) for st in (b, c) for x in profiles(st)} == {0.0}  # never granted a thing

        a.profile_answer = "accept"  # A gives in: the room is freed and shared
        await until(lambda: all(near(st.limit_a(1), 10.3) for st in (a, b, c)), "31 A shared by three")
        await until(lambda: not app.ctx.fleet.stations["A"].open_alarms, "A's alarm cleared")
        assert await open_alarms(app, "A", "LimitRefused") == []
        (limit,) = await client.command("limits/get", station_id="A")
        assert limit["in_force_amps"] == 10.3 and limit["failures"] == 0 and limit["problems"] == []
    await in_force.stop()


# --- (b) a silent station holds up only itself ----------------------------------------------------


async def test_b_a_silent_station_does_not_hold_up_the_others(make_app):
    app = await make_app(["{id: S, max_current: 32}", "{id: X, max_current: 32}",
                          "{id: Y, max_current: 32, unit: W}"], breaker=63, call_timeout=4)
    s, x, y = await sim(app, "S", "2.0.1"), await sim(app, "X", "1.6"), await sim(app, "Y", "2.0.1")
    for st in (s, x, y):
        await until(lambda st=st: answered(st), f"{st.station_id}'s first profile")
    await s.start_transaction(1)
    await x.start_transaction(1)
    await until(lambda: near(s.limit_a(1), 31) and near(x.limit_a(1), 31), "S and X at 31 A each")

    s.profile_answer = "silent"
    asked_s, asked_y = len(profiles(s)), len(profiles(y))
    in_force = InForce([s, x, y], 62)
    await y.start_transaction(1)
    await until(lambda: len(profiles(s)) > asked_s, "S asked to make room")
    # X goes down and Y is given what S does not hold, while S's CALL is still outstanding.
    await until(lambda: x.limit_a(1) < 31 and len(profiles(y)) > asked_y and y.limit_a(1) > 0, "X and Y changed")
    session = app.ctx.sessions["S"]
    assert session._pending is not None and session._pending[1] == "SetChargingProfile"
    row = await last_command(app, "S")
    assert row["ok"] is None and row["done_at"] is None
    assert near(s.limit_a(1), 31)  # S still draws what it had
    assert y.limit_a(1) <= 62 - 31 - x.limit_a(1) + EPS  # Y got only what S and X do not hold

    ticks: list[float] = []

    async def ticked() -> bool:
        ticks.append(app.ctx.ems.state()["time"])
        return len(set(ticks)) >= 4

    await until(ticked, "the EMS ticking on")  # while S is silent
    assert sorted(set(ticks)) == list(dict.fromkeys(ticks)) and (await last_command(app, "S"))["ok"] is None
    assert app.ctx.sessions["S"]._pending is not None

    # Its CALL times out; its room stays counted at the 31 A it accepted last, and it is asked again.
    await until(lambda: app.ctx.limits.of("S")[0]["failures"] >= 1, "S's CALL timing out")
    (limit,) = app.ctx.limits.of("S")
    assert limit["in_force_amps"] == 31.0 and "did not answer" in limit["error"], limit
    rows = await app.ctx.store.commands("S", limit=20)
    assert row["id"] in [r["id"] for r in rows if r["command"] == "set_power_limit" and r["ok"] == 0]
    await until(lambda: len(profiles(s)) > asked_s + 1, "S asked again")
    assert near(s.limit_a(1), 31) and y.limit_a(1) <= 62 - 31 - x.limit_a(1) + EPS
    await in_force.stop()


# --- (c) an operator's limit below the EMS share survives ticks and lease renewals -------------


async def test_c_an_operator_limit_survives_ticks_and_lease_renewals(make_app):
    app = await make_app(["{id: P, max_current: 32}"], breaker=32, lease=20)
    p = await sim(app, "P", "1.6")
    await until(lambda: answered(p), "P's first profile")
    await p.start_transaction(1)
    await until(lambda: near(p.limit_a(1), 31), "P's EMS share, 31 A")
    granted_at = app.ctx.ems.book.granted["P", 1][1]

    client = await api(app, "ops")
    try:
        result = await client.command("command/set_power_limit", station_id="P", evse_id=1, amps=8)
        assert result["ok"] and near(p.limit_a(1), 8)
        asked = len(profiles(p))
        in_force = InForce([p], 8)  # never above the operator's 8 A, sampled and at every profile P takes
        ticks: set[float] = set()

        def renewed() -> bool:
            ticks.add(app.ctx.ems.state()["time"])
            return app.ctx.ems.book.granted["P", 1][1] > granted_at and len(profiles(p)) > asked \
                and len(answered(p)) >= len(profiles(p))

        await until(renewed, "the EMS's lease renewal (at half the 20 s lease)", timeout=20)
        await in_force.stop()
        assert len(ticks) > 20  # the EMS ticked on all along
        assert all(near(x["P"], 8) for x in in_force.samples)
        assert all(near(first_limit(p, x), 8) for x in profiles(p)[asked:])  # the renewal carried 8 A

        (limit,) = await client.command("limits/get", station_id="P")
        assert limit["in_force_amps"] == 8.0 and limit["set_by"] == "operator:ops"
        intents = {i["source"]: i["amps"] for i in limit["intents"]}
        assert intents == {"operator:ops": 8.0, EMS: 31.0}
        station = await client.command("station/get", station_id="P")
        assert station["limits"][0]["set_by"] == "operator:ops"

        await client.command("command/clear_power_limit", station_id="P", evse_id=1)
        await until(lambda: near(p.limit_a(1), 31), "the EMS share again")
        (limit,) = await client.command("limits/get", station_id="P")
        assert limit["set_by"] == EMS and [i["source"] for i in limit["intents"]] == [EMS]
    finally:
        await client.close()


# --- (d) a rule's limit and an operator's on one EVSE -------------------------------------------

RULE = """\
- id: hot_limit
  trigger: {platform: temperature, location: Connector, above: 70}
  action:
    - service: set_power_limit
      data: {kw: 11, scope: connector}
"""


async def hot(st: SimStation, celsius: float) -> None:
    """Connector 1 reports `celsius` (1.6: in MeterValues; 2.0.1: in NotifyEvent)."""
    c = st.connectors[1]
    c.heat_offset_c += celsius - c.temperature_c
    if st.protocol == "1.6":
        await st.proto.meter(1)
    else:
        await st.proto.report_temperatures([1])


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_d_a_rule_limit_and_an_operator_limit_the_lower_is_in_force(make_app, tmp_path, version):
    (tmp_path / "rules" / "hot.yaml").write_text(RULE)
    app = await make_app()
    r = await sim(app, "R", version, meter_interval=3600)
    await hot(r, 80.0)
    await until(lambda: answered(r), "the rule's limit")
    assert r.connectors[1].limit_w == 11_000.0

    client = await api(app, "ops")
    try:
        await client.command("command/set_power_limit", station_id="R", evse_id=1, amps=8)
        assert near(r.limit_a(1), 8)
        (limit,) = await client.command("limits/get", station_id="R")
        assert (limit["evse_id"], limit["in_force_amps"], limit["set_by"]) == (1, 8.0, "operator:ops")
        assert [(i["source"], i["amps"], i["kw"]) for i in limit["intents"]] == [
            ("operator:ops", 8.0, None), ("rule:hot_limit", 15.9, 11)]

        await client.command("command/clear_power_limit", station_id="R", evse_id=1)
        assert r.connectors[1].limit_w == 11_000.0  # the rule's limit is back, as it asked it: 11 kW
        (limit,) = await client.command("limits/get", station_id="R")
        assert limit["set_by"] == "rule:hot_limit" and [i["source"] for i in limit["intents"]] == ["rule:hot_limit"]

        await client.command("command/set_power_limit", station_id="R", evse_id=1, amps=20)  # above the rule's
        (limit,) = await client.command("limits/get", station_id="R")
        assert limit["set_by"] == "rule:hot_limit" and r.connectors[1].limit_w == 11_000.0
    finally:
        await client.close()


# --- (e) did it take effect ----------------------------------------------------------------------


async def test_e_read_back_and_a_station_that_ignores_its_limit(make_app, monkeypatch):
    monkeypatch.setattr(owner, "WATCH_EVERY", 0.2)
    app = await make_app(["{id: N16, max_current: 32}", "{id: N201, max_current: 32, unit: W}",
                          "{id: IGN, max_current: 32}"], breaker=48, ignored_after=5,
                         deadband=0)  # every rise is sent: the share is 15.6 A whichever session starts first
    n16, n201 = await sim(app, "N16", "1.6"), await sim(app, "N201", "2.0.1")
    ign = await sim(app, "IGN", "2.0.1", profile_answer="ignore")
    for st in (n16, n201, ign):
        await until(lambda st=st: answered(st), f"{st.station_id}'s first profile")
        await st.start_transaction(1)
    await until(lambda: near(n16.limit_a(1), 15.6) and near(n201.limit_a(1), 15.6), "47 A shared by three")

    def limit_of(station_id: str) -> dict:
        return app.ctx.limits.of(station_id)[0]

    await until(lambda: limit_of("N16")["in_force_amps"] == 15.6 and limit_of("N16")["applied"] is True,
                "N16 read back")
    await until(lambda: limit_of("N201")["in_force_amps"] == 15.6 and limit_of("N201")["applied"] is True,
                "N201 read back")
    await until(lambda: limit_of("IGN")["in_force_amps"] == 15.6 and limit_of("IGN")["applied"] is False,
                "IGN read back: not in force")
    assert near(ign.limit_a(1), 31.9)  # it said yes and did nothing
    (alarm,) = await until(lambda: open_alarms(app, "IGN", "LimitIgnored"), "LimitIgnored for IGN")
    assert alarm["evse_id"] == 1 and "15.6 A" in alarm["message"]
    assert limit_of("IGN")["problems"] == ["LimitIgnored"]
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        for station_id, applied in (("N16", True), ("N201", True), ("IGN", False)):
            (limit,) = await client.command("limits/get", station_id=station_id)
            assert (limit["in_force_amps"], limit["applied"]) == (15.6, applied)
            if applied:
                assert await open_alarms(app, station_id, "LimitIgnored") == [] and limit["problems"] == []
