"""Rules end to end: a real server (in-process App, real sockets, real SQLite), simulated
1.6 and 2.0.1 stations, the shipped rule files, and notifications to a local webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import Recorder
from tests.helpers import ROOT
from tests.integration.test_notify_webhook import HookServer
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import Config, RawSection
from zaspot.sim import SimStation

SHIPPED = ROOT / "rules"


def ship(folder: Path, name: str, **replace: str) -> None:
    """Copy a shipped rule file; `replace` shortens its durations for the test (old=new)."""
    text = (SHIPPED / name).read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    (folder / name).write_text(text)


@pytest.fixture
def hook() -> HookServer:
    with HookServer() as server:
        yield server


@pytest.fixture
async def make_app(tmp_path: Path, hook: HookServer) -> AsyncIterator:
    apps: list[App] = []

    async def start() -> App:
        config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "zaspot.db"), rules=str(tmp_path / "rules"))
        config.ocpp.ping_interval = 0
        config.notify = [RawSection("test", yaml.compose(f"platform: webhook\nurl: {hook.url}/hook\nretries: 0"), "notify[0]")]
        app = App(config)
        await app.start()
        app.recorder = Recorder()  # type: ignore[attr-defined]
        app.ctx.bus.listen("*", app.recorder, name="test-recorder")
        app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
        apps.append(app)
        return app

    (tmp_path / "rules").mkdir()
    yield start
    for app in apps:
        await app.stop()


async def station(app: App, station_id: str, version: str, kind: str = "ac", **kw) -> SimStation:
    st = SimStation(station_id, f"{app.url}/ocpp", version, kind, speed=kw.pop("speed", 200), seed=3, **kw)
    await st.start()
    await st.wait_booted()
    return st


async def rebooted(st: SimStation, boots: int) -> None:
    async def wait() -> None:
        while st.boot_count < boots or not st._ready.is_set():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), 10)


async def settled(app: App) -> None:
    """Listeners, then rule runs (which may fire more events), until nothing moves."""
    bus, engine = app.ctx.bus, app.rules.engine
    while True:
        fired = bus.fired
        await bus.drain()
        await engine.idle()
        if bus.fired == fired:
            return


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_hot_connector_gets_the_station_an_11_kw_limit_and_a_notification(make_app, hook, tmp_path, version):
    ship(tmp_path / "rules", "connector_overheat.yaml", **{"for: 30s": "for: 0.3s"})
    app = await make_app()
    st = await station(app, f"HOT-{version}", version, speed=20)

    await st.run_scenario("overheat", connector_id=1, peak_c=82.0, ramp=2, hold=20, steps=2)
    profile = await st.wait_for_call("SetChargingProfile")

    limits = str(profile)
    assert "11000" in limits or "11.0" in limits or "11" in limits
    body = (await hook.anext())["body"]
    assert body["message"].startswith(f"HOT-{version} connector 1 at ") and body["message"].endswith(" °C")
    await st.stop()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_ground_failure_makes_the_connector_inoperative_and_notifies(make_app, hook, tmp_path, version):
    ship(tmp_path / "rules", "ground_failure.yaml")
    app = await make_app()
    st = await station(app, f"GND-{version}", version)

    await st.proto.report_problem(2, "GroundFailure", True)
    availability = await st.wait_for_call("ChangeAvailability")

    if version == "1.6":
        assert availability == {"connectorId": 2, "type": "Inoperative"}
    else:
        assert availability["operationalStatus"] == "Inoperative" and availability["evse"]["id"] == 2
    body = (await hook.anext())["body"]
    assert (body["title"], body["message"]) == ("Ground fault", f"GND-{version} EVSE 2: GroundFailure, set Inoperative")
    await st.stop()


async def test_a_module_trip_resets_once_and_a_second_trip_within_the_hour_notifies(make_app, hook, tmp_path):
    ship(tmp_path / "rules", "module_trip.yaml")
    app = await make_app()
    st = await station(app, "DC-1", "2.0.1", "dc", modules=4)
    await st.wait_for_call("SetVariableMonitoring")

    await st.proto.report_module(2, True)
    await st.wait_for_call("Reset")
    await rebooted(st, 2)
    await st.proto.report_module(2, False)
    await st.proto.report_module(2, True)
    body = (await hook.anext())["body"]
    await settled(app)

    assert body["message"] == "DC-1: module 2 tripped again within an hour; not resetting"
    assert [a for a, _ in st.received].count("Reset") == 1
    await st.stop()


async def test_an_offline_station_is_notified_once_it_has_been_away_long_enough(make_app, hook, tmp_path):
    ship(tmp_path / "rules", "offline.yaml", **{"for: 5m": "for: 0.3s"})
    app = await make_app()
    st = await station(app, "AWAY-1", "1.6", speed=10)

    await st.go_offline(30)  # 3 s real
    body = (await hook.anext())["body"]

    assert (body["title"], body["message"]) == ("Station offline", "AWAY-1 has been offline for 5 minutes")
    await st.stop()


async def test_a_short_blip_does_not_notify_because_for_resets(make_app, hook, tmp_path):
    ship(tmp_path / "rules", "offline.yaml", **{"for: 5m": "for: 1s"})
    app = await make_app()
    st = await station(app, "BLIP-1", "1.6", speed=100, reconnect_delay=1)

    await st.go_offline(1)  # back within 0.01 s (sim) -> reconnects well inside the hold
    await st.wait_booted()
    await settled(app)
    traces = await app.ctx.store.rule_traces("station_offline_notify")

    assert traces == [] and hook.requests.empty()
    await st.stop()


async def test_a_time_trigger_fires_and_targets_the_stations_its_expression_selects(make_app, tmp_path):
    (tmp_path / "rules" / "tick.yaml").write_text(
        "- id: tick\n"
        "  trigger: {platform: time, every: 0.2s}\n"
        "  action:\n"
        "    - service: trigger_message\n"
        "      target: {where: \"station.connected and station.model == 'SimAC16'\"}\n"
        "      data: {message: Heartbeat}\n"
    )
    app = await make_app()
    chosen = await station(app, "TICK-1", "1.6")
    other = await station(app, "TICK-2", "2.0.1")

    call = await chosen.wait_for_call("TriggerMessage")

    assert call == {"requestedMessage": "Heartbeat"}
    assert "TriggerMessage" not in [a for a, _ in other.received]
    await chosen.stop()
    await other.stop()


async def test_traces_are_stored_and_the_api_lists_rules_and_reloads(make_app, tmp_path):
    ship(tmp_path / "rules", "ground_failure.yaml")
    app = await make_app()
    st = await station(app, "TR-1", "1.6")
    await st.proto.report_problem(1, "GroundFailure", True)
    await st.wait_for_call("ChangeAvailability")
    await settled(app)
    (tmp_path / "rules" / "bad.yaml").write_text("- id: bad\n  trigger: {platform: nope}\n  action: []\n")

    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        traces = await client.command("history/rule_traces", rule_id="ground_failure_inoperative")
        listed = await client.command("rules/list")
        reloaded = await client.command("rules/reload")

    (trace,) = traces
    assert trace["station_id"] == "TR-1" and trace["outcome"] == "done"
    assert trace["trigger"]["code"] == "GroundFailure"
    assert [(a["service"], a["ok"]) for a in trace["actions"]] == [("change_availability", True), ("notify", True)]
    assert [r["id"] for r in listed["rules"]] == ["ground_failure_inoperative"]
    assert listed["rules"][0]["last_run"]["run_id"] == trace["run_id"]
    assert reloaded["loaded"] == ["ground_failure_inoperative"]
    assert reloaded["errors"] == [(f"{tmp_path / 'rules' / 'bad.yaml'}:2: unknown trigger platform 'nope' (known: "
                                   "alarm, converter, event, fault, meter, price, station, status, temperature, "
                                   "time, transaction)")]
    await st.stop()
