"""The TUI against a real `zaspot run` with simulated stations, driven by Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import ZaspotProcess
from zaspot.sim import SimStation
from zaspot.tui.app import ZaspotTui
from zaspot.tui.feed import LinkState
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.modals import ConfirmAction
from zaspot.tui.station_screen import StationScreen

SIZE = (160, 48)


async def until(pilot, check: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    """Let the app run until `check()` holds; `limit` only stops a broken test hanging."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not check():
        if loop.time() > end:
            raise AssertionError(f"never saw: {what}")
        await pilot.pause(0.05)


def cell(app: ZaspotTui, station_id: str, column: str) -> str:
    table = app.query_one(FleetTable)
    value = table.get_cell(station_id, column)
    return getattr(value, "plain", str(value))


def has_row(app: ZaspotTui, station_id: str) -> bool:
    return station_id in app.query_one(FleetTable)._shown


@pytest.fixture
async def stations(zaspot_server: ZaspotProcess):
    ac = SimStation("TUI-AC", zaspot_server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=5)
    dc = SimStation("TUI-DC", zaspot_server.url + "/ocpp", protocol="2.0.1", kind="dc", modules=4,
                    speed=20, meter_interval=5)
    for st in (ac, dc):
        await st.start()
    await asyncio.gather(ac.wait_booted(), dc.wait_booted())
    yield ac, dc
    await asyncio.gather(ac.stop(), dc.stop())


def tui_for(server: ZaspotProcess) -> ZaspotTui:
    return ZaspotTui(server.url + "/api/websocket")


async def test_a_fault_appears_in_the_fleet_table(zaspot_server, stations):
    ac, _ = stations
    app = tui_for(zaspot_server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: has_row(app, "TUI-AC") and has_row(app, "TUI-DC"), "both stations listed")
        assert "avail" in cell(app, "TUI-AC", "connectors")
        assert "FAULT" not in cell(app, "TUI-AC", "connectors")

        ac.start_scenario("ground_failure", connector_id=1, hold=10_000)
        await until(pilot, lambda: "FAULT" in cell(app, "TUI-AC", "connectors"), "connector 1 faulted")
        assert "Ground failure" in cell(app, "TUI-AC", "connectors")  # its error code, by name
        await until(pilot, lambda: cell(app, "TUI-AC", "alarms") != "–", "an open alarm on TUI-AC")

        await pilot.press("S")  # trouble first
        await until(pilot, lambda: app.query_one(FleetTable).get_row_at(0)[0].plain == "TUI-AC", "TUI-AC on top")


async def test_an_action_reaches_the_station_after_confirmation(zaspot_server, stations):
    ac, _ = stations
    app = tui_for(zaspot_server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: has_row(app, "TUI-AC"), "TUI-AC listed")
        table = app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("TUI-AC"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the confirmation")
        assert not [a for a, _ in ac.received if a == "Reset"]  # nothing sent before confirming
        await pilot.press("enter")
        payload = await ac.wait_for_call("Reset")
        assert payload == {"type": "Soft"}
        await until(pilot, lambda: any("Accepted" in str(n.message) for n in app._notifications), "the station's answer")


async def test_a_power_limit_typed_in_kw_reaches_the_station(zaspot_server, stations):
    _, dc = stations
    app = tui_for(zaspot_server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: has_row(app, "TUI-DC"), "TUI-DC listed")
        table = app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("TUI-DC"))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the limit dialog")
        app.screen.query_one("#field-kw").value = ""
        await pilot.press("4", "0", "enter")
        payload = await dc.wait_for_call("SetChargingProfile")
        schedule = payload["chargingProfile"]["chargingSchedule"][0]
        assert schedule["chargingSchedulePeriod"][0]["limit"] == 40_000


async def test_station_screen_shows_modules_and_temperatures(zaspot_server, stations):
    app = tui_for(zaspot_server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: has_row(app, "TUI-DC"), "TUI-DC listed")
        await until(pilot, lambda: cell(app, "TUI-DC", "modules") == "4/4 ok", "module health in the table")
        table = app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("TUI-DC"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StationScreen), "the station screen")
        screen = app.screen
        modules = screen.query_one("#modules")
        temps = screen.query_one("#temperatures")
        await until(pilot, lambda: modules.row_count == 4, "four power modules")
        # A module's row may come before its Enabled value does (inventory, then readings).
        await until(pilot, lambda: [str(modules.get_row_at(i)[1]) for i in range(4)] == ["ok"] * 4,
                    "four modules enabled")
        await until(pilot, lambda: all("°C" in str(modules.get_row_at(i)[2]) for i in range(4)),
                    "each module's temperature in its row")
        # ... and not again under Temperatures, which has the connectors' readings
        assert not any("module" in str(temps.get_row_at(i)[0]) for i in range(temps.row_count))
        assert "4/4 ok" in modules.border_title
        await pilot.press("escape")
        assert isinstance(app.screen.query_one(FleetTable), FleetTable)


async def test_the_feed_and_timers_firing_after_exit_are_harmless():
    # Seen once in CI: the totals timer fired while the app shut down, after its
    # widgets were gone, and the NoMatches crashed the app.
    app = ZaspotTui("ws://127.0.0.1:9/api/websocket")  # nothing listens: the feed keeps retrying
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
    app._show_totals()
    app.feed_link(LinkState(True, "connected"))
    app.feed_event({"type": "alarm_raised", "station_id": "CP1", "alarm_id": 1, "code": "GroundFailure",
                    "severity": "critical", "time": 1.0})


async def test_a_lost_server_is_shown_and_recovered(tmp_path: Path):
    server = ZaspotProcess(tmp_path / "zaspot.db").start()
    app = tui_for(server)
    try:
        async with app.run_test(size=SIZE) as pilot:
            banner = app.query_one("#banner")
            await until(pilot, lambda: not banner.has_class("lost"), "connected")
            await asyncio.to_thread(server.stop)  # in a thread: the TUI keeps answering the close
            await until(pilot, lambda: banner.has_class("lost"), "the lost-connection banner")
            assert "NOT CONNECTED" in str(banner.render())
            port = server.port
            server = ZaspotProcess(tmp_path / "zaspot.db")
            server.port = port
            await asyncio.to_thread(server.start)
            st = SimStation("LATE", server.url + "/ocpp", protocol="1.6", speed=20)
            await st.start()
            await st.wait_booted()
            try:
                await until(pilot, lambda: not banner.has_class("lost"), "reconnected", limit=40)
                await until(pilot, lambda: has_row(app, "LATE"), "a station seen after the reconnect")
            finally:
                await st.stop()
        assert app.feed.client is None  # the TUI closed its connection on exit
    finally:
        server.stop()
