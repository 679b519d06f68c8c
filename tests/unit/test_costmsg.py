"""The cost messages on the wire: the OCA California Pricing DataTransfer (1.6) and
CostUpdated (2.0.1) are schema-valid, their `data` carries the application note's fields
and nothing else, and costs have at most the currency's decimals."""

from __future__ import annotations

import json

import pytest

from zaspot.ocpp import pricing_v16, pricing_v201, schemas
from zaspot.pricing.charger import amount, final_text, unit_price
from zaspot.sim.pricing import check_costmsg

AT = 1_764_590_400.0  # 2025-12-01T12:00:00Z


def _data(action: str, payload: dict) -> dict:
    schemas.validate("1.6", action, payload)  # what the session checks before it sends
    assert payload["vendorId"] == "org.openchargealliance.costmsg"
    return check_costmsg(payload["messageId"], payload["data"])


def test_set_user_price_carries_the_card_and_its_price_text():
    action, payload = pricing_v16.user_price("04A1B2C3", "7.42 CZK/kWh now (spot-based), incl. 21 % VAT")
    assert (action, payload["messageId"]) == ("DataTransfer", "SetUserPrice")
    assert _data(action, payload) == {"idToken": "04A1B2C3", "priceText": "7.42 CZK/kWh now (spot-based), incl. 21 % VAT"}


def test_running_cost_says_the_register_state_and_prices():
    action, payload = pricing_v16.running_cost(
        "17", 12.35, at=AT, meter_wh=123456.7, state="Charging", kwh_price=7.4234, flat_fee=24.2,
        idle=(10, 72.6), next_price=(AT + 900, 5.1))
    assert _data(action, payload) == {
        "transactionId": 17, "timestamp": "2025-12-01T12:00:00Z", "meterValue": 123456, "cost": 12.35,
        "state": "Charging", "chargingPrice": {"kWhPrice": 7.4234, "flatFee": 24.2},
        "idlePrice": {"graceMinutes": 10, "hourPrice": 72.6},
        "nextPeriod": {"atTime": "2025-12-01T12:15:00Z", "chargingPrice": {"kWhPrice": 5.1}}}


def test_a_plain_running_cost_has_only_the_required_fields():
    _, payload = pricing_v16.running_cost("3", 0.0, at=AT, meter_wh=0, state="Idle", kwh_price=4.5)
    assert set(_data("DataTransfer", payload)) == {"transactionId", "timestamp", "meterValue", "cost", "state",
                                                   "chargingPrice"}


def test_final_cost_carries_the_cost_and_its_text():
    action, payload = pricing_v16.final_cost("17", 99.9, "99.90 CZK incl. VAT for 12.34 kWh")
    assert _data(action, payload) == {"transactionId": 17, "cost": 99.9, "priceText": "99.90 CZK incl. VAT for 12.34 kWh"}


@pytest.mark.parametrize("message_id, data, problem", [
    ("RunningCost", {"transactionId": "17", "timestamp": "2025-12-01T12:00:00Z", "meterValue": 1, "cost": 1,
                     "state": "Charging", "chargingPrice": {"kWhPrice": 1}}, "transactionId"),
    ("RunningCost", {"transactionId": 17, "timestamp": "noon", "meterValue": 1, "cost": 1,
                     "state": "Charging", "chargingPrice": {"kWhPrice": 1}}, "timestamp"),
    ("RunningCost", {"transactionId": 17, "timestamp": "2025-12-01T12:00:00Z", "meterValue": 1, "cost": 1,
                     "state": "Charging", "chargingPrice": {"perKWh": 1}}, "chargingPrice"),
    ("FinalCost", {"transactionId": 17, "cost": 1}, "priceText"),
    ("FinalCost", {"transactionId": 17, "cost": 1, "priceText": "x", "currency": "CZK"}, "currency"),
    ("SetUserPrice", {"idToken": "04A1B2C3"}, "priceText"),
])
def test_the_station_refuses_data_the_note_does_not_define(message_id, data, problem):
    with pytest.raises(ValueError, match=problem):
        check_costmsg(message_id, json.dumps(data))


def test_data_must_be_json_text():
    with pytest.raises(ValueError, match="JSON text"):
        check_costmsg("FinalCost", {"transactionId": 1})
    with pytest.raises(ValueError, match="not JSON"):
        check_costmsg("FinalCost", "{transactionId: 1")


def test_cost_updated_is_schema_valid():
    action, payload = pricing_v201.running_cost("9f2c-uuid", 12.35, at=AT, meter_wh=1000, state="Charging",
                                                kwh_price=7.42)
    schemas.validate("2.0.1", action, payload)
    assert (action, payload) == ("CostUpdated", {"totalCost": 12.35, "transactionId": "9f2c-uuid"})


def test_a_message_for_the_display_is_cut_to_512_characters():
    assert pricing_v201.message("x" * 600) == {"format": "UTF8", "content": "x" * 512}


@pytest.mark.parametrize("value, currency, expected", [
    (12.345, "CZK", 12.35), (12.344, "EUR", 12.34), (0.005, "EUR", 0.01), (1234.5, "JPY", 1235.0),
    (1.23456, "KWD", 1.235), (2.5, "czk", 2.5), (7.0, "", 7.0),
])
def test_a_cost_has_at_most_the_currency_s_decimals(value, currency, expected):
    assert amount(value, currency) == expected


def test_unit_prices_keep_four_decimals():
    assert unit_price(0.234567) == 0.2346


def test_the_final_text_names_cost_currency_and_energy():
    class Cost:
        incl_vat, currency, energy_wh = 99.9, "CZK", 12_340.0

    assert final_text(Cost()) == "99.90 CZK incl. VAT for 12.34 kWh"


def test_cost_messages_config_errors_name_file_and_line(tmp_path):
    from zaspot.config import ConfigError, decode, load
    from zaspot.pricing.charger import CostMessagesConfig
    from zaspot.pricing.config import load as load_pricing

    path = tmp_path / "zaspot.yaml"
    path.write_text("pricing:\n  fallback_price: 4.5\n  cost_messages:\n    models_16: [Wallbox X1]\n    every: 0\n")
    section = load_pricing(load(path).pricing)[0].cost_messages
    with pytest.raises(ConfigError, match=r"zaspot.yaml:5: pricing.cost_messages.every: 0 is out of range \(1 to 3600\)"):
        decode(CostMessagesConfig, section)
    path.write_text("pricing:\n  fallback_price: 4.5\n  cost_messages: {models_16: [Wallbox X1]}\n")
    assert decode(CostMessagesConfig, load_pricing(load(path).pricing)[0].cost_messages) == \
        CostMessagesConfig(models_16=["Wallbox X1"], every=60.0)
