"""The health snapshot (ctx.health.snapshot) on a real in-process zaspot with two simulated
stations over two accelerated days: CP-1 (OCPP 1.6, two connectors) has a six-hour
GroundFailure on connector 1, CP-2 (OCPP 2.0.1, DC with two power modules) trips a module
once. The snapshot's figures are compared with the ones worked out by hand below; a
computation that fails keeps the last snapshot; reports/snapshot hands it to the API.

The virtual clock (tests/health/clock.py) jumps to each scripted moment; the real seconds the
script takes are the tolerance of the figures.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from tests.health.clock import utc, virtual_clock  # noqa: F401  (the fixture)
from tests.helpers import until
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import Config
from zaspot.health.config import HealthConfig
from zaspot.sim.station import SimStation

pytestmark = pytest.mark.timeout(60)

MINUTES = 0.05  # 3 s: what the script's real time adds to a figure in minutes
PERCENT = 0.005
HOURS = 0.01


async def start(tmp_path, *, refresh: float = 300.0, target: float = 99.0) -> App:
    """A real in-process zaspot on a free port with a `health:` section."""
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.ocpp.offline_after = 604800  # 7 days: the clock's jumps alone never make a station offline
    config.health = HealthConfig(timezone="UTC", target=target, refresh=refresh)
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
    return app


def stations_for(app: App) -> tuple[SimStation, SimStation]:
    url = app.url + "/ocpp"  # type: ignore[attr-defined]
    # Heartbeats every real second keep each station's last-seen time on the virtual clock.
    cp1 = SimStation("CP-1", url, "1.6", connectors=2, heartbeat_interval=1, reconnect_delay=0.2, validate=True)
    cp2 = SimStation("CP-2", url, "2.0.1", kind="dc", connectors=1, modules=2, heartbeat_interval=1,
                     reconnect_delay=0.2, validate=True)
    return cp1, cp2


async def open_outage(app: App, station_id: str, evse_id: int, cause: str) -> bool:
    rows = await app.ctx.store.outages_between(0, 2e9, station_id)
    return any(r["evse_id"] == evse_id and r["cause"] == cause and r["ended"] is None for r in rows)


async def port_up(app: App, station_id: str, evse_id: int) -> bool:
    rows = await app.ctx.store.outages_between(0, 2e9, station_id)
    return not any(r["evse_id"] == evse_id and r["ended"] is None for r in rows)


async def fault(app: App, st: SimStation, connector: int, code: str) -> None:
    await st.proto.report_problem(connector, code, True)
    await until(lambda: open_outage(app, st.station_id, connector, "faulted"), what=f"{st.station_id} faulted")


async def recover(app: App, st: SimStation, connector: int) -> None:
    await st.proto.report_problem(connector, "NoError", False)
    await until(lambda: port_up(app, st.station_id, connector), what=f"{st.station_id} up again")


async def trip(app: App, st: SimStation, module: int) -> None:
    """One trip of a power module and its reset (its alarm opens and clears)."""
    fleet = app.ctx.fleet
    await st.proto.report_module(module, True)
    await until(lambda: fleet.stations[st.station_id].open_alarms, what="the trip's alarm")
    await st.proto.report_module(module, False)
    await until(lambda: not fleet.stations[st.station_id].open_alarms, what="the trip's alarm cleared")


async def test_the_snapshot_gives_each_stations_last_30_days_as_worked_out_by_hand(tmp_path, virtual_clock, caplog):  # noqa: F811
    clock = virtual_clock  # 2026-11-01T00:00 UTC
    app = await start(tmp_path)
    cp1, cp2 = stations_for(app)
    snapshot = app.ctx.health.snapshot
    try:
        for st in (cp1, cp2):
            await st.start()
        await asyncio.gather(cp1.wait_booted(), cp2.wait_booted())
        await until(lambda: snapshot.computed_at is not None, what="the snapshot made at start")

        # 11-02 00:00-06:00  CP-1 connector 1 GroundFailure: 360 min, one failure
        clock.set(utc("2026-11-02T00:00"))
        await fault(app, cp1, 1, "GroundFailure")
        await until(lambda: snapshot.stations["CP-1"]["open_alarms"] == 1, what="its alarm, at once")
        # 11-02 03:00        CP-2 module 1 trips and is reset: one trip, no outage
        clock.set(utc("2026-11-02T03:00"))
        await trip(app, cp2, 1)
        clock.set(utc("2026-11-02T06:00"))
        await recover(app, cp1, 1)

        clock.set(utc("2026-11-03T00:00"))
        assert await snapshot.refresh()
        figures = snapshot.stations
        # what the API hands on is the same dict
        client = ZaspotClient(app.url + "/api/websocket")  # type: ignore[attr-defined]
        await client.connect()
        try:
            api = await client.command("reports/snapshot")
        finally:
            await client.close()

        # A computation that fails (the outages table gone) is logged; the last snapshot stays.
        with sqlite3.connect(app.ctx.config.db) as db:
            db.execute("ALTER TABLE outages RENAME TO outages_away")
        clock.set(utc("2026-11-04T00:00"))
        with caplog.at_level(logging.ERROR, logger="zaspot.health.snapshot"):
            assert not await snapshot.refresh()
        kept = snapshot.stations
        with sqlite3.connect(app.ctx.config.db) as db:
            db.execute("ALTER TABLE outages_away RENAME TO outages")
    finally:
        for st in (cp1, cp2):
            await st.stop()
        await app.stop()

    # CP-1: two ports over two days = 5760 port-minutes, 360 of them out:
    #   (5760 - 360) / 5760 = 93.750 %; one failure of 6 h (MTTR); as a unit up 48 - 6 = 42 h (MTBF)
    one = figures["CP-1"]
    assert one["uptime_30d"] == pytest.approx(93.75, abs=PERCENT)
    assert one["outage_minutes_30d"] == pytest.approx(360, abs=MINUTES)
    assert one["failures_30d"] == 1
    assert one["mttr_hours_30d"] == pytest.approx(6.0, abs=HOURS)
    assert one["mtbf_hours_30d"] == pytest.approx(42.0, abs=HOURS)
    assert (one["ports"], one["open_alarms"], one["module_trips_30d"], one["target"]) == (2, 0, 0, 99.0)
    # CP-2: never out, one module trip (a trip is no outage of its port)
    two = figures["CP-2"]
    assert two["uptime_30d"] == 100.0
    assert (two["outage_minutes_30d"], two["failures_30d"], two["mtbf_hours_30d"]) == (0, 0, None)
    assert (two["ports"], two["open_alarms"], two["module_trips_30d"]) == (1, 0, 1)

    assert api == figures
    assert kept == figures
    assert "the last snapshot stays" in caplog.text


async def test_a_change_shows_in_seconds_not_at_the_next_refresh(tmp_path):
    """With the default five-minute refresh, a station that comes and a fault that opens are
    in the snapshot (the TUI's health view, /metrics) within seconds."""
    app = await start(tmp_path, refresh=300.0)
    st = SimStation("NEW-1", f"{app.url}/ocpp", "1.6", seed=3)
    try:
        await st.start()
        await st.wait_booted()
        snapshot = app.ctx.health.snapshot
        await until(lambda: (snapshot.stations.get("NEW-1") or {}).get("uptime_30d") is not None, 10.0,
                    "the new station's uptime in the snapshot")
        await st.proto.send_status(1, "Faulted", "GroundFailure")
        await until(lambda: snapshot.stations["NEW-1"]["failures_30d"] == 1, 10.0, "the fault in the snapshot")
    finally:
        await st.stop()
        await app.stop()
