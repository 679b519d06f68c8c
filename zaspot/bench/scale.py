"""Scale and connect-storm scenarios: many stations on one server process.

scale: N stations connect (a bounded number at a time) and boot; the server's memory
is read before and after, giving KB per connected station; then every station sends a
heartbeat and a meter value per `interval`, the first ones spread over the first
interval (so a short run already has the steady-state load), and every answer is timed.

storm: N stations connect and boot all at once; how long until every one was accepted,
how many retried, how many connections the kernel dropped for a full accept queue.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import orjson

from .fleet import Fleet
from .idle import HEARTBEAT, METER, IdleStation
from .load import meter_payload
from .servers import ServerProcess, listen_overflows, write_zaspot_config
from .stats import percentile_ms, ratio

BASELINED = ("zaspot", "baseline")


async def warm_up(url: str, protocol: str) -> None:
    """One station boots and sends each message once, so lazily built things (schema
    validators, imports) are in memory before the 'before' reading."""
    version = "2.0.1" if protocol == "2.0.1" else "1.6"
    st = IdleStation(url, "WARMUP0001", version, timeout=10)
    try:
        await st.open(10)
        await st.boot()
        await st.call(METER, orjson.dumps(meter_payload(version)))
        await st.call(*HEARTBEAT)
    finally:
        await st.close()
    await asyncio.sleep(0.5)


def _target_dir(root: str, target: str, interval: float) -> str:
    workdir = os.path.join(root, target)
    os.makedirs(workdir, exist_ok=True)
    if target == "zaspot":
        write_zaspot_config(workdir, heartbeat_interval=max(1, round(interval)))
    return workdir


async def scale_target(target: str, root: str, stations: int, interval: float, duration: float,
                       protocol: str, procs: int = 0, concurrency: int = 100) -> dict:
    try:
        async with ServerProcess(target, _target_dir(root, target, interval)) as server:
            await warm_up(server.url, protocol)
            rss_before = server.rss_kb()
            async with Fleet(server.url, stations, protocol, procs=procs) as fleet:
                up = await fleet.connect(concurrency=concurrency)
                await asyncio.sleep(1.0)  # let the last boots' work settle before reading memory
                rss_after = server.rss_kb()
                load: dict[str, Any] = await fleet.traffic(interval, duration) if up["connected"] else {
                    "latencies": [], "errors": 0, "messages": 0}
                rss_end = server.rss_kb()
            if not server.alive():
                raise RuntimeError(f"{target} died: {server.log_tail()}")
    except Exception as exc:
        return {"failed": f"{type(exc).__name__}: {exc}"[:400]}
    n = up["connected"]
    return {"connected": n, "connect_failed": up["failed"], "connect_s": round(up["booted_s"][-1], 2) if n else None,
            "rss_before_kb": rss_before, "rss_connected_kb": rss_after, "rss_end_kb": rss_end,
            "kb_per_station": round((rss_after - rss_before) / n, 2) if n else None,
            "messages": load["messages"], "errors": load["errors"] + up["failed"],
            "msgs_per_s": round(load["messages"] / duration, 1),
            "p50_ms": percentile_ms(load["latencies"], 0.5), "p99_ms": percentile_ms(load["latencies"], 0.99),
            "max_ms": percentile_ms(load["latencies"], 1.0)}


async def scale(stations: int = 15000, interval: float = 60.0, duration: float | None = None,
                protocol: str = "1.6", targets=BASELINED, procs: int = 0) -> dict:
    duration = interval if duration is None else duration
    out: dict[str, Any] = {"scenario": "scale", "stations": stations, "interval": interval, "duration": duration,
                           "protocol": protocol, "results": {}}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as root:
        for target in targets:
            out["results"][target] = await scale_target(target, root, stations, interval, duration, protocol, procs)
    z = out["results"].get("zaspot", {})
    ratios = {f"{name} zaspot/{other}": ratio(z.get(key), out["results"].get(other, {}).get(key))
              for other in ("baseline", "node")
              for name, key in (("kb_per_station", "kb_per_station"), ("p99", "p99_ms"), ("connect_s", "connect_s"))}
    out["ratios"] = {k: v for k, v in ratios.items() if v is not None}
    return out


async def storm_target(target: str, root: str, stations: int, protocol: str, deadline_s: float,
                       procs: int = 0) -> dict:
    try:
        async with ServerProcess(target, _target_dir(root, target, 300)) as server:
            await warm_up(server.url, protocol)
            async with Fleet(server.url, stations, protocol, prefix="STORM", procs=procs) as fleet:
                drops = listen_overflows()
                up = await fleet.connect(concurrency=0, deadline_s=deadline_s)
                drops = listen_overflows() - drops
    except Exception as exc:
        return {"failed": f"{type(exc).__name__}: {exc}"[:400]}
    booted = up["booted_s"]
    return {"connected": len(booted), "never_booted": up["failed"], "retries": up["retries"],
            "listen_overflows": drops, "all_booted_s": round(booted[-1], 3) if not up["failed"] and booted else None,
            "p50_boot_s": round(booted[len(booted) // 2], 3) if booted else None,
            "last_boot_s": round(booted[-1], 3) if booted else None, "errors": up["error_kinds"]}


async def storm(stations: int = 5000, protocol: str = "1.6", targets=BASELINED, deadline_s: float = 300.0,
                procs: int = 0) -> dict:
    out: dict[str, Any] = {"scenario": "storm", "stations": stations, "protocol": protocol, "results": {}}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as root:
        for target in targets:
            out["results"][target] = await storm_target(target, root, stations, protocol, deadline_s, procs)
    z, b = out["results"].get("zaspot", {}), out["results"].get("baseline", {})
    out["ratios"] = {k: v for k, v in {
        "all_booted_s zaspot/baseline": ratio(z.get("all_booted_s"), b.get("all_booted_s")),
        "p50_boot_s zaspot/baseline": ratio(z.get("p50_boot_s"), b.get("p50_boot_s"))}.items() if v is not None}
    return out
