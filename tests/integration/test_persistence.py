"""What stations report lands in SQLite before they get their answer, and survives
a restart and a kill -9 (a real `zaspot run`, a real database file)."""

from __future__ import annotations

import sqlite3
import uuid

from tests.helpers import OcppClient, ZaspotProcess


def rows(db, sql: str, *params) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def meter(ts: str, wh: float, watts: float) -> list[dict]:
    return [{"timestamp": ts, "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": str(watts / 1000), "measurand": "Power.Active.Import", "unit": "kW"},
    ]}]


def tx_event(kind: str, tx: str, seq: int, wh: float, **extra) -> dict:
    payload = {
        "eventType": kind, "timestamp": f"2026-03-01T10:{seq:02d}:00Z", "triggerReason": "MeterValuePeriodic",
        "seqNo": seq, "transactionInfo": {"transactionId": tx},
        "meterValue": [{"timestamp": f"2026-03-01T10:{seq:02d}:00Z", "sampledValue": [
            {"value": wh, "measurand": "Energy.Active.Import.Register"}]}],
    }
    payload.update(extra)
    return payload


async def test_restart_keeps_stations_connectors_transactions_and_samples(tmp_path):
    db = tmp_path / "zaspot.db"
    server = ZaspotProcess(db).start()
    a = await OcppClient.connect(server.url, "AC-16", "1.6")
    await a.boot("Acme", "Wall-16")
    await a.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    start = await a.call("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000,
                                               "timestamp": "2026-03-01T10:00:00Z"})
    tx16 = start[2]["transactionId"]
    await a.call("MeterValues", {"connectorId": 1, "transactionId": tx16, "meterValue": meter("2026-03-01T10:05:00Z", 1500, 7400)})
    b = await OcppClient.connect(server.url, "DC-201", "2.0.1")
    await b.boot("Acme", "Fast-201")
    tx201 = str(uuid.uuid4())
    await b.call("TransactionEvent", tx_event("Started", tx201, 0, 100.0, evse={"id": 1, "connectorId": 1},
                                              idToken={"idToken": "TAG2", "type": "ISO14443"}))
    await a.close()
    await b.close()
    assert server.stop() == 0

    stations = {r["id"]: r for r in rows(db, "SELECT * FROM stations")}
    assert stations["AC-16"]["ocpp_version"] == "1.6" and stations["AC-16"]["model"] == "Wall-16"
    assert stations["DC-201"]["ocpp_version"] == "2.0.1" and stations["DC-201"]["vendor"] == "Acme"
    assert rows(db, "SELECT status FROM connectors WHERE station_id='AC-16'")[0]["status"] == "Charging"
    samples = rows(db, "SELECT measurand, unit, value FROM meter_samples WHERE station_id='AC-16' ORDER BY measurand")
    assert [(s["measurand"], s["unit"], s["value"]) for s in samples] == [
        ("Energy.Active.Import.Register", "Wh", 1500.0), ("Power.Active.Import", "W", 7400.0)]

    # After a restart, the stop closes the right transaction, and the 2.0.1 one ends too.
    server = ZaspotProcess(db).start()
    try:
        a = await OcppClient.connect(server.url, "AC-16", "1.6")
        # Accepted before: it may resume without a new BootNotification.
        stop = await a.call("StopTransaction", {"transactionId": tx16, "meterStop": 4000,
                                                 "timestamp": "2026-03-01T11:00:00Z", "reason": "EVDisconnected"})
        assert stop[0] == 3
        b = await OcppClient.connect(server.url, "DC-201", "2.0.1")
        ended = await b.call("TransactionEvent", tx_event("Ended", tx201, 1, 900.0,
                                                          transactionInfo={"transactionId": tx201, "stoppedReason": "Local"}))
        assert ended[0] == 3
        await a.close()
        await b.close()
    finally:
        server.stop()
    tx = {r["station_id"]: r for r in rows(db, "SELECT * FROM transactions")}
    assert tx["AC-16"]["state"] == "ended" and tx["AC-16"]["meter_stop_wh"] == 4000
    assert tx["AC-16"]["meter_start_wh"] == 1000 and tx["AC-16"]["stop_reason"] == "EVDisconnected"
    assert tx["DC-201"]["state"] == "ended" and tx["DC-201"]["tx_key"] == tx201
    assert tx["DC-201"]["evse_id"] == 1 and tx["DC-201"]["meter_stop_wh"] == 900.0


async def test_kill_9_loses_nothing_that_was_acknowledged(tmp_path):
    db = tmp_path / "zaspot.db"
    server = ZaspotProcess(db).start()
    client = await OcppClient.connect(server.url, "KILLME", "1.6")
    await client.boot()
    start = await client.call("StartTransaction", {"connectorId": 2, "idTag": "T", "meterStart": 0,
                                                    "timestamp": "2026-03-01T10:00:00Z"})
    tx = start[2]["transactionId"]
    acknowledged = 0
    for i in range(200):
        reply = await client.call("MeterValues", {"connectorId": 2, "transactionId": tx,
                                                  "meterValue": meter(f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}Z", i, 1000)})
        assert reply[0] == 3
        acknowledged += 1
    server.kill9()
    stored = rows(db, "SELECT COUNT(*) AS n FROM meter_samples WHERE station_id='KILLME' AND measurand='Energy.Active.Import.Register'")
    assert stored[0]["n"] == acknowledged
    assert rows(db, "SELECT state FROM transactions WHERE id=?", tx)[0]["state"] == "active"

    server = ZaspotProcess(db).start()
    try:
        client = await OcppClient.connect(server.url, "KILLME", "1.6")
        await client.call("StopTransaction", {"transactionId": tx, "meterStop": 5000, "timestamp": "2026-03-01T12:00:00Z"})
        await client.close()
    finally:
        server.stop()
    row = rows(db, "SELECT * FROM transactions WHERE id=?", tx)[0]
    assert (row["state"], row["connector_id"], row["meter_stop_wh"]) == ("ended", 2, 5000)


async def test_repeated_stops_and_seqnos_are_answered_and_stored_once(app):
    a = await OcppClient.connect(app.url, "DUP-16", "1.6")
    await a.boot()
    tx = (await a.call("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 10,
                                            "timestamp": "2026-03-01T10:00:00Z"}))[2]["transactionId"]
    stop = {"transactionId": tx, "meterStop": 500, "timestamp": "2026-03-01T10:30:00Z", "idTag": "T"}
    first, again = await a.call("StopTransaction", stop), await a.call("StopTransaction", stop)
    assert first[2] == again[2] == {"idTagInfo": {"status": "Accepted"}}
    orphan = await a.call("StopTransaction", {"transactionId": 999999, "meterStop": 1, "timestamp": "2026-03-01T10:30:00Z"})
    assert orphan[0] == 3

    b = await OcppClient.connect(app.url, "DUP-201", "2.0.1")
    await b.boot()
    tx201 = "abc-123"
    for kind, seq in [("Started", 0), ("Updated", 1), ("Updated", 1), ("Ended", 2), ("Ended", 2)]:
        extra = {"evse": {"id": 2, "connectorId": 1}} if kind == "Started" else {}
        assert (await b.call("TransactionEvent", tx_event(kind, tx201, seq, 10.0 * seq, **extra)))[0] == 3
    await a.close()
    await b.close()
    await app.ctx.bus.drain()

    store = app.ctx.store
    ended = list(app.recorder.of("transaction_ended"))
    assert sorted(e.transaction_id for e in ended) == sorted([str(tx), "999999", tx201])
    assert len(await store.transaction_events("DUP-201", tx201)) == 3
    assert (await store.transaction("DUP-16", "999999"))["state"] == "orphan"
    row = await store.transaction("DUP-201", tx201)
    assert (row["state"], row["evse_id"], row["meter_stop_wh"]) == ("ended", 2, 20.0)
    samples = [s for s in await store.meter_samples_of("DUP-201") if s["tx_key"] == tx201]
    assert len(samples) == 3  # Started, Updated(1), Ended(2): the repeats added nothing


async def test_heartbeats_are_answered_at_once_and_last_seen_is_written_in_batches(app):
    import time

    client = await OcppClient.connect(app.url, "BEAT", "2.0.1")
    await client.boot()
    before = (await app.ctx.store.station("BEAT"))["last_seen"]
    sent = time.time()
    assert (await client.call("Heartbeat", {}))[0] == 3
    await app.ctx.liveness.flush()  # what the 10 s flush does
    after = (await app.ctx.store.station("BEAT"))["last_seen"]
    assert after >= sent > before
    await client.close()
