"""The EMS's pure parts: allocation, deadband, planning, config errors, adapters."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from zaspot.app import App
from zaspot.config import ConfigError, load
from zaspot.ems.allocate import Demand, Limits, allocate
from zaspot.ems.config import load as load_ems
from zaspot.ems.grants import GrantBook
from zaspot.ems.plan import plan
from zaspot.ems.prices import day_ahead
from zaspot.ems.prices import file as price_file
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.sensors.http_json import HttpJsonConfig, HttpJsonSensor
from zaspot.ems.site import SiteEntry, StationEntry, build_site
from zaspot.ems.view import Limit


def _d(key, max_a=32.0, phases=(0, 1, 2), path=("grid",), priority=0, order=0.0, min_a=6.0):
    return Demand(key, min_a, max_a, phases, path, priority, order)


def test_fair_share_gives_what_a_small_car_leaves_to_the_others():
    amps = allocate([_d("a", max_a=10), _d("b"), _d("c")], Limits({"grid": (50.0, 50.0, 50.0)}))
    assert amps == {"a": 10.0, "b": 20.0, "c": 20.0}


def test_phase_aware_a_one_phase_car_on_a_full_phase_waits_another_does_not():
    limits = Limits({"grid": (8.0, 40.0, 40.0)})
    amps = allocate([_d("l1", phases=(0,), order=1), _d("l2", phases=(1,), order=2), _d("three")], limits)
    assert amps["l1"] == 0.0 and amps["three"] == 8.0 and amps["l2"] == 32.0


def test_priority_fills_the_higher_level_first_and_minimums_are_kept():
    limits = Limits({"grid": (40.0,) * 3, "sub": (20.0,) * 3})
    amps = allocate([_d("vip", priority=1), _d("x", order=1), _d("y", path=("grid", "sub"), order=2)], limits, "priority")
    assert amps == {"vip": 28.0, "x": 6.0, "y": 6.0}


def test_a_car_that_does_not_fit_at_its_minimum_waits_first_come_first_served():
    amps = allocate([_d("late", order=2), _d("early", order=1)], Limits({"grid": (10.0,) * 3}))
    assert amps == {"early": 10.0, "late": 0.0}


def test_power_budget_counts_phases():
    amps = allocate([_d("one", phases=(0,)), _d("three")], Limits({"grid": (63.0,) * 3}, power_w=230 * 24))
    assert amps == {"one": 6.0, "three": 6.0}


def test_deadband_sends_every_decrease_and_only_real_rises_decreases_first():
    site = build_site(SiteEntry(main_breaker=63, stations=[StationEntry("a"), StationEntry("b")]))
    book = GrantBook(site, deadband_a=1.0, lease_s=600)
    holding = {("a", 1): 0.0, ("b", 1): 0.0}
    first = book.plan({("a", 1): Limit(10, "x"), ("b", 1): Limit(10, "x")}, holding, 0)
    for g in first:
        book.sent(g, 0)
    holding = book.amps()
    assert book.plan({("a", 1): Limit(10.5, "x"), ("b", 1): Limit(10, "x")}, holding, 10) == []
    moved = book.plan({("a", 1): Limit(12, "x"), ("b", 1): Limit(9.8, "x")}, holding, 10)
    assert [(g.key[0], g.amps) for g in moved] == [("b", 9.8), ("a", 12)]
    assert len(book.plan({("a", 1): Limit(10, "x"), ("b", 1): Limit(10, "x")}, holding, 300)) == 2  # renew


def test_room_a_station_still_holds_is_not_given_away():
    """A refused (or unanswered) decrease: the station still holds its old limit, so the
    rise another EVSE wants only gets what is really free."""
    site = build_site(SiteEntry(main_breaker=32, margin=0, stations=[StationEntry("a", max_current=32),
                                                                     StationEntry("d", max_current=32)]))
    book = GrantBook(site)
    book.granted = {("a", 1): (10.3, 0.0), ("d", 1): (0.0, 0.0)}
    wanted = {("a", 1): Limit(7.8, "share"), ("d", 1): Limit(24.2, "share")}
    plan = {g.key: g.amps for g in book.plan(wanted, {("a", 1): 10.3, ("d", 1): 0.0}, 1)}
    assert plan == {("a", 1): 7.8, ("d", 1): 21.7}  # 32 - 10.3: a still holds 10.3 until it accepts
    assert 10.3 + plan["d", 1] <= 32


def test_plan_fills_the_cheapest_hours_before_departure():
    slots = [PriceSlot(h * 3600, (h + 1) * 3600, p) for h, p in enumerate([0.3, 0.1, 0.2, 0.1, 0.5])]
    steps = plan(slots, now=0, departure=4 * 3600, energy_wh=15_000, max_w=10_000)
    assert [(s.start / 3600, s.slot.price, round(s.energy_wh)) for s in steps] == [(1, 0.1, 10_000), (3, 0.1, 5_000)]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zaspot.yaml"
    path.write_text(text)
    return path


def test_a_bad_site_is_reported_with_file_and_line(tmp_path):
    path = _write(tmp_path, "ems:\n  strategy: static\n  site:\n    main_breaker: 32\n    stations:\n      - {id: A, phases: 2}\n")
    with pytest.raises(ConfigError, match=r"zaspot.yaml:6: ems.site.stations\[0\].phases: expected one of 1, 3"):
        load_ems(load(path).ems)


async def test_an_unknown_strategy_names_the_known_ones(tmp_path):
    path = _write(tmp_path, "ems:\n  strategy: peak\n  site:\n    main_breaker: 32\n    stations: [{id: A}]\n"
                            f"db: {tmp_path / 'z.db'}\nport: 0\nhost: 127.0.0.1\n")
    with pytest.raises(ConfigError, match=r"zaspot.yaml: ems.config: no strategy 'peak' \(known: active_load_management"):
        await _start(load(path))


async def test_bad_strategy_settings_point_at_their_line(tmp_path):
    path = _write(tmp_path, "ems:\n  strategy: dynamic_load_balancing\n  site:\n    main_breaker: 32\n"
                            "    stations: [{id: A}]\n  config:\n    mode: sideways\n"
                            f"db: {tmp_path / 'z.db'}\nport: 0\nhost: 127.0.0.1\n")
    with pytest.raises(ConfigError, match=r"zaspot.yaml:7: ems.config.mode: expected one of fair, priority"):
        await _start(load(path))


async def _start(config) -> None:
    app = App(config)
    try:
        await app.start()
    finally:
        await app.stop()


def test_price_file_csv_and_day_ahead_json(tmp_path):
    slots = price_file.parse("start,price\n2024-05-01T00:00:00+00:00,0.21\n2024-05-01T01:00:00+00:00,0.18\n", ".csv")
    assert [(s.end - s.start, s.price) for s in slots] == [(3600, 0.21), (3600, 0.18)]
    data = {"data": [{"start_timestamp": 0, "end_timestamp": 3600000, "marketprice": 100.0, "unit": "Eur/MWh"}]}
    (slot,) = day_ahead.parse(data, day_ahead.DayAheadConfig(markup=0.1, vat=0.2))
    assert slot.price == pytest.approx(0.24)


class _Meter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"em": {"total": -1500.0, "phases": [{"a": 3.0}, {"a": -2.0}, {"a": 1.0}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def test_http_json_meter_reads_power_and_phase_currents():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Meter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/status"
        config = HttpJsonConfig(url, power="em.total", currents=[f"em.phases.{i}.a" for i in range(3)])
        reading = await HttpJsonSensor(config, "site_meter").read()
        assert reading.power_w == -1500.0 and reading.currents_a == (3.0, -2.0, 1.0)
    finally:
        server.shutdown()
        thread.join()
