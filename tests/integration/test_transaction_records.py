"""What a transaction's record keeps when stations do what real ones do: a second
Started after an Immediate reset, meter values that arrive after the end."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import OcppClient, start_app
from zaspot.app import App


@pytest.fixture
async def app(tmp_path):
    app = await start_app(tmp_path)
    yield app
    await app.stop()


def _tx_event(kind: str, seq: int, ts: str, energy: float, trigger: str = "Authorized", evse: bool = True) -> dict:
    payload = {
        "eventType": kind, "timestamp": ts, "triggerReason": trigger, "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-1"},
        "meterValue": [{"timestamp": ts, "sampledValue": [{"value": energy}]}],
    }
    if evse:
        payload["evse"] = {"id": 1, "connectorId": 1}
    return payload


def _db(app: App) -> sqlite3.Connection:
    return sqlite3.connect(app.config.db)


async def test_a_second_started_keeps_the_first_start_time(app):
    station = await OcppClient.connect(app.url, "CP201", "2.0.1")
    await station.boot()
    assert (await station.call("TransactionEvent", _tx_event("Started", 0, "2026-03-01T10:00:00Z", 100)))[0] == 3
    # The station reset Immediately and reports the same transaction as Started again.
    again = _tx_event("Started", 1, "2026-03-01T10:05:00Z", 150, trigger="ChargingStateChanged")
    assert (await station.call("TransactionEvent", again))[0] == 3
    db = _db(app)
    started_at, meter_start = db.execute(
        "SELECT started_at, meter_start_wh FROM transactions WHERE tx_key = 'TX-1'").fetchone()
    assert (started_at, meter_start) == (1772359200.0, 100.0)  # 2026-03-01T10:00:00Z
    starts = db.execute("SELECT COUNT(*) FROM events WHERE type = 'transaction_started'").fetchone()[0]
    assert starts == 1  # one transaction, started once
    await station.close()


async def test_meter_values_after_the_end_are_kept_and_marked(app):
    v16 = await OcppClient.connect(app.url, "CP16", "1.6")
    await v16.boot()
    start = await v16.call("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                "timestamp": "2026-03-01T10:00:00Z"})
    tx = start[2]["transactionId"]
    await v16.call("StopTransaction", {"transactionId": tx, "meterStop": 500, "timestamp": "2026-03-01T11:00:00Z",
                                       "transactionData": [{"timestamp": "2026-03-01T10:59:00Z",
                                                            "sampledValue": [{"value": "499"}]}]})
    late = {"connectorId": 1, "transactionId": tx,
            "meterValue": [{"timestamp": "2026-03-01T11:01:00Z", "sampledValue": [{"value": "501"}]}]}
    assert (await v16.call("MeterValues", late))[0] == 3

    v201 = await OcppClient.connect(app.url, "CP201", "2.0.1")
    await v201.boot()
    await v201.call("TransactionEvent", _tx_event("Started", 0, "2026-03-01T10:00:00Z", 100))
    await v201.call("TransactionEvent", _tx_event("Ended", 1, "2026-03-01T11:00:00Z", 600))
    after = _tx_event("Updated", 2, "2026-03-01T11:01:00Z", 601, trigger="MeterValuePeriodic", evse=False)
    assert (await v201.call("TransactionEvent", after))[0] == 3

    rows = _db(app).execute(
        "SELECT station_id, value, after_tx_end FROM meter_samples ORDER BY station_id, ts").fetchall()
    assert rows == [
        ("CP16", 499.0, None), ("CP16", 501.0, 1),
        ("CP201", 100.0, None), ("CP201", 600.0, None), ("CP201", 601.0, 1),
    ]
    await v16.close()
    await v201.close()


async def test_an_updated_that_overtakes_its_started_still_starts_the_transaction(app):
    station = await OcppClient.connect(app.url, "CP201", "2.0.1")
    await station.boot()
    early = _tx_event("Updated", 0, "2026-03-01T10:00:01Z", 101, trigger="MeterValuePeriodic")
    assert (await station.call("TransactionEvent", early))[0] == 3
    assert (await station.call("TransactionEvent", _tx_event("Started", 1, "2026-03-01T10:00:00Z", 100)))[0] == 3
    kinds = [r[0] for r in _db(app).execute("SELECT type FROM events WHERE type LIKE 'transaction_%' ORDER BY id")]
    assert kinds == ["transaction_updated", "transaction_started"]
    assert app.ctx.fleet.stations["CP201"].connectors[1, 1].transaction_id == "TX-1"
    await station.close()
