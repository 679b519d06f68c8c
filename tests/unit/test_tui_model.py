"""The TUI's plain parts: events folded into rows, cells, actions, the power limit line."""

from __future__ import annotations

import pytest

from zaspot.tui.actions import BY_NAME, arguments, defaults
from zaspot.tui.cells import cells
from zaspot.tui.model import FleetModel
from zaspot.tui.station_data import power_limit

NOW = 1_795_600_000.0


def fleet_row(sid: str = "CP1") -> dict:
    return {"id": sid, "ocpp_version": "1.6", "vendor": "Acme", "model": "AC22", "last_seen": NOW - 5,
            "state": {"online": True, "connectors": [
                {"evse_id": 1, "connector_id": 1, "status": "Available"},
                {"evse_id": 2, "connector_id": 2, "status": "Charging", "power_w": 7000.0, "energy_wh": 10_500.0,
                 "transaction_id": "12"}],
                "temperatures": {"connector@2/2": 40.0}, "modules": {}, "open_alarms": {}}}


@pytest.fixture
def model() -> FleetModel:
    m = FleetModel(clock=lambda: NOW)
    m.load([fleet_row()], [{"station_id": "CP1", "evse_id": 2, "connector_id": 2, "state": "active",
                            "meter_start_wh": 10_000.0}])
    m.take_dirty()
    return m


def test_a_fault_marks_the_station_and_shows_in_its_cells(model):
    model.apply({"type": "status_changed", "station_id": "CP1", "time": NOW, "evse_id": 1, "connector_id": 1,
                 "status": "Faulted", "error_code": "GroundFailure"})
    model.apply({"type": "alarm_raised", "station_id": "CP1", "time": NOW, "alarm_id": 3, "code": "GroundFailure"})
    assert model.take_dirty() == {"CP1"}
    row = cells(model.stations["CP1"], NOW)
    assert "FAULT(Ground failure)" in row["connectors"].plain  # the error code by name
    assert row["alarms"].plain == "1 Ground failure"
    assert "red" in str(row["station"].style)
    assert model.matching("alarm") == ["CP1"] and model.matching("offline") == []


def test_power_energy_modules_and_temperature(model):
    model.apply({"type": "meter_sample", "station_id": "CP1", "evse_id": 2, "connector_id": 2, "samples": [
        {"measurand": "Power.Active.Import", "value": 11_000.0},
        {"measurand": "Energy.Active.Import.Register", "value": 12_500.0}]})
    model.apply({"type": "power_module", "station_id": "CP1", "instance": "1", "enabled": True, "tripped": True})
    model.apply({"type": "power_module", "station_id": "CP1", "instance": "2", "enabled": True})
    model.apply({"type": "temperature", "station_id": "CP1", "location": "module", "instance": "1", "celsius": 81.0})
    row = cells(model.stations["CP1"], NOW)
    assert (row["power"], row["today"], row["modules"].plain, row["hottest"].plain) == ("11.0 kW", "2.5 kWh", "1/2 ok", "81 °C")
    model.apply({"type": "transaction_ended", "station_id": "CP1", "evse_id": 2, "connector_id": 2,
                 "transaction_id": "12", "energy_wh": 2_600.0})
    assert cells(model.stations["CP1"], NOW)["today"] == "2.6 kWh"


def test_offline_and_a_new_station(model):
    model.apply({"type": "station_offline", "station_id": "CP1", "time": NOW})
    model.apply({"type": "station_connected", "station_id": "CP2", "ocpp_version": "2.0.1", "time": NOW})
    assert model.structure_changed
    assert cells(model.stations["CP1"], NOW)["link"].plain == "offline"
    assert model.totals()["online"] == 1


def test_action_defaults_and_arguments(model):
    st = model.stations["CP1"]
    assert defaults(BY_NAME["remote_stop"], st) == {"transaction_id": "12"}
    assert defaults(BY_NAME["remote_start"], st)["evse_id"] == "1"  # the free one
    assert arguments(BY_NAME["set_limit"], {"kw": "7.5", "evse_id": "0"}) == {"kw": 7.5, "evse_id": 0}
    assert arguments(BY_NAME["reset_hard"], {}) == {"kind": "hard"}
    assert arguments(BY_NAME["availability"], {"operative": "Inoperative", "evse_id": "1"})["operative"] is False
    with pytest.raises(ValueError, match="Limit in kW: expected a number"):
        arguments(BY_NAME["set_limit"], {"kw": "lots", "evse_id": "0"})


def test_power_limit_names_who_set_it_and_the_intents_behind_it():
    rule = {"source": "rule:overheat", "amps": 15.9, "kw": 11.0, "reason": "hot", "until": None}
    ems = {"source": "ems:dynamic_load_balancing", "amps": 20.0, "kw": None, "reason": "fair share", "until": None}
    limit = {"station_id": "CP1", "evse_id": 0, "unit": "W", "in_force_amps": 15.9, "in_force_watts": 11_000.0,
             "set_by": "rule:overheat", "since": NOW, "applied": False, "error": None, "intents": [rule, ems]}
    shown = power_limit([limit])
    assert shown.startswith("11.0 kW on station, set by rule overheat")
    assert "not applied" in shown and shown.endswith("also EMS dynamic load balancing 20 A")
    assert power_limit([{**limit, "in_force_amps": None, "set_by": None, "intents": []}]) == "none on station"
    assert power_limit([]) == "none"


def test_the_power_sparkline_starts_from_stored_samples_then_follows_the_feed(model):
    st = model.stations["CP1"]
    power = "Power.Active.Import"

    def sample(ts, evse, value, measurand=power, phase=None):
        return {"ts": ts, "evse_id": evse, "connector_id": evse, "measurand": measurand, "phase": phase,
                "value": value}

    st.seed_power_history([
        sample(NOW - 120, 1, 3000.0), sample(NOW - 120, 1, 5.0, "Energy.Active.Import.Register"),
        sample(NOW - 60, 2, 7000.0), sample(NOW - 60, 2, 2300.0, phase="L1"),  # a phase is not the total
        sample(NOW - 30, 1, 0.0),
    ])
    assert list(st.power_history) == [3000.0, 10_000.0, 7000.0]
    st.seed_power_history([sample(NOW, 1, 99.0)])  # once only: the live feed carries on
    model.apply({"type": "meter_sample", "station_id": "CP1", "time": NOW, "evse_id": 1, "connector_id": 1,
                 "samples": [{"measurand": power, "phase": None, "value": 1000.0}]})
    assert list(st.power_history) == [3000.0, 10_000.0, 7000.0, 8000.0]
