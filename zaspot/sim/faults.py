"""Scripted faults. Durations are simulated seconds (scaled by the station's speed).

    await station.run_scenario("overheat", connector_id=1, hold=60)
    station.start_scenario("mixed", duration=3600)   # background, cancelled by stop()
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .station import SimStation

SCENARIOS = ("overheat", "ground_failure", "module_trip", "offline", "mixed", "charging", "none")


async def overheat(st: SimStation, connector_id: int = 1, peak_c: float = 80.0,
                   ramp: float = 30.0, hold: float = 60.0, steps: int = 5) -> None:
    """Connector temperature climbs above 70 °C, stays there, then cools down."""
    c = st.connectors[connector_id]
    base = c.temperature_c - c.heat_offset_c
    for i in range(1, steps + 1):           # ramp up
        c.heat_offset_c = (peak_c - base) * i / steps
        await _report_temp(st, connector_id)
        await st.sleep(ramp / steps)
    await st.sleep(hold)
    await _report_temp(st, connector_id)
    for i in range(steps - 1, -1, -1):      # cool down
        c.heat_offset_c = (peak_c - base) * i / steps
        await st.sleep(ramp / steps)
    await _report_temp(st, connector_id)


async def _report_temp(st: SimStation, cid: int) -> None:
    await st._try(st.proto.report_temperatures([cid]) if st.protocol == "2.0.1"
                  else st.proto.meter(cid))


async def ground_failure(st: SimStation, connector_id: int = 1, hold: float = 60.0) -> None:
    """Connector faults (GroundFailure), any transaction on it ends, then it recovers."""
    if connector_id in st.transactions:
        await st.stop_transaction(connector_id, "GroundFault" if st.protocol == "2.0.1" else "Other")
    await st.proto.report_problem(connector_id, "GroundFailure", True)
    await st.sleep(hold)
    await st.proto.report_problem(connector_id, "GroundFailure", False)


async def module_trip(st: SimStation, module: int = 1, hold: float = 60.0) -> None:
    """DC: one AcDcConverter trips (loses its share of power), later resets."""
    if not st.modules:
        raise ValueError(f"{st.station_id} has no power modules (kind={st.kind})")
    m = st.modules[module - 1]
    m["tripped"] = m["problem"] = True
    m["heat"] = 15.0
    share = 1.0 / len(st.modules)
    saved = st.station_limit_w
    st.station_limit_w = st.limit_for(0) * (1 - share)
    await st.proto.report_module(module, True)
    await st.sleep(hold)
    m["tripped"] = m["problem"] = False
    m["heat"] = 0.0
    st.station_limit_w = saved
    await st.proto.report_module(module, False)


async def offline(st: SimStation, hold: float = 30.0) -> None:
    """Drop the connection without a close frame, then reconnect after `hold`."""
    await st.go_offline(hold)
    await st.sleep(hold)
    await st.wait_booted(st.call_timeout + st.reconnect_delay / st.speed + 5)


async def charging(st: SimStation, duration: float = 3600.0) -> None:
    """Cars come and go on every connector: idle, plug in, charge, leave."""
    await asyncio.gather(*(_charge_loop(st, cid, duration) for cid in st.connectors))


async def _charge_loop(st: SimStation, cid: int, duration: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + duration / st.speed
    while loop.time() < end:
        await st.sleep(st.rng.uniform(30, 300))
        if cid in st.transactions or st.connectors[cid].status != "Available":
            continue
        await st._try(st.start_transaction(cid))
        await st.sleep(st.rng.uniform(300, 1800))
        if cid in st.transactions:
            await st._try(st.stop_transaction(cid, st.rng.choice(["Local", "EVDisconnected"])))


async def mixed(st: SimStation, duration: float = 3600.0, every: float = 300.0) -> None:
    """Normal charging with a random fault from time to time."""
    loop = asyncio.get_running_loop()
    end = loop.time() + duration / st.speed
    charge = asyncio.create_task(charging(st, duration))
    try:
        while loop.time() < end:
            await st.sleep(st.rng.uniform(every / 2, every * 1.5))
            name = st.rng.choice(["overheat", "ground_failure", "offline"]
                                 + (["module_trip"] if st.modules else []))
            kw = {"module": st.rng.randint(1, len(st.modules))} if name == "module_trip" \
                else {} if name == "offline" else {"connector_id": st.rng.choice(list(st.connectors))}
            await st._try(run_scenario(st, name, **kw))
    finally:
        charge.cancel()
        await asyncio.gather(charge, return_exceptions=True)


async def run_scenario(st: SimStation, name: str, **kw) -> None:
    scenarios: dict[str, Callable[..., Awaitable[None]]] = {
        "overheat": overheat, "ground_failure": ground_failure, "module_trip": module_trip,
        "offline": offline, "mixed": mixed, "charging": charging}
    fn = scenarios.get(name)
    if name == "none":
        return
    if fn is None:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    await fn(st, **kw)
