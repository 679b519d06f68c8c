"""Throughput scenario: N stations alternate MeterValues and Heartbeat (or send one of
them: `mix`), one CALL at a time, against each central system in turn (each a
subprocess on a free port), with one comparison table. zaspot runs with the example
rules, persistence and validation on; it is compared with both baselines (the Python
`ocpp` library and Node.js `ocpp-rpc`), the echo server and the floor (zaspot's own
WebSocket stack answering from its frame callback, nothing else: bench/floor.py), by
answers a second, p99, and each server process's CPU per message (from /proc: on a
shared box the load generator's core moves the first two more than the third).

    figures = run_bench(stations=50, duration=10, protocol="1.6", targets=["baseline", "node", "echo"])
    print(format_table(figures))
"""
from __future__ import annotations

import asyncio
import os
import tempfile

from .load import MIXES, LoadResult, run_load
from .node_rpc import NodeUnavailable, describe
from .servers import TARGETS, ServerProcess
from .stats import ratio

__all__ = ["MIXES", "TARGETS", "bench", "format_table", "run_bench"]
WARMUP_S = 2.0
MIX_NAMES = {"metervalues": "MeterValues", "heartbeat": "Heartbeat"}


async def bench_target(target: str, stations: int, duration: float, protocol: str,
                       workdir: str, mix: str = "alternate") -> tuple[LoadResult | None, dict]:
    """One target's load: its LoadResult and extra figures, or (None, {"failed": why})."""
    workdir = os.path.join(workdir, target)
    os.makedirs(workdir, exist_ok=True)
    try:
        async with ServerProcess(target, workdir) as server:
            result = await run_load(server.url, stations, duration, protocol, mix=mix, cpu=server.cpu_seconds)
            if target == "zaspot":
                return result, {"rules_loaded": server.rules_loaded()}
            return result, ({"server": describe()} if target == "node" else {})
    except NodeUnavailable as exc:   # no Node.js here, or its install failed: a note, not a crash
        return None, {"failed": str(exc), "unavailable": True}
    except Exception as exc:
        why = str(exc)   # its end: a server's log tail ends with the error that stopped it
        return None, {"failed": why if len(why) <= 400 else "..." + why[-400:]}


async def bench(stations: int = 20, duration: float = 5.0, protocol: str = "1.6",
                targets: list[str] | tuple[str, ...] = TARGETS, rounds: int = 1, mix: str = "alternate") -> dict:
    """Run the same load against each target in turn; returns figures and ratios.

    With rounds > 1 the targets take turns that many times, so that a shared machine
    getting busier or quieter weighs on all of them alike; each round starts one
    target further on (zaspot, baseline, ...; then baseline, node, ..., zaspot), so no
    target always runs first. Each target's figures pool its rounds, and each round's
    ratios are kept to show the spread. Before the first round an unmeasured warm-up
    (WARMUP_S of the same load against the first target) takes the load generator's
    and the machine's first-run costs.
    """
    warmup = min(WARMUP_S, duration)
    out: dict = {"scenario": "throughput", "stations": stations, "duration": duration, "protocol": protocol,
                 "rounds": rounds, "mix": mix, "warmup_s": warmup, "results": {}}
    pooled: dict[str, LoadResult] = {}
    extra: dict[str, dict] = {}
    round_results = []
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as workdir:
        if targets:
            await bench_target(targets[0], stations, warmup, protocol,
                               os.path.join(workdir, "warm-up"), mix)
        for n in range(rounds):
            this_round = {}
            for target in turn(targets, n):
                if "failed" in extra.get(target, {}):
                    continue
                result, extra[target] = await bench_target(target, stations, duration, protocol, workdir, mix)
                if result is not None:
                    this_round[target] = result.figures()
                    pooled[target] = pooled[target].merged(result) if target in pooled else result
            round_results.append(this_round)
    for target in targets:
        figures = pooled[target].figures() if target in pooled and "failed" not in extra[target] else {}
        out["results"][target] = {**figures, **extra[target]}
    out["ratios"] = _ratios(out["results"])
    if rounds > 1:
        out["rounds_results"] = round_results
        out["rounds_ratios"] = [_ratios(r) for r in round_results]
    return out


def turn(targets: list[str] | tuple[str, ...], n: int) -> list[str]:
    """The order of round n: the targets, starting n places on."""
    k = n % len(targets) if targets else 0
    return [*targets[k:], *targets[:k]]


def run_bench(**kw) -> dict:
    """Blocking wrapper of bench() for scripts and tests outside an event loop."""
    return asyncio.run(bench(**kw))


def _ratios(results: dict) -> dict:
    """msgs/s ratios against both baselines, the echo server and the floor (higher is
    better for zaspot), p99 ratios against both baselines, and CPU-per-message ratios
    against both baselines and the floor (lower is better)."""
    z = results.get("zaspot", {})

    def against(other: str, key: str) -> float | None:
        return ratio(z.get(key), results.get(other, {}).get(key))

    ratios = {f"zaspot/{o}": against(o, "msgs_per_s") for o in ("baseline", "node", "echo", "floor")}
    ratios.update({f"p99 zaspot/{o}": against(o, "p99_ms") for o in ("baseline", "node")})
    ratios.update({f"cpu zaspot/{o}": against(o, "cpu_us_per_msg") for o in ("baseline", "node", "floor")})
    return {k: v for k, v in ratios.items() if v is not None}


def format_table(figures: dict) -> str:
    head = f"{'target':<10} {'msgs/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'CPU us/msg':>11} {'errors':>7}"
    rounds = figures.get("rounds", 1)
    each = f"{rounds} rounds of {figures['duration']}s per target, taking turns" if rounds > 1 \
        else f"{figures['duration']}s"
    if figures.get("warmup_s"):
        each += f" after a {figures['warmup_s']}s warm-up"
    mix = figures.get("mix", "alternate")
    sends = "MeterValues and Heartbeat in turn" if mix == "alternate" else f"{MIX_NAMES[mix]} only"
    lines = [f"{figures['stations']} stations, {each}, OCPP {figures['protocol']}, {sends}", head, "-" * len(head)]
    for target, r in figures["results"].items():
        if "failed" in r:
            last = (r["failed"].strip().splitlines() or [""])[-1]
            lines.append(f"{target:<10} {'not run' if r.get('unavailable') else 'failed'}: {last[:200]}")
            continue
        cpu = r.get("cpu_us_per_msg")
        lines.append(f"{target:<10} {r['msgs_per_s']:>10.1f} {r['p50_ms']:>9.2f} "
                     f"{r['p99_ms']:>9.2f} {'' if cpu is None else f'{cpu:.1f}':>11} {r['errors']:>7d}")
    rules = figures["results"].get("zaspot", {}).get("rules_loaded")
    if rules is not None:
        lines.append(f"zaspot ran with {rules} example rules, SQLite persistence and schema validation on")
    node = figures["results"].get("node", {}).get("server")
    if node:
        lines.append(f"node is {node}")
    if "floor" in figures["results"]:
        lines.append("floor is uvloop + picows + orjson answering from the frame callback, nothing else")
    for name, value in figures.get("ratios", {}).items():
        what = "latency" if name.startswith("p99") else "CPU per message" if name.startswith("cpu") else "msgs/s"
        per_round = [r[name] for r in figures.get("rounds_ratios", []) if name in r]
        spread = f"  (rounds: {', '.join(f'{v:.2f}' for v in per_round)})" if len(per_round) > 1 else ""
        lines.append(f"{name} {what} ratio: {value:.2f}x{spread}")
    return "\n".join(lines)
