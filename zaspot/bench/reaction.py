"""Reaction scenario: a hot-connector frame in, the rule's SetChargingProfile out.

zaspot runs with the example rules, except that the shipped connector_overheat rule
(which waits `for: 30s`, then cools down for 10 min) is swapped for the same trigger and
action with no `for:`, no cooldown and parallel runs: what is timed is the server's
path (frame -> store -> bus -> rules engine -> command -> socket), not the rule's
waiting. Optionally under a background of idle stations, as in the scale scenario.

Each trial: a reactor station sends a cool reading (resets the trigger's edge), then a
hot one (75 °C: 1.6 MeterValues Temperature at Outlet, or 2.0.1 NotifyEvent Connector
Temperature) and times until the SetChargingProfile CALL arrives, which it accepts.
The engine caps actions per station per hour, so each reactor does a few trials only.
"""
from __future__ import annotations

import asyncio
import math
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from .fleet import Fleet
from .idle import IdleStation
from .scale import warm_up
from .servers import EXAMPLE_RULES, ServerProcess, write_zaspot_config
from .stats import percentile_ms

TRIALS_PER_REACTOR = 10  # the engine allows 30 actions per station per hour
HOT_C, COOL_C = 75.0, 40.0

REACTION_RULE = """\
# Written by `zaspot bench --scenario reaction`: connector_overheat without its `for:`
# and cooldown, so the bench times the server's reaction, not the rule's patience.
- id: bench_connector_overheat
  trigger:
    - platform: temperature
      location: Connector
      above: 70
  action:
    - service: set_power_limit
      data: {kw: 11}
  mode: parallel
  max: 1000
"""


def rules_folder(workdir: str) -> str:
    folder = os.path.join(workdir, "rules")
    os.makedirs(folder, exist_ok=True)
    if EXAMPLE_RULES.is_dir():
        for f in EXAMPLE_RULES.glob("*.yaml"):
            if not f.name.startswith("connector_overheat"):
                shutil.copy(f, folder)
    Path(folder, "bench_reaction.yaml").write_text(REACTION_RULE, encoding="utf-8")
    return folder


def _ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def temperature_frame(version: str, mid: str, celsius: float) -> bytes:
    if version == "1.6":
        payload = {"connectorId": 1, "meterValue": [{"timestamp": _ts(), "sampledValue": [
            {"value": f"{celsius:.1f}", "measurand": "Temperature", "unit": "Celsius", "location": "Outlet"}]}]}
        return orjson.dumps([2, mid, "MeterValues", payload])
    payload = {"generatedAt": _ts(), "seqNo": 0, "tbc": False, "eventData": [{
        "eventId": int(mid), "timestamp": _ts(), "trigger": "Delta", "actualValue": f"{celsius:.1f}",
        "eventNotificationType": "HardWiredMonitor", "variable": {"name": "Temperature"},
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}}]}
    return orjson.dumps([2, mid, "NotifyEvent", payload])


async def send_reading(st: IdleStation, celsius: float, timeout: float = 10.0) -> float | None:
    """Send one reading; returns seconds until a SetChargingProfile CALL arrived (None if
    none did before the reading was answered and `timeout` passed)."""
    st.n += 1
    mid = str(st.n)
    t0 = time.perf_counter()
    await st.link.send(temperature_frame(st.version, mid, celsius), text=True)
    answered, reacted = False, None
    try:
        async with asyncio.timeout(timeout if celsius > 70 else timeout / 2):
            while not answered or (celsius > 70 and reacted is None):
                msg = orjson.loads(await st.link.recv(decode=False))
                if msg[0] == 2 and msg[2] == "SetChargingProfile":
                    reacted = reacted or time.perf_counter() - t0
                    await st.link.send(orjson.dumps([3, msg[1], {"status": "Accepted"}]), text=True)
                elif msg[0] == 2:
                    await st.answer(msg)
                elif msg[1] == mid:
                    answered = True
    except TimeoutError:
        pass
    return reacted


async def run_trials(url: str, trials: int, protocol: str, spread_s: float = 0.0) -> dict:
    """Trials one after another, started evenly over `spread_s` (0: back to back)."""
    reactors = [IdleStation(url, f"REACT{i + 1:04d}", protocol, timeout=10)
                for i in range(math.ceil(trials / TRIALS_PER_REACTOR))]
    times: list[float] = []
    try:
        for st in reactors:
            await st.open(10)
            if not await st.boot():
                raise RuntimeError(f"{st.sid}: boot not accepted")
        start = time.monotonic()
        for i in range(trials):
            await asyncio.sleep(max(0.0, start + i * spread_s / trials - time.monotonic()))
            st = reactors[i % len(reactors)]
            await send_reading(st, COOL_C)
            reacted = await send_reading(st, HOT_C)
            if reacted is not None:
                times.append(reacted)
    finally:
        await asyncio.gather(*(s.close() for s in reactors), return_exceptions=True)
    return {"trials": trials, "reacted": len(times), "missed": trials - len(times),
            "p50_ms": percentile_ms(times, 0.5), "p99_ms": percentile_ms(times, 0.99),
            "max_ms": percentile_ms(times, 1.0)}


async def reaction(trials: int = 200, stations: int = 0, protocol: str = "1.6", interval: float = 60.0,
                   procs: int = 0) -> dict:
    """`trials` hot readings against zaspot, under `stations` idle ones sending a heartbeat
    and a meter value per `interval` while the trials run (spread over one interval)."""
    version = "2.0.1" if protocol == "2.0.1" else "1.6"
    out = {"scenario": "reaction", "trials": trials, "stations": stations, "protocol": version,
           "interval": interval}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as workdir:
        write_zaspot_config(workdir, rules=rules_folder(workdir), heartbeat_interval=max(1, round(interval)))
        try:
            async with ServerProcess("zaspot", workdir) as server:
                await warm_up(server.url, version)
                out["result"] = await _under_load(server.url, trials, version, stations, interval, procs)
        except Exception as exc:
            out["result"] = {"failed": f"{type(exc).__name__}: {exc}"[:400]}
    return out


async def _under_load(url: str, trials: int, version: str, stations: int, interval: float, procs: int) -> dict:
    if stations <= 0:
        return await run_trials(url, trials, version)
    async with Fleet(url, stations, "1.6", procs=procs) as fleet:
        up = await fleet.connect(concurrency=100)
        # Trials are spread over the interval in which the fleet's traffic runs.
        load, result = await asyncio.gather(fleet.traffic(interval, interval),
                                            run_trials(url, trials, version, spread_s=0.9 * interval))
    result["background"] = {"connected": up["connected"], "messages": load["messages"],
                            "errors": load["errors"] + up["failed"],
                            "p99_ms": percentile_ms(load["latencies"], 0.99)}
    return result
