"""The benchmark harness works end to end and produces figures. No timing thresholds:
speed is reported by `zaspot bench`, not asserted by tests on a shared machine."""
from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from zaspot.bench import cli, run
from zaspot.bench.load import boot_payload, meter_payload
from zaspot.bench.servers import ServerProcess
from zaspot.sim import schemas

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]


def _zaspot_runs() -> bool:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        return subprocess.run([sys.executable, "-m", "zaspot", "run", "--help"], env=env, cwd=REPO,
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _check_figures(r: dict, stations: int) -> None:
    assert "failed" not in r, r.get("failed")
    assert r["connected"] == stations
    assert r["messages"] > 0 and r["msgs_per_s"] > 0
    assert not math.isnan(r["p50_ms"]) and r["p99_ms"] >= r["p50_ms"] > 0
    assert r["errors"] == 0


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_load_payloads_are_schema_valid(version):
    schemas.validate_request(version, "BootNotification", boot_payload(version, "LOAD0001"))
    schemas.validate_request(version, "MeterValues", meter_payload(version))
    schemas.validate_request(version, "Heartbeat", {})


def test_baseline_and_echo_same_run():
    figures = run.run_bench(stations=5, duration=2.0, protocol="mixed", targets=["baseline", "echo"])
    assert set(figures["results"]) == {"baseline", "echo"}
    for r in figures["results"].values():
        _check_figures(r, 5)
    table = run.format_table(figures)
    assert "baseline" in table and "echo" in table and "msgs/s" in table
    assert figures["ratios"] == {}      # no zaspot in this run


def test_rounds_take_turns_and_pool():
    figures = run.run_bench(stations=2, duration=0.5, protocol="1.6", targets=["echo", "baseline"], rounds=2)
    rounds = figures["rounds_results"]
    assert [list(r) for r in rounds] == [["echo", "baseline"], ["baseline", "echo"]]  # no target always first
    for target in ("echo", "baseline"):
        pooled = figures["results"][target]
        _check_figures(pooled, 2)
        assert pooled["messages"] == sum(r[target]["messages"] for r in rounds)
    assert "2 rounds of 0.5s per target, taking turns after a 0.5s warm-up" in run.format_table(figures)


def test_each_round_starts_one_target_further_on():
    targets = ("zaspot", "baseline", "node")
    orders = [run.turn(targets, n) for n in range(4)]
    assert orders == [["zaspot", "baseline", "node"], ["baseline", "node", "zaspot"],
                      ["node", "zaspot", "baseline"], ["zaspot", "baseline", "node"]]


_READS = """
import resource, socket, sys
from zaspot.bench.load import steady_memory
if sys.argv[1] == "steady":
    steady_memory()
a, b = socket.socketpair()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2000):  # what asyncio's transport does per frame: recv into a new 256 KiB buffer
    a.send(b"x" * 100)
    b.recv(256 * 1024)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc")
def test_the_load_generators_reads_do_not_map_fresh_memory():
    """Its first run costs what later runs cost: without steady_memory each read
    faults in fresh pages (glibc maps a 256 KiB buffer), and the first target loses."""
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _READS, mode], capture_output=True, text=True, cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
        return int(out.stdout)
    assert faults("default") >= 2000  # the cost this guards against (a page or more per read)
    assert faults("steady") < 100


def test_failed_target_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(ServerProcess, "command", staticmethod(lambda t, p, w: [sys.executable, "-c", "raise SystemExit(3)"]))
    figures = run.run_bench(stations=1, duration=0.5, protocol="1.6", targets=["echo"])
    assert "exited (3)" in figures["results"]["echo"]["failed"]
    assert "failed" in run.format_table(figures)


def test_cli_registers_bench(capsys):
    parser = argparse.ArgumentParser(prog="zaspot")
    cli.configure(parser.add_subparsers())
    args = parser.parse_args(["bench", "--stations", "2", "--duration", "1", "--target", "echo",
                              "--protocol", "2.0.1"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "echo" in out and "2 stations" in out


@pytest.mark.skipif(not _zaspot_runs(), reason="`python -m zaspot run` is not available yet")
def test_zaspot_against_baseline_echo_and_floor():
    figures = run.run_bench(stations=5, duration=2.0, protocol="mixed",
                            targets=["zaspot", "baseline", "echo", "floor"])
    for r in figures["results"].values():
        _check_figures(r, 5)   # the floor too answers both versions' boots, meter values and heartbeats
    assert set(figures["ratios"]) == {"zaspot/baseline", "zaspot/echo", "zaspot/floor", "p99 zaspot/baseline",
                                      "cpu zaspot/baseline", "cpu zaspot/floor"}
    assert "floor is uvloop + picows" in run.format_table(figures)
    assert figures["results"]["zaspot"]["rules_loaded"] > 0     # the example rules ran
    assert all(v > 0 for v in figures["ratios"].values())


@pytest.mark.parametrize("mix, actions", [("heartbeat", {b"Heartbeat"}), ("metervalues", {b"MeterValues"}),
                                          ("alternate", {b"Heartbeat", b"MeterValues"})])
def test_a_mix_is_what_each_station_sends(mix, actions):
    from zaspot.bench.load import _Station
    station = _Station("ws://127.0.0.1:1/ocpp", "LOAD0001", "1.6", 1.0, mix)
    assert {action for action, _ in station.frames} == actions


def test_each_servers_cpu_per_message_is_measured_and_compared():
    figures = run.run_bench(stations=3, duration=1.0, protocol="1.6", targets=["echo", "baseline"],
                            mix="heartbeat")
    for r in figures["results"].values():
        _check_figures(r, 3)
        assert r["cpu_us_per_msg"] > 0  # the server's own CPU time, from /proc, over the timed phase
    table = run.format_table(figures)
    assert "Heartbeat only" in table and "CPU us/msg" in table
