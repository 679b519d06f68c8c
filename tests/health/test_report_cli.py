"""`zaspot report` and `zaspot maintenance` as a user runs them: `python -m zaspot …` subprocesses
against a real `zaspot run` whose store holds a November of two ports (written before it starts)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.health.clock import utc
from tests.helpers import ROOT, ZaspotProcess
from zaspot.health import render_csv
from zaspot.store.schema import migrate


def fill(db_path) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    migrate(db)
    db.execute("INSERT INTO stations (id, vendor, model, first_seen) VALUES ('CP-1', 'ABB', 'Terra 54', ?)",
               (utc("2026-10-01T00:00"),))
    db.executemany("INSERT INTO health_ports (station_id, evse_id, connector_id, first_seen, status, networked, "
                   "updated_at) VALUES ('CP-1', ?, ?, ?, 'Available', 0, ?)",
                   [(1, 1, utc("2026-10-01T00:00"), utc("2026-12-01T00:00")),
                    (2, 2, utc("2026-11-16T00:00"), utc("2026-12-01T00:00"))])
    db.execute("INSERT INTO outages (station_id, evse_id, connector_id, cause, code, started, ended) "
               "VALUES ('CP-1', 1, 1, 'faulted', 'GroundFailure', ?, ?)",
               (utc("2026-11-03T10:00"), utc("2026-11-03T16:00")))  # 360 of November's 43200 min
    db.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("report_cli") / "zaspot.db"
    fill(path)
    server = ZaspotProcess(path).start()
    yield server
    server.stop()


def zaspot(server: ZaspotProcess, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zaspot", *args, "--url", f"{server.url}/api/websocket"],
                          check=False, capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_maintenance_add_list_and_remove(server):
    added = zaspot(server, "maintenance", "add", "--start", "2026-11-10T08:00", "--end", "2026-11-10T12:00",
                   "--reason", "connector swap", "--station", "CP-1", "--evse", "2")
    assert added.returncode == 0, added.stderr
    window_id = added.stdout.split()[1]
    assert added.stdout == f"added {window_id}  CP-1 EVSE 2  2026-11-10 08:00 to 2026-11-10 12:00  connector swap\n"
    site = zaspot(server, "maintenance", "add", "--start", "2026-11-20", "--end", "2026-11-21", "--reason", "site works")
    site_id = site.stdout.split()[1]
    listed = zaspot(server, "maintenance", "list")
    assert listed.stdout.splitlines() == [
        "ID  WHERE        START             END               SOURCE  REASON",
        f"{window_id:<2}  CP-1 EVSE 2  2026-11-10 08:00  2026-11-10 12:00  api     connector swap",
        f"{site_id:<2}  site         2026-11-20 00:00  2026-11-21 00:00  api     site works"]
    for removed in (window_id, site_id):
        out = zaspot(server, "maintenance", "remove", removed)
        assert (out.returncode, out.stdout) == (0, f"removed {removed}\n")
    assert zaspot(server, "maintenance", "list").stdout == "no maintenance windows\n"


def test_bad_input_is_one_line_and_exit_1(server):
    for args, line in [
        (("report", "--month", "2026-13"), "zaspot: invalid_format: '2026-13' is not a month: YYYY-MM (e.g. 2026-11)"),
        (("maintenance", "remove", "999"), "zaspot: not_found: no exclusion 999 (reports/exclusions lists them)"),
        (("maintenance", "add", "--start", "2026-11-10T12:00", "--end", "2026-11-10T08:00", "--reason", "x"),
         "zaspot: invalid_format: the start (2026-11-10T12:00+00:00) is not before the end (2026-11-10T08:00+00:00)"),
        (("maintenance", "add", "--start", "2026-11-10", "--end", "2026-11-11", "--reason", "x", "--station", "CP-9"),
         "zaspot: not_found: no station 'CP-9'"),
    ]:
        out = zaspot(server, *args)
        assert (out.returncode, out.stdout, out.stderr) == (1, "", line + "\n"), args


def test_report_as_csv_text_and_an_html_file(server, tmp_path):
    csv = zaspot(server, "report", "--month", "2026-11", "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    twelve_months = csv.stdout.splitlines()[1].split(",")[5]  # from 1 October, a month of it fine
    # Port 2 from 16 November (15 days); port 1 the whole month less its 6 faulted hours.
    assert csv.stdout.splitlines() == [
        ",".join(render_csv.COLUMNS),
        f"2026-11,CP-1,1,1,{round(100 * (43200 - 360) / 43200, 3)},{twelve_months},43200,360,0,1,714,6",
        "2026-11,CP-1,2,2,100,100,21600,0,0,0,,"]
    text = zaspot(server, "report", "--month", "2026-11")
    assert text.stdout.startswith("Fleet health, November 2026, UTC; target 97% uptime per port\n")
    assert "CP-1     1     faulted  GroundFailure  2026-11-03 10:00  2026-11-03 16:00  360.0" in text.stdout
    written = zaspot(server, "report", "--month", "2026-11", "--format", "html", "-o", "nov.html", cwd=tmp_path)
    assert (written.returncode, written.stdout) == (0, "2026-11 report (html) written to nov.html\n"), written.stderr
    assert "<svg" in (tmp_path / "nov.html").read_text(encoding="utf-8")
