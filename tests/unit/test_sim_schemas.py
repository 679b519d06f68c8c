"""Every message kind the simulator sends, and every answer it gives, is valid against
the JSON schemas shipped in the `ocpp` package."""
from __future__ import annotations

import fastjsonschema
import pytest

from zaspot.sim import SimStation, schemas
from zaspot.sim.tinycsms import TinyCSMS

pytestmark = pytest.mark.timeout(30)

SENT = {
    "1.6": {"BootNotification", "StatusNotification", "Heartbeat", "Authorize", "StartTransaction",
            "StopTransaction", "MeterValues"},
    "2.0.1": {"BootNotification", "StatusNotification", "Heartbeat", "Authorize", "TransactionEvent",
              "MeterValues", "NotifyEvent", "NotifyReport"},
}

COMMANDS = {
    "1.6": [
        ("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}),
        ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
        ("TriggerMessage", {"requestedMessage": "BootNotification"}),
        ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}),
        ("GetConfiguration", {}),
        ("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}),
        ("GetCompositeSchedule", {"connectorId": 0, "duration": 60, "chargingRateUnit": "A"}),
        ("ClearChargingProfile", {"id": 1}),
        ("RemoteStartTransaction", {"idTag": "T"}),
        ("RemoteStopTransaction", {"transactionId": 999}),
        ("UnlockConnector", {"connectorId": 9}),
        ("ChangeAvailability", {"connectorId": 0, "type": "Operative"}),
        ("DataTransfer", {"vendorId": "v", "messageId": "m", "data": "d"}),
    ],
    "2.0.1": [
        ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}),
        ("TriggerMessage", {"requestedMessage": "TransactionEvent"}),
        ("TriggerMessage", {"requestedMessage": "BootNotification"}),
        ("TriggerMessage", {"requestedMessage": "LogStatusNotification"}),
        ("GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}),
        ("GetBaseReport", {"requestId": 2, "reportBase": "SummaryInventory"}),
        ("GetVariables", {"getVariableData": [
            {"component": {"name": "AcDcConverter", "instance": "1"}, "variable": {"name": "Temperature"}},
            {"component": {"name": "ChargingStation"}, "variable": {"name": "Nope"}},
            {"component": {"name": "ChargingStation"}, "variable": {"name": "Model"},
             "attributeType": "MaxSet"}]}),
        ("SetVariables", {"setVariableData": [
            {"component": {"name": "ChargingStation"}, "variable": {"name": "Model"}, "attributeValue": "x"},
            {"component": {"name": "AcDcConverter", "instance": "2"}, "variable": {"name": "Enabled"},
             "attributeValue": "false"}]}),
        ("SetVariableMonitoring", {"setMonitoringData": [
            {"value": 1, "type": "Delta", "severity": 1, "component": {"name": "X"}, "variable": {"name": "Y"}}]}),
        ("GetCompositeSchedule", {"evseId": 0, "duration": 60}),
        ("ClearChargingProfile", {}),
        ("RequestStopTransaction", {"transactionId": "none"}),
        ("UnlockConnector", {"evseId": 9, "connectorId": 1}),
        ("ChangeAvailability", {"operationalStatus": "Operative"}),
        ("Reset", {"type": "OnIdle", "evseId": 1}),
    ],
}


@pytest.mark.parametrize("protocol,kind", [("1.6", "ac"), ("1.6", "dc"), ("2.0.1", "ac"), ("2.0.1", "dc")])
async def test_everything_sent_and_answered_is_schema_valid(protocol, kind):
    sid = f"S{protocol[0]}{kind}"
    async with TinyCSMS() as csms:
        st = SimStation(sid, csms.url, protocol=protocol, kind=kind, modules=2, speed=200.0,
                        meter_interval=5.0, heartbeat_interval=10.0, reconnect_delay=1.0)
        await st.start()
        try:
            await st.wait_booted()
            await st.start_transaction(1)
            await st.send_meter_values(2)           # idle connector, no transaction
            for action, payload in COMMANDS[protocol]:
                await csms.call(sid, action, payload)
            await st.run_scenario("overheat", connector_id=1, ramp=10, hold=10)
            await st.run_scenario("ground_failure", connector_id=1, hold=5)
            if kind == "dc":
                await st.run_scenario("module_trip", module=1, hold=5)
            await csms.wait_for(sid, "Heartbeat")
        finally:
            await st.stop()
    assert csms.invalid == []
    for action, payload in st.sent:
        schemas.validate_request(protocol, action, payload)
    for action, payload in st.answered:
        schemas.validate_response(protocol, action, payload)
    assert SENT[protocol] <= {a for a, _ in st.sent}
    assert {a for a, _ in COMMANDS[protocol]} <= {a for a, _ in st.answered} | {"UnknownAction"}


def test_schema_check_rejects_bad_payloads():
    with pytest.raises(fastjsonschema.JsonSchemaException):
        schemas.validate_request("1.6", "StatusNotification", {"connectorId": 1, "status": "Broken"})
    with pytest.raises(fastjsonschema.JsonSchemaException):
        schemas.validate_request("2.0.1", "MeterValues", {"evseId": 1, "meterValue": [
            {"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": "12"}]}]})
