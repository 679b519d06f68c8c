"""Diagnostics end to end: simulated 1.6 and 2.0.1 stations report hot connectors,
ground faults and module trips; alarms open and clear on the bus and in the database."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.helpers import ZaspotProcess
from zaspot.sim import SimStation


async def settle(bus) -> None:
    """Wait until listeners have handled everything, including what they fired themselves."""
    while True:
        fired = bus.fired
        await bus.drain()
        if bus.fired == fired:
            return


async def booted(app, station_id: str, version: str, kind: str = "ac", **kw) -> SimStation:
    st = SimStation(station_id, f"{app.url}/ocpp", version, kind, speed=200, seed=7, **kw)
    await st.start()
    await st.wait_booted()
    if version == "2.0.1":
        await st.wait_for_call("GetBaseReport")
    return st


async def base_report_seen(app, station_id: str) -> None:
    """A 2.0.1 station's base report has arrived (or 5 s passed)."""
    for _ in range(500):
        if any(e.source == "NotifyReport" for e in app.recorder.of("fault") if e.station_id == station_id):
            return
        await asyncio.sleep(0.01)


def ground_failure_problem(component: str, evse: dict) -> dict:
    """A NotifyEvent item: the device model says why the component is faulted."""
    return {"component": {"name": component, "evse": evse}, "variable": {"name": "Problem"},
            "actualValue": "true", "trigger": "Alerting", "techCode": "GroundFailure"}


def alarm_events(app, code: str) -> tuple[list, list]:
    raised = [e for e in app.recorder.of("alarm_raised") if e.code == code]
    cleared = [e for e in app.recorder.of("alarm_cleared") if e.code == code]
    return raised, cleared


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_hot_connector_opens_an_alarm_that_clears_when_it_cools(app, version):
    st = await booted(app, f"HOT-{version}", version)
    await st.run_scenario("overheat", connector_id=1, peak_c=82.0, hold=1)
    await st.stop()
    await settle(app.ctx.bus)

    raised, cleared = alarm_events(app, "OverTemperature")
    assert [(e.component, e.connector_id) for e in raised] == [("connector", 1)]  # once, not per reading
    assert [e.alarm_id for e in cleared] == [raised[0].alarm_id]
    (row,) = await app.ctx.store.alarms(f"HOT-{version}")
    assert row["code"] == "OverTemperature" and row["cleared_at"] >= row["raised_at"]
    history = await app.ctx.store.temperatures_of(f"HOT-{version}", location="connector")
    assert max(r["celsius"] for r in history) >= 80.0


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_ground_failure_is_a_critical_alarm_until_the_connector_recovers(app, version):
    st = await booted(app, f"GND-{version}", version)
    await st.run_scenario("ground_failure", connector_id=2, hold=1)
    await st.stop()
    await settle(app.ctx.bus)

    raised, cleared = alarm_events(app, "GroundFailure")
    assert [(e.component, e.evse_id, e.severity) for e in raised] == [("connector", 2, "critical")]
    assert [e.alarm_id for e in cleared] == [raised[0].alarm_id]
    assert await app.ctx.store.alarms(f"GND-{version}", open_only=True) == []
    assert app.ctx.fleet.stations[f"GND-{version}"].open_alarms == {}
    # 2.0.1 says "Faulted" in the status and "GroundFailure" in the device model: one fault,
    # so what stays in the history is one GroundFailure alarm (a generic one, if it opened
    # first, was closed as superseded by it).
    history = await app.ctx.store.alarms(f"GND-{version}")
    assert [r["code"] for r in history if r["code"] != "Faulted"] == ["GroundFailure"]
    generic = [e for e in app.recorder.of("alarm_cleared") if e.code == "Faulted"]
    assert all(e.superseded_by == "GroundFailure" for e in generic)


async def test_a_2_0_1_faulted_status_after_its_problem_opens_no_second_alarm(app):
    st = await booted(app, "GND-ORDER", "2.0.1")
    await base_report_seen(app, "GND-ORDER")  # it says nothing had a problem
    item = ground_failure_problem("Connector", {"id": 1, "connectorId": 1})
    st.connectors[1].status = "Faulted"        # what its device model reports from now on
    await st.proto.notify_event([item])        # the reason first ...
    await st.proto.send_status(1, "Faulted")   # ... then the status
    await settle(app.ctx.bus)
    open_codes = [r["code"] for r in await app.ctx.store.alarms("GND-ORDER", open_only=True)]
    assert open_codes == ["GroundFailure"]
    await st.stop()


async def test_a_2_0_1_problem_after_its_faulted_status_supersedes_the_generic_alarm(app):
    st = await booted(app, "GND-LATE", "2.0.1")
    await base_report_seen(app, "GND-LATE")  # it says nothing had a problem
    st.connectors[1].status = "Faulted"
    await st.proto.send_status(1, "Faulted")   # the status first: only a generic alarm ...
    await settle(app.ctx.bus)
    assert [r["code"] for r in await app.ctx.store.alarms("GND-LATE", open_only=True)] == ["Faulted"]
    item = ground_failure_problem("Connector", {"id": 1, "connectorId": 1})
    await st.proto.notify_event([item])        # ... then the reason takes its place
    await settle(app.ctx.bus)
    history = await app.ctx.store.alarms("GND-LATE")  # newest first; the history keeps both
    assert [(r["code"], r["superseded_by"], r["cleared_at"] is None) for r in history] == [
        ("GroundFailure", None, True), ("Faulted", "GroundFailure", False)]
    await st.stop()


async def test_a_2_0_1_report_during_a_fault_keeps_its_reason_and_the_recovery_clears_it(app):
    """A base report while the connector is faulted says Problem=true without a techCode: the
    same fault, not a new one that would outlive the recovery (which clears GroundFailure)."""
    st = await booted(app, "GND-REPORT", "2.0.1")
    await base_report_seen(app, "GND-REPORT")
    item = ground_failure_problem("Connector", {"id": 1, "connectorId": 1})
    st.connectors[1].status = "Faulted"
    await st.proto.notify_event([item])
    await st.proto.send_status(1, "Faulted")
    await settle(app.ctx.bus)
    reported = len([e for e in app.recorder.of("fault") if e.source == "NotifyReport"])
    outcome = await app.commands.raw("GND-REPORT", "GetBaseReport", {"requestId": 4242, "reportBase": "FullInventory"},
                                     source="test")
    assert outcome.ok
    for _ in range(500):  # its pages arrive after the answer
        await settle(app.ctx.bus)
        if any(e.source == "NotifyReport" and e.active for e in app.recorder.of("fault")[reported:]):
            break
        await asyncio.sleep(0.01)
    assert [r["code"] for r in await app.ctx.store.alarms("GND-REPORT", open_only=True)] == ["GroundFailure"]
    st.connectors[1].status = "Available"
    await st.proto.notify_event([{**item, "actualValue": "false"}])
    await st.proto.send_status(1, "Available")
    await settle(app.ctx.bus)
    assert await app.ctx.store.alarms("GND-REPORT", open_only=True) == []
    await st.stop()


@pytest.mark.parametrize("reason_first", [True, False])
async def test_a_2_0_1_problem_on_the_whole_evse_is_the_same_fault_as_its_faulted_connector(app, reason_first):
    sid = f"GND-EVSE-{reason_first}"
    st = await booted(app, sid, "2.0.1")
    await base_report_seen(app, sid)  # it says nothing had a problem
    evse_problem = ground_failure_problem("EVSE", {"id": 1})
    st.connectors[1].status = "Faulted"
    if reason_first:
        await st.proto.notify_event([evse_problem])
        await st.proto.send_status(1, "Faulted")
    else:
        await st.proto.send_status(1, "Faulted")
        await settle(app.ctx.bus)
        await st.proto.notify_event([evse_problem])
    await settle(app.ctx.bus)
    open_alarms = await app.ctx.store.alarms(sid, open_only=True)
    assert [(r["component"], r["evse_id"], r["connector_id"], r["code"]) for r in open_alarms] == [
        ("evse", 1, 0, "GroundFailure")]
    superseded = [r["superseded_by"] for r in await app.ctx.store.alarms(sid) if r["code"] == "Faulted"]
    assert superseded == ([] if reason_first else ["GroundFailure"])
    await st.stop()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_tripped_power_module_is_an_alarm_and_shows_in_module_health(app, version):
    st = await booted(app, f"DC-{version}", version, "dc", modules=4)
    if version == "2.0.1":
        await st.wait_for_call("SetVariableMonitoring")
    await st.proto.report_module(2, True)
    await settle(app.ctx.bus)
    station = app.ctx.fleet.stations[f"DC-{version}"]
    (alarm,) = alarm_events(app, "Tripped")[0]
    assert (alarm.component, alarm.instance, alarm.severity) == ("module", "2", "critical")
    assert station.modules["2"].tripped and len(station.open_alarms) == 1
    if version == "2.0.1":  # the whole inventory is known; 1.6 knows what its vendor said
        assert station.module_health == "3/4 ok"

    await st.proto.report_module(2, False)
    await st.stop()
    await settle(app.ctx.bus)
    assert [e.alarm_id for e in alarm_events(app, "Tripped")[1]] == [alarm.alarm_id]
    assert station.module_health == ("4/4 ok" if version == "2.0.1" else "1/1 ok")
    (row,) = await app.ctx.store.alarms(f"DC-{version}")
    assert row["instance"] == "2" and row["cleared_at"] is not None


async def test_a_2_0_1_station_gets_its_inventory_asked_and_monitors_set_on_boot(app):
    st = await booted(app, "DC-INV", "2.0.1", "dc", modules=4)
    await st.wait_for_call("SetVariableMonitoring", count=2)  # 24 monitors, 20 per message
    await settle(app.ctx.bus)
    await st.stop()
    monitors = [m for a, p in st.received if a == "SetVariableMonitoring" for m in p["setMonitoringData"]]

    actions = [a for a, _ in st.received]
    assert actions[0] == "GetBaseReport" and set(actions) == {"GetBaseReport", "SetVariableMonitoring"}
    assert dict(st.received)["GetBaseReport"]["reportBase"] == "FullInventory"
    watched = {(m["component"]["name"], m["component"].get("instance"), m["variable"]["name"], m["type"], m["value"])
               for m in monitors}
    for module in "1234":
        assert ("AcDcConverter", module, "Tripped", "Delta", 1) in watched
        assert ("AcDcConverter", module, "Problem", "Delta", 1) in watched
        assert ("AcDcConverter", module, "Temperature", "UpperThreshold", 80.0) in watched
        assert ("AcDcConverter", module, "Temperature", "LowerThreshold", 75.0) in watched
    assert [r["instance"] for r in await app.ctx.store.power_modules("DC-INV")] == ["1", "2", "3", "4"]
    assert app.ctx.fleet.stations["DC-INV"].module_health == "4/4 ok"


async def test_a_station_that_rejects_monitors_is_polled_with_get_variables(app):
    app.config.diagnostics.poll_interval = 0.01
    st = await booted(app, "DC-POLL", "2.0.1", "dc", modules=2, accept_monitors=False, meter_interval=3600)
    polled = await st.wait_for_call("GetVariables", count=2)
    await settle(app.ctx.bus)
    await st.stop()

    asked = {(d["component"]["name"], d["variable"]["name"]) for d in polled["getVariableData"]}
    assert {("AcDcConverter", "Tripped"), ("AcDcConverter", "Temperature"), ("Connector", "Temperature")} <= asked
    polled_temps = [e for e in app.recorder.of("temperature") if e.source == "GetVariables"]
    assert {e.location for e in polled_temps} >= {"module", "connector", "body"}
    history = await app.ctx.store.temperatures_of("DC-POLL", location="module")
    assert any(r["source"] == "GetVariables" for r in history)


async def test_a_station_back_without_booting_is_watched_again(app):
    """A network drop: the 2.0.1 station reconnects and does not boot. The polling that
    lived in its old session starts again on the new one, after an inventory."""
    app.config.diagnostics.poll_interval = 0.05
    app.config.diagnostics.resume_after = 0.2
    st = await booted(app, "DC-BACK", "2.0.1", "dc", modules=2, accept_monitors=False, meter_interval=3600)
    await st.wait_for_call("GetVariables")
    await st.go_offline(0.1)
    await st.wait_for_call("GetBaseReport", count=2)     # asked again on the new connection
    polls = len([a for a, _ in st.received if a == "GetVariables"])
    await st.wait_for_call("GetVariables", count=polls + 2)  # and polled again
    await st.stop()
    assert st.boot_count == 1                             # it never booted again


def _alarms(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT code, evse_id, cleared_at IS NULL FROM alarms ORDER BY id").fetchall()
    finally:
        con.close()


async def test_an_open_alarm_survives_a_restart_and_is_not_raised_twice(tmp_path):
    server = ZaspotProcess(tmp_path / "zaspot.db").start()
    try:
        st = SimStation("GND-RESTART", f"{server.url}/ocpp", "1.6", "ac", speed=200, seed=8)
        await st.start()
        await st.wait_booted()
        await st.proto.report_problem(1, "GroundFailure", True)
        await st.stop()
        server.stop()
        assert _alarms(server.db) == [("GroundFailure", 1, 1)]

        server.start()  # same database: the alarm is restored as open
        st = SimStation("GND-RESTART", f"{server.url}/ocpp", "1.6", "ac", speed=200, seed=8)
        st.connectors[1].status, st.connectors[1].error_code = "Faulted", "GroundFailure"
        await st.start()
        await st.wait_booted()  # reports the fault again: the same alarm, still open
        await st.proto.report_problem(1, "GroundFailure", False)
        await st.stop()
    finally:
        server.stop()
    assert _alarms(server.db) == [("GroundFailure", 1, 0)]


def _temperature_frame(celsius: float) -> dict:
    return {"connectorId": 1, "meterValue": [{"timestamp": "2030-01-01T00:00:00Z", "sampledValue": [
        {"value": str(celsius), "measurand": "Temperature", "location": "Outlet", "unit": "Celsius"}]}]}


@pytest.mark.parametrize(("model", "raise_at"), [("Wallbox", 70.0), ("HPC-350", 85.0)])
async def test_temperature_alarms_have_hysteresis_and_per_model_limits(app, model, raise_at):
    from tests.helpers import OcppClient
    from zaspot.diagnostics.config import TemperatureLimit

    app.config.diagnostics.temperature.append(TemperatureLimit("connector", 85.0, 80.0, model="HPC-350"))
    client = await OcppClient.connect(app.url, f"T-{model}", "1.6")
    await client.boot(model=model)
    seen = []
    for celsius in (raise_at - 1, raise_at, raise_at - 2, raise_at - 6, raise_at + 1):
        await client.call("MeterValues", _temperature_frame(celsius))
        await settle(app.ctx.bus)
        seen.append(len(app.ctx.fleet.stations[f"T-{model}"].open_alarms))
    await client.close()
    # below the limit, at it, in the gap (still open), below the clear point, up again
    assert seen == [0, 1, 1, 0, 1]
    rows = await app.ctx.store.alarms(f"T-{model}")
    assert [r["cleared_at"] is None for r in rows] == [True, False]  # newest first
