"""2.0.1 remote starts: each RequestStartTransaction has its own remoteStartId (its
commands row id), also after a restart (it used to count from 1 in every process), and
the transaction the station starts for it names that command and the id token sent."""

from __future__ import annotations

import asyncio
import sqlite3

import orjson

from tests.helpers import OcppClient, ZaspotProcess, start_app
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.sim import SimStation

TS = "2026-03-01T10:00:00Z"


async def start(tmp_path) -> App:
    return await start_app(tmp_path, "rs.db")


async def answer_next(client: OcppClient, payload: dict, expect: str) -> list:
    """Answer the server's next `expect` CALL; what else it asks (inventory) is declined."""
    while True:
        frame = orjson.loads(await asyncio.wait_for(client.ws.recv(), 5))
        assert frame[0] == 2
        if frame[2] == expect:
            await client.ws.send(orjson.dumps([3, frame[1], payload]).decode())
            return frame
        await client.ws.send(orjson.dumps([4, frame[1], "NotSupported", "no device model here", {}]).decode())


async def remote_start(app, client: OcppClient, station_id: str, token: str) -> int:
    """A remote start the station accepts; returns the remoteStartId it was sent."""
    task = asyncio.create_task(app.commands.remote_start(station_id, token, evse_id=1))
    call = await answer_next(client, {"status": "Accepted"}, "RequestStartTransaction")
    assert (await task).ok
    return call[3]["remoteStartId"]


async def started(app, station_id: str) -> dict:
    """The station's one transaction, once its Started event is stored (the simulator's
    meter loop may send an Updated first)."""
    for _ in range(500):
        rows = await app.ctx.store.transactions(station_id)
        if rows and any(e["event_type"] == "Started"
                        for e in await app.ctx.store.transaction_events(station_id, rows[0]["tx_key"])):
            (tx,) = rows
            return await app.ctx.store.transaction(station_id, tx["tx_key"])  # as the Started left it
        await asyncio.sleep(0.01)
    raise AssertionError(f"no Started transaction from {station_id}")


async def test_remote_start_ids_differ_across_starts_and_restarts(tmp_path):
    """Two runs of a real `zaspot run` on one database, two remote starts each, sent
    through the operator API."""
    server = ZaspotProcess(tmp_path / "rs.db")
    sent = []
    for _ in range(2):
        server.start()
        try:
            station = await OcppClient.connect(server.url, "RS-IDS", "2.0.1")
            await station.boot()
            async with ZaspotClient(f"{server.url}/api/websocket") as api:
                for n in range(2):
                    task = asyncio.create_task(api.command(
                        "command/remote_start", station_id="RS-IDS", id_token=f"DRIVER-{n}", evse_id=1))
                    call = await answer_next(station, {"status": "Accepted"}, "RequestStartTransaction")
                    assert (await task)["ok"]
                    sent.append(call[3]["remoteStartId"])
            await station.close()
        finally:
            server.stop()
    assert all(isinstance(i, int) and not isinstance(i, bool) for i in sent)
    assert len(set(sent)) == 4, sent
    # Each is its command's row id: the row of a remoteStartId tells what was sent.
    with sqlite3.connect(server.db) as db:
        commands = db.execute("SELECT id, json_extract(payload, '$.idToken.idToken') FROM commands "
                              "WHERE action = 'RequestStartTransaction' ORDER BY id").fetchall()
    assert commands == list(zip(sent, ["DRIVER-0", "DRIVER-1", "DRIVER-0", "DRIVER-1"]))


async def test_the_transaction_a_remote_start_caused_names_its_id_and_token(tmp_path):
    app = await start(tmp_path)
    try:
        st = SimStation("RS-SIM", f"{app.url}/ocpp", "2.0.1", "ac", speed=200, seed=3)
        await st.start()
        await st.wait_booted()
        outcome = await app.commands.remote_start("RS-SIM", "DRIVER-7", evse_id=1)
        assert outcome.ok
        (command,) = [c for c in await app.ctx.store.commands("RS-SIM") if c["action"] == "RequestStartTransaction"]
        tx = await started(app, "RS-SIM")
        assert (tx["remote_start_id"], tx["id_token"]) == (command["id"], "DRIVER-7")
        await st.stop()
    finally:
        await app.stop()


async def test_a_remote_start_without_the_token_in_the_event_takes_the_token_sent(tmp_path):
    """A station may leave idToken out of the TransactionEvent it starts for a remote
    start: the remoteStartId names the command, and the command the token."""
    app = await start(tmp_path)
    try:
        client = await OcppClient.connect(app.url, "RS-BARE", "2.0.1")
        await client.boot()
        remote_start_id = await remote_start(app, client, "RS-BARE", "DRIVER-9")
        started = await client.call("TransactionEvent", {
            "eventType": "Started", "timestamp": TS, "triggerReason": "RemoteStart", "seqNo": 0,
            "transactionInfo": {"transactionId": "tx-bare", "remoteStartId": remote_start_id},
            "evse": {"id": 1, "connectorId": 1}})
        assert started[0] == 3
        tx = await app.ctx.store.transaction("RS-BARE", "tx-bare")
        assert (tx["remote_start_id"], tx["id_token"]) == (remote_start_id, "DRIVER-9")
        await client.close()
    finally:
        await app.stop()
