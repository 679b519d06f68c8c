"""Each `zaspot bench` scenario, tiny: the harness runs end to end, produces figures and
ratios, and leaves no process behind. No timing thresholds (a shared, noisy machine)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pytest

from zaspot.bench import cli, scenarios
from zaspot.bench.idle import schedule
from zaspot.bench.report import format_figures
from zaspot.bench.servers import ServerProcess, listen_overflows

pytestmark = pytest.mark.timeout(60)


def _children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


@pytest.fixture(autouse=True)
def no_stray_processes():
    before = _children()
    yield
    assert _children() - before == set(), "a server or load process outlived its scenario"


def test_scale_two_load_processes_both_targets():
    f = scenarios.run_scenario("scale", stations=40, interval=1.0, procs=2)
    for target in ("zaspot", "baseline"):
        r = f["results"][target]
        assert "failed" not in r, r
        assert r["connected"] == 40 and r["errors"] == 0
        assert r["messages"] == 80                     # one heartbeat + one meter value each
        assert r["rss_connected_kb"] > 0 and r["kb_per_station"] is not None
        assert r["p99_ms"] >= r["p50_ms"] > 0
    assert set(f["ratios"]) == {"kb_per_station zaspot/baseline", "p99 zaspot/baseline",
                                "connect_s zaspot/baseline"}
    assert "KB/stn" in format_figures(f)


def test_storm_all_booted():
    f = scenarios.run_scenario("storm", stations=30, procs=2)
    for r in f["results"].values():
        assert "failed" not in r, r
        assert r["connected"] == 30 and r["never_booted"] == 0
        assert r["all_booted_s"] >= r["p50_boot_s"] > 0
    assert "all_booted_s zaspot/baseline" in f["ratios"]
    assert "overflows" in format_figures(f)


@pytest.mark.parametrize("protocol,background", [("1.6", 10), ("2.0.1", 0)])
def test_reaction_gets_set_charging_profile(protocol, background):
    f = scenarios.run_scenario("reaction", trials=12, stations=background, protocol=protocol, interval=1.0)
    r = f["result"]
    assert "failed" not in r, r
    assert r["reacted"] == 12 and r["missed"] == 0      # two reactors: past the per-station cap of one
    assert r["p99_ms"] >= r["p50_ms"] > 0
    if background:
        assert r["background"]["connected"] == background and r["background"]["errors"] == 0
    assert "SetChargingProfile" in format_figures(f)


def test_storage_synthetic_and_from_a_db_file(tmp_path):
    f = scenarios.run_scenario("storage", stations=3, messages=20)
    r = f["result"]
    assert "failed" not in r, r
    assert f["answered"] == 60 and r["samples"] >= 180 and r["samples_per_meter_value"] == 3.0
    assert r["bytes_per_sample"] > 0 and r["bytes_per_station_day"] > 0 and r["fleet_year_gb"] > 0
    assert "station-day" in format_figures(f)
    empty = tmp_path / "empty.db"
    import sqlite3
    with sqlite3.connect(empty) as db:
        db.execute("CREATE TABLE meter_samples (station_id TEXT, evse_id INTEGER, ts REAL)")
    assert "failed" in scenarios.run_scenario("storage", db=str(empty))["result"]


def test_failed_server_is_reported_and_cleaned_up(monkeypatch):
    monkeypatch.setattr(ServerProcess, "command",
                        staticmethod(lambda t, p, w: [sys.executable, "-c", "raise SystemExit(3)"]))
    f = scenarios.run_scenario("scale", stations=5, interval=0.5, targets=["baseline"])
    assert "exited (3)" in f["results"]["baseline"]["failed"]
    assert scenarios.failures(f) and f["ratios"] == {}
    assert "failed" in format_figures(f)


def test_cli_json(capsys):
    parser = argparse.ArgumentParser(prog="zaspot")
    cli.configure(parser.add_subparsers())
    args = parser.parse_args(["bench", "--scenario", "storm", "--stations", "4", "--target", "echo", "--json"])
    assert args.func(args) == 0
    f = json.loads(capsys.readouterr().out)
    assert f["scenario"] == "storm" and f["results"]["echo"]["connected"] == 4


def test_schedule_spreads_first_messages_over_the_interval():
    import random
    times = schedule(random.Random(1), start=100.0, interval=60.0, duration=60.0)
    assert sorted(m for _, m in times) == [False, True]          # one heartbeat, one meter value
    assert all(100.0 <= t < 160.0 for t, _ in times)
    times = schedule(random.Random(1), start=100.0, interval=60.0, duration=150.0)
    assert len(times) in (4, 5, 6) and times == sorted(times)
    assert listen_overflows() >= 0
