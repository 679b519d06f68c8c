"""The monthly report as HTML (zaspot.health.render_html), opened in headless Chromium: it
renders with no network and no script, each chart is an inline SVG that shows, the tables
carry every row, and a station id that is HTML stays text.

The report dict is built here to the contract (HEALTH_API: report.monthly's shape), for a
small site over November 2026 in Europe/Prague.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser import CHROMIUM_ARGS, chromium
from zaspot.health import render_html

pytestmark = pytest.mark.timeout(90)

ZONE = ZoneInfo("Europe/Prague")
EVIL = '<img src=x onerror="alert(1)">CP "7" & $x$'


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


def _station(sid: str, uptime: float | None, ports: int, outage: float, failures: int) -> dict:
    return {"station_id": sid, "uptime": uptime, "ports": ports, "outage_minutes": outage, "excluded_minutes": 0.0,
            "failures": failures, "mtbf_hours": round(700.0 / failures, 1) if failures else None,
            "mttr_hours": round(outage / 60 / failures, 2) if failures else None}


def _port(sid: str, evse: int, uptime: float, offline: float, faulted: float, failures: int) -> dict:
    return {"station_id": sid, "evse_id": evse, "connector_id": 1, "uptime": uptime, "minutes": 43200.0,
            "outage_minutes": offline + faulted, "excluded_minutes": 0.0, "failures": failures,
            "mtbf_hours": round(700.0 / failures, 1) if failures else None,
            "mttr_hours": round(faulted / 60 / failures, 2) if failures else None,
            "by_cause": {"offline": offline, "faulted": faulted, "unavailable": 0.0}}


def _availability(start: float, end: float, stations: list[dict], ports: list[dict]) -> dict:
    minutes = (end - start) / 60
    total = sum(p["minutes"] for p in ports)
    down = sum(p["outage_minutes"] - p["excluded_minutes"] for p in ports)
    failures = sum(s["failures"] for s in stations)
    return {"start": start, "end": end, "minutes": minutes,
            "site": {"uptime": round((total - down) / total * 100, 3), "ports": len(ports),
                     "below_target": sum(1 for p in ports if p["uptime"] < 97), "outage_minutes": down,
                     "excluded_minutes": 240.0, "failures": failures, "mtbf_hours": 1020.5, "mttr_hours": 3.75},
            "stations": stations, "ports": ports}


def _drift_series(sid: str, slope0: float, rise: float, flagged: bool) -> dict:
    days = []
    ewma = slope0
    for d in range(30):
        slope = slope0 + rise * max(0, d - 14) / 15
        ewma = 0.8 * ewma + 0.2 * slope
        days.append({"day": f"2026-11-{d + 1:02d}", "slope": round(slope, 4), "ewma": round(ewma, 4),
                     "limit": round(slope0 * 1.25, 4)})
    return {"station_id": sid, "evse_id": 1, "connector_id": 1, "location": "Connector", "instance": None,
            "baseline": slope0, "current": days[-1]["ewma"], "rise_pct": round((days[-1]["ewma"] / slope0 - 1) * 100, 1),
            "flagged": flagged, "days": days}


def report_fixture() -> dict:
    """November 2026 for five stations, two ports each, one of them named with HTML."""
    start, end = at("2026-11-01T00:00"), at("2026-12-01T00:00")
    names = ["CP-3", EVIL, "CP-1", "CP-2", "CP-4"]
    uptimes = [91.204, 96.5, 98.75, 99.9, 100.0]
    stations = [_station(n, u, 2, round((100 - u) / 100 * 86400, 1), f) for n, u, f in zip(names, uptimes, [4, 2, 1, 0, 0])]
    ports = sorted([_port(n, e, u - (0.5 if e == 1 else -0.5) if u < 100 else u, 60.0, (100 - u) * 400, f)
                    for n, u, f in zip(names, uptimes, [4, 2, 1, 0, 0]) for e in (1, 2)], key=lambda p: p["uptime"])
    days = [{"day": f"2026-11-{d:02d}", "start": at(f"2026-11-{d:02d}T00:00"),
             "uptime": 88.5 if d == 10 else (None if d == 30 else 98.0 + (d % 5) * 0.4)} for d in range(1, 31)]
    outages = [{"id": i + 1, "station_id": sid, "evse_id": ev, "connector_id": 1, "cause": cause, "code": code,
                "detail": detail, "started": at(s), "ended": None if e is None else at(e),
                "minutes": ((at(e) if e else end) - at(s)) / 60}
               for i, (sid, ev, cause, code, detail, s, e) in enumerate([
                   ("CP-3", 1, "faulted", "GroundFailure", None, "2026-11-10T06:00", "2026-11-10T19:30"),
                   ("CP-3", 2, "offline", None, "disconnected", "2026-11-12T01:00", "2026-11-12T01:40"),
                   (EVIL, 1, "faulted", "OverCurrentFailure", None, "2026-11-20T10:00", "2026-11-20T13:00"),
                   ("CP-1", 2, "unavailable", None, None, "2026-11-25T08:00", "2026-11-25T08:30"),
                   ("CP-3", 1, "offline", None, "zaspot not running", "2026-11-29T23:00", None)])]
    codes = [{"code": "GroundFailure", "count": 6, "stations": 2}, {"code": "OverCurrentFailure", "count": 3, "stations": 1},
             {"code": "TemperatureDrift", "count": 1, "stations": 1}, {"code": "PowerModuleTrip", "count": 2, "stations": 1}]
    faults = {"codes": codes,
              "by_station": [{"station_id": "CP-3", "code": "GroundFailure", "count": 5},
                             {"station_id": EVIL, "code": "OverCurrentFailure", "count": 3}],
              "by_model": [{"vendor": "Zaspot", "model": "SimAC16", "code": "GroundFailure", "count": 6, "stations": 2}],
              "by_vendor": [{"vendor": "Zaspot", "code": "GroundFailure", "count": 6, "stations": 2}],
              "repeat_offenders": [{"station_id": "CP-3", "failures": 4, "codes": ["GroundFailure", "PowerModuleTrip"]}],
              "modules": [{"station_id": "CP-3", "instance": "PM2", "trips": 2}],
              "clear_times": [{"code": "GroundFailure", "count": 6, "open": 1, "mean_minutes": 95.5,
                               "median_minutes": 60.0, "max_minutes": 810.0}]}
    year = _availability(at("2025-12-01T00:00"), end, [dict(s, uptime=min(100.0, s["uptime"] + 1.5)) for s in stations],
                         ports)
    return {"month": "2026-11", "timezone": "Europe/Prague", "target": 97.0, "generated_at": at("2026-12-01T07:00"),
            "start": start, "end": end, "availability": _availability(start, end, stations, ports),
            "rolling_12m": year, "days": days, "outages": outages, "faults": faults,
            "temperature": {"series": [_drift_series("CP-4", 0.42, 0.21, True), _drift_series("CP-2", 0.38, 0.0, False)]},
            "exclusions": [{"id": 1, "station_id": "CP-1", "evse_id": None, "connector_id": None,
                            "start": at("2026-11-10T08:00"), "end": at("2026-11-10T12:00"),
                            "reason": "connector swap", "source": "config"}]}


def empty_report() -> dict:
    """A site with no ports seen yet: every list empty, the uptimes None."""
    start, end = at("2026-11-01T00:00"), at("2026-12-01T00:00")
    site = {"uptime": None, "ports": 0, "below_target": 0, "outage_minutes": 0.0, "excluded_minutes": 0.0,
            "failures": 0, "mtbf_hours": None, "mttr_hours": None}
    avail = {"start": start, "end": end, "minutes": 43200.0, "site": site, "stations": [], "ports": []}
    return {"month": "2026-11", "timezone": "Europe/Prague", "target": 97.0, "generated_at": end, "start": start,
            "end": end, "availability": avail, "rolling_12m": avail, "days": [], "outages": [],
            "faults": {"codes": [], "by_station": [], "by_model": [], "by_vendor": [], "repeat_offenders": [],
                       "modules": [], "clear_times": []},
            "temperature": {"series": []}, "exclusions": []}


def test_station_text_is_escaped_and_nothing_is_loaded():
    page = render_html.render(report_fixture())
    assert "<img" not in page and "<script" not in page.lower()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;CP &quot;7&quot; &amp; $x$" in page
    assert re.findall(r'(?:href|src)="(?!#)', page) == [] and "url(http" not in page
    assert set(re.findall(r"https?://[^\"]+", page)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the charts' ids do not collide
    assert "default-src 'none'" in page
    assert page.count("<svg") == 4  # stations, days, fault codes, the one drifting connector


def test_matplotlib_is_imported_only_when_a_report_is_rendered():
    code = ("import sys, zaspot.health.render_html as r; assert 'matplotlib' not in sys.modules; "
            "r.render({}); assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_site_with_no_history_renders_without_charts():
    page = render_html.render(empty_report())
    assert "<svg" not in page
    assert "No station had a port in service this month." in page and "No outage this month." in page


def _colour_share(png: bytes, rgb: tuple[int, int, int]) -> float:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    data = img.tobytes()
    near = sum(1 for p in zip(data[0::3], data[1::3], data[2::3]) if all(abs(a - b) < 24 for a, b in zip(p, rgb)))
    return near / (len(data) // 3)


async def test_report_renders_in_headless_chromium(tmp_path):
    from playwright.async_api import async_playwright

    executable = chromium()
    report = report_fixture()
    path = tmp_path / "report.html"
    path.write_text(render_html.render(report), encoding="utf-8")
    requests, errors = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(path.as_uri())
            await page.wait_for_load_state("load")

            assert await page.title() == "Fleet health 2026-11"
            charts = page.locator("figure.chart svg")
            assert await charts.count() == 4
            for i in range(4):
                chart = charts.nth(i)
                await chart.scroll_into_view_if_needed()
                assert await chart.is_visible()
                box = await chart.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 100, box

            # every station and outage is a row; the HTML station id is text in the table and the chart
            assert await page.locator("#reliability tbody tr").count() == len(report["availability"]["stations"])
            assert await page.locator("#outages tbody tr").count() == len(report["outages"])
            assert await page.locator("#codes tbody tr").count() == len(report["faults"]["codes"])
            assert await page.locator("#drift tbody tr").count() == 2
            assert await page.locator("#exclusions tbody tr").count() == 1
            assert await page.locator("#reliability tbody tr td").nth(9).text_content() == EVIL
            assert await page.locator("img, script").count() == 0
            labels = await page.locator("#chart-stations svg g[id*=ytick] text").all_text_contents()
            assert any(EVIL[:27] in t for t in labels), labels
            assert "CP-3" in labels[0]  # worst first
            assert "Excluded time" in await page.locator("h2").all_text_contents()

            # the station chart is drawn: bars below the target red, above it green
            shot = await page.locator("#chart-stations svg").screenshot()
            assert _colour_share(shot, (0xC0, 0x39, 0x2B)) > 0.01 and _colour_share(shot, (0x2E, 0x7D, 0x5B)) > 0.01
            whole = await page.screenshot(full_page=True)
            assert len(whole) > 20_000 and _colour_share(whole, (255, 255, 255)) < 0.97
        finally:
            await browser.close()
    assert requests == [path.as_uri()], requests
    assert errors == [], errors
