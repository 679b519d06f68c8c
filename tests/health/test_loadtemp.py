"""The fold of temperature against current (zaspot.health.loadtemp) on a real SQLite store,
filled with the rows station messages write (zaspot.store.messages): pairs by port and by
station for modules, days in the health timezone, complete hours only, a crash neither
loses nor double-counts an hour, and what retention folded away is left out and said."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from tests.health.clock import utc
from zaspot.core import events as ev
from zaspot.core.bus import EventBus
from zaspot.health.config import HealthConfig
from zaspot.health.loadtemp import MARK, LoadTemperature
from zaspot.store import health_temps, messages
from zaspot.store.retention import Retention, RetentionConfig
from zaspot.store.store import Store
from zaspot.store.unit import Unit

T0 = utc("2026-11-02T10:00")


def current_samples(amps: float, ts: float, phases: int = 3) -> list[ev.Sample]:
    """Current.Import as a three-phase station sends it: the named phase carries `amps`, the others less."""
    if phases == 1:
        return [ev.Sample("Current.Import", amps, "A", timestamp=ts)]
    return [ev.Sample("Current.Import", amps * f, "A", phase=p, timestamp=ts)
            for p, f in (("L1", 0.97), ("L2", 1.0), ("L3", 0.98))]


def reading(unit: Unit, station: str, version: str, port: int, ts: float, amps: float | None,
            celsius: float | None) -> None:
    """One port's current and connector temperature as its station's messages store them:
    1.6 a MeterValues with Current.Import and Temperature on the connector; 2.0.1 a
    MeterValues on the EVSE and the temperature in a NotifyEvent a moment later."""
    if version == "1.6":
        samples = current_samples(amps, ts) if amps is not None else []
        if celsius is not None:
            samples.append(ev.Sample("Temperature", celsius, "°C", location="Outlet", timestamp=ts))
            messages.temperature(unit, ev.Temperature(station, "connector", celsius, port, port,
                                                      source="MeterValues", time=ts))
        messages.meter(unit, station, port, port, None, samples)
    else:
        if amps is not None:
            messages.meter(unit, station, port, 1, None, current_samples(amps, ts))
        if celsius is not None:
            messages.temperature(unit, ev.Temperature(station, "connector", celsius, port, 1,
                                                      source="NotifyEvent", time=ts + 0.4))


def module_reading(unit: Unit, station: str, instance: str, ts: float, celsius: float) -> None:
    messages.temperature(unit, ev.Temperature(station, "module", celsius, 0, 0, instance,
                                              source="NotifyEvent", time=ts))


def connected(unit: Unit, station: str, version: str, ts: float) -> None:
    messages.connected(unit, station, version, "127.0.0.1", ts)


def ctx_for(store: Store, timezone: str = "UTC", **drift) -> SimpleNamespace:
    config = HealthConfig(timezone=timezone)
    for key, value in drift.items():
        setattr(config.drift, key, value)
    return SimpleNamespace(config=SimpleNamespace(health=config), store=store, bus=EventBus())


async def sums(store: Store) -> list[tuple]:
    rows = await store.temperature_load_days()
    return [(r["station_id"], r["evse_id"], r["connector_id"], r["location"], r["instance"], r["day"], r["n"],
             round(r["sum_i"], 6), round(r["sum_t"], 6), round(r["sum_ii"], 6), round(r["sum_it"], 6),
             round(r["sum_tt"], 6)) for r in rows]


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(str(tmp_path / "z.db"))
    yield s
    await s.close()


async def test_each_temperature_pairs_with_its_ports_current_then(store):
    unit = Unit()
    connected(unit, "CP-16", "1.6", T0)
    connected(unit, "CP-201", "2.0.1", T0)
    reading(unit, "CP-16", "1.6", 1, T0 + 60, 20.0, 31.0)  # paired: L2 is the highest phase, 20 A
    reading(unit, "CP-16", "1.6", 2, T0 + 120, 10.0, 28.0)
    reading(unit, "CP-16", "1.6", 2, T0 + 900, None, 29.0)  # no current within 120 s: not paired
    reading(unit, "CP-201", "2.0.1", 1, T0 + 300, 30.0, 40.0)  # the EVSE's current, temperature 0.4 s later
    reading(unit, "CP-201", "2.0.1", 2, T0 + 250, 12.0, None)
    module_reading(unit, "CP-201", "1", T0 + 300, 50.0)  # the station's total: 30 + 12 A
    module_reading(unit, "CP-201", "1", T0 + 3000, 45.0)  # no port has a reading near: not paired
    messages.temperature(unit, ev.Temperature("CP-201", "body", 30.0, 0, 0, time=T0 + 300))  # not a port
    await store.commit(unit)

    health = LoadTemperature(ctx_for(store))
    assert await health.fold(until=T0 + 3600) == 1
    assert await sums(store) == [
        ("CP-16", 1, 1, "connector", "", "2026-11-02", 1, 20.0, 31.0, 400.0, 620.0, 961.0),
        ("CP-16", 2, 2, "connector", "", "2026-11-02", 1, 10.0, 28.0, 100.0, 280.0, 784.0),
        ("CP-201", 0, 0, "module", "1", "2026-11-02", 1, 42.0, 50.0, 1764.0, 2100.0, 2500.0),
        ("CP-201", 1, 1, "connector", "", "2026-11-02", 1, 30.0, 40.0, 900.0, 1200.0, 1600.0),
    ]
    assert await store.health_mark(MARK) == T0 + 3600


async def test_a_module_pairs_with_the_stations_own_meter_where_it_has_one(store):
    unit = Unit()
    connected(unit, "DC-1", "2.0.1", T0)
    messages.meter(unit, "DC-1", 0, 0, None, current_samples(180.0, T0 + 10, phases=1))  # main meter
    reading(unit, "DC-1", "2.0.1", 1, T0 + 10, 100.0, None)
    module_reading(unit, "DC-1", "2", T0 + 12, 55.0)
    await store.commit(unit)
    await LoadTemperature(ctx_for(store)).fold(until=T0 + 3600)
    assert [(r[3], r[4], r[7]) for r in await sums(store)] == [("module", "2", 180.0)]


async def test_days_are_days_in_the_health_timezone(store):
    unit = Unit()
    connected(unit, "CP-1", "1.6", T0)
    evening = utc("2026-11-02T22:30")  # 23:30 in Prague: still the 2nd
    late = utc("2026-11-02T23:30")  # 00:30 in Prague: the 3rd
    reading(unit, "CP-1", "1.6", 1, evening, 10.0, 30.0)
    reading(unit, "CP-1", "1.6", 1, late, 20.0, 33.0)
    await store.commit(unit)
    await LoadTemperature(ctx_for(store, "Europe/Prague")).fold(until=utc("2026-11-03T02:00"))
    assert [(r[5], r[6], r[7]) for r in await sums(store)] == [("2026-11-02", 1, 10.0), ("2026-11-03", 1, 20.0)]


async def test_only_complete_hours_are_folded_and_a_second_fold_adds_nothing(store):
    unit = Unit()
    connected(unit, "CP-1", "1.6", T0)
    for k in range(12):  # every 10 minutes for two hours
        reading(unit, "CP-1", "1.6", 1, T0 + 600 * k, 10.0 + k, 30.0 + k / 2)
    await store.commit(unit)
    health = LoadTemperature(ctx_for(store))
    assert await health.fold(until=T0 + 3600 + 1800) == 1  # the second hour is not over
    assert (await sums(store))[0][6] == 6
    assert await health.fold(until=T0 + 7200) == 1
    whole = await sums(store)
    assert whole[0][6] == 12
    assert await health.fold(until=T0 + 7200) == 0
    assert await health.fold() == 0  # up to now: nothing new came, nothing is counted twice
    assert await sums(store) == whole


def two_days(station: str = "CP-1") -> Unit:
    """Two days of readings on two connectors, every 10 minutes (the same each call)."""
    rng = random.Random(5)
    unit = Unit()
    connected(unit, station, "1.6", T0)
    for k in range(6 * 24 * 2):
        reading(unit, station, "1.6", 1 + k % 2, T0 + 600 * k, round(rng.uniform(6, 32), 1),
                round(rng.uniform(25, 45), 1))
    return unit


async def test_a_crash_in_the_middle_of_a_fold_loses_nothing_and_counts_nothing_twice(store, tmp_path, monkeypatch):
    clean = await Store.open(str(tmp_path / "clean.db"))  # the same rows, folded without a crash
    try:
        await clean.commit(two_days())
        await LoadTemperature(ctx_for(clean)).fold(until=T0 + 2 * 86400)
        expected = await sums(clean)
    finally:
        await clean.close()
    await store.commit(two_days())

    real_set_mark, calls = health_temps.set_mark, []

    def crash_on_the_second_step(c, name, upto):
        calls.append(upto)
        if len(calls) >= 2:  # (the writer tries a failed op again: it fails again)
            raise RuntimeError("power cut")  # after this step's sums were added, before its mark
        real_set_mark(c, name, upto)

    monkeypatch.setattr(health_temps, "set_mark", crash_on_the_second_step)
    health = LoadTemperature(ctx_for(store))
    with pytest.raises(RuntimeError):
        await health.fold(until=T0 + 2 * 86400)
    first_step = await sums(store)
    assert await store.health_mark(MARK) == calls[0]  # the first step's 24 hours stand, whole
    assert 0 < sum(r[6] for r in first_step) < sum(r[6] for r in expected)
    monkeypatch.setattr(health_temps, "set_mark", real_set_mark)
    await health.fold(until=T0 + 2 * 86400)  # the restart: from the mark on
    assert await sums(store) == expected
    await health.fold(until=T0 + 2 * 86400)
    assert await sums(store) == expected


async def test_what_retention_folded_away_is_left_out_and_said(store, caplog):
    start = utc("2026-10-01T10:00")  # forty days on from it are in the past
    unit = Unit()
    connected(unit, "CP-1", "1.6", start)
    for day in range(40):  # one reading a day
        reading(unit, "CP-1", "1.6", 1, start + day * 86400, 10.0 + day % 5, 30.0)
    await store.commit(unit)
    now = start + 40 * 86400
    await Retention(store, RetentionConfig(raw_days=30, history_days=0)).run_once(now)  # 10 days of raw current gone
    health = LoadTemperature(ctx_for(store))
    await health.fold(until=now)
    days = [r[5] for r in await sums(store)]
    assert len(days) == 30 and days[0] == "2026-10-11"  # from the oldest raw sample still kept
    (gap,) = health.unpaired
    assert gap[0] == start and gap[1] == start + 10 * 86400
    assert "no raw current left" in caplog.text
