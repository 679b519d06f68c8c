"""The TUI's plain parts for #18, without Textual: a running session's cost in the fleet
model, the price chart's bars and colours, money and price as short text."""

from __future__ import annotations

import time

import pytest

from zaspot.tui import format as fmt
from zaspot.tui.cells import cells
from zaspot.tui.model import FleetModel
from zaspot.tui.prices import PAST, PERIOD, chart_lines, columns, legend_lines, periods, when

NOW = 1_795_600_000.0  # 09:46:40 UTC


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def charging() -> FleetModel:
    model = FleetModel(lambda: NOW)
    connectors = [{"evse_id": 1, "connector_id": 1, "status": "Charging", "transaction_id": "7"},
                  {"evse_id": 2, "connector_id": 2, "status": "Available"}]
    model.load([{"id": "CP-1", "ocpp_version": "1.6", "connected": True, "state": {"online": True, "connectors": connectors}}],
               [{"station_id": "CP-1", "evse_id": 1, "connector_id": 1, "state": "active", "meter_start_wh": 1000}],
               sessions=[{"id": "7", "station_id": "CP-1", "state": "active", "total_energy": 2.5, "currency": "CZK",
                          "total_cost": {"excl_vat": 15.0, "incl_vat": 18.15}, "tariff": "standard"},
                         {"id": "6", "station_id": "CP-1", "state": "ended", "total_cost": {"incl_vat": 99.0}}])
    return model


def test_a_running_sessions_cost_shows_and_follows_its_events():
    model = charging()
    st = model.stations["CP-1"]
    assert cells(st, NOW)["cost"].plain == "18.15 CZK"  # from history/sessions at load; the ended one is not counted
    model.take_dirty()
    model.apply({"type": "session_cost", "station_id": "CP-1", "transaction_id": "7", "evse_id": 1, "energy_wh": 4000.0,
                 "cost": 29.04, "currency": "CZK", "final": False})
    assert model.take_dirty() == {"CP-1"}  # one dirty row: the table repaints that cell on its next flush
    assert cells(st, NOW)["cost"].plain == "29.04 CZK"
    assert st.cost_of(st.connector(1, 1)).tariff == "standard"  # kept from the row while events don't name it
    model.apply({"type": "transaction_started", "station_id": "CP-1", "transaction_id": "8", "evse_id": 2,
                 "connector_id": 2, "meter_start_wh": 0})
    model.apply({"type": "session_cost", "station_id": "CP-1", "transaction_id": "8", "evse_id": 2, "energy_wh": 500.0,
                 "cost": 3.5, "currency": "CZK", "final": False})
    assert cells(st, NOW)["cost"].plain == "32.54 CZK"  # both running sessions of the station
    model.apply({"type": "transaction_ended", "station_id": "CP-1", "transaction_id": "7", "evse_id": 1,
                 "connector_id": 1, "meter_stop_wh": 5000})
    model.apply({"type": "session_cost", "station_id": "CP-1", "transaction_id": "7", "evse_id": 1, "energy_wh": 4000.0,
                 "cost": 29.1, "currency": "CZK", "final": True})
    assert cells(st, NOW)["cost"].plain == "3.50 CZK"
    assert "7" not in st.costs


def test_no_session_costs_is_a_quiet_dash():
    model = FleetModel(lambda: NOW)
    model.load([{"id": "CP-1", "connected": True, "state": {"connectors": [
        {"evse_id": 1, "connector_id": 1, "status": "Charging", "transaction_id": "7"}]}}])
    assert cells(model.stations["CP-1"], NOW)["cost"].plain == "–"


def test_money_and_prices_fit_their_cells():
    assert [fmt.money(v, "CZK", compact=True) for v in (0.5, 52.314, 491.32, 12_345.6, 123_456.0, None)] == [
        "0.50 CZK", "52.31 CZK", "491.3 CZK", "12346 CZK", "123k CZK", "–"]
    assert fmt.money(12_345.6, "CZK") == "12345.60 CZK"  # a receipt's is exact
    assert [fmt.price(v) for v in (1.854, -0.31, 12.44, 123.4)] == ["1.85", "-0.31", "12.4", "123"]
    assert fmt.instant("2026-11-25T09:46:40Z") == NOW and fmt.instant(NOW) == NOW and fmt.instant("soon") is None
    assert fmt.hours(0.25) == "15m" and fmt.hours(1.51) == "1h31"


def rows(prices: list[float], first: float) -> list[dict]:
    return [{"start": first + PERIOD * i, "end": first + PERIOD * (i + 1), "price": p, "unit": "CZK/kWh"}
            for i, p in enumerate(prices)]


def test_the_chart_marks_now_and_colours_the_cheap_and_dear_periods():
    current = NOW - NOW % PERIOD  # 09:45
    known = periods(rows([4.0] * PAST + [3.0, 1.0, 2.5, 5.0, 4.0], current - PAST * PERIOD))
    cols = columns(known, NOW, PAST + 8)
    assert [c.kind for c in cols] == ["past"] * PAST + ["normal", "cheap", "normal", "dear", "dear"] + ["unknown"] * 3
    lines = chart_lines(cols)
    assert lines[0].plain.startswith(" 5.00 ") and lines[2].plain.startswith(" 0.00 ")
    bars = [line.plain[6:] for line in lines[:3]]
    assert bars[0][PAST + 3] == "█" and bars[0][PAST + 1] == " "  # the dearest reaches the top, the cheapest doesn't
    assert bars[2][PAST + 5:] == "···"  # no price known yet
    assert lines[3].plain[6 + PAST:] == "▲10:00  "  # under the current period, then the next even hour
    legend = [t.plain for t in legend_lines(cols, {"driver_price": 7.42, "tariff": "standard"}, "CZK/kWh")]
    assert legend == ["now  3.00 CZK/kWh spot", "     7.42 driver price (standard)", "min  1.00 at 10:00",
                      "max  5.00 at 10:30"]


def test_a_negative_price_is_a_bar_above_the_lowest_and_bad_rows_are_dropped():
    current = NOW - NOW % PERIOD
    known = periods([*rows([-0.5, 2.0], current), {"start": "garbage", "end": None, "price": 1.0}])
    assert len(known) == 2
    cols = columns(known, NOW, PAST + 2)
    lines = chart_lines(cols)
    assert lines[2].plain.startswith("-0.50 ") and lines[2].plain[6 + PAST] == "▁"  # still a bar: a known price


def test_the_cheapest_period_says_its_day_when_it_is_not_today():
    assert when(NOW + 3600, NOW) == "10:46" and when(NOW + 86400, NOW) == "tomorrow 09:46"
    assert when(NOW + 2 * 86400, NOW) == "11-27 09:46"
