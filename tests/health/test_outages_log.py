"""The outage log (zaspot.health.outages.OutageLog) against a real zaspot, with exact OCPP
frames: station clocks out of order, the station's own status on every port, a change of
cause at one instant, the offline watchdog, a database with history from before the
feature, and a crash (kill -9 of a real `zaspot run`)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import pytest

from tests.helpers import OcppClient, ZaspotProcess, start_app, until
from zaspot.health import uptime
from zaspot.health.outages import CONSUMER

pytestmark = pytest.mark.timeout(60)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def status(client: OcppClient, connector: int, state: str, code: str = "NoError", ts: float | None = None):
    frame = await client.call("StatusNotification", {"connectorId": connector, "errorCode": code, "status": state,
                                                     "timestamp": iso(ts or time.time())})
    assert frame[0] == 3, frame


async def station_16(url: str, station_id: str) -> OcppClient:
    client = await OcppClient.connect(url, station_id, "1.6")
    assert (await client.boot())[2]["status"] == "Accepted"
    for connector in (0, 1, 2):
        await status(client, connector, "Available")
    return client


def outage_rows(store, station_id: str):
    async def read():
        return await store.outages_between(0, 2e9, station_id)
    return read


async def test_station_clock_out_of_order_keeps_each_port_s_boundaries_in_order(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await station_16(app.url, "CP-9")
        store = app.ctx.store
        await until(lambda: _count_ports(store, 2))
        first_seen = {p["evse_id"]: p["first_seen"] for p in await store.health_ports()}[1]
        # A fault stamped an hour before the port's last status (a station clock behind ours, or
        # a message queued while offline): it cannot start before what the port already had.
        await status(client, 1, "Faulted", "GroundFailure", ts=time.time() - 3600)
        rows = await until(outage_rows(store, "CP-9"))
        assert rows[0]["cause"] == "faulted" and rows[0]["code"] == "GroundFailure"
        assert rows[0]["started"] == first_seen
        # Its recovery stamped an hour ahead of ours: the outage does not end in our future.
        await status(client, 1, "Available", ts=time.time() + 3600)
        rows = await until(lambda: _ended(store, "CP-9"))
        assert rows[0]["started"] <= rows[0]["ended"] <= time.time()
        figures = await uptime.availability(store, app.ctx.config.health, time.time() - 86400, time.time() + 60)
        assert all(p["outage_minutes"] < 1 for p in figures["ports"])  # seconds, not an hour either way
        await client.close()
    finally:
        await app.stop()


async def test_the_station_s_own_status_is_every_port_s_and_a_new_cause_follows_at_the_same_instant(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await station_16(app.url, "CP-8")
        store = app.ctx.store
        await until(lambda: _count_ports(store, 2))
        await status(client, 0, "Faulted", "PowerMeterFailure")  # 1.6 connector 0: the whole station
        rows = await until(lambda: _open(store, "CP-8", 2))
        assert {(r["evse_id"], r["cause"], r["code"], r["detail"]) for r in rows} == {
            (1, "faulted", "PowerMeterFailure", "station"), (2, "faulted", "PowerMeterFailure", "station")}
        await status(client, 0, "Unavailable")
        rows = await until(lambda: _open(store, "CP-8", 2, "unavailable"))
        # The port's own fault wins over the station's Unavailable: one row closes, the next opens then.
        await status(client, 1, "Faulted", "HighTemperature")
        rows = await until(lambda: _open(store, "CP-8", 1, "faulted", evse=1))
        history = [r for r in await store.outages_between(0, 2e9, "CP-8") if r["evse_id"] == 1]
        assert [(r["cause"], r["code"]) for r in history] == [
            ("faulted", "PowerMeterFailure"), ("unavailable", None), ("faulted", "HighTemperature")]
        assert history[0]["ended"] == history[1]["started"] and history[1]["ended"] == history[2]["started"]
        await status(client, 0, "Available")
        await status(client, 1, "Available")
        await until(lambda: _none_open(store, "CP-8"))
        await client.close()
        # Its disconnect: both ports offline, detail "disconnected".
        rows = await until(lambda: _open(store, "CP-8", 2, "offline"))
        assert {r["detail"] for r in rows} == {"disconnected"}
    finally:
        await app.stop()


async def test_a_silent_station_is_offline_from_when_it_was_last_heard_until_it_speaks(tmp_path):
    app = await start_app(tmp_path, offline_after=1)
    try:
        client = await station_16(app.url, "CP-7")
        store = app.ctx.store
        rows = await until(lambda: _open(store, "CP-7", 2, "offline"), timeout=20)
        last_seen = app.ctx.fleet.stations["CP-7"].last_seen
        assert {(r["detail"], r["started"]) for r in rows} == {("no answer", last_seen)}
        assert (await client.call("Heartbeat", {}))[0] == 3
        rows = await until(lambda: _ended(store, "CP-7"), timeout=20)
        assert all(r["ended"] > r["started"] for r in rows)
        await client.close()
    finally:
        await app.stop()


async def test_a_database_with_history_from_before_health_gets_its_outages(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await station_16(app.url, "CP-6")
        await status(client, 2, "Faulted", "GroundFailure")
        await status(client, 2, "Available")
        await client.close()
        await until(lambda: _open(app.ctx.store, "CP-6", 2, "offline"))
        before = _kinds(await app.ctx.store.outages_between(0, 2e9))
    finally:
        await app.stop()
    assert [k[:3] for k in before] == [("faulted", "GroundFailure", None), ("offline", None, "disconnected"),
                                       ("offline", None, "disconnected")]
    # As a database written before the health consumer existed: no rows, no position.
    with sqlite3.connect(tmp_path / "z.db") as db:
        db.execute("DELETE FROM outages")
        db.execute("DELETE FROM health_ports")
        db.execute("DELETE FROM consumer_positions WHERE name = ?", (CONSUMER,))
    app = await start_app(tmp_path)
    try:
        after = _kinds(await app.ctx.store.outages_between(0, 2e9))
        assert after == before  # read from the whole log at its first start
        assert app.ctx.health.outages.consumer.position == await app.ctx.store.log_end()
    finally:
        await app.stop()


async def test_after_a_crash_a_connected_station_is_offline_from_its_last_seen_until_it_connects(tmp_path):
    server = ZaspotProcess(tmp_path / "zaspot.db").start()
    try:
        client = await station_16(server.url, "CP-5")
        await until(lambda: _db(tmp_path, "SELECT 1 FROM health_ports WHERE station_id = 'CP-5' AND connector_id = 2"))
        server.kill9()  # no disconnect is ever written
        last_seen = _db_sync(tmp_path, "SELECT last_seen FROM stations WHERE id = 'CP-5'")[0][0]
        # ... or its port's last status, if that came after (a boundary never goes back)
        boundary = dict(_db_sync(tmp_path, "SELECT evse_id, updated_at FROM health_ports WHERE station_id = 'CP-5'"))
        server.start()
        client = await station_16(server.url, "CP-5")
        rows = await until(lambda: _db(tmp_path, "SELECT cause, detail, started, ended FROM outages "
                                                 "WHERE station_id = 'CP-5' AND ended IS NOT NULL"))
        connected = _db_sync(tmp_path, "SELECT MAX(ts) FROM events WHERE type = 'station_connected' "
                                       "AND station_id = 'CP-5'")[0][0]
        rows = _db_sync(tmp_path, "SELECT evse_id, cause, detail, started, ended FROM outages WHERE station_id = 'CP-5'")
        assert sorted(rows) == [(evse, "offline", "zaspot not running", max(last_seen, boundary[evse]), connected)
                                for evse in (1, 2)]
        await client.close()
    finally:
        server.stop()


# --- helpers -------------------------------------------------------------------------------


def _kinds(rows):
    return [(r["cause"], r["code"], r["detail"], r["station_id"], r["evse_id"], r["started"], r["ended"])
            for r in rows]


async def _count_ports(store, count: int) -> bool:
    return len(await store.health_ports()) == count


async def _open(store, station_id: str, count: int, cause: str | None = None, evse: int | None = None):
    rows = [r for r in await store.outages_between(0, 2e9, station_id) if r["ended"] is None
            and (cause is None or r["cause"] == cause) and (evse is None or r["evse_id"] == evse)]
    return rows if len(rows) == count else None


async def _ended(store, station_id: str):
    rows = await store.outages_between(0, 2e9, station_id)
    return rows if rows and all(r["ended"] is not None for r in rows) else None


async def _none_open(store, station_id: str) -> bool:
    return not any(r["ended"] is None for r in await store.outages_between(0, 2e9, station_id))


def _db_sync(tmp_path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "zaspot.db", timeout=5) as db:
        return db.execute(sql).fetchall()


async def _db(tmp_path, sql: str):
    try:
        return _db_sync(tmp_path, sql)
    except sqlite3.OperationalError:  # not created yet
        return None
