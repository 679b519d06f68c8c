"""Messages answered from the frame callback (a Heartbeat, a MeterValues once committed)
keep the guarantees of the reader loop: answers in the order of their CALLs, nothing
answered before it is stored, a failed commit answered with InternalError and kept on
the retry. A real in-process server, a real WebSocket client, a real SQLite file."""

from __future__ import annotations

import sqlite3

import orjson

from tests.helpers import OcppClient, start_app, until


def _meter(value: str) -> dict[str, object]:
    return {"connectorId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [
        {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}


async def _stored_energy(app, station_id: str) -> list[float]:
    rows = await app.ctx.store.meter_samples_of(station_id)
    return [row["value"] for row in rows if row["measurand"] == "Energy.Active.Import.Register"]


async def test_calls_sent_without_waiting_are_answered_in_the_order_they_came(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await OcppClient.connect(app.url, "EAGER", "1.6")
        await client.boot()
        calls = [
            ("a", "MeterValues", _meter("100")),
            ("b", "Heartbeat", {}),
            ("c", "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}),
            ("d", "MeterValues", _meter("200")),
            ("e", "Heartbeat", {}),
        ]
        for message_id, action, payload in calls:  # a station that does not wait for its answers
            await client.ws.send(orjson.dumps([2, message_id, action, payload]).decode())
        answers = [await client.reply() for _ in calls]
        assert [(a[0], a[1]) for a in answers] == [(3, message_id) for message_id, _, _ in calls]
        # Each MeterValues was stored before its answer went: both are there now.
        assert sorted(await _stored_energy(app, "EAGER")) == [100.0, 200.0]
        await client.close()
    finally:
        await app.stop()


async def test_a_meter_value_the_store_cannot_write_is_refused_then_kept_once_on_the_retry(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await OcppClient.connect(app.url, "LOCKED", "1.6")
        await client.boot()
        assert (await client.call("MeterValues", _meter("100")))[0] == 3
        blocker = sqlite3.connect(app.config.db, timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")  # someone else holds the write lock past our busy timeout
        try:
            refused = await client.call("MeterValues", _meter("200"))
            assert refused[0] == 4 and refused[2] == "InternalError"  # the station keeps it and retries
            assert "MeterValues could not be processed" in refused[3]
            # The connection stays up and answers what needs no write.
            assert (await client.call("Heartbeat", {}))[0] == 3
        finally:
            blocker.rollback()
            blocker.close()
        assert (await client.call("MeterValues", _meter("200")))[0] == 3
        assert sorted(await until(lambda: _stored_energy(app, "LOCKED"), what="both values")) == [100.0, 200.0]
        await client.close()
    finally:
        await app.stop()


async def test_a_station_that_leaves_before_its_answer_costs_nothing_and_its_value_is_kept(tmp_path):
    app = await start_app(tmp_path)
    try:
        client = await OcppClient.connect(app.url, "GONE", "1.6")
        await client.boot()
        await client.ws.send(orjson.dumps([2, "m1", "MeterValues", _meter("300")]).decode())
        await client.ws.close()  # without reading the answer
        assert await until(lambda: _stored_energy(app, "GONE"), what="the value") == [300.0]
        await until(lambda: app.ctx.fleet.station("GONE").connected is False, what="disconnected")
        # The server goes on serving: a new connection of the same station is answered.
        again = await OcppClient.connect(app.url, "GONE", "1.6")
        assert (await again.call("Heartbeat", {}))[0] == 3
        await again.close()
    finally:
        await app.stop()
