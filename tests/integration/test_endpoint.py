"""The endpoint contract on a real `zaspot run`: paths, subprotocols, takeover, HTTP probes."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers import OcppClient, ZaspotProcess


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [(["ocpp1.6"], "ocpp1.6"), (["ocpp2.0.1"], "ocpp2.0.1"), (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1")],
)
async def test_version_is_what_the_handshake_chose(zaspot_server, offered, chosen):
    async with websockets.connect(f"{zaspot_server.url}/ocpp/CP-{len(offered)}", subprotocols=offered) as ws:
        assert ws.subprotocol == chosen


async def test_bare_station_path_works(zaspot_server):
    async with websockets.connect(f"{zaspot_server.url}/BARE-1", subprotocols=["ocpp1.6"]) as ws:
        client = OcppClient(ws)
        assert (await client.boot())[2]["status"] == "Accepted"


@pytest.mark.parametrize("offered", [["ocpp1.5"], None])
async def test_handshake_without_a_supported_subprotocol_is_refused_with_a_reason(zaspot_server, offered):
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{zaspot_server.url}/ocpp/OLD", subprotocols=offered):
            pass
    response = refused.value.response
    assert response.status_code == 400
    assert b"subprotocol" in response.body


@pytest.mark.parametrize("path", ["/ocpp/" + "x" * 49, "/ocpp/a%20b", "/ocpp/..", "/other/place/CP1", "/ocpp/%2e%2e", "/"])
async def test_bad_station_ids_are_refused(zaspot_server, path):
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{zaspot_server.url}{path}", subprotocols=["ocpp1.6"]):
            pass
    assert refused.value.response.status_code == 404
    assert b"station id" in refused.value.response.body


async def test_second_connection_with_the_same_id_takes_over(zaspot_server):
    first = await OcppClient.connect(zaspot_server.url, "TWIN", "1.6")
    await first.boot()
    second = await OcppClient.connect(zaspot_server.url, "TWIN", "1.6")
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(first.ws.recv(), 5)
    assert first.ws.close_reason == "replaced by a new connection"
    assert (await second.call("Heartbeat", {}))[0] == 3  # resumes: it was accepted before
    status, body = zaspot_server.get("/healthz")
    assert status == 200 and orjson.loads(body)["stations_connected"] == 1
    await second.close()


async def test_healthz_and_metrics(zaspot_server):
    client = await OcppClient.connect(zaspot_server.url, "PROBE", "2.0.1")
    await client.boot()
    await client.call("Heartbeat", {})
    status, body = zaspot_server.get("/healthz")
    assert status == 200 and orjson.loads(body) == {"up": True, "database_ok": True, "stations_connected": 1}
    status, body = zaspot_server.get("/metrics")
    text = body.decode()
    assert status == 200
    assert 'zaspot_messages_in_total{action="Heartbeat",version="2.0.1"} 1.0' in text
    assert "zaspot_stations_connected 1.0" in text
    store = {name: float(value) for name, value in (line.split() for line in text.splitlines()
                                                     if line.startswith("zaspot_store_"))}
    assert store["zaspot_store_write_errors_total"] == 0
    assert store["zaspot_store_writes_total"] >= store["zaspot_store_commits_total"] >= 1
    assert store["zaspot_store_batches_on_loop_total"] >= 1  # the boot's small batch
    await client.close()


async def test_unknown_station_policy_reject_and_pending(tmp_path):
    from tests.helpers import ZaspotProcess

    for policy, expected in (("reject", "Rejected"), ("pending", "Pending")):
        config = tmp_path / f"{policy}.yaml"
        config.write_text(f"ocpp:\n  unknown_stations: {policy}\nstations:\n  - id: KNOWN\n")
        server = ZaspotProcess(tmp_path / f"{policy}.db", config=config).start()
        try:
            stranger = await OcppClient.connect(server.url, "STRANGER", "1.6")
            assert (await stranger.boot())[2]["status"] == expected
            assert (await stranger.call("Heartbeat", {}))[2] == "SecurityError"
            known = await OcppClient.connect(server.url, "KNOWN", "2.0.1")
            assert (await known.boot())[2]["status"] == "Accepted"
            await stranger.close()
            await known.close()
        finally:
            server.stop()


async def test_compression_set_in_the_config_is_ignored_with_a_warning_and_stations_connect(tmp_path):
    """ocpp.compression used to turn permessage-deflate on; the endpoint has none now. A
    config that still sets it starts, says so once, and a station that offers deflate is
    answered without it (the extension is optional for the client) and served as usual."""
    config = tmp_path / "zaspot.yaml"
    config.write_text("ocpp:\n  compression: true\n")
    server = ZaspotProcess(tmp_path / "zaspot.db", config=config).start()
    try:
        async with websockets.connect(f"{server.url}/ocpp/DEFLATE", subprotocols=["ocpp1.6"],
                                      compression="deflate") as ws:
            assert ws.protocol.extensions == []  # no permessage-deflate was agreed
            assert (await OcppClient(ws).boot())[2]["status"] == "Accepted"
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count("ocpp.compression is set, but the station endpoint does not compress") == 1
