"""Every CALLERROR code a station can earn, on a real `zaspot run`, for both versions.

The connection stays open after each bad frame, and another station never notices.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import OcppClient

V16, V201 = "1.6", "2.0.1"


async def booted(server, station_id: str, version: str) -> OcppClient:
    client = await OcppClient.connect(server.url, station_id, version)
    assert (await client.boot())[2]["status"] == "Accepted"
    return client


@pytest.mark.parametrize(
    ("version", "frame", "message_id", "code"),
    [
        (V201, "this is not json", "-1", "RpcFrameworkError"),
        (V201, '{"not": "an array"}', "-1", "RpcFrameworkError"),
        (V201, '[2, "' + "x" * 37 + '", "Heartbeat", {}]', "-1", "RpcFrameworkError"),
        (V201, '[7, "m1", "Heartbeat", {}]', "m1", "MessageTypeNotSupported"),
        (V201, '[2, "m2", "Heartbeat", []]', "m2", "FormatViolation"),
        (V201, '[2, "m3", "FlyToTheMoon", {}]', "m3", "NotImplemented"),
        (V201, '[2, "m4", "RequestStartTransaction", {"idToken": {"idToken": "a", "type": "Central"}, "remoteStartId": 1}]', "m4", "NotSupported"),
        (V201, '[2, "m5", "Heartbeat", {"surprise": 1}]', "m5", "FormatViolation"),
        (V201, '[2, "m6", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "evseId": 1, "connectorId": 1}]', "m6", "OccurrenceConstraintViolation"),
        (V201, '[2, "m7", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": "one", "connectorId": 1}]', "m7", "TypeConstraintViolation"),
        (V201, '[2, "m8", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Sleeping", "evseId": 1, "connectorId": 1}]', "m8", "PropertyConstraintViolation"),
        (V16, "this is not json", "-1", "FormationViolation"),
        (V16, '[2, "n1", "FlyToTheMoon", {}]', "n1", "NotImplemented"),
        (V16, '[2, "n2", "Reset", {"type": "Soft"}]', "n2", "NotSupported"),
        (V16, '[2, "n3", "Heartbeat", {"surprise": 1}]', "n3", "FormationViolation"),
        (V16, '[2, "n4", "StatusNotification", {"connectorId": 1, "status": "Available"}]', "n4", "OccurenceConstraintViolation"),
        (V16, '[2, "n5", "StatusNotification", {"connectorId": "1", "errorCode": "NoError", "status": "Available"}]', "n5", "TypeConstraintViolation"),
        (V16, '[2, "n6", "BootNotification", {"chargePointVendor": "' + "v" * 21 + '", "chargePointModel": "m"}]', "n6", "TypeConstraintViolation"),
        (V16, '[2, "n7", "StatusNotification", {"connectorId": 1, "errorCode": "Gremlins", "status": "Available"}]', "n7", "PropertyConstraintViolation"),
    ],
)
async def test_bad_frame_gets_the_spec_callerror_and_the_connection_survives(
    zaspot_server, version, frame, message_id, code
):
    client = await booted(zaspot_server, f"CP-{version}", version)
    bystander = await booted(zaspot_server, f"BY-{version}", version)
    try:
        reply = await client.send_raw(frame)
        assert reply[:3] == [4, message_id, code], reply
        assert reply[3]  # a description a human can read
        # Same connection still works, and the other station never noticed.
        assert (await client.call("Heartbeat", {}))[0] == 3
        assert (await bystander.call("Heartbeat", {}))[0] == 3
    finally:
        await client.close()
        await bystander.close()


@pytest.mark.parametrize("version", [V16, V201])
async def test_any_call_before_boot_is_a_security_error(zaspot_server, version):
    client = await OcppClient.connect(zaspot_server.url, "NEWBIE", version)
    try:
        reply = await client.call("Heartbeat", {})
        assert reply[0] == 4 and reply[2] == "SecurityError"
        assert (await client.boot())[2]["status"] == "Accepted"
        assert (await client.call("Heartbeat", {}))[0] == 3
    finally:
        await client.close()


@pytest.mark.parametrize("version", [V16, V201])
async def test_binary_frame_is_refused_without_closing(zaspot_server, version):
    client = await booted(zaspot_server, "BIN", version)
    try:
        reply = await client.send_raw(b"\x00\xff binary")
        expected = "RpcFrameworkError" if version == V201 else "FormationViolation"
        assert reply[:3] == [4, "-1", expected]
        assert (await client.call("Heartbeat", {}))[0] == 3
    finally:
        await client.close()


async def test_callerrors_are_counted_in_metrics(zaspot_server):
    client = await booted(zaspot_server, "COUNT", V201)
    await client.send_raw('[2, "a", "FlyToTheMoon", {}]')
    await client.close()
    await asyncio.sleep(0.1)
    status, body = zaspot_server.get("/metrics")
    assert status == 200
    assert 'zaspot_call_errors_total{code="NotImplemented",version="2.0.1"} 1.0' in body.decode()
