"""Bad peers and bad days: lenient stations, oversized frames, silent handshakes,
crowded addresses, a database that cannot write. Nothing crashes; nobody else notices."""

from __future__ import annotations

import asyncio
import socket
import sqlite3

import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers import OcppClient
from zaspot.app import App
from zaspot.config import Config, StationConfig


@pytest.fixture
async def tuned_app(tmp_path):
    """An in-process server whose config each test adjusts before start."""
    apps = []

    async def start(**ocpp):
        config = Config(host="127.0.0.1", port=0, db=str(tmp_path / f"z{len(apps)}.db"), rules=str(tmp_path / "rules"))
        config.ocpp.ping_interval = 0
        for key, value in ocpp.items():
            if key == "stations":
                config.stations = value
            else:
                setattr(config.ocpp, key, value)
        app = App(config)
        await app.start()
        app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop()


LONG_SERIAL = "SN-" + "9" * 30  # CiString25 allows 25


async def test_lenient_station_is_mended_and_the_deviation_recorded(tuned_app):
    app = await tuned_app(stations=[StationConfig(id="SLOPPY", lenient=True)])
    sloppy = await OcppClient.connect(app.url, "SLOPPY", "1.6")
    boot = await sloppy.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Old",
                                                  "chargePointSerialNumber": LONG_SERIAL})
    assert boot[0] == 3 and boot[2]["status"] == "Accepted"
    meter = await sloppy.call("MeterValues", {"connectorId": "1", "meterValue": [{
        "timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": "12", "unit": "wh"}]}]})
    assert meter[0] == 3
    strict = await OcppClient.connect(app.url, "STRICT", "1.6")
    refused = await strict.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Old",
                                                     "chargePointSerialNumber": LONG_SERIAL})
    assert refused[2] == "TypeConstraintViolation"
    await sloppy.close()
    await strict.close()

    station = await app.ctx.store.station("SLOPPY")
    assert station["serial"] == LONG_SERIAL[:25]
    samples = await app.ctx.store.meter_samples_of("SLOPPY")
    assert [(s["connector_id"], s["unit"], s["value"]) for s in samples] == [(1, "Wh", 12.0)]
    recorded = [e["data"]["payload"] for e in await app.ctx.store.events("SLOPPY")
                if e["data"].get("action") == "SchemaDeviation"]
    rules = sorted(d["rule"] for r in recorded for d in r["deviations"])
    assert rules == ["enum", "maxLength", "type"]
    assert app.ctx.metrics.schema_deviations == 3


async def test_lenient_by_model(tuned_app):
    app = await tuned_app(lenient_models=["Old"])
    client = await OcppClient.connect(app.url, "ANY", "2.0.1")
    boot = await client.call("BootNotification", {"reason": "PowerUp", "chargingStation": {
        "vendorName": "Acme", "model": "Old", "serialNumber": "x" * 40}})
    assert boot[0] == 3
    await client.close()


async def test_oversized_frame_closes_with_1009_and_others_carry_on(tuned_app):
    app = await tuned_app(max_frame_bytes=4096)
    big = await OcppClient.connect(app.url, "BIG", "1.6")
    other = await OcppClient.connect(app.url, "OTHER", "1.6")
    await big.boot()
    await other.boot()
    await big.ws.send(orjson.dumps([2, "1", "DataTransfer", {"vendorId": "x", "data": "y" * 10_000}]).decode())
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(big.ws.recv(), 5)
    assert big.ws.close_code == 1009
    assert (await other.call("Heartbeat", {}))[0] == 3
    await other.close()


async def test_a_handshake_that_never_completes_is_dropped(tuned_app):
    app = await tuned_app(handshake_timeout=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", app.server.port)
    writer.write(b"GET /ocpp/SLOW HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server hung up
    writer.close()


async def test_too_many_connections_from_one_address_are_limited(tuned_app):
    app = await tuned_app(max_connections_per_address=2)
    first = await OcppClient.connect(app.url, "A1", "1.6")
    second = await OcppClient.connect(app.url, "A2", "1.6")
    with pytest.raises(InvalidStatus) as refused:
        await OcppClient.connect(app.url, "A3", "1.6")
    assert refused.value.response.status_code == 429
    await first.close()
    await asyncio.sleep(0.1)
    third = await OcppClient.connect(app.url, "A3", "1.6")  # a slot freed up
    for client in (second, third):
        await client.close()


async def test_a_database_that_cannot_write_gets_internal_error_and_the_operator_sees_it(tuned_app):
    app = await tuned_app()
    client = await OcppClient.connect(app.url, "LOCKED", "1.6")
    await client.boot()
    tx = (await client.call("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                 "timestamp": "2026-03-01T10:00:00Z"}))[2]["transactionId"]
    blocker = sqlite3.connect(app.config.db, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")  # someone else holds the write lock past our busy timeout
    try:
        reply = await client.call("StopTransaction", {"transactionId": tx, "meterStop": 10,
                                                      "timestamp": "2026-03-01T11:00:00Z"})
        assert reply[0] == 4 and reply[2] == "InternalError"  # the station keeps it and retries
        assert app.ctx.store.healthy is False
    finally:
        blocker.rollback()
        blocker.close()
    retry = await client.call("StopTransaction", {"transactionId": tx, "meterStop": 10,
                                                  "timestamp": "2026-03-01T11:00:00Z"})
    assert retry[0] == 3
    assert (await app.ctx.store.transaction("LOCKED", str(tx)))["state"] == "ended"
    assert app.ctx.store.healthy is True
    await client.close()


async def test_no_subprotocol_and_plain_tcp_garbage_do_not_hurt_the_server(tuned_app):
    app = await tuned_app(handshake_timeout=0.5)
    with socket.create_connection(("127.0.0.1", app.server.port)) as raw:
        raw.sendall(b"\x16\x03\x01 definitely not http\r\n\r\n")
        raw.settimeout(5)
        answer = await asyncio.to_thread(raw.recv, 100)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400")  # refused or hung up, never stuck
    with pytest.raises(InvalidStatus):
        async with websockets.connect(f"{app.url}/ocpp/X", subprotocols=["mqtt"]):
            pass
    client = await OcppClient.connect(app.url, "STILL-FINE", "2.0.1")
    assert (await client.boot())[0] == 3
    await client.close()
