"""Each price source against a recorded answer (tests/fixtures/prices): 15-minute periods
from the market's local midnight, the daylight-saving days (92 and 100 quarter hours),
ENTSO-E's missing points filled forward, PT60M, the CNB's rates."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from zaspot.pricing.sources import cnb, day_ahead, energy_charts, entsoe, ote

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"


def _json(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _contiguous(slots) -> bool:
    return all(a.end == b.start for a, b in itertools.pairwise(slots))


def _ote_prices(name: str) -> list[float]:
    line = next(x for x in _json(name)["data"]["dataLine"] if x["title"] == "15min price (EUR/MWh)")
    return [p["y"] for p in line["point"]]


def test_ote_spring_day_has_92_quarter_hours_and_skips_the_lost_hour():
    slots = ote.parse(_json("ote_2026-03-29.json"), date(2026, 3, 29))
    assert len(slots) == 92 and _contiguous(slots)
    assert {s.end - s.start for s in slots} == {900}
    assert slots[0].start == _utc("2026-03-28T23:00")  # midnight CET
    assert slots[-1].end == _utc("2026-03-29T22:00")  # midnight CEST
    assert slots[8].start == _utc("2026-03-29T01:00")  # 02:00 CET is 03:00 CEST: period 9
    eur_mwh = _ote_prices("ote_2026-03-29.json")
    assert [s.price for s in slots] == [round(p / 1000, 6) for p in eur_mwh]
    assert {s.unit for s in slots} == {"EUR/kWh"}


def test_ote_autumn_day_has_100_quarter_hours():
    slots = ote.parse(_json("ote_2026-10-25.json"), date(2026, 10, 25))
    assert len(slots) == 100 and _contiguous(slots)
    assert slots[0].start == _utc("2026-10-24T22:00") and slots[-1].end == _utc("2026-10-25T23:00")


def test_ote_hourly_reference_and_a_day_not_published_yet():
    hourly = ote.parse(_json("ote_2026-03-29.json"), date(2026, 3, 29), "PT60M")
    assert len(hourly) == 23 and {s.end - s.start for s in hourly} == {3600}
    assert ote.parse(_json("ote_unpublished.json"), date(2026, 3, 30)) == []
    with pytest.raises(ValueError, match="dataLine"):
        ote.parse({"error": "maintenance"}, date(2026, 3, 30))
    with pytest.raises(ValueError, match="outside the day"):  # a 96-period answer for the 92-period day
        ote.parse(_json("ote_2026-10-25.json"), date(2026, 3, 29))


def test_cnb_rates_with_decimal_commas_and_amounts():
    rates = cnb.parse((FIXTURES / "cnb_denni_kurz_2026-03-27.txt").read_text(encoding="utf-8"))
    assert rates.day == date(2026, 3, 27)
    assert rates.rate("EUR", "CZK") == pytest.approx(24.325)
    assert rates.czk["JPY"] == pytest.approx(0.14903)  # 100 JPY = 14,903 CZK
    assert rates.rate("EUR", "PLN") == pytest.approx(24.325 / 5.702)
    with pytest.raises(ValueError, match="no rate for XYZ"):
        rates.rate("XYZ", "CZK")
    with pytest.raises(ValueError, match="not the Czech National Bank"):
        cnb.parse("<html>Service unavailable</html>")


async def test_cnb_rates_are_asked_for_the_periods_day_and_kept():
    asked: list[str] = []
    text = (FIXTURES / "cnb_denni_kurz_2026-03-27.txt").read_text(encoding="utf-8")

    async def fetch(url: str) -> str:
        asked.append(url)
        return text

    rates = cnb.CnbRates("https://cnb.example/denni_kurz.txt", fetch=fetch)
    assert await rates.rate("EUR", "CZK", date(2026, 3, 27)) == pytest.approx(24.325)
    assert await rates.rate("EUR", "CZK", date(2026, 3, 27)) == pytest.approx(24.325)
    assert await rates.rate("CZK", "CZK", date(2026, 3, 27)) == 1.0
    assert asked == ["https://cnb.example/denni_kurz.txt?date=27.03.2026"]  # once per day


def test_energy_charts_autumn_day_with_a_price_not_there():
    data = _json("energy_charts_cz_2026-10-25.json")
    slots = energy_charts.parse(data)
    assert len(slots) == 99  # 100 quarter hours, one null
    missing = data["unix_seconds"][57]
    assert all(s.start != missing for s in slots)
    assert {s.end - s.start for s in slots} == {900} and {s.unit for s in slots} == {"EUR/kWh"}
    assert slots[0].price == round(data["price"][0] / 1000, 6)
    with pytest.raises(ValueError, match="unix_seconds"):
        energy_charts.parse({"message": "bzn not found"})


def test_entsoe_missing_points_are_filled_forward_on_the_spring_day():
    slots = entsoe.parse((FIXTURES / "entsoe_a44_cz_2026-03-29_pt15m.xml").read_bytes())
    assert len(slots) == 92 and _contiguous(slots)
    assert slots[0].start == _utc("2026-03-28T23:00") and slots[-1].end == _utc("2026-03-29T22:00")
    by_position = {i + 1: s.price for i, s in enumerate(slots)}
    assert by_position[11] == by_position[12] == by_position[10]  # positions 11 and 12 are not in the file
    assert by_position[51] == by_position[50]
    assert by_position[13] != by_position[12]


def test_entsoe_pt60m_document():
    slots = entsoe.parse((FIXTURES / "entsoe_a44_cz_2025-09-30_pt60m.xml").read_text(encoding="utf-8"))
    assert len(slots) == 24 and {s.end - s.start for s in slots} == {3600}
    assert slots[3].price == slots[2].price  # position 4 left out
    assert slots[0].start == _utc("2025-09-29T22:00")


def test_entsoe_no_data_yet_and_a_refusal():
    assert entsoe.parse((FIXTURES / "entsoe_no_data.xml").read_bytes()) == []
    refusal = ('<Acknowledgement_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0">'
               "<Reason><code>999</code></Reason></Acknowledgement_MarketDocument>")
    assert entsoe.parse(refusal) == []
    bad = refusal.replace("<code>999</code>", "<code>A01</code><text>Invalid security token</text>")
    with pytest.raises(ValueError, match="Invalid security token"):
        entsoe.parse(bad)


def test_entsoe_the_finer_resolution_wins_where_both_are_given():
    hourly = (FIXTURES / "entsoe_a44_cz_2025-09-30_pt60m.xml").read_text(encoding="utf-8")
    head, series_end = hourly.split("</TimeSeries>")
    quarter = ("<TimeSeries><currency_Unit.name>EUR</currency_Unit.name>"
               "<price_Measure_Unit.name>MWH</price_Measure_Unit.name><curveType>A03</curveType>"
               "<Period><timeInterval><start>2025-09-29T22:00Z</start><end>2025-09-29T23:00Z</end></timeInterval>"
               "<resolution>PT15M</resolution><Point><position>1</position><price.amount>10</price.amount></Point>"
               "<Point><position>3</position><price.amount>30</price.amount></Point></Period></TimeSeries>")
    slots = entsoe.parse(head + "</TimeSeries>" + quarter + series_end)
    assert [(s.end - s.start, s.price) for s in slots[:5]] == [
        (900, 0.01), (900, 0.01), (900, 0.03), (900, 0.03), (3600, slots[4].price)]
    assert len(slots) == 4 + 23


def test_entsoe_zone_names_and_eic_codes():
    assert entsoe.EntsoePrices(entsoe.EntsoeConfig(token="t")).domain == "10YCZ-CEPS-----N"
    assert entsoe.EntsoePrices(entsoe.EntsoeConfig(token="t", zone="10YAT-APG------L")).domain == "10YAT-APG------L"
    with pytest.raises(ValueError, match="EIC"):
        entsoe.EntsoePrices(entsoe.EntsoeConfig(token="t", zone="Narnia"))
    with pytest.raises(ValueError, match="token"):
        entsoe.EntsoePrices(entsoe.EntsoeConfig(token=" "))


def test_awattar_day_ahead_moved_with_its_old_import():
    from zaspot.ems.prices import day_ahead as old

    slots = day_ahead.parse(_json("awattar_de_2026-06-16.json"), day_ahead.DayAheadConfig())
    assert [s.price for s in slots] == [0.09231, 0.08405, 0.0796]
    assert old.parse is day_ahead.parse
