"""The drift test end to end: five accelerated weeks on a real in-process zaspot with two
simulated stations, CP-1 (OCPP 1.6: Current.Import and the connector's Temperature in
MeterValues) and CP-2 (OCPP 2.0.1: Current.Import in TransactionEvent, the connector's
temperature in NotifyEvent), each charging on both ports at a current that changes
through the day. On each station one port wears: from day 14 its temperature per ampere
rises from 0.30 to 0.45 °C/A over two weeks (a contact heating more for the same
current); the other port has the same noise and stays at 0.30. Once a day the server's
own LoadTemperature folds the day and runs the drift test, as it does in service.

The wearing ports get a TemperatureDrift alarm (in the store and the fleet) within days
of the rise, once, kept across a restart without a repeat; the steady ports never do;
after a repair (back at 0.30) the alarm clears.
"""

from __future__ import annotations

import random
import re

import pytest

from tests.health.clock import utc, virtual_clock  # noqa: F401  (the fixture)
from tests.helpers import free_port, until
from zaspot.app import App
from zaspot.config import Config
from zaspot.health import drift
from zaspot.health.config import HealthConfig
from zaspot.sim.station import SimStation

pytestmark = pytest.mark.timeout(90)

DAY = 86400.0
READINGS = 16  # a day: every 90 minutes
RAMP_FROM, RAMP_DAYS = 14, 14
WEARING = {("CP-1", 2), ("CP-2", 1)}
MAX_POWER_W = 46_000.0  # the simulator's connector warms 20 °C at full power: 0.30 °C per A of a phase


async def start(tmp_path, port: int) -> App:
    config = Config(host="127.0.0.1", port=port, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.ocpp.offline_after = 604800  # the clock's jumps alone never make a station offline
    config.retention.raw_days = 0  # keep every raw sample: retention is not what this is about
    config.health = HealthConfig(timezone="UTC")
    app = App(config)
    await app.start()
    return app


def extra_per_ampere(day: int, repaired_from: int | None) -> float:
    """°C per A the wearing contact adds on `day`: 0, then a ramp to 0.15 (0.30 -> 0.45)."""
    if repaired_from is not None and day >= repaired_from:
        return 0.0
    return 0.15 * min(max(day - RAMP_FROM + 1, 0), RAMP_DAYS) / RAMP_DAYS


async def charge_a_day(stations: list[SimStation], clock, day: int, rng: random.Random,
                       repaired_from: int | None = None) -> None:
    """A day of readings: each port at a new current every 90 minutes, its temperature the
    simulator's (ambient + 0.30 °C/A) plus noise plus what wear adds, sent as stations do."""
    start = utc("2026-11-01T00:00") + day * DAY
    for k in range(READINGS):
        clock.set(start + 300 + k * DAY / READINGS)
        for st in stations:
            for cid, c in st.connectors.items():
                c.limit_w = rng.uniform(6_000, MAX_POWER_W)
                c.step(1.0)
                wear = extra_per_ampere(day, repaired_from) if (st.station_id, cid) in WEARING else 0.0
                c.heat_offset_c = rng.gauss(0, 0.5) + wear * c.current_per_phase()
                await st.proto.meter(cid)  # 1.6 MeterValues with Temperature; 2.0.1 TransactionEvent
            if st.protocol == "2.0.1":
                await st.proto.report_temperatures(list(st.connectors))  # NotifyEvent: Connector Temperature


async def end_of_day(app: App, clock, day: int) -> list:
    """Just after midnight: the day folded and the drift test run (what the server does daily)."""
    clock.set(utc("2026-11-01T00:00") + (day + 1) * DAY + app.ctx.health.temperature.settle + 1)
    health = app.ctx.health.temperature
    await health.fold()
    return await health.check()


async def drift_alarms(app: App, open_only: bool = True) -> list[dict]:
    rows = []
    for station in ("CP-1", "CP-2"):
        rows += [a for a in await app.ctx.store.alarms(station, open_only=open_only) if a["code"] == "TemperatureDrift"]
    return rows


def fleet_drifts(app: App) -> set[str]:
    return {sid for sid, st in app.ctx.fleet.stations.items() if "TemperatureDrift" in st.open_alarms.values()}


async def logged_drifts(app: App) -> int:
    return len(await app.ctx.store.log_after(0, ["temperature_drift"]))


async def connected_and_charging(port: int) -> list[SimStation]:
    url = f"ws://127.0.0.1:{port}/ocpp"
    quiet = {"meter_interval": 1e9, "heartbeat_interval": 1e9, "reconnect_delay": 0.2, "validate": True,
             "max_power_w": MAX_POWER_W}
    stations = [SimStation("CP-1", url, "1.6", seed=1, **quiet), SimStation("CP-2", url, "2.0.1", seed=2, **quiet)]
    for st in stations:
        await st.start()
    for st in stations:
        await st.wait_booted()
        for cid in st.connectors:
            assert await st.start_transaction(cid, authorize=False)
    return stations


async def the_wearing_ports_are_alarmed(app: App) -> None:
    async def both_alarmed():
        return len(await drift_alarms(app)) == 2 and fleet_drifts(app) == {"CP-1", "CP-2"}
    await until(both_alarmed)
    alarms = {(a["station_id"], a["evse_id"]): a for a in await drift_alarms(app)}
    assert set(alarms) == WEARING
    assert alarms[("CP-1", 2)]["component"] == "connector" and alarms[("CP-1", 2)]["connector_id"] == 2
    said = re.search(r"([\d.]+) °C/A against a baseline of ([\d.]+) °C/A", alarms[("CP-2", 1)]["message"])
    assert float(said[1]) > 0.33 and abs(float(said[2]) - 0.30) < 0.02


async def the_series_say_so(app: App) -> None:
    days = await app.ctx.store.temperature_load_days("CP-1")
    assert {r["day"] for r in days} == {f"2026-11-{d:02d}" for d in range(1, 29)}
    assert {r["n"] for r in days} == {READINGS}  # every reading paired with its current
    report = await drift.summary(app.ctx.store, app.ctx.config.health)
    assert [s["flagged"] for s in report["series"]] == [True, True, False, False]  # flagged first
    series = {(s["station_id"], s["evse_id"]): s for s in report["series"]}
    assert series[("CP-1", 2)]["flagged"] and series[("CP-1", 2)]["rise_pct"] > 25
    assert not series[("CP-1", 1)]["flagged"] and abs(series[("CP-1", 1)]["rise_pct"]) < 10
    assert not series[("CP-2", 2)]["flagged"] and series[("CP-2", 1)]["current"] > 0.38


async def restart(app: App, tmp_path, port: int, stations: list[SimStation]) -> App:
    """zaspot stopped and started again on its database; the stations connect to it again."""
    await app.stop()
    app = await start(tmp_path, port)

    async def back():
        return all(st.station_id in app.ctx.sessions for st in stations)
    await until(back)
    for st in stations:
        await st.wait_booted()
    return app


async def test_a_connector_whose_heat_per_ampere_rises_gets_a_drift_alarm_and_a_steady_one_does_not(
        tmp_path, virtual_clock):  # noqa: F811
    clock = virtual_clock  # 2026-11-01T00:00 UTC
    port = free_port()
    app = await start(tmp_path, port)
    rng = random.Random(19)
    stations = await connected_and_charging(port)
    try:
        opened: dict[tuple, int] = {}
        for day in range(28):
            await charge_a_day(stations, clock, day, rng)
            for e in await end_of_day(app, clock, day):
                assert e.active and (e.station_id, e.evse_id) not in opened, e  # opened once, never cleared
                opened[(e.station_id, e.evse_id)] = day
        assert not any(st.errors for st in stations)  # every message answered (and valid: validate=True)
        assert set(opened) == WEARING  # the steady ports are left alone
        assert all(RAMP_FROM + 3 <= d <= RAMP_FROM + 9 for d in opened.values()), opened  # within days of the rise

        await the_wearing_ports_are_alarmed(app)
        await the_series_say_so(app)

        # A restart: the drift test at start finds the alarms as they are and repeats nothing.
        logged = await logged_drifts(app)
        app = await restart(app, tmp_path, port, stations)
        assert await app.ctx.health.temperature.check() == []
        assert await logged_drifts(app) == logged
        assert {(a["station_id"], a["evse_id"]) for a in await drift_alarms(app)} == WEARING

        # Repaired: back at 0.30 °C/A; the EWMA comes back under its limit and the alarm clears.
        cleared: dict[tuple, int] = {}
        for day in range(28, 40):
            await charge_a_day(stations, clock, day, rng, repaired_from=28)
            for e in await end_of_day(app, clock, day):
                assert not e.active and (e.station_id, e.evse_id) in WEARING, e
                cleared[(e.station_id, e.evse_id)] = day
            if len(cleared) == 2:
                break
        assert set(cleared) == WEARING

        async def none_alarmed():
            return not await drift_alarms(app) and not fleet_drifts(app)
        await until(none_alarmed)
        history = await drift_alarms(app, open_only=False)
        assert len(history) == 2 and all(a["cleared_at"] for a in history)  # one alarm each, opened once
    finally:
        for st in stations:
            await st.stop()
        await app.stop()
