"""Throughput scenario: N stations alternate MeterValues and Heartbeat, one CALL at a
time, against each central system in turn (each a subprocess on a free port), with one
comparison table. zaspot runs with the example rules, persistence and validation on.

    figures = run_bench(stations=50, duration=10, protocol="1.6", targets=["baseline", "echo"])
    print(format_table(figures))
"""
from __future__ import annotations

import asyncio
import os
import tempfile

from .load import run_load
from .servers import TARGETS, ServerProcess
from .stats import ratio

__all__ = ["TARGETS", "bench", "run_bench", "format_table"]


async def bench_target(target: str, stations: int, duration: float, protocol: str, workdir: str) -> dict:
    workdir = os.path.join(workdir, target)
    os.makedirs(workdir, exist_ok=True)
    try:
        async with ServerProcess(target, workdir) as server:
            figures = (await run_load(server.url, stations, duration, protocol)).figures()
            if target == "zaspot":
                figures["rules_loaded"] = server.rules_loaded()
            return figures
    except Exception as exc:
        return {"failed": str(exc)[:400]}


async def bench(stations: int = 20, duration: float = 5.0, protocol: str = "1.6",
                targets: list[str] | tuple[str, ...] = TARGETS) -> dict:
    """Run the same load against each target in turn; returns figures and ratios."""
    out: dict = {"scenario": "throughput", "stations": stations, "duration": duration, "protocol": protocol, "results": {}}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as workdir:
        for target in targets:
            out["results"][target] = await bench_target(target, stations, duration, protocol, workdir)
    out["ratios"] = _ratios(out["results"])
    return out


def run_bench(**kw) -> dict:
    """Blocking wrapper of bench() for scripts and tests outside an event loop."""
    return asyncio.run(bench(**kw))


def _ratios(results: dict) -> dict:
    """msgs/s ratios (higher is better for zaspot) and the p99 ratio (lower is better)."""
    z = results.get("zaspot", {})
    ratios = {f"zaspot/{o}": ratio(z.get("msgs_per_s"), results.get(o, {}).get("msgs_per_s"))
              for o in ("baseline", "echo")}
    ratios["p99 zaspot/baseline"] = ratio(z.get("p99_ms"), results.get("baseline", {}).get("p99_ms"))
    return {k: v for k, v in ratios.items() if v is not None}


def format_table(figures: dict) -> str:
    head = f"{'target':<10} {'msgs/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"
    lines = [f"{figures['stations']} stations, {figures['duration']}s, OCPP {figures['protocol']}",
             head, "-" * len(head)]
    for target, r in figures["results"].items():
        if "failed" in r:
            last = (r["failed"].strip().splitlines() or [""])[-1]
            lines.append(f"{target:<10} failed: {last[:200]}")
            continue
        lines.append(f"{target:<10} {r['msgs_per_s']:>10.1f} {r['p50_ms']:>9.2f} "
                     f"{r['p99_ms']:>9.2f} {r['errors']:>7d}")
    rules = figures["results"].get("zaspot", {}).get("rules_loaded")
    if rules is not None:
        lines.append(f"zaspot ran with {rules} example rules, SQLite persistence and schema validation on")
    for name, value in figures.get("ratios", {}).items():
        what = "latency" if name.startswith("p99") else "msgs/s"
        lines.append(f"{name} {what} ratio: {value:.2f}x")
    return "\n".join(lines)
