"""A payload nested deeper than zaspot can keep gets one clear CALLERROR, the same on
every retry (it used to parse, fail to be stored and earn InternalError forever); one
within the limit is answered and kept whole. On a real `zaspot run`."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from tests.helpers import OcppClient
from zaspot.ocpp.rpc import MAX_PAYLOAD_DEPTH


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def data_transfer(message_id: str, data: str) -> str:
    return f'[2, "{message_id}", "DataTransfer", {{"vendorId": "acme", "messageId": "deep", "data": {data}}}]'


@pytest.mark.parametrize(("version", "code"), [("2.0.1", "FormatViolation"), ("1.6", "FormationViolation")])
@pytest.mark.parametrize("depth", [MAX_PAYLOAD_DEPTH, 300, 1000, 3000])  # 3000: past orjson's own 1,024
async def test_too_deep_a_payload_gets_the_same_format_error_on_every_retry(zaspot_server, version, code, depth):
    client = await OcppClient.connect(zaspot_server.url, f"DEEP-{version}", version)
    assert (await client.boot())[2]["status"] == "Accepted"
    try:
        for _ in range(3):  # a station retries what was not accepted
            reply = await client.send_raw(data_transfer("deep-1", nested(depth)))
            assert reply[:3] == [4, "deep-1", code], reply
            assert "nested deeper than" in reply[3]
        assert (await client.call("Heartbeat", {}))[0] == 3  # the connection is fine
    finally:
        await client.close()


async def test_a_deep_but_allowed_payload_is_answered_and_kept_whole(zaspot_server):
    client = await OcppClient.connect(zaspot_server.url, "DEEP-OK", "2.0.1")
    assert (await client.boot())[2]["status"] == "Accepted"
    depth = MAX_PAYLOAD_DEPTH - 1  # the payload object is the first level, data the second
    try:
        reply = await client.send_raw(data_transfer("ok-1", nested(depth)))
        assert reply[0] == 3 and reply[1] == "ok-1", reply
    finally:
        await client.close()
    with sqlite3.connect(zaspot_server.db) as db:
        (data,) = db.execute(
            "SELECT data FROM events WHERE station_id = 'DEEP-OK' AND type = 'device_event'").fetchone()
    assert orjson.loads(data)["payload"]["data"] == orjson.loads(nested(depth))
