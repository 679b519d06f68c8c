"""A sampled value that states no unit is in its measurand's own default unit (OCPP 1.6
and 2.0.1: Wh only for energy), normalized like a stated one."""

from __future__ import annotations

import pytest

from zaspot.ocpp.metering import samples_v16, samples_v201

TS = "2026-03-01T10:00:00+00:00"

# measurand, value sent, (value, unit) stored
UNITLESS = [
    ("Voltage", "231.5", (231.5, "V")),
    ("Current.Import", "16", (16.0, "A")),
    ("Current.Offered", "32", (32.0, "A")),
    ("Power.Active.Import", "7400", (7400.0, "W")),
    ("Power.Offered", "11000", (11000.0, "W")),
    ("Power.Reactive.Import", "120", (120.0, "var")),
    ("Power.Factor", "0.98", (0.98, "")),
    ("SoC", "42", (42.0, "%")),
    ("Frequency", "50.02", (50.02, "Hz")),
    ("Energy.Active.Import.Register", "1234", (1234.0, "Wh")),
    ("Energy.Active.Net", "1234", (1234.0, "Wh")),
    ("Energy.Reactive.Import.Register", "56", (56.0, "varh")),
    ("Energy.Apparent.Net", "78", (78.0, "VAh")),
]


@pytest.mark.parametrize(("measurand", "sent", "stored"), UNITLESS)
def test_v16_unitless_value_takes_its_measurands_unit(measurand, sent, stored):
    (sample,) = samples_v16([{"timestamp": TS, "sampledValue": [{"value": sent, "measurand": measurand}]}])
    assert (sample.measurand, sample.value, sample.unit) == (measurand, *stored)


@pytest.mark.parametrize(("measurand", "sent", "stored"), UNITLESS)
def test_v201_unitless_value_takes_its_measurands_unit(measurand, sent, stored):
    (sample,) = samples_v201([{"timestamp": TS, "sampledValue": [{"value": float(sent), "measurand": measurand}]}])
    assert (sample.measurand, sample.value, sample.unit) == (measurand, *stored)


def test_v16_unitless_temperature_is_celsius_and_rpm_is_rpm():
    (temp, rpm) = samples_v16([{"timestamp": TS, "sampledValue": [
        {"value": "41", "measurand": "Temperature", "location": "Body"},
        {"value": "2400", "measurand": "RPM"},
    ]}])
    assert (temp.value, temp.unit, temp.location) == (41.0, "°C", "Body")
    assert (rpm.value, rpm.unit) == (2400.0, "RPM")


def test_no_measurand_is_the_energy_register_in_wh():
    (v16,) = samples_v16([{"timestamp": TS, "sampledValue": [{"value": "10.5"}]}])
    (v201,) = samples_v201([{"timestamp": TS, "sampledValue": [{"value": 10.5}]}])
    for sample in (v16, v201):
        assert (sample.measurand, sample.value, sample.unit) == ("Energy.Active.Import.Register", 10.5, "Wh")


def test_v201_multiplier_without_a_unit_scales_the_measurands_unit():
    (power, voltage) = samples_v201([{"timestamp": TS, "sampledValue": [
        {"value": 7.4, "measurand": "Power.Active.Import", "unitOfMeasure": {"multiplier": 3}},
        {"value": 230, "measurand": "Voltage", "unitOfMeasure": {}},
    ]}])
    assert (power.value, power.unit) == (7400.0, "W")
    assert (voltage.value, voltage.unit) == (230.0, "V")


def test_a_stated_unit_still_wins_and_is_normalized():
    (a, b, c) = samples_v16([{"timestamp": TS, "sampledValue": [
        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "310", "measurand": "Temperature", "unit": "K"},
        {"value": "2", "measurand": "Energy.Apparent.Import.Register", "unit": "kVAh"},
    ]}])
    assert (a.value, a.unit) == (7400.0, "W")
    assert (round(b.value, 2), b.unit) == (36.85, "°C")
    assert (c.value, c.unit) == (2000.0, "VAh")


def test_an_unknown_measurand_gets_no_unit_rather_than_wh():
    (sample,) = samples_v201([{"timestamp": TS, "sampledValue": [{"value": 3, "measurand": "Vendor.Whatever"}]}])
    assert sample.unit == ""


async def test_unitless_voltage_lands_in_meter_samples_as_volts(app):
    """Over a real socket into the real SQLite table, both versions."""
    from tests.helpers import OcppClient

    frames = {
        "1.6": {"connectorId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [
            {"value": "229.8", "measurand": "Voltage", "phase": "L1-N"}]}]},
        "2.0.1": {"evseId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [
            {"value": 229.8, "measurand": "Voltage", "phase": "L1-N"}]}]},
    }
    for version, payload in frames.items():
        station = f"VOLTS-{version}"
        client = await OcppClient.connect(app.url, station, version)
        await client.boot()
        assert (await client.call("MeterValues", payload))[0] == 3
        rows = await app.ctx.store.meter_samples_of(station)
        assert [(r["measurand"], r["phase"], r["value"], r["unit"]) for r in rows] == [
            ("Voltage", "L1-N", 229.8, "V")]
        await client.close()
