"""A status with no error that clears nothing stores no `fault` event (every ordinary
StatusNotification used to store one, code null); a status that ends a fault still
clears it and its alarm, also when the fault was raised before a restart."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import OcppClient
from zaspot.app import App
from zaspot.config import Config

TS = "2026-03-01T10:00:00Z"
CYCLE = {
    "1.6": ["Available", "Preparing", "Charging", "SuspendedEV", "Charging", "Finishing", "Available"],
    "2.0.1": ["Available", "Occupied", "Available", "Reserved", "Occupied", "Unavailable", "Available"],
}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "faults.db"


async def start(db, tmp_path) -> App:
    config = Config(host="127.0.0.1", port=0, db=str(db), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
    return app


async def station(app, station_id: str, version: str) -> OcppClient:
    client = await OcppClient.connect(app.url, station_id, version)
    assert (await client.boot())[2]["status"] == "Accepted"
    return client


async def status(client: OcppClient, connector: int, state: str, error: str = "NoError") -> None:
    if client.ws.subprotocol == "ocpp1.6":
        payload = {"connectorId": connector, "errorCode": error, "status": state, "timestamp": TS}
    else:
        payload = {"timestamp": TS, "connectorStatus": state, "evseId": connector, "connectorId": 1}
    assert (await client.call("StatusNotification", payload))[0] == 3


async def settle(app) -> None:
    bus = app.ctx.bus
    while True:
        fired = bus.fired
        await bus.drain()
        if bus.fired == fired:
            return


def rows(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_ordinary_statuses_store_no_fault_and_a_real_one_still_clears(db, tmp_path):
    app = await start(db, tmp_path)
    try:
        old = await station(app, "QUIET-16", "1.6")
        new = await station(app, "QUIET-201", "2.0.1")
        for _ in range(10):
            await status(old, 0, "Available")  # the whole station
            for state_16, state_201 in zip(CYCLE["1.6"], CYCLE["2.0.1"]):
                for connector in (1, 2):
                    await status(old, connector, state_16)
                await status(new, 1, state_201)
        # One real fault per version, and its end.
        await status(old, 1, "Faulted", "GroundFailure")
        await status(new, 1, "Faulted")
        await settle(app)
        assert {r["code"] for r in await app.ctx.store.alarms(None, open_only=True)} == {"GroundFailure", "Faulted"}
        await status(old, 1, "Available")
        await status(new, 1, "Available")
        await settle(app)
        assert await app.ctx.store.alarms(None, open_only=True) == []
        await old.close()
        await new.close()
    finally:
        await app.stop()  # the recorder writes what it holds
    stored = rows(db, "SELECT station_id, json_extract(data, '$.code'), json_extract(data, '$.active') "
                      "FROM events WHERE type = 'fault' ORDER BY id")
    assert stored == [("QUIET-16", "GroundFailure", 1), ("QUIET-201", "Faulted", 1),
                      ("QUIET-16", None, 0), ("QUIET-201", None, 0)]
    assert rows(db, "SELECT count(*) FROM events WHERE type = 'status_changed'")[0][0] > 150


async def test_a_warning_raised_before_a_restart_is_cleared_after_it(db, tmp_path):
    """Charging with WeakSignal is a warning, not a Faulted status: only the open alarm
    tells the restarted server that the next NoError status ends something."""
    app = await start(db, tmp_path)
    try:
        client = await station(app, "WEAK", "1.6")
        await status(client, 1, "Charging", "WeakSignal")
        await settle(app)
        (alarm,) = await app.ctx.store.alarms("WEAK", open_only=True)
        assert alarm["code"] == "WeakSignal"
        await client.close()
    finally:
        await app.stop()
    app = await start(db, tmp_path)
    try:
        client = await station(app, "WEAK", "1.6")
        await status(client, 2, "Charging")  # another connector: it had nothing to clear
        await status(client, 1, "Charging")
        await settle(app)
        assert await app.ctx.store.alarms("WEAK", open_only=True) == []
        await client.close()
    finally:
        await app.stop()
    stored = rows(db, "SELECT json_extract(data, '$.origin'), json_extract(data, '$.active') "
                      "FROM events WHERE type = 'fault' ORDER BY id")
    assert stored == [("StatusNotification/1/1", 1), ("StatusNotification/1/1", 0)]
