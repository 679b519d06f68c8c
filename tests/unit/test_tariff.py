"""Tariffs: the driver's price formula, the text a charger shows, which tariff a session
gets, and the `pricing.tariffs` config with its `file:line` errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from zaspot.config import ConfigError, load
from zaspot.pricing.tariff import SPOT, Tariff, Tariffs, load_tariffs


def _tariffs(tmp_path: Path, text: str, currency: str = "CZK") -> Tariffs:
    path = tmp_path / "zaspot.yaml"
    path.write_text(text)
    return load_tariffs(load(path).pricing, currency)


def test_driver_price_is_clamped_before_vat() -> None:
    t = Tariff("t", factor=1.2, markup=2.0, min=3.0, max=12.0, vat=0.21)
    # 4.0 * 1.2 + 2.0 = 6.8 (inside 3..12); * 1.21 = 8.228
    assert t.energy_price(4.0) == pytest.approx(6.8)
    assert t.driver_price(4.0) == pytest.approx(8.228)
    # a negative spot price: -5 * 1.2 + 2 = -4 -> the minimum 3.0; * 1.21 = 3.63
    assert t.driver_price(-5.0) == pytest.approx(3.63)
    # a price spike: 20 * 1.2 + 2 = 26 -> the maximum 12.0; * 1.21 = 14.52
    assert t.driver_price(20.0) == pytest.approx(14.52)
    # no bounds: the formula as it is (-5 * 1 + 0 = -5: the driver is paid)
    assert Tariff("free").driver_price(-5.0) == -5.0


def test_text_for_a_charger_display() -> None:
    t = Tariff("t", markup=2.0, vat=0.21, currency="CZK")
    # (4.132 + 2) * 1.21 = 7.41972 -> 7.42
    assert t.text(4.132) == "7.42 CZK/kWh now (spot-based), incl. 21 % VAT"
    fees = Tariff("f", markup=2.0, session_fee=10, idle_fee_per_minute=1, idle_grace_minutes=15,
                  pricing="locked", currency="EUR")
    assert fees.text(1.0) == ("3.00 EUR/kWh for this session, + 10.00 EUR per session, "
                              "idle 1.00 EUR/min after 15 min, no VAT")


def test_the_first_tariff_for_the_station_and_card_wins(tmp_path: Path) -> None:
    tariffs = _tariffs(tmp_path, """
pricing:
  default_tariff: public
  tariffs:
    - {name: fleet-depot, markup: 0.5, stations: [depot], card_groups: [FLEET]}
    - {name: fleet, markup: 1.0, card_groups: [FLEET]}
    - {name: hotel, markup: 3.0, stations: [CP-9]}
    - {name: public, markup: 2.0}
""")
    assert tariffs.choose("CP-1", "depot", "FLEET").name == "fleet-depot"  # by site
    assert tariffs.choose("depot", "", "FLEET").name == "fleet-depot"  # by station id
    assert tariffs.choose("CP-1", "town", "FLEET").name == "fleet"
    assert tariffs.choose("CP-9", "", None).name == "hotel"
    assert tariffs.choose("CP-1", "", None).name == "public"  # a card with no group
    assert tariffs.choose("CP-1", "", "GUESTS").name == "public"
    assert tariffs.default.name == "public" and tariffs.default.currency == "CZK"
    assert all(t.currency == "CZK" for t in tariffs.all)


def test_without_a_default_the_first_catch_all_then_the_spot_price(tmp_path: Path) -> None:
    tariffs = _tariffs(tmp_path, "pricing:\n  tariffs:\n    - {name: vip, card_groups: [VIP]}\n"
                                 "    - {name: everyone, markup: 1}\n")
    assert tariffs.choose("CP-1", "", None).name == "everyone"
    only_vip = _tariffs(tmp_path, "pricing:\n  tariffs:\n    - {name: vip, card_groups: [VIP]}\n")
    assert only_vip.choose("CP-1", "", None).name == SPOT.name
    assert only_vip.choose("CP-1", "", None).driver_price(3.5) == 3.5
    assert load_tariffs(None, "EUR").default.name == "spot"


@pytest.mark.parametrize("body, message", [
    ("    - {name: a, vat: 1.5}\n", "5: pricing.tariffs[0].vat: 1.5 is out of range (0 to 1)"),
    ("    - {name: a, min: 5, max: 2}\n", "5: pricing.tariffs[0].min: 5 must not be above max (2)"),
    ("    - {name: a}\n    - {name: a}\n", "6: pricing.tariffs[1].name: 'a' is the name of an earlier tariff"),
    ("    - {name: a, pricing: fixed}\n", "5: pricing.tariffs[0].pricing: expected one of per_period, locked, got 'fixed'"),
    ("    - {name: a, idle_fee: 2}\n", "5: unknown key 'pricing.tariffs[0].idle_fee'"),
    ("    - {name: a, session_fee: -1}\n", "5: pricing.tariffs[0].session_fee: -1 is out of range"),
    ("    - {name: a, currency: EUR}\n", "5: pricing.tariffs[0].currency: is pricing.currency"),
    ("    - {markup: 1}\n", "5: pricing.tariffs[0]: missing required key 'name'"),
])
def test_bad_tariffs_are_named_by_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _tariffs(tmp_path, "\npricing:\n  currency: CZK\n  tariffs:\n" + body)
    assert str(err.value).startswith(f"{tmp_path / 'zaspot.yaml'}:{message}"), str(err.value)


def test_a_default_tariff_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _tariffs(tmp_path, "pricing:\n  default_tariff: gold\n  tariffs:\n    - {name: a}\n")
    assert str(err.value) == f"{tmp_path / 'zaspot.yaml'}:2: pricing.default_tariff: no tariff named 'gold' (tariffs: a)"


def test_terms_round_trip() -> None:
    t = Tariff("t", factor=1.1, markup=2, min=1, max=None, vat=0.21, session_fee=5, pricing="locked",
               stations=["CP-1"], card_groups=["FLEET"], currency="CZK")
    assert Tariff.from_terms(t.terms()) == t
    assert Tariff.from_terms({**t.terms(), "from_a_newer_zaspot": 1}) == t
