"""The TUI's #18 parts against a real in-process zaspot with a `pricing:` section (the
`file` price source) and simulated stations, driven by Pilot: the price strip shows the
file's periods and follows new ones, a running session's cost appears in the fleet and on
the station screen and follows its events, and a server without prices shows none."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.tui.test_tui_lifecycle import SIZE, open_station, rows, text, tui, until
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.sim import SimStation
from zaspot.tui import format as fmt
from zaspot.tui.app import ZaspotTui
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.prices import PERIOD, PricePane
from zaspot.tui.sessions import ReceiptScreen, SessionsTable

PRICES = [2.4, 2.1, 1.2, 0.8, 1.6, 3.3, 4.9, 5.6, 4.1, 3.0]  # CZK/kWh, a quarter hour each from the current one on


def write_prices(path: Path, prices: list[float], now: float) -> None:
    """A CSV for the file source: 15-minute periods from an hour ago, then `prices` from the current period on."""
    current = now - now % PERIOD
    rows = [(current - PERIOD * (4 - i), 3.0) for i in range(4)] + [(current + PERIOD * i, p) for i, p in enumerate(prices)]
    path.write_text("start,end,price\n" + "".join(f"{s:.0f},{s + PERIOD:.0f},{p}\n" for s, p in rows), encoding="utf-8")


async def start(tmp_path: Path, pricing: str | None) -> Any:
    """A real in-process zaspot with this `pricing:` section (YAML) or none."""
    (tmp_path / "zaspot.yaml").write_text(pricing or "", encoding="utf-8")
    config = load(tmp_path / "zaspot.yaml")
    config.host, config.port, config.db, config.rules = "127.0.0.1", 0, str(tmp_path / "tui.db"), str(tmp_path / "rules")
    config.ocpp.ping_interval = 0
    config.files.dir, config.files.host, config.files.port = str(tmp_path / "files"), "127.0.0.1", 0
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


def pricing_yaml(csv: Path) -> str:
    return f"""
pricing:
  source: {{platform: file, path: {csv}}}
  currency: CZK
  fallback_price: 4.5
  refresh: 3600
  tariffs:
    - {{name: standard, markup: 2.0, min: 3.0, vat: 0.21}}
"""


async def test_the_price_strip_shows_the_files_periods_and_follows_new_ones(tmp_path):
    csv = tmp_path / "prices.csv"
    t0 = time.time()  # the TUI's clock stays here: "now" is the file's current period even across a quarter hour
    write_prices(csv, PRICES, t0)
    server = await start(tmp_path, pricing_yaml(csv))
    try:
        app = ZaspotTui(server.url + "/api/websocket", clock=lambda: t0)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(PricePane)
            await until(pilot, lambda: pane.display and pane.known, "the price strip")
            assert [p.price for p in pane.known if not p.fallback][4:] == PRICES  # every period of the file, in order
            shown = text(pane)
            assert "now  2.40 CZK/kWh spot" in shown and "min  0.80 at" in shown and "max  5.60 at" in shown
            assert "CZK/kWh" in pane.border_title and "known until" in pane.border_title

            write_prices(csv, [9.9, *PRICES[1:]], t0)  # the file changes: the next fetch brings it
            await server.ctx.prices.refresh()  # as the refresh timer would; it fires prices_fetched
            await until(pilot, lambda: "max  9.90 at" in text(pane), "the new prices in the strip")
    finally:
        await server.stop()


async def final_receipt(pilot, server: Any, tx: str, station_id: str) -> dict[str, Any]:
    """The session's receipt once its final cost is stored (just after the transaction ends)."""
    async with ZaspotClient(server.url + "/api/websocket") as api:
        loop_end = time.monotonic() + 20
        while time.monotonic() < loop_end:
            receipt = await api.command("sessions/receipt", transaction_id=tx, station_id=station_id)
            if receipt["final"]:
                return receipt
            await pilot.pause(0.05)
    raise AssertionError(f"no final cost for {tx}")


def cost_cell(app: ZaspotTui, station_id: str) -> str:
    return app.query_one(FleetTable).get_cell(station_id, "cost").plain


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_a_running_sessions_cost_appears_follows_its_events_and_ends_in_a_receipt(tmp_path, protocol):
    csv = tmp_path / "prices.csv"
    write_prices(csv, PRICES + [3.0] * 8, time.time())
    server = await start(tmp_path, pricing_yaml(csv))
    server.ctx.pricing.store_every = 0.5  # a running cost is announced at most every 60 s; here more often
    st = SimStation("TUI-COST", server.url + "/ocpp", protocol=protocol, speed=30, meter_interval=30)
    try:
        await st.start()
        await st.wait_booted()
        app = tui(server)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "TUI-COST" in app.query_one(FleetTable)._shown, "the station listed")
            assert cost_cell(app, "TUI-COST") == "–"  # nothing runs
            tx = str(await st.start_transaction(1, "DRIVER-1"))
            await until(pilot, lambda: cost_cell(app, "TUI-COST").endswith(" CZK"), "the running cost in the fleet")
            first = cost_cell(app, "TUI-COST")
            await until(pilot, lambda: cost_cell(app, "TUI-COST") != first, "the cost following its session_cost events")

            screen = await open_station(pilot, app, "TUI-COST")
            await until(pilot, lambda: "CZK so far (standard)" in text(screen.query_one("#session")),
                        "the cost so far and the tariff on the station screen")
            await pilot.press("n")
            table = screen.query_one(SessionsTable)
            await until(pilot, lambda: [r[-1] for r in rows(table)] == ["active"], "the running session listed")

            await st.stop_transaction(1)
            receipt = await final_receipt(pilot, server, tx, "TUI-COST")
            total = fmt.money(receipt["total_cost"]["incl_vat"], "CZK")
            await until(pilot, lambda: [(r[7], r[-1]) for r in rows(table)] == [(total, "ended")],
                        "the ended session with its final cost")
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
            periods = app.screen.query_one("#receipt-periods")
            assert periods.row_count == len(receipt["periods"]) > 0
            assert total in text(app.screen.query_one("#receipt-head"))
            await pilot.press("escape", "escape")
            await until(pilot, lambda: cost_cell(app, "TUI-COST") == "–", "no running cost once it ended")
    finally:
        await st.stop()
        await server.stop()


async def test_a_server_without_prices_shows_no_strip_and_no_costs(tmp_path):
    server = await start(tmp_path, None)
    st = SimStation("TUI-FREE", server.url + "/ocpp", protocol="2.0.1", speed=30, meter_interval=30)
    try:
        await st.start()
        await st.wait_booted()
        await st.start_transaction(1, "DRIVER-1")
        app = tui(server)
        async with app.run_test(size=SIZE) as pilot:
            banner = app.query_one("#banner")
            await until(pilot, lambda: "stations" in text(banner), "the connected banner")
            # the strip's read began with the snapshot, before the banner said connected; once it is answered:
            await until(pilot, lambda: not any(w.group == "prices" for w in app.workers), "the prices read answered")
            assert not app.query_one(PricePane).display
            assert cost_cell(app, "TUI-FREE") == "–"  # charging, at no known price
            screen = await open_station(pilot, app, "TUI-FREE")
            await pilot.press("n")
            table = screen.query_one(SessionsTable)
            await until(pilot, lambda: [(r[7], r[-1]) for r in rows(table)] == [("–", "active")], "the session, no cost")
            assert "so far" not in text(screen.query_one("#session"))
    finally:
        await st.stop()
        await server.stop()
