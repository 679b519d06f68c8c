"""Simulator against the plain ocpp-library baseline central system (in process)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from zaspot.bench import baseline
from zaspot.sim import Fleet, SimStation

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def url():
    async with baseline.start_server() as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ocpp"


def _station(url, sid, protocol, kind="ac", **kw):
    kw.setdefault("speed", 200.0)
    kw.setdefault("meter_interval", 10.0)
    kw.setdefault("heartbeat_interval", 20.0)
    return SimStation(sid, url, protocol=protocol, kind=kind, validate=True, seed=7, **kw)


def _sent(st, action):
    return [p for a, p in st.sent if a == action]


async def test_boot_and_status_16(url):
    st = _station(url, "CP16", "1.6")
    await st.start()
    try:
        await st.wait_booted()
        assert st.boot_count == 1
        statuses = _sent(st, "StatusNotification")
        assert [s["connectorId"] for s in statuses] == [0, 1, 2]
        assert all(s["status"] == "Available" for s in statuses)
    finally:
        await st.stop()


async def test_transaction_16_uses_server_transaction_id(url):
    st = _station(url, "CP16TX", "1.6", kind="dc", modules=2)
    await st.start()
    try:
        await st.wait_booted()
        tx = await st.start_transaction(1)
        assert isinstance(tx, int)
        while len([m for m in _sent(st, "MeterValues") if m.get("transactionId") == tx]) < 2:
            await asyncio.sleep(0.02)
        await st.stop_transaction(1)
    finally:
        await st.stop()
    assert [a for a, _ in st.sent if a in ("Authorize", "StartTransaction", "StopTransaction")] == \
        ["Authorize", "StartTransaction", "StopTransaction"]
    stop = _sent(st, "StopTransaction")[0]
    start = _sent(st, "StartTransaction")[0]
    assert stop["transactionId"] == tx and stop["meterStop"] >= start["meterStart"]
    meters = [m for m in _sent(st, "MeterValues") if m.get("transactionId") == tx]
    energy = [float(sv["value"]) for m in meters for sv in m["meterValue"][0]["sampledValue"]
              if sv["measurand"] == "Energy.Active.Import.Register"]
    assert energy == sorted(energy) and energy[-1] > energy[0]
    measurands = {sv["measurand"] for m in meters for sv in m["meterValue"][0]["sampledValue"]}
    assert {"Power.Active.Import", "Current.Import", "Voltage", "SoC", "Temperature"} <= measurands
    locations = {sv.get("location") for m in meters for sv in m["meterValue"][0]["sampledValue"]
                 if sv["measurand"] == "Temperature"}
    assert locations <= {"Body", "Cable", "EV", "Inlet", "Outlet"} and "Body" in locations


async def test_transaction_201_seqno_and_uuid(url):
    st = _station(url, "CP201TX", "2.0.1", kind="dc", modules=3)
    await st.start()
    try:
        await st.wait_booted()
        tx = await st.start_transaction(2)
        uuid.UUID(tx)
        while len(_sent(st, "TransactionEvent")) < 3:
            await asyncio.sleep(0.02)
        await st.stop_transaction(2, "Remote")
    finally:
        await st.stop()
    events = [e for e in _sent(st, "TransactionEvent") if e["transactionInfo"]["transactionId"] == tx]
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"
    assert {e["eventType"] for e in events[1:-1]} == {"Updated"}
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    temps = [d for n in _sent(st, "NotifyEvent") for d in n["eventData"]
             if d["variable"]["name"] == "Temperature"]
    assert {d["component"]["name"] for d in temps} >= {"Connector", "ChargingStation", "AcDcConverter"}


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_fault_scenarios(url, protocol):
    st = _station(url, f"CPF{protocol[0]}", protocol, kind="dc", modules=2, reconnect_delay=1.0)
    await st.start()
    try:
        await st.wait_booted()
        await st.run_scenario("overheat", connector_id=1, ramp=10, hold=10)
        await st.run_scenario("ground_failure", connector_id=2, hold=5)
        await st.run_scenario("module_trip", module=2, hold=5)
        before = len(st.sent)
        await st.run_scenario("offline", hold=20)
        await st.wait_booted()
        await st.send_meter_values(1)   # the link is back
    finally:
        await st.stop()
    assert st.boot_count == 1 and len(st.sent) > before      # offline: reconnect, no reboot
    assert not [e for e in st.errors if "Schema" in e]
    if protocol == "1.6":
        temps = [float(sv["value"]) for m in _sent(st, "MeterValues") if m["connectorId"] == 1
                 for sv in m["meterValue"][0]["sampledValue"]
                 if sv["measurand"] == "Temperature" and sv["location"] == "Outlet"]
        faults = [(s["status"], s["errorCode"]) for s in _sent(st, "StatusNotification")
                  if s["connectorId"] == 2]
        assert ("Faulted", "GroundFailure") in faults and faults[-1] == ("Available", "NoError")
        trips = [s for s in _sent(st, "StatusNotification") if s["connectorId"] == 0]
        codes = [t["errorCode"] for t in trips]
        assert "NoError" in codes[codes.index("OtherError"):]
    else:
        data = [d for n in _sent(st, "NotifyEvent") for d in n["eventData"]]
        temps = [float(d["actualValue"]) for d in data if d["component"]["name"] == "Connector"
                 and d["variable"]["name"] == "Temperature" and d["component"]["evse"]["id"] == 1]
        problem = [d["actualValue"] for d in data if d["variable"]["name"] == "Problem"]
        assert problem == ["true", "false"]
        tripped = [(d["component"]["instance"], d["actualValue"]) for d in data
                   if d["variable"]["name"] == "Tripped"]
        assert tripped == [("2", "true"), ("2", "false")]
        assert ("Faulted", 2) in [(s["connectorStatus"], s["evseId"])
                                  for s in _sent(st, "StatusNotification")]
    assert max(temps) > 70 and temps[-1] < 70


async def test_fleet_mixed_boots(url):
    fleet = Fleet(url, stations=6, protocol="mixed", speed=200.0, validate=True)
    await fleet.start()
    try:
        await fleet.wait_booted(timeout=10)
        fleet.start_scenario("charging", duration=600)
        await asyncio.sleep(0.5)
    finally:
        await fleet.stop()
    assert {s.protocol for s in fleet} == {"1.6", "2.0.1"}
    assert {s.kind for s in fleet} == {"ac", "dc"}
    assert all(s.boot_count == 1 for s in fleet)


async def test_simulate_cli(url, capsys):
    import argparse

    from zaspot.sim import cli
    parser = argparse.ArgumentParser(prog="zaspot")
    cli.configure(parser.add_subparsers())
    args = parser.parse_args(["simulate", "--url", url, "--stations", "4", "--protocol", "mixed",
                              "--scenario", "module_trip", "--duration", "0.5", "--speed", "100"])
    assert args.func is cli.run
    assert await cli.simulate(args) == 0
    out = capsys.readouterr().out
    assert "4 stations booted" in out and "0 errors" in out
