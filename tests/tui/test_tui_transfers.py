"""Firmware updates and log uploads from the station screen, against a real in-process
zaspot (its file endpoint included) and simulated stations of both versions."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.request

import pytest
from textual.widgets import DataTable

from tests.tui.test_tui_lifecycle import SIZE, open_station, rows, start, text, tui, until
from zaspot.api.client import ZaspotClient
from zaspot.sim import SimStation
from zaspot.tui.modals import ConfirmAction

FIRMWARE = b"new firmware " * 1000


def put(url: str, body: bytes) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, body, method="PUT"), timeout=10) as answer:
        return answer.status


async def add_firmware(server, name: str) -> None:
    """As `zaspot firmware add` does: a one-time link from the API, then the file PUT to it."""
    async with ZaspotClient(server.url + "/api/websocket") as api:
        link = await api.command("firmware/add", name=name, size=len(FIRMWARE),
                                 sha256=hashlib.sha256(FIRMWARE).hexdigest())
    assert await asyncio.to_thread(put, link["upload_url"], FIRMWARE) in (200, 201, 204)


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_logs_fetched_and_firmware_updated_from_the_station_screen(tmp_path, protocol):
    server = await start(tmp_path)
    st = SimStation("TUI-FW", server.url + "/ocpp", protocol=protocol, speed=20, meter_interval=60)
    try:
        await st.start()
        await st.wait_booted()
        await add_firmware(server, "ac22-2.0.0.bin")
        app = tui(server)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_station(pilot, app, "TUI-FW")
            await until(pilot, lambda: "Firmware: 1.0.0 · no update sent" in text(screen.query_one("#session")),
                        "the firmware version and no update yet")
            await pilot.press("g")
            await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the fetch-logs form")
            await pilot.click("#confirm")
            uploads = screen.query_one("#log-uploads", DataTable)
            await until(pilot, lambda: uploads.row_count == 1 and rows(uploads)[0][2] == "Uploaded",
                        "the upload listed as uploaded", limit=30)
            await until(pilot, lambda: "last diagnostics Uploaded" in text(screen.query_one("#session")), "the summary")

            await pilot.press("U")
            await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the firmware form")
            await pilot.click("#confirm")
            updates = screen.query_one("#fw-updates", DataTable)
            await until(pilot, lambda: updates.row_count == 1 and rows(updates)[0][2] == "Installed",
                        "the update installed", limit=40)
            assert rows(updates)[0][1] == "ac22-2.0.0.bin"
            await until(pilot, lambda: "ac22-2.0.0.bin: Installed" in text(screen.query_one("#session")), "the summary")
    finally:
        await st.stop()
        await server.stop()
