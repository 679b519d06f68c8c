"""Crowds and crashes on a real `zaspot run`: a reconnect storm is served whole,
kill -9 under load loses nothing that was answered, an API client that stops
reading is cut off without slowing the stations."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import uuid

import orjson
import websockets

from tests.helpers import OcppClient, ZaspotProcess

STORM = 2000


async def _boot(url: str, i: int) -> bool:
    for attempt in range(5):  # a station retries a refused connection, as real ones do
        try:
            client = await OcppClient.connect(url, f"STORM-{i:04d}", "1.6" if i % 2 else "2.0.1")
            try:
                reply = await client.boot()
                return reply[0] == 3 and reply[2]["status"] == "Accepted"
            finally:
                await client.close()
        except (OSError, websockets.exceptions.InvalidHandshake):
            await asyncio.sleep(0.2 * (attempt + 1))
    return False


async def test_two_thousand_stations_reconnecting_at_once_are_all_served(zaspot_server):
    results = await asyncio.gather(*(_boot(zaspot_server.url, i) for i in range(STORM)))
    assert sum(results) == STORM
    con = sqlite3.connect(zaspot_server.db)
    try:
        booted = con.execute("SELECT COUNT(*) FROM stations WHERE registration='Accepted'").fetchone()[0]
    finally:
        con.close()
    assert booted == STORM


async def _charge(url: str, index: int, acked: dict[str, int], stop: asyncio.Event) -> None:
    version = "1.6" if index % 2 else "2.0.1"
    station_id = f"LOAD-{index:02d}"
    client = await OcppClient.connect(url, station_id, version)
    await client.boot()
    acked[station_id] = 0
    tx = str(uuid.uuid4())
    if version == "1.6":
        reply = await client.call("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                        "timestamp": "2026-03-01T10:00:00Z"})
        tx = reply[2]["transactionId"]
    seq = 0
    try:
        while not stop.is_set():
            seq += 1
            value = [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [
                {"value": str(seq) if version == "1.6" else seq, "measurand": "Energy.Active.Import.Register"}]}]
            if version == "1.6":
                reply = await client.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": value})
            else:
                reply = await client.call("TransactionEvent", {
                    "eventType": "Started" if seq == 1 else "Updated", "timestamp": "2026-03-01T10:00:00Z",
                    "triggerReason": "MeterValuePeriodic", "seqNo": seq, "transactionInfo": {"transactionId": tx},
                    "evse": {"id": 1, "connectorId": 1}, "meterValue": value})
            if reply[0] == 3:
                acked[station_id] = seq
    except (TimeoutError, websockets.exceptions.ConnectionClosed, OSError):
        pass  # the server was killed under us


async def test_kill_9_under_load_loses_no_answered_message(tmp_path):
    server = ZaspotProcess(tmp_path / "zaspot.db").start()
    acked: dict[str, int] = {}
    stop = asyncio.Event()
    workers = [asyncio.create_task(_charge(server.url, i, acked, stop)) for i in range(20)]
    await asyncio.sleep(2.0)
    server.kill9()
    stop.set()
    await asyncio.gather(*workers)
    assert len(acked) == 20 and sum(acked.values()) > 100
    con = sqlite3.connect(server.db)
    try:
        stored = dict(con.execute(
            "SELECT station_id, MAX(value) FROM meter_samples WHERE measurand='Energy.Active.Import.Register' "
            "GROUP BY station_id").fetchall())
        seqs = dict(con.execute("SELECT station_id, MAX(seq_no) FROM transaction_events GROUP BY station_id").fetchall())
    finally:
        con.close()
    for station_id, last_acked in acked.items():
        # Every message the station was told we had is in the file (one more may be, if
        # it was committed in the instant before the kill and never answered).
        assert stored.get(station_id, 0) >= last_acked, station_id
        if station_id in seqs:
            assert seqs[station_id] >= last_acked, station_id


async def test_an_api_client_that_stops_reading_is_cut_off_and_stations_do_not_notice(zaspot_server):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client on a thin line
    sock.connect(("127.0.0.1", zaspot_server.port))
    slow = await websockets.connect(f"{zaspot_server.url}/api/websocket", sock=sock, max_queue=1)
    await slow.recv()
    await slow.send(orjson.dumps({"type": "auth"}).decode())
    await slow.recv()
    await slow.send(orjson.dumps({"id": 1, "type": "subscribe_events"}).decode())
    # Stop reading. Meanwhile a station keeps talking and must keep getting its answers.
    station = await OcppClient.connect(zaspot_server.url, "BUSY", "1.6")
    await station.boot()
    many = [{"value": str(v), "measurand": "Voltage", "phase": p, "unit": "V"}
            for v in range(10) for p in ("L1-N", "L2-N", "L3-N")]
    for i in range(20_000):
        reply = await station.call("MeterValues", {"connectorId": 1, "meterValue": [
            {"timestamp": "2026-03-01T10:00:00Z", "sampledValue": many}]})
        assert reply[0] == 3
        if i % 250 == 0 and _slow_clients_cut(zaspot_server):
            break
    await station.close()
    assert _slow_clients_cut(zaspot_server) == 1
    sock.close()


def _slow_clients_cut(server: ZaspotProcess) -> int:
    """The server's own count, on /metrics (the client can't see the close behind its backlog)."""
    _, body = server.get("/metrics")
    for line in body.decode().splitlines():
        if line.startswith('zaspot_handshakes_refused_total{reason="api_slow_client"}'):
            return int(float(line.split()[-1]))
    return 0
