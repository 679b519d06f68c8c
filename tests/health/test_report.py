"""The monthly report (zaspot.health.report.monthly) assembled from a real SQLite store filled
with a script of ports, outages, a maintenance window and alarms: the month and its
12 months, the outages' minutes, faults judged by the month's failures, the windows of the
month, and the text and CSV renderings of it; figures worked out by hand."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from tests.health.clock import utc
from zaspot.health import render_csv, render_text
from zaspot.health.config import HealthConfig
from zaspot.health.report import ReportError, monthly
from zaspot.store.store import Store

NOW = utc("2026-12-01T06:00")
PORTS = [("CP-1", 1, 1, utc("2026-06-01T00:00")), ("CP-1", 2, 2, utc("2026-06-01T00:00")),
         ("CP-2", 1, 1, utc("2026-11-16T00:00"))]  # CP-2 commissioned mid-month: judged from then
OUTAGES = [  # station, evse, connector, cause, code, detail, started, ended
    ("CP-1", 1, 1, "unavailable", None, None, utc("2026-10-10T00:00"), utc("2026-10-10T12:00")),  # October
    ("CP-1", 1, 1, "offline", None, "disconnected", utc("2026-10-31T22:00"), utc("2026-11-01T02:00")),
    ("CP-1", 1, 1, "faulted", "GroundFailure", None, utc("2026-11-03T10:00"), utc("2026-11-03T16:00")),
    ("CP-1", 2, 2, "faulted", "GroundFailure", None, utc("2026-11-29T12:00"), None),  # still open
]
EXCLUSIONS = [  # station, start, end, reason
    ("CP-1", utc("2026-11-03T10:00"), utc("2026-11-03T12:00"), "connector swap"),  # 120 of the 360 faulted min
    (None, utc("2026-10-20T00:00"), utc("2026-10-20T01:00"), "site power work"),   # not this month's
]
ALARMS = [  # station, connector, code, raised, cleared
    ("CP-1", 1, "GroundFailure", utc("2026-11-03T10:00"), utc("2026-11-03T16:00")),
    ("CP-1", 2, "GroundFailure", utc("2026-11-29T12:00"), None),
    ("CP-2", 1, "EVCommunicationError", utc("2026-11-20T08:00"), utc("2026-11-20T08:05")),
]


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "report.db")
    db = sqlite3.connect(tmp_path / "report.db")
    with db:
        db.executemany("INSERT INTO stations (id, vendor, model) VALUES (?, 'ABB', 'Terra 54')", [("CP-1",), ("CP-2",)])
        db.executemany("INSERT INTO health_ports (station_id, evse_id, connector_id, first_seen, status, networked, "
                       "updated_at) VALUES (?, ?, ?, ?, 'Available', 1, ?)", [(*p, NOW) for p in PORTS])
        db.executemany("INSERT INTO outages (station_id, evse_id, connector_id, cause, code, detail, started, ended) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", OUTAGES)
        db.executemany("INSERT INTO health_exclusions (station_id, start_ts, end_ts, reason, source, created_at) "
                       "VALUES (?, ?, ?, ?, 'api', 0)", EXCLUSIONS)
        db.executemany("INSERT INTO alarms (station_id, evse_id, connector_id, component, code, severity, raised_at, "
                       "cleared_at, details) VALUES (?, ?, ?, 'connector', ?, 'error', ?, ?, ?)",
                       [(s, c, c, code, r, cl, orjson.dumps({"origin": f"StatusNotification/{c}/{c}"}).decode())
                        for s, c, code, r, cl in ALARMS])
    db.close()
    yield store
    await store.close()


async def test_the_last_complete_month_by_default(store):
    report = await monthly(store, HealthConfig(repeat_offender=2), None, NOW)
    assert (report["month"], report["start"], report["end"], report["partial"]) == (
        "2026-11", utc("2026-11-01T00:00"), utc("2026-12-01T00:00"), False)
    assert (report["timezone"], report["target"], report["generated_at"]) == ("UTC", 97.0, NOW)
    site = report["availability"]["site"]
    # 30 days = 43200 min per CP-1 port, 21600 for CP-2; counted outage on CP-1 1/1: 120 offline
    # + 360 faulted - 120 excluded; on CP-1 2/2 2160 (open, 36 h to the month's end).
    assert site["uptime"] == round(100 * (108000 - (120 + 360 - 120) - 2160) / 108000, 3) == 97.667
    assert (site["ports"], site["below_target"], site["failures"]) == (3, 1, 2)
    assert [(p["station_id"], p["evse_id"], p["uptime"]) for p in report["availability"]["ports"]] == [
        ("CP-1", 2, round(100 * (43200 - 2160) / 43200, 3)), ("CP-1", 1, round(100 * (43200 - 360) / 43200, 3)),
        ("CP-2", 1, 100.0)]
    # 12 months: CP-1 1/1 from 1 June (183 days), October's 720 unavailable minutes and the whole night offline too.
    rolling = {(p["station_id"], p["evse_id"]): p["uptime"] for p in report["rolling_12m"]["ports"]}
    assert rolling[("CP-1", 1)] == round(100 * (263520 - 720 - 240 - 240) / 263520, 3)
    assert [d["day"] for d in report["days"]][::29] == ["2026-11-01", "2026-11-30"] and len(report["days"]) == 30


async def test_outages_minutes_faults_and_windows_of_the_month(store):
    report = await monthly(store, HealthConfig(repeat_offender=2), "2026-11", NOW)
    assert [(o["cause"], o["started"], o["minutes"]) for o in report["outages"]] == [
        ("offline", utc("2026-10-31T22:00"), 120.0), ("faulted", utc("2026-11-03T10:00"), 360.0),
        ("faulted", utc("2026-11-29T12:00"), 2160.0)]
    assert [(e["station_id"], e["reason"]) for e in report["exclusions"]] == [("CP-1", "connector swap")]
    faults = report["faults"]
    assert faults["codes"] == [{"code": "GroundFailure", "count": 2, "stations": 1},
                               {"code": "EVCommunicationError", "count": 1, "stations": 1}]
    # CP-1's two faulted episodes are two failures: a repeat offender at 2, judged by availability's failures.
    assert faults["repeat_offenders"] == [{"station_id": "CP-1", "failures": 2, "alarms": 2,
                                           "codes": ["GroundFailure"], "repeated": ["GroundFailure"]}]
    assert report["temperature"] == {"series": []}


async def test_the_month_so_far_and_one_not_begun(store):
    report = await monthly(store, HealthConfig(), "2026-12", NOW)
    assert (report["start"], report["end"], report["partial"]) == (utc("2026-12-01T00:00"), NOW, True)
    # The open outage of CP-1 2/2 runs on to now: 6 h of December.
    assert [(o["station_id"], o["minutes"]) for o in report["outages"]] == [("CP-1", 360.0)]
    assert render_text.render(report).startswith("Fleet health, December 2026 (so far, to 2026-12-01 06:00), UTC;")
    with pytest.raises(ReportError, match="2027-01 has not begun yet"):
        await monthly(store, HealthConfig(), "2027-01", NOW)
    with pytest.raises(ReportError, match="'2026-13' is not a month"):
        await monthly(store, HealthConfig(), "2026-13", NOW)


async def test_a_month_in_the_health_timezone(store):
    report = await monthly(store, HealthConfig(timezone="Europe/Prague"), "2026-11", NOW)
    assert (report["start"], report["end"]) == (utc("2026-10-31T23:00"), utc("2026-11-30T23:00"))
    assert report["days"][0] == {"day": "2026-11-01", "start": utc("2026-10-31T23:00"),
                                 "uptime": report["days"][0]["uptime"]}


async def test_the_real_report_renders_as_text_and_csv(store):
    report = await monthly(store, HealthConfig(repeat_offender=2), "2026-11", NOW)
    text = render_text.render(report)
    assert "Site uptime 97.667% (12 months " in text
    assert "CP-1   2026-11-03 10:00  2026-11-03 12:00  api     connector swap" in text
    lines = render_csv.render(report).splitlines()
    assert lines[0] == ",".join(render_csv.COLUMNS)
    assert lines[1:] == [
        f"2026-11,CP-1,1,1,99.167,{round(100 * (263520 - 1200) / 263520, 3)},43200,480,120,1,714,6",
        f"2026-11,CP-1,2,2,95,{round(100 * (263520 - 2160) / 263520, 3)},43200,2160,0,1,684,36",
        "2026-11,CP-2,1,1,100,100,21600,0,0,0,,",
    ]
