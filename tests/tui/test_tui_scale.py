"""500 stations: the table loads them all, filters (by status and by site) and sorts, and a burst of events
(faults, running sessions' costs) is one flush."""

from __future__ import annotations

from tests.tui.test_tui_snapshots import NOW, CannedClient, connector, station
from zaspot.tui.app import ZaspotTui
from zaspot.tui.fleet_table import FleetTable

FLEET = [station(f"CP{i:03d}", ("1.6", "2.0.1")[i % 2], "AC22", [connector(1, 1), connector(2, 2)], name=f"Bay {i}",
                 site="Hotel Praha" if i % 4 == 0 else "Depot Nord") for i in range(500)]


class BigFleet(CannedClient):
    async def command(self, message_type, /, *, timeout=60, **data):
        answers = {"fleet/list": FLEET, "history/transactions": []}
        if message_type in answers:
            return answers[message_type]
        return await super().command(message_type, timeout=timeout, **data)


async def test_five_hundred_stations_filter_sort_and_a_burst_of_events():
    app = ZaspotTui("ws://x/api/websocket", make_client=BigFleet, clock=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(FleetTable)
        while table.row_count < 500:
            await pilot.pause(0.02)
        for i in range(0, 500, 5):  # a burst: 100 faults before the next flush
            app.feed_event({"type": "status_changed", "station_id": f"CP{i:03d}", "time": NOW, "evse_id": 1,
                            "connector_id": 1, "status": "Faulted", "error_code": "GroundFailure"})
        table.flush()
        assert "FAULT" in table.get_cell("CP495", "connectors").plain
        assert "FAULT" not in table.get_cell("CP496", "connectors").plain
        for i in range(1, 500, 2):  # 250 sessions, then a cost for each before the next flush
            common = {"station_id": f"CP{i:03d}", "time": NOW, "evse_id": 2, "transaction_id": f"T{i}"}
            app.feed_event({"type": "transaction_started", **common, "connector_id": 2, "meter_start_wh": 0})
            app.feed_event({"type": "session_cost", **common, "energy_wh": 1000.0 * i, "cost": 6.5 * i,
                            "currency": "CZK", "final": False})
        table.flush()
        assert table.get_cell("CP499", "cost").plain == "3244 CZK"  # 3243.50 in a cell of nine
        assert table.get_cell("CP003", "cost").plain == "19.50 CZK" and table.get_cell("CP002", "cost").plain == "–"
        await pilot.press("slash", *"groundfailure", "enter")
        while table.row_count != 100:
            await pilot.pause(0.02)
        await pilot.press("escape", "slash", *"praha", "enter")  # a site's stations
        while table.row_count != 125:
            await pilot.pause(0.02)
        assert table.get_cell("CP004", "name").plain == "Bay 4 · Hotel Praha"
        await pilot.press("escape", "S")
        while table.row_count != 500:
            await pilot.pause(0.02)
        assert table.get_row_at(0)[0].plain == "CP000" and table.get_row_at(100)[0].plain == "CP001"
