"""A tiny in-test central system sends the simulated stations its calls."""
from __future__ import annotations

import asyncio

import pytest

from zaspot.sim import SimStation
from zaspot.sim.tinycsms import TinyCSMS

pytestmark = pytest.mark.timeout(30)

PROFILE_16 = {"chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
              "chargingProfileKind": "Absolute", "chargingSchedule": {
                  "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}
PROFILE_201 = {"id": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute", "chargingSchedule": [{
                   "id": 1, "chargingRateUnit": "W", "startSchedule": "2024-01-01T00:00:00Z",
                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}]}


def _station(csms, sid, protocol, **kw):
    return SimStation(sid, csms.url, protocol=protocol, speed=100.0, meter_interval=5.0,
                      heartbeat_interval=1000.0, reconnect_delay=1.0, validate=True, **kw)


async def test_commands_16():
    async with TinyCSMS(boot_pending=1) as csms:
        st = _station(csms, "C16", "1.6", features={"firmware": "reject"})  # UpdateFirmware: a CALLERROR
        await st.start()
        try:
            await st.wait_booted()
            call = lambda a, p: csms.call("C16", a, p)  # noqa: E731
            assert await call("RemoteStartTransaction", {"idTag": "RFID1", "connectorId": 1}) == \
                ("result", {"status": "Accepted"})
            await csms.wait_for("C16", "StartTransaction")
            assert (await call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE_16}))[1] \
                == {"status": "Accepted"}
            assert st.connectors[1].limit_w == pytest.approx(16 * 230 * 3)
            sched = (await call("GetCompositeSchedule", {"connectorId": 1, "duration": 600}))[1]
            assert sched["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == pytest.approx(11040)
            assert (await call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"}))[1] \
                == {"status": "Accepted"} and st.heartbeat_interval == 30
            assert (await call("ChangeConfiguration", {"key": "Nope", "value": "1"}))[1]["status"] == "NotSupported"
            conf = (await call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}))[1]
            assert conf["configurationKey"][0]["value"] == "30" and conf["unknownKey"] == ["Nope"]
            assert (await call("TriggerMessage", {"requestedMessage": "Heartbeat"}))[1] == {"status": "Accepted"}
            await csms.wait_for("C16", "Heartbeat")
            assert (await call("ClearChargingProfile", {}))[1] == {"status": "Accepted"}
            assert st.connectors[1].limit_w is None
            assert (await call("DataTransfer", {"vendorId": "x"}))[1]["status"] == "Accepted"
            assert (await call("RemoteStopTransaction", {"transactionId": 4242}))[1] == {"status": "Accepted"}
            await csms.wait_for("C16", "StopTransaction")
            assert (await call("UnlockConnector", {"connectorId": 1}))[1] == {"status": "Unlocked"}
            assert (await call("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}))[1] \
                == {"status": "Accepted"}
            assert (await call("UpdateFirmware", {"location": "http://x", "retrieveDate": "2024-01-01T00:00:00Z"}))[0] \
                == "error"
            assert (await call("Reset", {"type": "Hard"}))[1] == {"status": "Accepted"}
            await csms.wait_for("C16", "BootNotification", count=3)    # Pending, Accepted, after reset
            await st.wait_booted()
        finally:
            await st.stop()
    assert [a for a, _ in st.received] == [
        "RemoteStartTransaction", "SetChargingProfile", "GetCompositeSchedule", "ChangeConfiguration",
        "ChangeConfiguration", "GetConfiguration", "TriggerMessage", "ClearChargingProfile",
        "DataTransfer", "RemoteStopTransaction", "UnlockConnector", "ChangeAvailability",
        "UpdateFirmware", "Reset"]
    assert st.received[-1] == ("Reset", {"type": "Hard"})
    assert st.boot_count == 2 and len(csms.connections) == 2
    assert ("Unavailable", 2) in [(p["status"], p["connectorId"]) for s, a, p in csms.received
                                  if a == "StatusNotification"]
    assert csms.invalid == []


async def test_commands_201_and_base_report():
    async with TinyCSMS() as csms:
        st = _station(csms, "C201", "2.0.1", kind="dc", modules=3)
        await st.start()
        try:
            await st.wait_booted()
            call = lambda a, p: csms.call("C201", a, p)  # noqa: E731
            assert (await call("GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}))[1] \
                == {"status": "Accepted"}
            await _wait_report_done(csms)
            temp = {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                    "variable": {"name": "Temperature"}}
            got = (await call("GetVariables", {"getVariableData": [
                temp, {"component": {"name": "Bogus"}, "variable": {"name": "X"}}]}))[1]["getVariableResult"]
            assert got[0]["attributeStatus"] == "Accepted" and float(got[0]["attributeValue"]) > 0
            assert got[1]["attributeStatus"] == "UnknownComponent"
            hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                  "attributeValue": "45"}
            res = (await call("SetVariables", {"setVariableData": [hb]}))[1]["setVariableResult"]
            assert res[0]["attributeStatus"] == "Accepted" and st.heartbeat_interval == 45
            mon = (await call("SetVariableMonitoring", {"setMonitoringData": [
                {"value": 70, "type": "UpperThreshold", "severity": 4, **temp}]}))[1]
            assert mon["setMonitoringResult"][0]["status"] == "Accepted"
            assert (await call("RequestStartTransaction", {"idToken": {"idToken": "T1", "type": "ISO14443"},
                                                          "remoteStartId": 3, "evseId": 2}))[1]["status"] == "Accepted"
            started = await _started(csms, "C201")
            assert started["transactionInfo"]["remoteStartId"] == 3
            assert (await call("SetChargingProfile", {"evseId": 2, "chargingProfile": PROFILE_201}))[1] \
                == {"status": "Accepted"}
            assert st.connectors[2].limit_w == 11000.0
            st.connectors[2].step(10.0)
            assert 0 < st.connectors[2].power_w <= 11000.0
            assert (await call("TriggerMessage", {"requestedMessage": "StatusNotification"}))[1]["status"] \
                == "Accepted"
            assert (await call("ClearChargingProfile", {}))[1]["status"] == "Accepted"
            tx = started["transactionInfo"]["transactionId"]
            assert (await call("RequestStopTransaction", {"transactionId": tx}))[1] == {"status": "Accepted"}
            await csms.wait_for("C201", "TransactionEvent", count=2)
            assert (await call("UnlockConnector", {"evseId": 1, "connectorId": 1}))[1] == {"status": "Unlocked"}
            assert (await call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1}}))[1]["status"] == "Accepted"
            assert (await call("DataTransfer", {"vendorId": "x"}))[1]["status"] == "Accepted"
            assert await call("CostUpdated", {"totalCost": 1.0, "transactionId": "x"}) == ("result", {})  # #18
            assert (await call("Reset", {"type": "Immediate"}))[1] == {"status": "Accepted"}
            boot = await csms.wait_for("C201", "BootNotification", count=2)
            assert boot["reason"] == "RemoteReset"
        finally:
            await st.stop()
    assert [a for a, _ in st.received][:3] == ["GetBaseReport", "GetVariables", "SetVariables"]
    assert csms.invalid == []


async def _started(csms, sid):
    """The station's TransactionEvent Started (its meter loop may send an Updated first)."""
    async def poll():
        while True:
            hits = [p for s, a, p in csms.received if s == sid and a == "TransactionEvent"
                    and p["eventType"] == "Started"]
            if hits:
                return hits[0]
            await asyncio.sleep(0.01)
    return await asyncio.wait_for(poll(), 5)


async def _wait_report_done(csms):
    last, n = {"tbc": True}, 0
    while last["tbc"]:
        n += 1
        last = await csms.wait_for("C201", "NotifyReport", count=n)
    pages = [p for s, a, p in csms.received if a == "NotifyReport"]
    assert [p["seqNo"] for p in pages] == list(range(len(pages))) and len(pages) > 1
    assert all(p["tbc"] for p in pages[:-1])
    data = [d for p in pages for d in p.get("reportData", [])]
    conv = {(d["component"].get("instance"), d["variable"]["name"]) for d in data
            if d["component"]["name"] == "AcDcConverter"}
    assert conv == {(str(i), v) for i in (1, 2, 3) for v in ("Enabled", "Problem", "Tripped", "Temperature")}


def _amps_profile(version: str, amps: float) -> dict:
    """SetChargingProfile for EVSE / connector 1 capping it at `amps` per phase."""
    periods = [{"startPeriod": 0, "limit": amps}]
    if version == "1.6":
        return {"connectorId": 1, "csChargingProfiles": {
            **PROFILE_16, "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": periods}}}
    return {"evseId": 1, "chargingProfile": {**PROFILE_201, "chargingSchedule": [
        {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": periods}]}}


def _composite(version: str, unit: str) -> dict:
    where = {"connectorId": 1} if version == "1.6" else {"evseId": 1}
    return {**where, "duration": 60, "chargingRateUnit": unit}


def _now_limit(version: str, answer: dict) -> float:
    schedule = answer["chargingSchedule"] if version == "1.6" else answer["schedule"]
    (period,) = schedule["chargingSchedulePeriod"]
    assert period["startPeriod"] == 0
    return period["limit"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_profile_answers_refuse_ignore_silent(version):
    """How a station takes SetChargingProfile (`profile_answer`), and GetCompositeSchedule
    saying what it really does, in both versions' schemas (TinyCSMS checks every answer)."""
    sid = f"PA{version.replace('.', '')}"
    async with TinyCSMS() as csms:
        st = _station(csms, sid, version)
        await st.start()
        try:
            await st.wait_booted()

            async def profile(amps: float) -> dict:
                return (await csms.call(sid, "SetChargingProfile", _amps_profile(version, amps)))[1]

            async def composite(unit: str = "A") -> float:
                kind, answer = await csms.call(sid, "GetCompositeSchedule", _composite(version, unit))
                assert kind == "result" and answer["status"] == "Accepted"
                return _now_limit(version, answer)

            assert await composite() == pytest.approx(31.9, abs=0.05)  # nothing in force: its rating, 22 kW
            assert await profile(20) == {"status": "Accepted"} and st.limit_a(1) == pytest.approx(20)
            assert await composite() == 20.0 and await composite("W") == 13800.0

            st.profile_answer = "refuse_decrease"  # keeps its room: no lower limit, a higher one is fine
            assert await profile(10) == {"status": "Rejected"} and st.limit_a(1) == pytest.approx(20)
            assert await profile(25) == {"status": "Accepted"} and st.limit_a(1) == pytest.approx(25)
            st.profile_answer = "refuse"
            assert await profile(30) == {"status": "Rejected"} and await profile(6) == {"status": "Rejected"}
            assert st.limit_a(1) == pytest.approx(25)

            st.profile_answer = "ignore"  # says yes, does nothing, and its schedule tells the truth
            assert await profile(6) == {"status": "Accepted"} and st.limit_a(1) == pytest.approx(25)
            assert await composite() == 25.0
            st.connectors[1].start()
            st.connectors[1].step(10.0)
            assert st.connectors[1].power_w > 6 * 690

            st.profile_answer = "silent"  # never answers; the link goes on answering the rest
            unanswered = asyncio.create_task(csms.call(sid, "SetChargingProfile", _amps_profile(version, 8), timeout=60))
            await st.wait_for_call("SetChargingProfile", count=7)
            assert await composite() == 25.0
            assert not unanswered.done() and st.limit_a(1) == pytest.approx(25)
            assert [a for a, _ in st.answered].count("SetChargingProfile") == 6
            unanswered.cancel()

            st.profile_answer = "accept"
            assert await profile(8) == {"status": "Accepted"} and await composite() == 8.0
        finally:
            await st.stop()
    assert csms.invalid == []


def test_profile_answer_is_checked():
    with pytest.raises(ValueError, match="profile_answer"):
        SimStation("X", "ws://127.0.0.1:1/ocpp", profile_answer="maybe")
