"""Version-neutral commands reach stations of both versions as the right CALL,
and every outcome (accepted, rejected, CALLERROR, timeout, offline) is recorded."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from tests.helpers import OcppClient


async def answer_next(client: OcppClient, payload: dict, expect: str) -> list:
    """Answer the server's next `expect` CALL; returns it. Calls the server makes on its
    own (diagnostics asks a 2.0.1 station for its inventory at boot) are refused, as a
    station without a device model would."""
    while True:
        frame = orjson.loads(await asyncio.wait_for(client.ws.recv(), 5))
        assert frame[0] == 2
        if frame[2] == expect:
            await client.ws.send(orjson.dumps([3, frame[1], payload]).decode())
            return frame
        await client.ws.send(orjson.dumps([4, frame[1], "NotSupported", "no device model here", {}]).decode())


@pytest.mark.parametrize(
    ("version", "command", "kwargs", "action", "payload", "answer"),
    [
        ("1.6", "reset", {"kind": "hard"}, "Reset", {"type": "Hard"}, {"status": "Accepted"}),
        ("2.0.1", "reset", {"kind": "soft"}, "Reset", {"type": "OnIdle"}, {"status": "Accepted"}),
        ("2.0.1", "reset", {"kind": "hard"}, "Reset", {"type": "Immediate"}, {"status": "Scheduled"}),
        ("1.6", "change_availability", {"operative": False, "evse_id": 2}, "ChangeAvailability",
         {"connectorId": 2, "type": "Inoperative"}, {"status": "Accepted"}),
        ("2.0.1", "change_availability", {"operative": False, "evse_id": 2}, "ChangeAvailability",
         {"operationalStatus": "Inoperative", "evse": {"id": 2}}, {"status": "Accepted"}),
        ("1.6", "unlock_connector", {"connector_id": 1}, "UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
        ("2.0.1", "unlock_connector", {"evse_id": 1, "connector_id": 1}, "UnlockConnector",
         {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}),
        ("1.6", "remote_stop", {"transaction_id": "42"}, "RemoteStopTransaction", {"transactionId": 42}, {"status": "Accepted"}),
        ("2.0.1", "remote_stop", {"transaction_id": "tx-9"}, "RequestStopTransaction", {"transactionId": "tx-9"}, {"status": "Accepted"}),
        ("1.6", "trigger_message", {"message": "StatusNotification", "connector_id": 1}, "TriggerMessage",
         {"requestedMessage": "StatusNotification", "connectorId": 1}, {"status": "Accepted"}),
        ("1.6", "data_transfer", {"vendor_id": "acme", "data": "hi"}, "DataTransfer", {"vendorId": "acme", "data": "hi"}, {"status": "Accepted"}),
    ],
)
async def test_command_is_translated_for_the_station_version(app, version, command, kwargs, action, payload, answer):
    client = await OcppClient.connect(app.url, f"CMD-{version}", version)
    await client.boot()
    task = asyncio.create_task(getattr(app.commands, command)(f"CMD-{version}", **kwargs))
    call = await answer_next(client, answer, action)
    outcome = await task
    assert (call[2], call[3]) == (action, payload)
    assert outcome.ok and outcome.status == answer["status"]
    recorded = (await app.ctx.store.commands(f"CMD-{version}"))[0]
    assert (recorded["command"], recorded["action"], recorded["ok"], recorded["status"]) == (command, action, 1, answer["status"])
    await client.close()


async def test_remote_start_2_0_1_carries_an_id_token_and_remote_start_id(app):
    client = await OcppClient.connect(app.url, "RS", "2.0.1")
    await client.boot()
    task = asyncio.create_task(app.commands.remote_start("RS", "DRIVER-7", evse_id=1))
    call = await answer_next(client, {"status": "Accepted"}, "RequestStartTransaction")
    assert call[3]["idToken"] == {"idToken": "DRIVER-7", "type": "Central"} and call[3]["evseId"] == 1
    assert isinstance(call[3]["remoteStartId"], int)
    assert (await task).ok
    await client.close()


async def test_get_and_set_variables_both_versions(app):
    old = await OcppClient.connect(app.url, "VAR16", "1.6")
    await old.boot()
    task = asyncio.create_task(app.commands.get_variables("VAR16", ["HeartbeatInterval", "Nope"]))
    call = await answer_next(old, expect="GetConfiguration", payload={"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
                                   "unknownKey": ["Nope"]})
    assert call[2:] == ["GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}]
    outcome = await task
    assert [(r["name"], r["value"], r["status"]) for r in outcome.result] == [
        ("HeartbeatInterval", "300", "Accepted"), ("Nope", None, "UnknownVariable")]
    task = asyncio.create_task(app.commands.set_variables("VAR16", {"HeartbeatInterval": 60, "MeterValueSampleInterval": 30}))
    first = await answer_next(old, {"status": "Accepted"}, "ChangeConfiguration")
    second = await answer_next(old, {"status": "Rejected"}, "ChangeConfiguration")
    assert first[2:] == ["ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}]
    assert second[3]["key"] == "MeterValueSampleInterval"
    outcome = await task
    assert not outcome.ok and [r["status"] for r in outcome.result] == ["Accepted", "Rejected"]

    new = await OcppClient.connect(app.url, "VAR201", "2.0.1")
    await new.boot()
    task = asyncio.create_task(app.commands.get_variables("VAR201", ["AcDcConverter[2].Temperature"]))
    call = await answer_next(new, expect="GetVariables", payload={"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "51.5",
                                   "component": {"name": "AcDcConverter", "instance": "2"}, "variable": {"name": "Temperature"}}]})
    assert call[3] == {"getVariableData": [{"component": {"name": "AcDcConverter", "instance": "2"}, "variable": {"name": "Temperature"}}]}
    assert (await task).result == [{"name": "AcDcConverter[2].Temperature", "value": "51.5", "status": "Accepted"}]
    await old.close()
    await new.close()


async def test_failures_are_clear_outcomes_not_exceptions(app):
    app.config.ocpp.call_timeout = 0.5
    client = await OcppClient.connect(app.url, "MUTE", "1.6")
    await client.boot()
    timeout = await app.commands.reset("MUTE")  # the station never answers
    assert not timeout.ok and timeout.reason == "timeout" and "did not answer Reset" in timeout.error
    await app.ctx.bus.drain()
    assert [(e.station_id, e.action) for e in app.recorder.of("station_unresponsive")] == [("MUTE", "Reset")]

    task = asyncio.create_task(app.commands.reset("MUTE"))
    await client.ws.recv()  # the first (timed-out) CALL
    call = orjson.loads(await client.ws.recv())
    await client.ws.send(orjson.dumps([4, call[1], "NotSupported", "no resets here", {}]).decode())
    refused = await task
    assert not refused.ok and refused.reason == "call_error" and "NotSupported" in refused.error

    task = asyncio.create_task(app.commands.reset("MUTE"))
    await answer_next(client, {"status": "Rejected"}, "Reset")
    rejected = await task
    assert not rejected.ok and rejected.status == "Rejected"

    offline = await app.commands.reset("NOBODY")
    assert not offline.ok and offline.reason == "not_connected"
    await client.close()
    results = [e for e in app.recorder.events if e.type == "command_result"]
    await app.ctx.bus.drain()
    results = app.recorder.of("command_result")
    assert [r.ok for r in results] == [False, False, False]
