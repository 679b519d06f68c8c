"""`zaspot demo`: it starts a server and a fleet, shows them with its prices, and `q` leaves nothing running."""

from __future__ import annotations

import asyncio
from pathlib import Path

from zaspot.tui.demo import Demo
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.prices import PricePane


async def test_demo_shows_the_fleet_and_q_leaves_nothing_running():
    before = asyncio.all_tasks()
    demo = Demo(stations=4, speed=20)
    tui = await demo.start()
    data_dir = Path(demo.tmp.name)
    try:
        async with tui.run_test(size=(160, 48)) as pilot:
            table = tui.query_one(FleetTable)
            while table.row_count < 4 or not all(st.online for st in tui.model.stations.values()):
                await pilot.pause(0.05)
            assert {str(table.get_cell(sid, "version")) for sid in tui.model.stations} == {"1.6", "2.0.1"}
            prices = tui.query_one(PricePane)
            while not prices.display:
                await pilot.pause(0.05)
            assert len(prices.known) >= 96 and "CZK/kWh" in prices.border_title  # today's periods at least
            await pilot.press("q")
            await pilot.pause()
        assert tui.return_code == 0 and not tui.is_running  # q quit the app
    finally:
        await demo.stop()
    leftover = {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()}
    assert not leftover, leftover
    assert not data_dir.exists()
