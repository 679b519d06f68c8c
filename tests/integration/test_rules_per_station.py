"""Rules act per station, end to end: a real server (in-process App, real sockets, real
SQLite), simulated 1.6 and 2.0.1 stations running hot. Two stations hot within one
cooldown are both limited; a station that never answers does not hold a `single` rule
for another; every command a rule sends is recorded as `rule:<id>`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from zaspot.app import App
from zaspot.config import Config
from zaspot.sim import SimStation

RULE = """\
- id: hot_limit
  trigger: {platform: temperature, location: Connector, above: 70}
  action:
    - service: set_power_limit
      data: {kw: 11}
  mode: single
  cooldown: 10m
"""

Start = Callable[[], Awaitable[App]]


@pytest.fixture
async def make_app(tmp_path: Path) -> AsyncIterator[Start]:
    apps: list[App] = []
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hot.yaml").write_text(RULE)

    async def start() -> App:
        config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "zaspot.db"), rules=str(tmp_path / "rules"))
        config.ocpp.ping_interval = 0
        app = App(config)
        await app.start()
        app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop()


async def station(app: App, station_id: str, version: str) -> SimStation:
    st = SimStation(station_id, f"{app.url}/ocpp", version, speed=200, seed=3, meter_interval=3600)
    await st.start()
    await st.wait_booted()
    return st


async def reading(st: SimStation, celsius: float) -> None:
    """Connector 1 reports `celsius` (1.6: in MeterValues; 2.0.1: in NotifyEvent)."""
    c = st.connectors[1]
    c.heat_offset_c += celsius - c.temperature_c
    if st.protocol == "1.6":
        await st.proto.meter(1)
    else:
        await st.proto.report_temperatures([1])


async def traced(app: App, station_id: str, count: int = 1) -> list[dict]:
    """The rule's stored traces for a station (newest first), once there are `count`."""
    async def wait() -> list[dict]:
        while len(found := await app.ctx.store.rule_traces("hot_limit", station_id)) < count:
            await asyncio.sleep(0.05)
        return found

    return await asyncio.wait_for(wait(), 10)


def never_answers(st: SimStation, action: str) -> None:
    """The station takes the CALL and never answers it (a silent station)."""
    async def silent(payload: dict) -> None:
        await asyncio.Event().wait()

    setattr(st.proto, f"on_{action}", silent)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_two_stations_hot_within_one_cooldown_are_both_limited_as_the_rule(make_app, tmp_path):
    app = await make_app()
    a, b = await station(app, "HOT-A", "1.6"), await station(app, "HOT-B", "2.0.1")

    await reading(a, 80.0)
    await a.wait_for_call("SetChargingProfile")
    await reading(b, 81.0)  # inside A's 10 minutes
    await b.wait_for_call("SetChargingProfile")
    await reading(a, 60.0)
    await reading(a, 82.0)  # A again, inside its own cooldown
    (again, first) = await traced(app, "HOT-A", 2)
    (b_run,) = await traced(app, "HOT-B")

    assert (first["outcome"], b_run["outcome"], again["outcome"]) == ("done", "done", "cooldown")
    assert [action for action, _ in a.received].count("SetChargingProfile") == 1
    assert rows(tmp_path / "zaspot.db", "SELECT station_id, command, source FROM commands "
                                        "WHERE command = 'set_power_limit' ORDER BY id") == [
        ("HOT-A", "set_power_limit", "rule:hot_limit"), ("HOT-B", "set_power_limit", "rule:hot_limit")]
    await a.stop()
    await b.stop()


async def test_a_silent_station_does_not_hold_a_single_rule_for_another(make_app, tmp_path):
    app = await make_app()
    a, b = await station(app, "MUTE-A", "1.6"), await station(app, "LOUD-B", "1.6")
    never_answers(a, "SetChargingProfile")

    await reading(a, 80.0)
    await a.wait_for_call("SetChargingProfile")  # sent; A will keep it for call_timeout
    await reading(b, 80.0)
    (b_run,) = await traced(app, "LOUD-B")

    assert b_run["outcome"] == "done" and [x["ok"] for x in b_run["actions"]] == [True]
    assert await app.ctx.store.rule_traces("hot_limit", "MUTE-A") == []  # A's run is still waiting
    assert rows(tmp_path / "zaspot.db", "SELECT station_id, ok FROM commands WHERE command = 'set_power_limit' "
                                        "ORDER BY id") == [("MUTE-A", None), ("LOUD-B", 1)]
    await a.stop()
    await b.stop()
