"""The Node.js `ocpp-rpc` baseline of `zaspot bench`: installed with npm into a cache
folder on first use, answers the bench's load, validates strictly, and a machine
without Node.js still gets the other targets' figures. No timing thresholds.

The install goes to a temporary cache, unless ~/.cache/zaspot (or $ZASPOT_BENCH_CACHE)
already holds a finished one: then that is used, and no npm fetch happens per run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import stat
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect

from zaspot.bench import cli, node_rpc, run, scenarios
from zaspot.bench.load import SUBPROTOCOL, boot_payload, meter_payload
from zaspot.bench.report import format_figures
from zaspot.bench.servers import ServerProcess

pytestmark = pytest.mark.timeout(120)   # the first test may wait for `npm ci`


@pytest.fixture(scope="module")
def node_cache(tmp_path_factory):
    """A cache folder holding the installed baseline; ZASPOT_BENCH_CACHE points at it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "Node.js and npm are needed for the ocpp-rpc baseline"
        if os.environ.get("CI"):
            pytest.fail(reason + ": this machine kind ships them")
        pytest.skip(reason)
    cache = node_rpc.cache_root()
    if not node_rpc.installed(cache):
        cache = tmp_path_factory.mktemp("zaspot-cache")
    node_rpc.ensure_installed(cache)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZASPOT_BENCH_CACHE", str(cache))
        yield cache


def test_install_is_kept_and_reused(node_cache):
    where = node_rpc.install_dir(node_cache)
    assert node_rpc.installed(node_cache)
    assert (where / "node_modules" / "ocpp-rpc" / "package.json").is_file()
    assert (where / "server.js").read_bytes() == (node_rpc.SOURCE / "server.js").read_bytes()
    before = (where / ".installed").stat().st_mtime_ns
    argv = node_rpc.server_argv("127.0.0.1", 9300)           # installed: nothing is done again
    assert argv[1] == str(where / "server.js") and argv[-2:] == ["--port", "9300"]
    assert (where / ".installed").stat().st_mtime_ns == before


def test_node_target_answers_the_load(node_cache):
    figures = run.run_bench(stations=3, duration=1.0, protocol="mixed", targets=["node"])
    r = figures["results"]["node"]
    assert "failed" not in r, r["failed"]
    assert r["connected"] == 3 and r["errors"] == 0
    assert r["messages"] > 0 and r["msgs_per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0
    assert f"node is ocpp-rpc {node_rpc.version()} on Node.js" in run.format_table(figures)


async def _exchange(url: str, version: str, action: str, payload: dict) -> list:
    async with connect(f"{url}/STRICT1", subprotocols=[SUBPROTOCOL[version]]) as ws:
        await ws.send(orjson.dumps([2, "1", "BootNotification", boot_payload(version, "STRICT1")]).decode())
        assert orjson.loads(await ws.recv())[0] == 3
        await ws.send(orjson.dumps([2, "2", action, payload]).decode())
        return orjson.loads(await ws.recv())


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_strict_mode_validates_requests(node_cache, tmp_path, version):
    async with ServerProcess("node", str(tmp_path)) as server:
        ok = await _exchange(server.url, version, "MeterValues", meter_payload(version))
        assert ok[0] == 3 and ok[2] == {}                    # the load's three sampled values pass
        bad = await _exchange(server.url, version, "MeterValues", {"connectorId": "x"})
        assert bad[0] == 4 and "Violation" in bad[2]        # a CALLERROR from the schema, not an answer
        unknown = await _exchange(server.url, version, "DataTransfer", {"vendorId": "x"})
        assert unknown[0] == 4 and unknown[2] == "NotImplemented"
        assert "strict validation failed" in server.log_tail()   # said once in its log


def _bin_without_node(tmp_path: Path, npm_script: str | None = None) -> Path:
    """A PATH folder with no node (or, given an npm script, the real node and that npm)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if npm_script is not None:
        os.symlink(shutil.which("node") or "/usr/bin/node", folder / "node")
        npm = folder / "npm"
        npm.write_text("#!/bin/sh\n" + npm_script)
        npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return folder


def test_without_node_one_line_and_the_others_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(_bin_without_node(tmp_path)))
    figures = run.run_bench(stations=2, duration=0.5, protocol="1.6", targets=["node", "echo"], rounds=2)
    node = figures["results"]["node"]
    assert node["unavailable"] and "node not found on PATH" in node["failed"]
    assert "\n" not in node["failed"]
    echo = figures["results"]["echo"]
    assert echo["connected"] == 2 and echo["messages"] > 0 and echo["errors"] == 0
    assert [set(r) for r in figures["rounds_results"]] == [{"echo"}] * 2   # node tried once, not per round
    lines = [ln for ln in run.format_table(figures).splitlines() if ln.startswith("node")]
    assert lines == [("node       not run: Node.js 18+ and npm are needed for the ocpp-rpc baseline "
                      "(node not found on PATH)")]
    parser = argparse.ArgumentParser(prog="zaspot")
    cli.configure(parser.add_subparsers())
    args = parser.parse_args(["bench", "--stations", "1", "--duration", "0.5", "--target", "node"])
    assert args.func(args) == 1                          # asked for by name: the run failed
    assert "not run: Node.js 18+" in capsys.readouterr().out


def test_a_failed_install_is_one_line_and_leaves_no_install(tmp_path, monkeypatch):
    npm = ('echo "npm error code E404" >&2\n'
           'echo "npm error 404 Not Found - GET ocpp-rpc" >&2\n'
           'echo "npm error A complete log of this run can be found in: /tmp/x.log" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(_bin_without_node(tmp_path, npm)))
    monkeypatch.setenv("ZASPOT_BENCH_CACHE", str(tmp_path / "cache"))
    figures = asyncio.run(run.bench(stations=1, duration=0.5, targets=["node"]))
    assert figures["results"]["node"]["failed"] == (
        f"npm ci of ocpp-rpc {node_rpc.version()} failed (exit 1): npm error 404 Not Found - GET ocpp-rpc")
    assert not node_rpc.installed(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []     # the half-made folder is gone


def test_scale_reads_the_node_servers_memory(node_cache):
    f = scenarios.run_scenario("scale", stations=20, interval=1.0, targets=["node"])
    r = f["results"]["node"]
    assert "failed" not in r, r["failed"]
    assert r["connected"] == 20 and r["errors"] == 0 and r["messages"] == 40
    assert r["rss_connected_kb"] > 0 and r["kb_per_station"] is not None   # node's own process
    assert "node" in format_figures(f)
