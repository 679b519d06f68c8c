"""A session's cost against hand-computed examples (the arithmetic is in the comments):
across a price change, across midnight, across both daylight-saving switches of
Europe/Prague (days of 92 and 100 quarter hours), locked and per-period tariffs, the idle
and session fees, the clamp; and that a stored cost recomputes to the same digits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from zaspot.pricing.cost import NoPrice, Reading, price_periods, recompute, session_cost, slots_between, stored
from zaspot.pricing.slot import PriceSlot
from zaspot.pricing.tariff import Tariff

PRAGUE = ZoneInfo("Europe/Prague")
Q = 900  # s, a quarter hour


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def local(text: str, fold: int = 0) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PRAGUE, fold=fold).timestamp()


def quarter_hours(day: str, price_of) -> list[PriceSlot]:
    """A Prague day's 15-minute day-ahead periods, local midnight to local midnight, price_of(index) each."""
    start = local(f"{day}T00:00")
    end = local((date.fromisoformat(day) + timedelta(days=1)).isoformat() + "T00:00")
    return [PriceSlot(t, t + Q, price_of(i), "CZK/kWh") for i, t in enumerate(range(int(start), int(end), Q))]


def hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, PRAGUE).strftime("%H:%M %Z")


def check_recompute(cost, readings, tariff):
    """Stored as the service stores it, then recomputed: the same to the last digit."""
    saved = stored(cost, readings, tariff.terms())
    assert recompute(saved) == cost


def test_a_session_across_a_price_change() -> None:
    slots = [PriceSlot(utc("2026-05-04T14:00"), utc("2026-05-04T14:15"), 2.0),
             PriceSlot(utc("2026-05-04T14:15"), utc("2026-05-04T14:30"), 4.0)]
    tariff = Tariff("standard", markup=1.0, vat=0.21, currency="CZK")
    readings = [Reading(utc("2026-05-04T14:10"), 10_000), Reading(utc("2026-05-04T14:20"), 12_000)]
    cost = session_cost(readings, tariff, slots, until=utc("2026-05-04T14:20"), final=True)
    # 2 kWh over 10 minutes, 5 in each period: 1 kWh at (2 + 1) = 3.00 and 1 kWh at (4 + 1) = 5.00
    # -> 8.00 before VAT, 8.00 * 1.21 = 9.68 with it
    assert cost.energy_wh == 2000
    assert (cost.excl_vat, cost.incl_vat) == (8.00, 9.68)
    assert [(p["energy_wh"], p["spot"], p["price"], p["cost"]) for p in cost.periods] == [
        (1000, 2.0, 3.63, 3.63), (1000, 4.0, 6.05, 6.05)]  # prices and costs incl. VAT: 3 * 1.21, 5 * 1.21
    assert cost.final and cost.currency == "CZK" and cost.tariff == "standard"
    check_recompute(cost, readings, tariff)


def test_a_locked_tariff_keeps_the_price_of_the_start() -> None:
    slots = [PriceSlot(utc("2026-05-04T14:00"), utc("2026-05-04T14:15"), 2.0),
             PriceSlot(utc("2026-05-04T14:15"), utc("2026-05-04T14:30"), 4.0)]
    tariff = Tariff("locked", markup=1.0, vat=0.21, pricing="locked")
    readings = [Reading(utc("2026-05-04T14:10"), 10_000), Reading(utc("2026-05-04T14:20"), 12_000)]
    cost = session_cost(readings, tariff, slots, locked_spot=2.0)
    # the spot at the start (14:10) was 2.00: both kWh at 2 + 1 = 3.00 -> 6.00; * 1.21 = 7.26
    assert (cost.excl_vat, cost.incl_vat) == (6.00, 7.26)
    assert [p["price"] for p in cost.periods] == [3.63, 3.63]
    assert [p["spot"] for p in cost.periods] == [2.0, 2.0]
    check_recompute(cost, readings, tariff)
    with pytest.raises(ValueError, match="locked"):
        session_cost(readings, tariff, slots)  # a locked tariff needs its spot price at the start


def test_a_session_across_midnight() -> None:
    slots = quarter_hours("2026-01-14", lambda i: 1.0) + quarter_hours("2026-01-15", lambda i: 3.0)
    tariff = Tariff("spot")
    readings = [Reading(local("2026-01-14T23:50"), 0), Reading(local("2026-01-15T00:10"), 4000)]
    cost = session_cost(readings, tariff, slots)
    # 4 kWh over 20 minutes, 10 before midnight and 10 after: 2 kWh at 1.00 + 2 kWh at 3.00 = 8.00
    assert cost.excl_vat == cost.incl_vat == 8.00
    assert [(hhmm(p["start"]), p["energy_wh"], p["spot"]) for p in cost.periods] == [
        ("23:45 CET", 2000, 1.0), ("00:00 CET", 2000, 3.0)]
    assert datetime.fromtimestamp(cost.periods[1]["start"], PRAGUE).day == 15
    check_recompute(cost, readings, tariff)


def test_spring_forward_92_quarter_hours() -> None:
    # 29 March 2026: at 02:00 CET the clocks go to 03:00 CEST; the day has 23 h = 92 periods.
    day = quarter_hours("2026-03-29", lambda i: 1.0 if i < 8 else 2.0)  # 1.00 until 02:00, then 2.00
    assert len(day) == 92
    tariff = Tariff("spot")
    readings = [Reading(local("2026-03-29T01:45"), 0), Reading(local("2026-03-29T03:15"), 3000)]
    cost = session_cost(readings, tariff, day, final=True)
    # 01:45 CET to 03:15 CEST is 30 minutes, not 90: 3 kWh in two periods, 1.5 kWh each,
    # 01:45-02:00 CET at 1.00 and 03:00-03:15 CEST at 2.00 -> 1.50 + 3.00 = 4.50
    assert cost.until - cost.started_at == 1800
    assert [(hhmm(p["start"]), p["energy_wh"], p["spot"]) for p in cost.periods] == [
        ("01:45 CET", 1500, 1.0), ("03:00 CEST", 1500, 2.0)]
    assert cost.excl_vat == 4.50
    check_recompute(cost, readings, tariff)


def test_fall_back_100_quarter_hours() -> None:
    # 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET; 02:00-03:00 comes twice,
    # the day has 25 h = 100 periods. Each period's spot here is its index / 10.
    day = quarter_hours("2026-10-25", lambda i: i / 10)
    assert len(day) == 100
    tariff = Tariff("spot", vat=0.21)
    first_0245 = local("2026-10-25T02:45", fold=0)  # CEST, period 11 (02:45 after 00:00)
    second_0215 = local("2026-10-25T02:15", fold=1)  # CET, 30 minutes later
    readings = [Reading(first_0245, 0), Reading(second_0215, 2000)]
    cost = session_cost(readings, tariff, day)
    # 30 minutes, 2 kWh: 1 kWh in 02:45-03:00 CEST (period 11: 1.10) and 1 kWh in
    # 02:00-02:15 CET (period 12: 1.20) -> 2.30; * 1.21 = 2.783 -> 2.78
    assert [(hhmm(p["start"]), p["energy_wh"], p["spot"]) for p in cost.periods] == [
        ("02:45 CEST", 1000, 1.1), ("02:00 CET", 1000, 1.2)]
    assert (cost.excl_vat, cost.incl_vat) == (2.30, 2.78)
    check_recompute(cost, readings, tariff)


def test_energy_is_split_over_periods_in_proportion_to_time() -> None:
    slots = [PriceSlot(t, t + Q, p) for t, p in ((utc("2026-05-04T10:00"), 1.0), (utc("2026-05-04T10:15"), 2.0),
                                                  (utc("2026-05-04T10:30"), 3.0))]
    readings = [Reading(utc("2026-05-04T10:10"), 0),            # 10:10 - 10:40: 30 min, 6 kWh, 0.2 kWh/min
                Reading(utc("2026-05-04T10:40"), 6000)]
    cost = session_cost(readings, Tariff("spot"), [*slots, PriceSlot(utc("2026-05-04T10:45"), utc("2026-05-04T11:00"), 9)])
    # 5 min in the first (1 kWh * 1.00), 15 in the second (3 kWh * 2.00), 10 in the third (2 kWh * 3.00)
    # -> 1 + 6 + 6 = 13.00
    assert [p["energy_wh"] for p in cost.periods] == [1000, 3000, 2000]
    assert cost.excl_vat == 13.00


def test_idle_fee_after_the_grace_and_the_session_fee() -> None:
    hour = [PriceSlot(utc("2026-05-04T14:00"), utc("2026-05-04T15:00"), 2.0),
            PriceSlot(utc("2026-05-04T15:00"), utc("2026-05-04T16:00"), 2.0)]
    tariff = Tariff("idle", vat=0.1, session_fee=5.0, idle_fee_per_minute=0.5, idle_grace_minutes=10)
    readings = [Reading(utc("2026-05-04T14:00"), 0), Reading(utc("2026-05-04T14:30"), 5000),
                Reading(utc("2026-05-04T14:45"), 5000)]  # full at 14:30; it stays until 15:07:30
    cost = session_cost(readings, tariff, hour, until=utc("2026-05-04T15:07:30"), final=True)
    # energy 5 kWh * 2.00 = 10.00; session fee 5.00; idle from 14:30 to 15:07:30 = 37.5 min,
    # 10 free, 27.5 -> 27 whole minutes * 0.50 = 13.50; 10 + 5 + 13.5 = 28.50; * 1.1 = 31.35
    assert cost.charging_ended_at == utc("2026-05-04T14:30")
    assert cost.idle_minutes == 37.5
    assert (cost.session_fee, cost.idle_fee) == (5.0, 13.5)
    assert (cost.excl_vat, cost.incl_vat) == (28.50, 31.35)
    check_recompute(cost, readings, tariff)
    # Still charging at its last reading: no idle time yet, no idle fee.
    running = session_cost(readings[:2], tariff, hour)
    assert (running.idle_minutes, running.idle_fee, running.excl_vat) == (0, 0, 15.00)


def test_no_energy_no_session_fee_but_idle_from_the_start() -> None:
    hour = [PriceSlot(utc("2026-05-04T14:00"), utc("2026-05-04T15:00"), 2.0)]
    tariff = Tariff("idle", session_fee=5.0, idle_fee_per_minute=1.0, idle_grace_minutes=15)
    readings = [Reading(utc("2026-05-04T14:00"), 700), Reading(utc("2026-05-04T14:20"), 700)]
    cost = session_cost(readings, tariff, hour, until=utc("2026-05-04T14:40"))
    # plugged in 40 minutes, nothing flowed: no session fee, (40 - 15) = 25 minutes * 1.00
    assert (cost.energy_wh, cost.session_fee, cost.idle_fee, cost.excl_vat) == (0, 0, 25.0, 25.00)
    assert cost.periods == [] and cost.charging_ended_at is None


def test_clamped_prices_in_a_session() -> None:
    slots = [PriceSlot(utc("2026-05-04T12:00"), utc("2026-05-04T12:15"), -3.0),  # negative at noon
             PriceSlot(utc("2026-05-04T12:15"), utc("2026-05-04T12:30"), 30.0)]  # a spike
    tariff = Tariff("clamped", factor=1.0, markup=1.0, min=2.0, max=10.0, vat=0.2)
    readings = [Reading(utc("2026-05-04T12:00"), 0), Reading(utc("2026-05-04T12:30"), 4000)]
    cost = session_cost(readings, tariff, slots)
    # 2 kWh at max(-3 + 1, 2) = 2.00 and 2 kWh at min(30 + 1, 10) = 10.00 -> 24.00; * 1.2 = 28.80
    assert [p["price"] for p in cost.periods] == [2.4, 12.0]
    assert (cost.excl_vat, cost.incl_vat) == (24.00, 28.80)


def test_a_time_without_prices_is_priced_at_the_fallback_in_quarter_hours() -> None:
    slots = [PriceSlot(utc("2026-05-04T10:00"), utc("2026-05-04T10:15"), 1.0)]
    readings = [Reading(utc("2026-05-04T10:05"), 0), Reading(utc("2026-05-04T10:35"), 3000)]
    cost = session_cost(readings, Tariff("spot"), slots, fallback_price=5.0)
    # 10:05-10:35, 0.1 kWh/min: 10 min in the known period (1 kWh * 1.00), then 15 and 5 minutes
    # in two quarter hours at the fallback 5.00 (1.5 + 0.5 kWh) -> 1 + 7.5 + 2.5 = 11.00
    assert [(p["start"] - utc("2026-05-04T10:00"), p["energy_wh"], p["fallback"]) for p in cost.periods] == [
        (0, 1000, False), (900, 1500, True), (1800, 500, True)]
    assert cost.excl_vat == 11.00
    check_recompute(cost, readings, Tariff("spot"))
    with pytest.raises(NoPrice):
        session_cost(readings, Tariff("spot"), slots)


def test_a_register_that_goes_back_adds_nothing_until_it_passes_its_highest() -> None:
    slots = [PriceSlot(utc("2026-05-04T10:00"), utc("2026-05-04T11:00"), 1.0)]
    readings = [Reading(utc("2026-05-04T10:00"), 1000), Reading(utc("2026-05-04T10:10"), 2000),
                Reading(utc("2026-05-04T10:20"), 0),       # a glitch
                Reading(utc("2026-05-04T10:30"), 2500)]    # +500 over the highest (2000)
    cost = session_cost(readings, Tariff("spot"), slots)
    assert cost.energy_wh == 1500 and cost.excl_vat == 1.50


def test_readings_at_one_time_and_in_any_order() -> None:
    slots = [PriceSlot(utc("2026-05-04T10:00"), utc("2026-05-04T10:15"), 1.0),
             PriceSlot(utc("2026-05-04T10:15"), utc("2026-05-04T10:30"), 2.0)]
    t = utc("2026-05-04T10:15")
    readings = [Reading(t, 1000), Reading(utc("2026-05-04T10:05"), 0), Reading(t, 1000)]
    cost = session_cost(readings, Tariff("spot"), slots)
    # 10:05-10:15 lands in the first period only (it ends where the second begins)
    assert [p["energy_wh"] for p in cost.periods] == [1000]
    assert session_cost([], Tariff("spot"), slots).excl_vat == 0


def test_slots_between_and_price_periods() -> None:
    slots = [PriceSlot(i * Q, (i + 1) * Q, float(i)) for i in range(10)]
    starts = [s.start for s in slots]
    assert [s.price for s in slots_between(slots, starts, 2 * Q + 1, 4 * Q)] == [2.0, 3.0, 4.0]
    assert [s.price for s in slots_between(slots, starts, 20 * Q, 30 * Q)] == []
    periods = price_periods(slots, 9 * Q + 10, 10 * Q + 10, 7.0)
    assert [(p.start, p.end, p.spot, p.fallback) for p in periods] == [(9 * Q, 10 * Q, 9.0, False),
                                                                       (10 * Q, 11 * Q, 7.0, True)]
