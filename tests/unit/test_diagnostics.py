"""The pure parts of diagnostics: fault codes, readings, vendor mapping, thresholds."""

from __future__ import annotations

from zaspot.core import events as ev
from zaspot.diagnostics import faults, vendor
from zaspot.diagnostics.config import DiagnosticsConfig, TemperatureLimit
from zaspot.diagnostics.readings import Reading, from_notify_event


def test_a_1_6_error_code_without_faulted_status_is_a_warning():
    hot = faults.from_status(ev.StatusChanged("CP", 1, 1, "Charging", "HighTemperature"))
    ground = faults.from_status(ev.StatusChanged("CP", 1, 1, "Faulted", "GroundFailure", "E42", "RCD"))
    assert (hot.code, hot.severity, hot.active) == ("HighTemperature", "warning", True)
    assert (ground.severity, ground.vendor_code, ground.info) == ("critical", "E42", "RCD")
    assert hot.origin == ground.origin  # one status, one code at a time


def test_a_status_without_error_clears_its_origin():
    fault = faults.from_status(ev.StatusChanged("CP", 0, 0, "Available"))
    assert (fault.component, fault.code, fault.active) == ("station", None, False)


def test_a_2_0_1_problem_event_is_a_fault_with_its_tech_code():
    payload = {"generatedAt": "2030-01-01T00:00:00Z", "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": "2030-01-01T00:00:00Z", "trigger": "Alerting", "actualValue": "true",
        "techCode": "GroundFailure", "techInfo": "RCD tripped", "eventNotificationType": "HardWiredMonitor",
        "component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}}, "variable": {"name": "Problem"}}]}
    (reading,) = from_notify_event(payload)
    fault = faults.from_reading("CP", reading, "NotifyEvent", 0.0)
    assert (fault.component, fault.evse_id, fault.code, fault.info, fault.active) == (
        "connector", 2, "GroundFailure", "RCD tripped", True)
    cleared = faults.from_reading("CP", Reading("Connector", "Problem", "false", None, 2, 1), "NotifyEvent", 0.0)
    assert (cleared.origin, cleared.code, cleared.active) == (fault.origin, None, False)


def test_the_example_vendor_mapping_reads_module_trips_and_data_transfers():
    mapping = vendor.mapping_for("Zaspot", "SimDC16")
    assert mapping is not None and vendor.mapping_for("Acme", "X") is None
    (trip,) = mapping.status_readings(0, "OtherError", "ModuleTrip3", "AcDcConverter 3 tripped")
    assert (trip.component, trip.instance, trip.variable, trip.flag) == ("AcDcConverter", "3", "Tripped", True)
    readings = mapping.data_transfer_readings(
        "com.zaspot.modules", "ModuleStatus", '{"modules": [{"id": 1, "tripped": false, "temperature": 41.5}]}')
    assert [(r.variable, r.value) for r in readings] == [("Tripped", "false"), ("Temperature", "41.5")]
    assert mapping.data_transfer_readings("com.zaspot.modules", "ModuleStatus", "not json") == []


def test_a_plugin_mapping_is_registered_and_removed():
    class Acme:
        def matches(self, vendor_name, model):
            return vendor_name == "Acme"

    unregister = vendor.register(Acme())
    assert isinstance(vendor.mapping_for("Acme", "X"), Acme)
    unregister()
    assert vendor.mapping_for("Acme", "X") is None


def test_a_model_limit_wins_over_the_site_limit_and_the_builtin_default():
    config = DiagnosticsConfig(temperature=[
        TemperatureLimit("connector", 75.0, 70.0),
        TemperatureLimit("connector", 90.0, 85.0, model="HPC-350"),
    ])
    assert config.limit_for("connector", "HPC-350").raise_c == 90.0
    assert config.limit_for("connector", "Wallbox").raise_c == 75.0
    assert config.limit_for("module", "Wallbox").raise_c == 80.0
    assert config.limit_for("ev", "Wallbox") is None
