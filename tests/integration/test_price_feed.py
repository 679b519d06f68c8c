"""The price feed (ctx.prices) with real parts: recorded OTE and CNB answers served by a
local HTTP server, a real SQLite store, a real zaspot with the file source, the API and
`zaspot prices` as an operator runs it."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import os
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from tests.helpers import ROOT
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.core.bus import EventBus
from zaspot.pricing.feed import PriceFeed
from zaspot.pricing.sources.cnb import CnbRates
from zaspot.pricing.sources.ote import OteConfig, OtePrices
from zaspot.store import Store

FIXTURES = ROOT / "tests" / "fixtures" / "prices"
NOON = datetime(2026, 3, 29, 10, 0, tzinfo=UTC).timestamp()  # 12:00 CEST on the spring day


class _Recorded(http.server.BaseHTTPRequestHandler):
    """OTE's chart data for 29 March 2026 (other days: not published), the CNB's rates."""

    asked: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).asked.append(self.path)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/ote":
            name = "ote_2026-03-29.json" if query.get("report_date") == "2026-03-29" else "ote_unpublished.json"
        elif url.path == "/cnb":
            name = "cnb_denni_kurz_2026-03-27.txt"
        else:
            self.send_error(404)
            return
        body = (FIXTURES / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if name.endswith(".json") else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def recorded():
    _Recorded.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def until(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_ote_eur_prices_converted_at_the_cnb_rate_and_a_day_that_does_not_arrive(tmp_path, recorded, caplog):
    store = await Store.open(tmp_path / "z.db")
    bus = EventBus()
    fetched: list = []
    bus.listen("prices_fetched", fetched.append)
    source = OtePrices(OteConfig(url=f"{recorded}/ote"))
    source.clock = lambda: NOON
    feed = PriceFeed(SimpleNamespace(store=store, bus=bus), source, name=source.name, currency="CZK",
                     fallback_price=4.5, refresh=3600, rates=CnbRates(f"{recorded}/cnb"), clock=lambda: NOON)
    try:
        assert await feed.refresh() == 92
        slots = feed.slots()
        line = next(x for x in json.loads((FIXTURES / "ote_2026-03-29.json").read_text())["data"]["dataLine"]
                    if x["title"].startswith("15min"))
        eur_mwh = [p["y"] for p in line["point"]]
        assert len(slots) == 92 and {s.unit for s in slots} == {"CZK/kWh"}
        assert [s.price for s in slots] == [round(round(p / 1000, 6) * 24.325, 6) for p in eur_mwh]
        assert "/ote?report_date=2026-03-29" in _Recorded.asked and "/ote?report_date=2026-03-30" in _Recorded.asked
        assert "/cnb?date=29.03.2026" in _Recorded.asked  # the rate of the periods' own day (the bank gives Friday's)
        await until(lambda: fetched)  # the bus calls its listeners after the commit, off this task
        assert [e.periods for e in fetched] == [92] and fetched[0].currency == "CZK"
        stored = await store.events(type="prices_fetched")
        assert stored and stored[0]["data"]["periods"] == 92

        # 30 March was never published: its periods cost the fallback, with one warning for the gap
        caplog.set_level(logging.WARNING, logger="zaspot.pricing.feed")
        tomorrow_noon = NOON + 86400
        prices = [feed.price_at(tomorrow_noon + k * 900) for k in range(8)]
        assert {(p.price, p.unit, p.fallback) for p in prices} == {(4.5, "CZK/kWh", True)}
        assert prices[0].start == tomorrow_noon and prices[0].end == tomorrow_noon + 900
        warnings = [r for r in caplog.records if "fallback" in r.getMessage()]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert not feed.price_at(NOON).fallback
        assert await feed.refresh() == 0  # the same answer again: nothing new, no event
        assert len(fetched) == 1
    finally:
        await store.close()


async def _quarter() -> float:
    """The quarter hour now, with at least 30 s of it left (a test reads "now" more than once)."""
    await until(lambda: time.time() % 900 < 870, timeout=35)
    return time.time() // 900 * 900


def _config(tmp_path: Path, source: str, extra: str = "") -> Path:
    config = tmp_path / "zaspot.yaml"
    config.write_text(
        f"host: 127.0.0.1\nport: 0\ndb: {tmp_path / 'z.db'}\nrules: {tmp_path / 'rules'}\nocpp: {{ping_interval: 0}}\n"
        f"pricing:\n  source: {source}\n  currency: CZK\n  fallback_price: 4.5\n  refresh: 60\n{extra}")
    return config


def _quarters(first: float, prices: list[float | None]) -> str:
    """A prices CSV of quarter hours from `first`; None leaves that quarter out."""
    rows = [f"{first + i * 900:.0f},{first + (i + 1) * 900:.0f},{p}" for i, p in enumerate(prices) if p is not None]
    return "start,end,price\n" + "\n".join(rows) + "\n"


async def _started(config: Path) -> App:
    app = App(load(config))
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


async def test_prices_are_kept_across_a_restart_without_their_source(tmp_path, caplog):
    quarter = await _quarter()
    csv = tmp_path / "prices.csv"
    csv.write_text(_quarters(quarter - 3600, [2.0 + i / 10 for i in range(12)]))
    config = _config(tmp_path, f"{{platform: file, path: {csv}}}")
    app = await _started(config)
    try:
        await until(lambda: len(app.ctx.prices.slots()) == 12)
        await until(lambda: app.ctx.store.spot_prices("file", 0))
    finally:
        await app.stop()

    csv.unlink()  # no source now: what was stored is what there is
    caplog.set_level(logging.WARNING, logger="zaspot.pricing.feed")
    app = await _started(config)
    try:
        feed = app.ctx.prices
        assert len(feed.slots()) == 12  # loaded at start, before any fetch
        assert feed.price_at(time.time()).price == pytest.approx(2.4) and not feed.price_at(time.time()).fallback
        await until(lambda: feed.last_error is not None)
        assert "FileNotFoundError" in feed.last_error and len(feed.slots()) == 12
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("prices from file")]
        assert len(lines) == 1 and "keeping the 12 periods known" in lines[0]
    finally:
        await app.stop()


async def _zaspot(app: App, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZASPOT_URL=f"{app.url}/api/websocket")
    env.pop("ZASPOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "zaspot", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_prices_list_now_and_zaspot_prices_through_a_real_server(tmp_path):
    quarter = await _quarter()
    csv = tmp_path / "prices.csv"
    csv.write_text(_quarters(quarter, [3.25, None, 1.5, 2.75]))  # the second quarter hour has no price
    app = await _started(_config(tmp_path, f"{{platform: file, path: {csv}}}"))
    try:
        await until(lambda: len(app.ctx.prices.slots()) == 3)
        async with ZaspotClient(f"{app.url}/api/websocket") as client:
            rows = await client.command("prices/list", since=quarter, until=quarter + 3600)
            assert [(r["start"] - quarter, r["price"], r["fallback"]) for r in rows] == [
                (0, 3.25, False), (900, 4.5, True), (1800, 1.5, False), (2700, 2.75, False)]
            assert {r["unit"] for r in rows} == {"CZK/kWh"}
            now = await client.command("prices/now")
            assert now["currency"] == "CZK" and now["spot"]["price"] == 3.25 and now["spot"]["end"] == quarter + 900
            whole_day = await client.command("prices/list")  # today, with the rest of it at the fallback price
            assert sum(not r["fallback"] for r in whole_day) == 3 and len(whole_day) >= 4
            status = await client.command("prices/status")
            assert status["source"] == "file" and status["periods"] == 3 and status["last_error"] is None

        code, out, err = await _zaspot(app, "prices", "--hours", "1")
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0].split() == ["FROM", "TO", "PRICE", "UNIT", "NOTE"]
        hhmm = [time.strftime("%H:%M", time.localtime(quarter + k * 900)) for k in range(5)]
        assert lines[1].split()[1:] == [hhmm[0], hhmm[1], "3.2500", "CZK/kWh", "now"]
        assert lines[2].split()[1:] == [hhmm[1], hhmm[2], "4.5000", "CZK/kWh", "fallback"]
        assert lines[3].split()[1:] == [hhmm[2], hhmm[3], "1.5000", "CZK/kWh"]
        code, out, err = await _zaspot(app, "prices", "--hours", "0")
        assert code == 2 and "not between 0 and 336" in err
    finally:
        await app.stop()


async def test_the_ems_plans_on_the_feeds_periods_and_a_price_change_is_announced(tmp_path):
    quarter = await _quarter()
    csv = tmp_path / "prices.csv"
    csv.write_text(_quarters(quarter, [3.0, 1.0, 2.0]))
    ems = ("ems:\n  strategy: spot_price\n  interval: 0.2\n  lease: 600\n"
           "  site: {main_breaker: 32, stations: [{id: P-1, max_current: 16}]}\n"
           "  prices: {platform: file, path: nowhere.csv}\n")  # pricing.source wins over it
    app = await _started(_config(tmp_path, f"{{platform: file, path: {csv}}}", ems))
    try:
        feed = app.ctx.prices
        await until(lambda: len(feed.slots()) == 3)
        await until(lambda: app.ctx.ems.prices == feed.slots())
        announced = await until(lambda: app.ctx.store.events(type="price_updated"))
        assert announced[0]["data"]["price"] == 3.0 and announced[0]["data"]["unit"] == "CZK/kWh"
        assert announced[0]["data"]["valid_from"] == quarter
    finally:
        await app.stop()


async def test_a_bad_source_config_is_one_line_with_its_place(tmp_path):
    from zaspot.config import ConfigError

    for source, message in (("{platform: entsoe, zone: CZ}", "missing required key 'token'"),
                            ("{platform: entsoe, token: abc, zone: Narnia}", "neither one of"),
                            ("{platform: nordpool}", "no price source 'nordpool' (known: "),
                            ("{platform: ote, resolution: PT5M}", "pricing.source.resolution")):
        app = App(load(_config(tmp_path, source)))
        with pytest.raises(ConfigError, match=r"zaspot\.yaml:7: ") as caught:
            await app.start()
        assert message in str(caught.value), str(caught.value)
