"""Stale transactions, both versions, through exact frames: a station that boots again
with a transaction open gets it closed as stale with its last meter reading; the real
stop it sends afterwards still wins; a silent transaction is closed by the sweeper,
also at start for one that went quiet while the server was down."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import OcppClient
from zaspot.app import App
from zaspot.config import Config


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def start(tmp_path, stale_after: float = 86400.0, db: str = "stale.db") -> App:
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / db), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.transactions.stale_after = stale_after
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    return app


def row(app: App, station_id: str, tx_key: str) -> dict[str, Any]:
    db = sqlite3.connect(app.config.db)
    db.row_factory = sqlite3.Row
    found = db.execute("SELECT * FROM transactions WHERE station_id = ? AND tx_key = ?",
                       (station_id, tx_key)).fetchone()
    db.close()
    return dict(found)


def events(app: App, station_id: str, kind: str) -> list[str]:
    db = sqlite3.connect(app.config.db)
    found = [r[0] for r in db.execute("SELECT data FROM events WHERE station_id = ? AND type = ? ORDER BY id",
                                      (station_id, kind))]
    db.close()
    return found


async def until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


def energy(wh: float, ts: float) -> list[dict[str, Any]]:
    return [{"timestamp": iso(ts), "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register"}]}]


async def test_a_1_6_station_that_boots_again_has_its_transaction_closed_then_its_late_stop_wins(tmp_path):
    app = await start(tmp_path)
    try:
        t0 = time.time() - 600
        cp = await OcppClient.connect(app.url, "ST-16", "1.6")
        await cp.boot()
        start_tx = await cp.call("StartTransaction", {"connectorId": 1, "idTag": "CARD", "meterStart": 1000,
                                                      "timestamp": iso(t0)})
        tx = str(start_tx[2]["transactionId"])
        await cp.call("MeterValues", {"connectorId": 1, "transactionId": int(tx), "meterValue": energy(1500, t0 + 60)})
        await cp.call("MeterValues", {"connectorId": 1, "transactionId": int(tx), "meterValue": energy(1700, t0 + 120)})
        assert app.ctx.fleet.stations["ST-16"].connector(1, 1).transaction_id == tx

        await cp.boot()  # it lost power and came back: the transaction is gone from its memory
        closed = row(app, "ST-16", tx)
        assert (closed["state"], closed["meter_stop_wh"], closed["stop_reason"]) == (
            "stale", 1700.0, "Stale: station rebooted")
        assert closed["stopped_at"] == pytest.approx(t0 + 120, abs=0.01)  # the last reading's time
        assert len(events(app, "ST-16", "transaction_stale")) == 1
        assert len(events(app, "ST-16", "transaction_ended")) == 1
        assert app.ctx.fleet.stations["ST-16"].connector(1, 1).transaction_id is None

        # It had the stop queued after all: the real one is stored whole and answered as usual.
        stop = await cp.call("StopTransaction", {"transactionId": int(tx), "meterStop": 1800, "idTag": "CARD",
                                                 "timestamp": iso(t0 + 130), "reason": "PowerLoss"})
        assert stop[0] == 3 and stop[2]["idTagInfo"]["status"] == "Accepted"
        ended = row(app, "ST-16", tx)
        assert (ended["state"], ended["meter_stop_wh"], ended["stop_reason"]) == ("ended", 1800.0, "PowerLoss")
        assert ended["stopped_at"] == pytest.approx(t0 + 130, abs=0.01)
        await cp.close()
    finally:
        await app.stop()


def tx_event(kind: str, seq: int, ts: float, wh: float, **info: Any) -> dict[str, Any]:
    return {"eventType": kind, "timestamp": iso(ts), "triggerReason": "Authorized", "seqNo": seq,
            "transactionInfo": {"transactionId": "TX-9", **info}, "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "CARD", "type": "ISO14443"},
            "meterValue": [{"timestamp": iso(ts), "sampledValue": [{"value": wh}]}]}


async def boot_201(cp: OcppClient, reason: str) -> None:
    reply = await cp.call("BootNotification", {"chargingStation": {"vendorName": "Acme", "model": "W2"},
                                               "reason": reason})
    assert reply[2]["status"] == "Accepted"


async def test_a_2_0_1_station_that_boots_again_has_its_transaction_closed_then_its_late_end_wins(tmp_path):
    app = await start(tmp_path)
    try:
        t0 = time.time() - 600
        cp = await OcppClient.connect(app.url, "ST-201", "2.0.1")
        await boot_201(cp, "PowerUp")
        await cp.call("TransactionEvent", tx_event("Started", 0, t0, 100))
        await cp.call("TransactionEvent", tx_event("Updated", 1, t0 + 60, 400))
        await boot_201(cp, "Triggered")  # we asked it to say who it is: no reboot, nothing closed
        assert row(app, "ST-201", "TX-9")["state"] == "active"

        await boot_201(cp, "PowerUp")
        closed = row(app, "ST-201", "TX-9")
        assert (closed["state"], closed["meter_stop_wh"], closed["stop_reason"]) == (
            "stale", 400.0, "Stale: station rebooted")
        [stale] = events(app, "ST-201", "transaction_stale")
        assert '"meter_stop_wh":400.0' in stale and '"reason":"Stale: station rebooted"' in stale

        late = tx_event("Ended", 2, t0 + 90, 450, stoppedReason="PowerLoss")
        assert (await cp.call("TransactionEvent", late))[0] == 3
        ended = row(app, "ST-201", "TX-9")
        assert (ended["state"], ended["meter_stop_wh"], ended["stop_reason"]) == ("ended", 450.0, "PowerLoss")
        await cp.close()
    finally:
        await app.stop()


async def test_a_silent_transaction_is_closed_by_the_sweeper(tmp_path):
    app = await start(tmp_path, stale_after=1.0)
    try:
        cp = await OcppClient.connect(app.url, "QUIET", "1.6")
        await cp.boot()
        started = await cp.call("StartTransaction", {"connectorId": 2, "idTag": "CARD", "meterStart": 50,
                                                     "timestamp": iso(time.time())})
        tx = str(started[2]["transactionId"])
        closed = await until(lambda: row(app, "QUIET", tx)["state"] == "stale" and row(app, "QUIET", tx),
                             "the silent transaction closed as stale")
        assert (closed["meter_stop_wh"], closed["stop_reason"]) == (50.0, "Stale: silent for 1 s")
        assert len(events(app, "QUIET", "transaction_stale")) == 1
        await cp.close()
    finally:
        await app.stop()


async def test_a_transaction_that_went_quiet_while_the_server_was_down_is_closed_at_start(tmp_path):
    app = await start(tmp_path, db="down.db")
    cp = await OcppClient.connect(app.url, "GONE", "1.6")
    await cp.boot()
    two_days_ago = time.time() - 2 * 86400
    started = await cp.call("StartTransaction", {"connectorId": 1, "idTag": "CARD", "meterStart": 7,
                                                 "timestamp": iso(two_days_ago)})
    tx = str(started[2]["transactionId"])
    fresh = await cp.call("StartTransaction", {"connectorId": 2, "idTag": "CARD", "meterStart": 9,
                                               "timestamp": iso(time.time())})
    await cp.close()
    await app.stop()  # heard just now, but by a process that is gone: at start, the store's times count

    app = await start(tmp_path, db="down.db")
    try:
        closed = row(app, "GONE", tx)
        assert (closed["state"], closed["stop_reason"]) == ("stale", "Stale: silent for 24 h")
        assert row(app, "GONE", str(fresh[2]["transactionId"]))["state"] == "active"
    finally:
        await app.stop()
