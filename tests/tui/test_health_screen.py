"""The TUI health view (`h`, #19 part 5) against a real in-process zaspot with simulated
stations on an accelerated clock, driven by Pilot: stations worst uptime first with their
uptime against the target, Enter on one shows its ports and its outages, and the view follows
the server's own refresh (health.refresh) while it is open."""

from __future__ import annotations

import re

import pytest

from tests.health.clock import utc, virtual_clock  # noqa: F401  (the fixture)
from tests.health.test_snapshot import fault, recover, start, stations_for
from tests.tui.test_tui_lifecycle import SIZE, rows, text, until
from zaspot.tui.app import ZaspotTui
from zaspot.tui.health_screen import HealthScreen, StationHealthScreen

pytestmark = pytest.mark.timeout(60)


def percent(cell: str) -> float:
    """The uptime a bar cell shows: '███…░ 75.000 %' -> 75.0."""
    found = re.search(r"(\d+\.\d{3}) %", cell)
    assert found, f"no uptime in {cell!r}"
    return float(found.group(1))


async def test_the_worst_station_is_on_top_and_enter_shows_its_ports_and_outages(tmp_path, virtual_clock):  # noqa: F811
    clock = virtual_clock  # 2026-11-01T00:00 UTC
    server = await start(tmp_path, refresh=5, target=99.0)
    cp1, cp2 = stations_for(server)
    try:
        for st in (cp1, cp2):
            await st.start()
        await cp1.wait_booted()
        await cp2.wait_booted()
        # 11-02 00:00-12:00  CP-2's one port GroundFailure: 36 of 48 h up by 11-03 = 75 %
        clock.set(utc("2026-11-02T00:00"))
        await fault(server, cp2, 1, "GroundFailure")
        clock.set(utc("2026-11-02T12:00"))
        await recover(server, cp2, 1)
        clock.set(utc("2026-11-03T00:00"))
        assert await server.ctx.health.snapshot.refresh()

        app = ZaspotTui(server.url + "/api/websocket", clock=clock.time)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("h")
            await until(pilot, lambda: isinstance(app.screen, HealthScreen), "the health screen")
            table = app.screen.query_one("#health-stations")
            await until(pilot, lambda: table.row_count == 2, "both stations")
            top, second = rows(table)
            assert top[0] == "CP-2" and percent(top[1]) == pytest.approx(75.0, abs=0.01)
            assert top[2] == "720 min" and top[3] == "1" and top[5] == "12h00"  # outage, failures, MTTR
            assert second[0] == "CP-1" and percent(second[1]) == 100.0
            title = text(app.screen.query_one("#health-title"))
            assert "target 99 %" in title and "1 below target" in title

            await pilot.press("enter")  # the cursor is on the worst
            await until(pilot, lambda: isinstance(app.screen, StationHealthScreen), "CP-2's health")
            ports, outages = app.screen.query_one("#health-ports"), app.screen.query_one("#health-outages")
            await until(pilot, lambda: ports.row_count and outages.row_count and rows(ports)[0][0] == "1/1",
                        "its port and outages")
            port = rows(ports)[0]
            assert percent(port[1]) == pytest.approx(75.0, abs=0.01) and port[4] == "720"  # faulted minutes
            outage = rows(outages)[0]
            assert outage[2:] == ["1/1", "faulted", "Faulted, no reason given", "720"]  # a 2.0.1 status carries no error code
            assert "CP-2" in text(app.screen.query_one("#health-station-title"))

            # While the view is open both of CP-1's connectors fault for a day: at the server's
            # next refresh (every 5 s here) CP-1 is the worst, with its alarms open.
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HealthScreen), "back to the stations")
            for connector in (1, 2):
                await fault(server, cp1, connector, "HighTemperature")
            clock.set(utc("2026-11-04T00:00"))  # CP-1: 2 x 72 h, 2 x 24 h out: 66.667 %
            await until(pilot, lambda: rows(table)[0][0] == "CP-1", "CP-1 on top", limit=15)
            top = rows(table)[0]
            assert percent(top[1]) == pytest.approx(66.667, abs=0.01)
            assert top[6] == "2"  # open alarms: one per faulted connector
    finally:
        for st in (cp1, cp2):
            await st.stop()
        await server.stop()
