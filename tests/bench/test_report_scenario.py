"""`zaspot bench --scenario report`, tiny: the synthetic history is what a fleet writes (in
time order, every kind of event the health report reads, alarms raised and cleared with
their rows), and the scenario runs end to end through the CLI with every figure there.
No timing thresholds (a shared, noisy machine)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from zaspot.bench.health_history import write_history
from zaspot.bench.report_scenario import report_table

pytestmark = pytest.mark.timeout(120)


def test_history_is_a_fleets_log_in_time_order(tmp_path):
    path = str(tmp_path / "history.db")
    end = time.time() // 3600 * 3600
    h = write_history(path, stations=12, days=35, end=end)
    with sqlite3.connect(path) as db:
        out_of_order = db.execute("SELECT COUNT(*) FROM events a JOIN events b ON b.id = a.id + 1 "
                                  "WHERE b.ts < a.ts").fetchone()[0]
        assert out_of_order == 0
        assert db.execute("SELECT MIN(ts) >= ?, MAX(ts) <= ? FROM events", (h["start"], end)).fetchone() == (1, 1)
        for kind in ("station_connected", "station_booted", "station_disconnected", "station_offline",
                     "station_online", "status_changed", "transaction_started", "fault", "alarm_raised",
                     "alarm_cleared", "temperature", "device_event", "power_module"):
            assert h["by_type"].get(kind, 0) > 0, kind
        # the restart on day 30: every station is offline as zaspot starts, then connects again
        assert db.execute("SELECT COUNT(DISTINCT station_id) FROM events WHERE type = 'station_offline' "
                          "AND data LIKE '%connected when the server stopped%'").fetchone()[0] == 12
        # each alarm event has its row; 2.0.1's generic Faulted gives way to the device model's code
        assert db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] == h["by_type"]["alarm_raised"]
        assert db.execute("SELECT COUNT(*) FROM alarms WHERE code = 'Faulted' AND superseded_by IS NULL "
                          "AND cleared_at IS NULL").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM alarms WHERE component = 'module' AND code = 'Tripped'"
                          ).fetchone()[0] == h["trips"]
        # a temperature for each reading, paired with the current at the same instant
        assert db.execute("SELECT COUNT(*) FROM meter_samples WHERE measurand = 'Current.Import'"
                          ).fetchone()[0] == h["temperatures"]
        assert db.execute("SELECT COUNT(*) FROM stations WHERE vendor IS NOT NULL").fetchone()[0] == 12


def test_report_scenario_through_the_cli():
    run = subprocess.run([sys.executable, "-m", "zaspot", "bench", "--scenario", "report", "--stations", "4",
                          "--days", "40", "--json"], capture_output=True, text=True, timeout=100)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout)
    r, h = figures["result"], figures["history"]
    assert "failed" not in r, r
    assert figures["scenario"] == "report" and figures["stations"] == 4 and figures["days"] == 40
    assert h["events"] > 0 and h["sessions"] > 0 and h["db_mb"] > 0
    assert r["outage_events"] > 0 and r["outages"] > 0 and r["ports"] == 8
    assert r["hours_folded"] > 0
    assert 0 < r["site_uptime"] <= 100
    for name in ("catch_up_s", "fold_s", "drift_check_s", "monthly_s", "text_s", "csv_s", "html_s", "html_warm_s"):
        assert r[name] >= 0, name
    for name in ("text_kb", "csv_kb", "html_kb"):
        assert r[name] > 0, name
    table = report_table(figures)
    for text in ("outage consumer catch-up", "temperature fold", f"report {r['month']}", "html"):
        assert text in table
    bad = subprocess.run([sys.executable, "-m", "zaspot", "bench", "--scenario", "report", "--days", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--days" in bad.stdout
