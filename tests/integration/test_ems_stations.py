"""End to end: a real zaspot (in process) balancing a 1.6 and a 2.0.1 simulated station.

Both receive schema-valid SetChargingProfile with a safe tail, share the circuit when
both charge, and the remaining car gets the whole circuit when the other leaves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from zaspot.app import App
from zaspot.config import load
from zaspot.sim import schemas
from zaspot.sim.station import SimStation

CONFIG = """
port: 0
host: 127.0.0.1
ocpp: {ping_interval: 0}
ems:
  strategy: dynamic_load_balancing
  interval: 0.2
  lease: 600
  site:
    main_breaker: 32
    margin: 1
    stations:
      - {id: EMS-16, max_current: 32}
      - {id: EMS-201, max_current: 32, unit: W}
"""


async def _limits(st: SimStation, count: int) -> list[dict]:
    await st.wait_for_call("SetChargingProfile", timeout=20, count=count)
    return [p for a, p in st.received if a == "SetChargingProfile"]


def _first_limit(st: SimStation, payload: dict) -> tuple[str, list[dict]]:
    profile = payload["csChargingProfiles"] if st.protocol == "1.6" else payload["chargingProfile"]
    schedule = profile["chargingSchedule"] if st.protocol == "1.6" else profile["chargingSchedule"][0]
    return schedule["chargingRateUnit"], schedule["chargingSchedulePeriod"]


async def _wait(predicate, what: str) -> None:
    async with asyncio.timeout(20):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.fixture
async def site(tmp_path: Path):
    path = tmp_path / "zaspot.yaml"
    path.write_text(CONFIG + f"db: {tmp_path / 'zaspot.db'}\nrules: {tmp_path / 'rules'}\n")
    app = App(load(path))
    await app.start()
    url = f"ws://127.0.0.1:{app.server.port}/ocpp"
    stations = [SimStation("EMS-16", url, "1.6", connectors=1, meter_interval=0.2, speed=50, seed=1),
                SimStation("EMS-201", url, "2.0.1", connectors=1, meter_interval=0.2, speed=50, seed=2)]
    for st in stations:
        await st.start()
        await st.wait_booted()
    yield app, stations
    for st in stations:
        await st.stop()
    await app.stop()


async def test_both_versions_get_valid_profiles_and_share_the_circuit(site):
    app, (v16, v201) = site
    for st in (v16, v201):  # at boot: paused (no session); its tail never above the limit, so paused too
        (first,) = await _limits(st, 1)
        schemas.validate_request(st.protocol, "SetChargingProfile", first)
        unit, periods = _first_limit(st, first)
        assert periods == [{"startPeriod": 0, "limit": 0.0}, {"startPeriod": 600, "limit": 0.0}]

    await v16.start_transaction(1)
    await v201.start_transaction(1)
    await _wait(lambda: v16.connectors[1].limit_w and v201.connectors[1].limit_w
                and abs(v16.connectors[1].limit_w - v201.connectors[1].limit_w) < 1, "equal shares")
    for st in (v16, v201):
        payload = [p for a, p in st.received if a == "SetChargingProfile"][-1]
        schemas.validate_request(st.protocol, "SetChargingProfile", payload)
        unit, periods = _first_limit(st, payload)
        assert unit == ("A" if st.protocol == "1.6" else "W")
        assert periods[0]["limit"] == (15.5 if unit == "A" else 10695.0)  # 31 A shared, 3 x 230 V
    await _wait(lambda: 0 < v16.connectors[1].power_w <= v16.connectors[1].limit_w, "1.6 follows")
    await _wait(lambda: 0 < v201.connectors[1].power_w <= v201.connectors[1].limit_w, "2.0.1 follows")

    await v16.stop_transaction(1)
    await _wait(lambda: v201.connectors[1].limit_w == 31 * 230 * 3, "the whole circuit to the one left")
    state = app.ctx.ems.state()
    mine = next(x for x in state["limits"] if x["station_id"] == "EMS-201")
    assert mine["amps"] == 31.0 and mine["reason"] == "fair share"
    # The station has the limit a moment before the EMS has stored its answer.
    async with asyncio.timeout(20):
        while True:
            stored = {(r["station_id"], r["evse_id"]): r for r in await app.ctx.store.ems_limits()}
            if stored["EMS-201", 1]["amps"] == 31.0:
                break
            await asyncio.sleep(0.05)
    assert stored["EMS-201", 1]["ok"]
    assert stored["EMS-16", 1]["amps"] == 0.0  # paused again: no session
