"""The TUI in an 80×24 terminal and as the README tells it (#20 item 7), against a real
in-process zaspot with the shipped rules and stations on both OCPP versions, driven by Pilot:
what stays when the columns collapse, the alarms (open first, by name, one count), what a
reset will stop, and temperatures against each location's own limit, folded in the event list."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text

from tests.helpers import ROOT, OcppClient
from tests.tui.test_tui_lifecycle import rows, text, until
from zaspot.app import App
from zaspot.config import Config
from zaspot.diagnostics.config import TemperatureLimit
from zaspot.sim import SimStation
from zaspot.tui.app import ZaspotTui
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.health_screen import HealthScreen
from zaspot.tui.modals import ConfirmAction
from zaspot.tui.panes import AlarmsPane, RulesPane
from zaspot.tui.station_screen import StationScreen

pytestmark = pytest.mark.timeout(90)
SMALL = (80, 24)


async def start(tmp_path: Path, temperature: list[TemperatureLimit] = ()) -> Any:
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "tui.db"), rules=str(ROOT / "rules"))
    config.ocpp.ping_interval = 0
    config.diagnostics.temperature = list(temperature)
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


def tui(server: Any) -> ZaspotTui:
    return ZaspotTui(server.url + "/api/websocket")


def cell(app: ZaspotTui, station_id: str, column: str) -> str:
    return app.query_one(FleetTable).get_cell(station_id, column).plain


def width(table: Any, key: str) -> int:
    return next(column.width for k, column in table.columns.items() if k.value == key)


async def open_station(pilot, app: ZaspotTui, station_id: str) -> StationScreen:
    table = app.query_one(FleetTable)
    table.move_cursor(row=table.get_row_index(station_id))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, StationScreen), f"{station_id}'s screen")
    return app.screen


async def test_at_80x24_what_matters_stays_and_the_alarms_agree(tmp_path: Path) -> None:
    server = await start(tmp_path)
    ac = SimStation("CP-16", server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=5)
    dc = SimStation("CP-201-DEPOT", server.url + "/ocpp", protocol="2.0.1", kind="dc", modules=2, speed=20,
                    meter_interval=5)
    try:
        for st in (ac, dc):
            await st.start()
        await asyncio.gather(ac.wait_booted(), dc.wait_booted())
        app = tui(server)
        async with app.run_test(size=SMALL) as pilot:
            table = app.query_one(FleetTable)
            await until(pilot, lambda: {"CP-16", "CP-201-DEPOT"} <= set(table._shown), "both stations")
            assert table.shown == ["station", "connectors", "power", "alarms"]  # the rest collapsed
            assert width(table, "station") >= len("CP-201-DEPOT")  # no id cut

            # The shipped ground_failure rule takes the connector out of service (the simulator then
            # reports it Unavailable, which clears the alarm); its run shows by the rule's alias.
            ac.start_scenario("ground_failure", connector_id=1, hold=10_000)
            rules = app.query_one(RulesPane)
            await until(pilot, lambda: rules.row_count and "Ground fault -> connector Inoperative"
                        in str(rules.get_cell_at((0, rules.shown.index("rule")))), "the rule run, by name", limit=15)
            await ac.proto.report_problem(2, "HighTemperature", True)  # no rule for this one: it stays open
            await until(pilot, lambda: cell(app, "CP-16", "alarms") == "1 High temperature",
                        lambda: f"the alarm, by name: {cell(app, 'CP-16', 'alarms')!r}")
            banner = app.query_one("#banner")
            pane = app.query_one(AlarmsPane)
            await until(pilot, lambda: "1 open alarm" in text(banner), "the count on the top line")
            assert pane.border_title == "Alarms · 1 open"
            alarms = [dict(zip(pane.shown, (str(v) for v in r))) for r in (pane.get_row_at(i) for i in range(2))]
            assert [(a["alarm"][:26], a["state"]) for a in alarms] == [("High temperature · connect", "open"),
                                                                          ("Ground failure · connector", alarms[1]["state"])]
            assert alarms[1]["state"] != "open"
            assert banner.size.height <= 2 and "2 stations" in text(banner)  # nothing cut: it wraps

            await pilot.press("h")
            await until(pilot, lambda: isinstance(app.screen, HealthScreen), "the health view")
            health = app.screen.query_one("#health-stations")
            await until(pilot, lambda: health.row_count == 2, "both stations' health")
            assert {"station", "uptime", "alarms"} <= set(health.shown) and "trips" not in health.shown
            assert width(health, "station") >= max(len(r[0]) for r in rows(health))
            await pilot.press("escape")

            screen = await open_station(pilot, app, "CP-16")
            connectors = screen.query_one("#connectors")
            await until(pilot, lambda: connectors.row_count == 2, "two connectors and no empty station row")
            assert connectors.shown[:3] == ["conn", "status", "power"]
            assert "High temperature" in rows(connectors)[1][1]  # its error code, by name, in its status
            assert not screen.query_one("#modules").display  # an AC station: no empty modules box
            assert "1 open alarm" in text(screen.query_one("#station-title"))
            await pilot.press("escape")

            await pilot.resize_terminal(160, 48)  # a wide terminal: every column back
            await until(pilot, lambda: "link" in table.shown and "seen" in table.shown, "all columns")
            assert "online" in cell(app, "CP-16", "link") and not cell(app, "CP-16", "connectors").startswith("offline")
    finally:
        await asyncio.gather(ac.stop(), dc.stop())
        await server.stop()


async def status(station: OcppClient, connector: int, state: str, code: str = "NoError") -> None:
    await station.call("StatusNotification", {"connectorId": connector, "status": state, "errorCode": code})


async def test_both_counts_are_the_open_alarms_even_behind_many_cleared_ones(tmp_path: Path) -> None:
    server = await start(tmp_path)
    station = await OcppClient.connect(server.url, "CP-7", "1.6")
    try:
        await station.boot()
        await status(station, 2, "Faulted", "GroundFailure")  # stays open, the oldest alarm
        for _ in range(205):  # then more cleared alarms than the pane reads back
            await status(station, 1, "Faulted", "ReaderFailure")
            await status(station, 1, "Available")
        store_open = await server.ctx.store.alarms(open_only=True)
        assert len(store_open) == 1
        app = tui(server)
        async with app.run_test(size=SMALL) as pilot:
            pane = app.query_one(AlarmsPane)
            banner = app.query_one("#banner")
            # the rows, laid out for the terminal's size (a first layout may come before the last resize)
            await until(pilot, lambda: pane.row_count and "state" in pane.shown, "the alarms")
            await until(pilot, lambda: "1 open alarm" in text(banner), "the top line's count")
            assert pane.border_title == "Alarms · 1 open"
            first = dict(zip(pane.shown, (str(v) for v in pane.get_row_at(0))))
            assert first["state"] == "open" and first["alarm"].startswith("Ground failure")  # open first
            assert cell(app, "CP-7", "alarms") == "1 Ground failure"

            await status(station, 2, "Available")  # cleared: both counts at once
            await until(pilot, lambda: pane.border_title == "Alarms · none open", "the pane's count")
            await until(pilot, lambda: "no open alarms" in text(banner), "the top line's count")
    finally:
        await station.close()
        await server.stop()


async def test_the_reset_confirmation_says_which_sessions_end(tmp_path: Path) -> None:
    server = await start(tmp_path)
    v16 = SimStation("CP-16", server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=60)
    v201 = SimStation("CP-201", server.url + "/ocpp", protocol="2.0.1", speed=20, meter_interval=60)
    idle = SimStation("CP-IDLE", server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=60)
    stations = (v16, v201, idle)
    try:
        for st in stations:
            await st.start()
        await asyncio.gather(*(st.wait_booted() for st in stations))
        for st in (v16, v201):
            for connector in (1, 2):
                assert await st.start_transaction(connector) is not None
        app = tui(server)
        async with app.run_test(size=SMALL) as pilot:
            model = app.model.stations
            await until(pilot, lambda: {"CP-16", "CP-201", "CP-IDLE"} <= set(app.query_one(FleetTable)._shown), "rows")
            await until(pilot, lambda: all(sum(1 for c in model[s].outlets if c.transaction_id) == 2
                                           for s in ("CP-16", "CP-201") if s in model), "four sessions running")

            async def question(station_id: str, key: str) -> str:
                table = app.query_one(FleetTable)
                table.move_cursor(row=table.get_row_index(station_id))
                await pilot.press(key)
                await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the confirmation")
                said = str(app.screen.query_one("#question").render())
                await pilot.press("escape")
                await until(pilot, lambda: not isinstance(app.screen, ConfirmAction), "cancelled")
                return said

            said = await question("CP-16", "r")
            assert "2 sessions will end: 1 (tx" in said and ", 2 (tx" in said
            said = await question("CP-201", "r")  # 2.0.1's soft reset waits for them (OnIdle)
            assert "2 sessions running" in said and "resets once they end" in said
            assert "2 sessions will end" in await question("CP-201", "R")
            assert "No session is running." in await question("CP-IDLE", "r")
        assert not [a for st in stations for a, _ in st.received if a == "Reset"]  # all cancelled
    finally:
        await asyncio.gather(*(st.stop() for st in stations))
        await server.stop()


def style_of(cell_value: Any) -> str:
    return str(cell_value.style) if isinstance(cell_value, Text) else ""


def temperature_rows(screen: StationScreen) -> dict[str, tuple[str, str]]:
    table = screen.query_one("#temperatures")
    return {str(r[0]): (str(r[1]), style_of(r[1])) for r in (table.get_row_at(i) for i in range(table.row_count))}


async def meter_temperature(station: OcppClient, celsius: float) -> None:
    await station.call("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sampledValue": [{"value": f"{celsius:g}", "measurand": "Temperature", "unit": "Celsius", "location": "Outlet"}]}]})


async def notify_temperatures(station: OcppClient, readings: list[tuple[dict[str, Any], float]]) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    await station.call("NotifyEvent", {"generatedAt": now, "seqNo": 0, "eventData": [
        {"eventId": i + 1, "timestamp": now, "trigger": "Periodic", "actualValue": f"{celsius:g}",
         "component": component, "variable": {"name": "Temperature"}, "eventNotificationType": "CustomMonitor"}
        for i, (component, celsius) in enumerate(readings)]})


async def test_temperatures_against_their_own_limits_and_folded_in_the_event_list(tmp_path: Path) -> None:
    # HotBox connectors alarm at 50 °C (a model rule); everything else has the built-in limits
    # (connector 70, module 80): 55 °C is over the limit on a HotBox, only warm elsewhere, and a
    # module at 75 °C is warm, not red (a fixed 70 °C threshold made it red).
    server = await start(tmp_path, [TemperatureLimit("connector", 50, 45, model="HotBox")])
    hot = await OcppClient.connect(server.url, "CP-HOT", "1.6")
    dc = await OcppClient.connect(server.url, "CP-DC", "2.0.1")
    try:
        await hot.boot(model="HotBox")
        await dc.boot(model="DC150")
        app = tui(server)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(FleetTable)
            await until(pilot, lambda: {"CP-HOT", "CP-DC"} <= set(table._shown), "both stations")
            await notify_temperatures(dc, [({"name": "Connector", "evse": {"id": 1, "connectorId": 1}}, 55),
                                           ({"name": "AcDcConverter", "instance": "1"}, 75)])
            await until(pilot, lambda: cell(app, "CP-DC", "hottest") == "75 °C", "the module nearest its limit")
            assert style_of(table.get_cell("CP-DC", "hottest")) == "yellow"

            screen = await open_station(pilot, app, "CP-HOT")
            for celsius in (56, 51, 52, 53, 54, 55):  # 56 °C opens the alarm: a line between two runs
                await meter_temperature(hot, celsius)
            await until(pilot, lambda: temperature_rows(screen).get("connector 1/1", ("",))[0] == "55 °C", "55 °C")
            assert temperature_rows(screen)["connector 1/1"][1] == "bold red"  # over the HotBox limit
            await until(pilot, lambda: screen.events.entries and screen.events.entries[-1].count == 5,
                        lambda: f"one line: {[line.plain for line in screen.events.lines()]}")
            lines = [line.plain for line in screen.events.lines()]
            assert [line[9:] for line in lines[-3:]] == [
                "temperature connector 1/1 56 °C",
                "alarm raised 1/1 [warning] Over temperature · connector 1 at 56 °C (limit 50 °C)",
                "temperature ×5 connector 1/1 55 °C"]
            assert sum("temperature connector" in line or "temperature ×" in line for line in lines) == 2
            await pilot.press("escape")

            screen = await open_station(pilot, app, "CP-DC")
            modules = screen.query_one("#modules")
            await until(pilot, lambda: "connector 1/1" in temperature_rows(screen) and modules.row_count == 1,
                        "CP-DC's temperatures")
            assert temperature_rows(screen)["connector 1/1"] == ("55 °C", "yellow")
            module = modules.get_row_at(0)  # the module's reading is in its row, not again under Temperatures
            assert (str(module[0]), str(module[2]), style_of(module[2])) == ("1", "75 °C", "yellow")
            assert "module 1" not in temperature_rows(screen)
    finally:
        await hot.close()
        await dc.close()
        await server.stop()
