"""The monthly report as text and CSV (zaspot.health.render_text, render_csv), from a report
dict in the shape report.monthly gives: what an operator reads in a terminal, to the
character, and one CSV row per port with its 12-month uptime."""

from __future__ import annotations

import csv
import io

from tests.health.clock import utc
from zaspot.health import render_csv, render_text

START, END = utc("2026-11-01T00:00"), utc("2026-12-01T00:00")
MONTH_MIN = 30 * 24 * 60


def port(sid, evse, conn, uptime, outage, excluded, failures, mtbf, mttr, offline=0.0, faulted=0.0, unavailable=0.0):
    return {"station_id": sid, "evse_id": evse, "connector_id": conn, "uptime": uptime, "minutes": MONTH_MIN,
            "outage_minutes": outage, "excluded_minutes": excluded, "failures": failures, "mtbf_hours": mtbf,
            "mttr_hours": mttr, "by_cause": {"offline": offline, "faulted": faulted, "unavailable": unavailable}}


def report():
    ports = [port("CP-2", 1, 1, 95.0, 2160.0, 0.0, 2, 342.0, 18.0, faulted=2160.0),
             port("CP-1", 1, 1, 99.5, 456.0, 240.0, 0, None, None, offline=456.0),
             port("CP-1", 2, 2, 100.0, 0.0, 0.0, 0, None, None),
             port("CP-2", 2, 1, None, 0.0, 0.0, 0, None, None)]
    month = {"start": START, "end": END, "minutes": MONTH_MIN,
             "site": {"uptime": 98.167, "ports": 4, "below_target": 1, "outage_minutes": 2616.0,
                      "excluded_minutes": 240.0, "failures": 2, "mtbf_hours": 1060.0, "mttr_hours": 18.0},
             "stations": [{"station_id": "CP-2", "uptime": 95.0, "ports": 2, "outage_minutes": 2160.0,
                           "excluded_minutes": 0.0, "failures": 2, "mtbf_hours": 342.0, "mttr_hours": 18.0},
                          {"station_id": "CP-1", "uptime": 99.75, "ports": 2, "outage_minutes": 456.0,
                           "excluded_minutes": 240.0, "failures": 0, "mtbf_hours": None, "mttr_hours": None}],
             "ports": ports}
    rolling = {"start": START - 334 * 86400, "end": END, "minutes": 525600,
               "site": {"uptime": 99.6, "ports": 4, "below_target": 0, "outage_minutes": 0, "excluded_minutes": 0,
                        "failures": 2, "mtbf_hours": None, "mttr_hours": None},
               "stations": [{"station_id": "CP-2", "uptime": 99.2}, {"station_id": "CP-1", "uptime": 99.98}],
               "ports": [{**p, "uptime": u} for p, u in zip(ports, (99.1, 99.95, 100.0, None))]
               + [port("CP-9", 1, 1, 90.0, 0, 0, 0, None, None)]}
    outages = [{"id": 1, "station_id": "CP-2", "evse_id": 1, "connector_id": 1, "cause": "faulted",
                "code": "GroundFailure", "detail": None, "started": utc("2026-11-03T10:00"),
                "ended": utc("2026-11-04T10:00"), "minutes": 1440.0},
               {"id": 2, "station_id": "CP-1", "evse_id": 1, "connector_id": 1, "cause": "offline",
                "code": None, "detail": "no answer", "started": utc("2026-11-10T06:00"),
                "ended": utc("2026-11-10T13:36"), "minutes": 456.0},
               {"id": 3, "station_id": "CP-2", "evse_id": 1, "connector_id": 1, "cause": "faulted",
                "code": "GroundFailure", "detail": None, "started": utc("2026-11-29T12:00"),
                "ended": None, "minutes": 720.0}]
    faults = {"start": START, "end": END, "alarms": 5,
              "codes": [{"code": "GroundFailure", "count": 3, "stations": 1},
                        {"code": "Tripped", "count": 2, "stations": 1}],
              "by_station": [{"station_id": "CP-2", "code": "GroundFailure", "count": 3},
                             {"station_id": "CP-2", "code": "Tripped", "count": 2}],
              "by_model": [], "by_vendor": [],
              "repeat_offenders": [{"station_id": "CP-2", "failures": 2, "alarms": 5,
                                    "codes": ["GroundFailure", "Tripped"], "repeated": ["GroundFailure"]}],
              "modules": [{"station_id": "CP-2", "instance": "1", "trips": 2}],
              "clear_times": [{"code": "GroundFailure", "count": 3, "open": 1, "mean_minutes": 1080.0,
                               "median_minutes": 1080.0, "max_minutes": 1440.0},
                              {"code": "Tripped", "count": 2, "open": 0, "mean_minutes": 15.0,
                               "median_minutes": 15.0, "max_minutes": 20.0}]}
    temperature = {"series": [
        {"station_id": "CP-1", "evse_id": 2, "connector_id": 2, "location": "Connector", "instance": None,
         "baseline": 0.21, "current": 0.305, "rise_pct": 45.2, "flagged": True, "days": []},
        {"station_id": "CP-2", "evse_id": 1, "connector_id": 1, "location": "Connector", "instance": None,
         "baseline": 0.2, "current": 0.2, "rise_pct": 0.0, "flagged": False, "days": []}]}
    return {"month": "2026-11", "timezone": "UTC", "target": 97.0, "generated_at": utc("2026-12-01T06:00"),
            "start": START, "end": END, "partial": False, "availability": month, "rolling_12m": rolling,
            "days": [], "outages": outages, "faults": faults, "temperature": temperature,
            "exclusions": [{"id": 1, "station_id": "CP-1", "evse_id": None, "connector_id": None,
                            "start": utc("2026-11-20T08:00"), "end": utc("2026-11-20T12:00"),
                            "reason": "connector swap", "source": "api"}]}


EXPECTED = '''\
Fleet health, November 2026, UTC; target 97% uptime per port
generated 2026-12-01 06:00

Site uptime 98.167% (12 months 99.600%); 4 ports, 1 below target
Outages 2616.0 min, excluded 240.0 min; failures 2, MTBF 1060.0 h, MTTR 18.00 h

Stations, worst first
STATION  UPTIME   12 MONTHS  PORTS  FAILURES  MTBF H  MTTR H  OUTAGE MIN  EXCLUDED MIN
CP-2     95.000%  99.200%    2      2         342.0   18.00   2160.0      0.0
CP-1     99.750%  99.980%    2      0         -       -       456.0       240.0

Ports below 97%
STATION  PORT  UPTIME   OUTAGE MIN  EXCLUDED MIN  OFFLINE  FAULTED  UNAVAILABLE
CP-2     1     95.000%  2160.0      0.0           0.0      2160.0   0.0

Outages (3)
STATION  PORT  CAUSE    WHY            FROM              TO                MINUTES
CP-2     1     faulted  GroundFailure  2026-11-03 10:00  2026-11-04 10:00  1440.0
CP-1     1     offline  no answer      2026-11-10 06:00  2026-11-10 13:36  456.0
CP-2     1     faulted  GroundFailure  2026-11-29 12:00  open              720.0

Maintenance windows (not counted against uptime)
WHERE  FROM              TO                SOURCE  REASON
CP-1   2026-11-20 08:00  2026-11-20 12:00  api     connector swap

Top fault codes
CODE           ALARMS  STATIONS  MEDIAN CLEAR MIN  MAX CLEAR MIN  OPEN
GroundFailure  3       1         1080.0            1440.0         1
Tripped        2       1         15.0              20.0           0

Repeat offenders
STATION  FAILURES  CODES
CP-2     2         GroundFailure x3, Tripped x2

Power-module trips
STATION  MODULE  TRIPS
CP-2     1       2

Temperature drift (°C per A)
STATION  WHERE  LOCATION   BASELINE  NOW    RISE
CP-1     2      Connector  0.210     0.305  +45%
'''


def test_the_text_report_as_an_operator_reads_it():
    assert render_text.render(report()) == EXPECTED


def test_text_times_are_in_the_reports_timezone_and_a_month_so_far_says_so():
    r = report()
    r["timezone"], r["partial"], r["end"] = "Europe/Prague", True, utc("2026-11-20T09:30")
    text = render_text.render(r)
    assert text.startswith("Fleet health, November 2026 (so far, to 2026-11-20 10:30), Europe/Prague;")
    assert "CP-2     1     faulted  GroundFailure  2026-11-03 11:00  2026-11-04 11:00  1440.0" in text


def test_a_quiet_month_says_none_where_nothing_happened():
    r = report()
    r["outages"], r["exclusions"], r["temperature"] = [], [], {"series": []}
    r["availability"]["stations"], r["availability"]["ports"] = [], []
    r["faults"] |= {"codes": [], "by_station": [], "repeat_offenders": [], "modules": [], "clear_times": []}
    text = render_text.render(r)
    for line in ("Stations: none had time in this month", "Ports below 97%: none", "Outages: none",
                 "Maintenance windows: none", "Fault codes: no alarms", "Repeat offenders: none",
                 "Power-module trips: none", "Temperature drift: no connector or module flagged"):
        assert line in text.splitlines()


def test_many_outages_show_the_longest_in_time_order():
    r = report()
    r["outages"] = [{**r["outages"][0], "id": i, "started": START + i * 3600, "ended": START + i * 3600 + 60 * i,
                     "minutes": float(i)} for i in range(1, 101)]
    lines = render_text.render(r).splitlines()
    head = lines.index("Outages (100), the 40 longest")
    shown = lines[head + 2:head + 42]
    assert [float(line.split()[-1]) for line in shown] == [float(i) for i in range(61, 101)]
    assert lines[head + 42] == ""


def test_csv_one_row_per_port_with_its_12_month_uptime():
    rows = list(csv.DictReader(io.StringIO(render_csv.render(report()))))
    assert list(rows[0]) == list(render_csv.COLUMNS)
    assert [(r["station_id"], r["evse_id"], r["connector_id"]) for r in rows] == [
        ("CP-1", "1", "1"), ("CP-1", "2", "2"), ("CP-2", "1", "1"), ("CP-2", "2", "1"), ("CP-9", "1", "1")]
    assert rows[2] == {"month": "2026-11", "station_id": "CP-2", "evse_id": "1", "connector_id": "1",
                       "uptime": "95", "uptime_12m": "99.1", "minutes": "43200", "outage_minutes": "2160",
                       "excluded_minutes": "0", "failures": "2", "mtbf_hours": "342", "mttr_hours": "18"}
    assert (rows[0]["uptime"], rows[0]["excluded_minutes"], rows[0]["mtbf_hours"]) == ("99.5", "240", "")
    # A port with no time in the month has empty cells; one seen only earlier in the 12 months too.
    assert (rows[3]["uptime"], rows[3]["uptime_12m"]) == ("", "")
    assert (rows[4]["uptime"], rows[4]["uptime_12m"], rows[4]["minutes"]) == ("", "90", "")
