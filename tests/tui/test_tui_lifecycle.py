"""The TUI's #17 parts against a real in-process zaspot and simulated stations, driven by
Pilot: the authorization mode in the header, the cards screen, station names, reserved
connectors (firmware updates and log uploads: test_tui_transfers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import Config, StationConfig
from zaspot.sim import SimStation
from zaspot.tui.app import ZaspotTui
from zaspot.tui.cards_screen import CardsScreen
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.modals import ConfirmAction
from zaspot.tui.station_screen import StationScreen

SIZE = (160, 48)


async def start(tmp_path: Path, mode: str = "open", stations: tuple[StationConfig, ...] = ()) -> Any:
    """tests.helpers.start_app, with an authorization mode and named stations."""
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "tui.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.authorization.mode = mode
    config.files.dir, config.files.host, config.files.port = str(tmp_path / "files"), "127.0.0.1", 0
    config.stations = list(stations)
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


async def until(pilot, check: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    """Let the app run until `check()` holds; `limit` only stops a broken test hanging."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not check():
        if loop.time() > end:
            raise AssertionError(f"never saw: {what() if callable(what) else what}")
        await pilot.pause(0.05)


def rows(table: DataTable) -> list[list[str]]:
    return [[getattr(v, "plain", str(v)) for v in table.get_row_at(i)] for i in range(table.row_count)]


def text(widget: Any) -> str:
    return str(widget.render())


def tui(server: Any) -> ZaspotTui:
    return ZaspotTui(server.url + "/api/websocket")


async def open_station(pilot, app: ZaspotTui, station_id: str) -> StationScreen:
    table = app.query_one(FleetTable)
    await until(pilot, lambda: station_id in table._shown, f"{station_id} listed")
    table.move_cursor(row=table.get_row_index(station_id))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, StationScreen), "the station screen")
    return app.screen


async def test_the_header_shows_the_authorization_mode(tmp_path):
    for mode, shown in (("open", "auth: open"), ("list", "auth: list")):
        server = await start(tmp_path / mode, mode)
        try:
            app = tui(server)
            async with app.run_test(size=SIZE) as pilot:
                banner = app.query_one("#banner")
                await until(pilot, lambda banner=banner: "stations" in text(banner), "the connected banner")
                assert shown in text(banner)
        finally:
            await server.stop()


async def test_the_cards_screen_lists_cards_and_blocks_one_with_a_key(tmp_path):
    server = await start(tmp_path, "list")
    station = SimStation("TUI-LL", server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=60)
    try:
        await station.start()
        await station.wait_booted()
        async with ZaspotClient(server.url + "/api/websocket") as api:
            await api.command("cards/add", id_token="04A1B2C3", driver="Eva Novak", group="FLEET")
            await api.command("cards/add", id_token="DRIVER-7", note="night shift")
            app = tui(server)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause(0.1)
                await pilot.press("c")
                await until(pilot, lambda: isinstance(app.screen, CardsScreen), "the cards screen")
                cards = app.screen.query_one("#cards", DataTable)
                await until(pilot, lambda: cards.row_count == 2, "both cards listed")
                assert rows(cards)[0][:5] == ["04A1B2C3", "Accepted", "never", "FLEET", "Eva Novak"]
                assert "auth: list" in text(app.screen.query_one("#cards-title"))

                cards.move_cursor(row=cards.get_row_index("DRIVER-7"))
                await pilot.press("b")
                await until(pilot, lambda: rows(cards)[cards.get_row_index("DRIVER-7")][1] == "Blocked",
                            "DRIVER-7 shown blocked")
                (card,) = [c for c in await api.command("cards/list") if c["id_token"] == "DRIVER-7"]
                assert card["status"] == "Blocked"
                # the station's local list follows, and the screen with it
                version = (await api.command("cards/mode"))["version"]
                lists = app.screen.query_one("#local-lists", DataTable)
                await until(pilot, lambda: rows(lists) and rows(lists)[0][:3] == ["TUI-LL", str(version), "yes"],
                            "TUI-LL's local list at the cards' version")

                # a card added elsewhere appears by itself (card_changed), and the form adds one
                await api.command("cards/add", id_token="LATE-1", driver="Petr Král")
                await until(pilot, lambda: cards.row_count == 3, "a card added through the API")
                await pilot.press("a")
                await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the card form")
                await pilot.press(*"NEW-9")
                app.screen.query_one("#field-driver").value = "Jana Malá"
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, CardsScreen) and cards.row_count == 4, "the new card")
                (card,) = [c for c in await api.command("cards/list") if c["id_token"] == "NEW-9"]
                assert (card["status"], card["driver"], card["group"]) == ("Accepted", "Jana Malá", None)

                # remove asks first
                cards.move_cursor(row=cards.get_row_index("LATE-1"))
                await pilot.press("d")
                await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the confirmation")
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, CardsScreen) and cards.row_count == 3, "LATE-1 gone")
                assert "LATE-1" not in {c["id_token"] for c in await api.command("cards/list")}
    finally:
        await station.stop()
        await server.stop()


async def test_names_and_reserved_connectors_on_both_versions(tmp_path):
    named = (StationConfig("TUI-16", name="Lobby left", site="Hotel Praha", notes="cabinet key at reception"),
             StationConfig("TUI-201", name="Bus bay 1", site="Depot Nord"))
    server = await start(tmp_path, stations=named)
    ac = SimStation("TUI-16", server.url + "/ocpp", protocol="1.6", speed=20, meter_interval=60)
    dc = SimStation("TUI-201", server.url + "/ocpp", protocol="2.0.1", speed=20, meter_interval=60)
    try:
        for st in (ac, dc):
            await st.start()
        await asyncio.gather(ac.wait_booted(), dc.wait_booted())
        async with ZaspotClient(server.url + "/api/websocket") as api:
            app = tui(server)
            async with app.run_test(size=SIZE) as pilot:
                table = app.query_one(FleetTable)
                await until(pilot, lambda: {"TUI-16", "TUI-201"} <= set(table._shown), "both stations listed")
                assert table.get_cell("TUI-16", "name").plain == "Lobby left · Hotel Praha"
                await pilot.press("slash", *"depot", "enter")  # the filter finds the site
                await until(pilot, lambda: set(table._shown) == {"TUI-201"}, "the filter on the site")
                await pilot.press("escape")

                # 2.0.1: reserved through the API, shown in the fleet as it happens
                await api.command("reservations/make", station_id="TUI-201", id_token="DRIVER-7", evse_id=1, minutes=30)
                await until(pilot, lambda: "1:resv" in table.get_cell("TUI-201", "connectors").plain,
                            "TUI-201's EVSE 1 reserved in the fleet")

                # 1.6: reserved with the key, on the station screen
                screen = await open_station(pilot, app, "TUI-16")
                title = text(screen.query_one("#station-title"))
                assert "Lobby left" in title and "Hotel Praha" in title
                assert "cabinet key at reception" in text(screen.query_one("#station-notes"))
                await pilot.press("b")
                await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the reservation form")
                app.screen.query_one("#field-evse_id").value = "2"
                app.screen.query_one("#field-id_token").value = "04A1B2C3"
                await pilot.press("enter")
                payload = await ac.wait_for_call("ReserveNow")
                assert (payload["connectorId"], payload["idTag"]) == (2, "04A1B2C3")
                connectors = screen.query_one("#connectors", DataTable)

                def row_of(label: str) -> dict[str, str]:
                    return next(dict(zip(connectors.shown, r)) for r in rows(connectors) if r[0] == label)

                await until(pilot, lambda: row_of("2")["status"] == "Reserved" and "04A1B2C3 until" in row_of("2")["reserved"],
                            "connector 2 reserved for the card")
                assert "connector 2 for 04A1B2C3" in text(screen.query_one("#session"))

                # and cancelled with B (the one reservation is the one offered)
                await pilot.press("B")
                await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the cancel form")
                await pilot.click("#confirm")
                await ac.wait_for_call("CancelReservation")
                await until(pilot, lambda: row_of("2")["reserved"] == "–", "the reservation gone")
    finally:
        await asyncio.gather(ac.stop(), dc.stop())
        await server.stop()
