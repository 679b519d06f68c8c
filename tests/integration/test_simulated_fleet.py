"""Simulated stations of both versions against the central system: what they
report lands in the database and, normalized, on the bus."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from zaspot.sim import SimStation


def count(db, sql: str, *params) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


async def test_a_mixed_fleet_lands_in_the_database_of_a_real_server(zaspot_server):
    url = f"{zaspot_server.url}/ocpp"
    stations = [
        SimStation("SIM-AC16", url, "1.6", "ac", meter_interval=0.2, seed=1),
        SimStation("SIM-DC201", url, "2.0.1", "dc", modules=4, meter_interval=0.2, seed=2),
    ]
    for st in stations:
        await st.start()
    for st in stations:
        await st.wait_booted()
        await st.start_transaction(1)
        await st.send_meter_values(1)
        await st.stop_transaction(1)
    for st in stations:
        await st.stop()
    assert not any(st.errors for st in stations), [st.errors for st in stations]
    zaspot_server.stop()

    db = zaspot_server.db
    assert count(db, "SELECT COUNT(*) FROM stations WHERE registration='Accepted'") == 2
    for sid in ("SIM-AC16", "SIM-DC201"):
        assert count(db, "SELECT COUNT(*) FROM connectors WHERE station_id=?", sid) >= 2
        assert count(db, "SELECT COUNT(*) FROM transactions WHERE station_id=? AND state='ended'", sid) == 1
        assert count(db, "SELECT COUNT(*) FROM meter_samples WHERE station_id=? AND unit='Wh'", sid) >= 1
    # Energy of the ended 1.6 transaction: stop minus start is what the meter advanced.
    assert count(db, "SELECT COUNT(*) FROM transactions WHERE meter_stop_wh >= meter_start_wh") == 2


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_connector_temperature_arrives_as_one_normalized_event(app, version):
    st = SimStation(f"HOT-{version}", f"{app.url}/ocpp", version, "ac", speed=200, seed=3)
    await st.start()
    await st.wait_booted()
    await st.run_scenario("overheat", connector_id=1, peak_c=82.0, hold=1)
    await st.stop()
    await app.ctx.bus.drain()
    readings = [e for e in app.recorder.of("temperature") if e.location == "connector" and e.connector_id == 1]
    assert readings, app.recorder.of("temperature")
    assert max(e.celsius for e in readings) >= 80.0
    assert readings[-1].celsius < 70.0  # it cooled down again
    fleet = app.ctx.fleet.stations[f"HOT-{version}"]
    assert any(key.startswith("connector") for key in fleet.temperatures)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_ground_failure_is_a_faulted_status_and_then_clears(app, version):
    st = SimStation(f"GND-{version}", f"{app.url}/ocpp", version, "ac", speed=200, seed=4)
    await st.start()
    await st.wait_booted()
    await st.run_scenario("ground_failure", connector_id=2, hold=1)
    await st.stop()
    await app.ctx.bus.drain()
    changes = [e for e in app.recorder.of("status_changed") if e.connector_id in (2,) or e.evse_id == 2]
    faulted = [e for e in changes if e.status == "Faulted"]
    assert faulted and faulted[0].error_code in ("GroundFailure", "Faulted")
    assert changes[-1].status != "Faulted" and changes[-1].previous == "Faulted"
    rows = await app.ctx.store.connectors(f"GND-{version}")
    assert any(r["status"] != "Faulted" for r in rows)


async def test_offline_watchdog_reports_a_silent_station(app):
    app.config.ocpp.offline_after = 0.4
    await app.server.stop()  # restart the server so its watchdog uses the short timeout
    await app.server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{app.server.port}/ocpp"
    st = SimStation("QUIET", url, "1.6", "ac", heartbeat_interval=3600, meter_interval=3600, seed=5)
    await st.start()
    await st.wait_booted()
    for _ in range(50):
        await asyncio.sleep(0.1)
        if app.recorder.of("station_offline"):
            break
    await st.stop()
    offline = app.recorder.of("station_offline")
    assert [e.station_id for e in offline] == ["QUIET"]
    assert app.ctx.fleet.stations["QUIET"].online is False
