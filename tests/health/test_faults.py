"""Fault analytics (zaspot.health.faults) on a real SQLite store filled with a script of alarms,
compared with figures worked out by hand; and module trips counted once each from what a
simulated station of each OCPP version reports through a real server."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import orjson
import pytest

from tests.health.clock import utc
from tests.helpers import start_app
from zaspot.api.client import ZaspotClient
from zaspot.health.config import HealthConfig
from zaspot.health.faults import analytics
from zaspot.sim.station import SimStation
from zaspot.store.store import Store

START, END = utc("2026-11-01T00:00"), utc("2026-12-01T00:00")
MIN = 60.0

STATIONS = [("CP-1", "ABB", "Terra 54"), ("CP-2", "ABB", "Terra 54"), ("CP-3", "Zaspot", "SimDC")]


def at(day: int, hour: int = 0) -> float:
    return utc(f"2026-11-{day:02d}T{hour:02d}:00")


def connector(sid: str, c: int, code: str, raised: float, cleared: float | None, **extra) -> tuple:
    return (sid, c, c, "connector", None, code, raised, cleared, {"origin": f"StatusNotification/{c}/{c}"}, extra)


def module(sid: str, instance: str, code: str, raised: float, cleared: float | None) -> tuple:
    return (sid, 0, 0, "module", instance, code, raised, cleared,
            {"origin": f"AcDcConverter[{instance}]/0/0.Tripped"}, {})


# (station, evse, connector, component, instance, code, raised, cleared, details, extra columns)
SCRIPT = [
    connector("CP-1", 1, "GroundFailure", at(2, 10), at(2, 10) + 30 * MIN),
    connector("CP-1", 1, "GroundFailure", at(5, 10), at(5, 10) + 90 * MIN),
    connector("CP-1", 2, "GroundFailure", at(9), None),                                   # still open
    connector("CP-2", 1, "GroundFailure", at(3), at(3) + 10 * MIN),
    connector("CP-2", 1, "Faulted", at(3), at(3), superseded_by="GroundFailure"),         # the same fault
    ("CP-2", 0, 0, "station", None, "HighTemperature", at(4), at(4) + 60 * MIN, {"origin": "x"}, {}),
    module("CP-3", "1", "Tripped", at(6), at(6) + 20 * MIN),
    module("CP-3", "1", "Tripped", at(7), at(7) + 40 * MIN),
    module("CP-3", "2", "Tripped", at(8), at(10)),                                        # 2880 min
    module("CP-3", "2", "OverCurrent", at(12), None),                                     # a 2.0.1 techCode
    ("CP-3", 0, 0, "module", "1", "TemperatureDrift", at(13), None,
     {"origin": "health:drift:Module:0/0:1"}, {}),                                        # not a trip
    connector("CP-4", 1, "ConnectorLockFailure", at(15), at(15) + 120 * MIN),             # never booted
    connector("CP-1", 1, "GroundFailure", START - 3600, START - 60),                      # October
    connector("CP-1", 1, "GroundFailure", END, None),                                     # December
]


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "faults.db")
    db = sqlite3.connect(tmp_path / "faults.db")
    with db:
        db.executemany("INSERT INTO stations (id, vendor, model) VALUES (?, ?, ?)", STATIONS)
        for sid, evse, conn, component, instance, code, raised, cleared, details, extra in SCRIPT:
            db.execute("INSERT INTO alarms (station_id, evse_id, connector_id, component, instance, code, severity, "
                       "message, raised_at, cleared_at, details, superseded_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (sid, evse, conn, component, instance, code, "error", code, raised, cleared,
                        orjson.dumps(details).decode(), extra.get("superseded_by")))
    db.close()
    yield store
    await store.close()


async def test_codes_per_station_model_and_vendor(store):
    result = await analytics(store, HealthConfig(), START, END)
    assert result["alarms"] == 11  # 14 scripted: one superseded, one in October, one in December
    assert result["codes"] == [
        {"code": "GroundFailure", "count": 4, "stations": 2},
        {"code": "Tripped", "count": 3, "stations": 1},
        {"code": "ConnectorLockFailure", "count": 1, "stations": 1},
        {"code": "HighTemperature", "count": 1, "stations": 1},
        {"code": "OverCurrent", "count": 1, "stations": 1},
        {"code": "TemperatureDrift", "count": 1, "stations": 1},
    ]
    assert result["by_station"] == [
        {"station_id": "CP-1", "code": "GroundFailure", "count": 3},
        {"station_id": "CP-2", "code": "GroundFailure", "count": 1},
        {"station_id": "CP-2", "code": "HighTemperature", "count": 1},
        {"station_id": "CP-3", "code": "Tripped", "count": 3},
        {"station_id": "CP-3", "code": "OverCurrent", "count": 1},
        {"station_id": "CP-3", "code": "TemperatureDrift", "count": 1},
        {"station_id": "CP-4", "code": "ConnectorLockFailure", "count": 1},
    ]
    assert result["by_model"] == [
        {"vendor": None, "model": None, "code": "ConnectorLockFailure", "count": 1, "stations": 1},
        {"vendor": "ABB", "model": "Terra 54", "code": "GroundFailure", "count": 4, "stations": 2},
        {"vendor": "ABB", "model": "Terra 54", "code": "HighTemperature", "count": 1, "stations": 1},
        {"vendor": "Zaspot", "model": "SimDC", "code": "Tripped", "count": 3, "stations": 1},
        {"vendor": "Zaspot", "model": "SimDC", "code": "OverCurrent", "count": 1, "stations": 1},
        {"vendor": "Zaspot", "model": "SimDC", "code": "TemperatureDrift", "count": 1, "stations": 1},
    ]
    assert [(r["vendor"], r["code"], r["count"], r["stations"]) for r in result["by_vendor"]][:3] == [
        (None, "ConnectorLockFailure", 1, 1), ("ABB", "GroundFailure", 4, 2), ("ABB", "HighTemperature", 1, 1)]


async def test_module_trips_and_clear_times(store):
    result = await analytics(store, HealthConfig(), START, END)
    # Module 2's OverCurrent is a trip with a 2.0.1 techCode; TemperatureDrift on module 1 is not one.
    assert result["modules"] == [{"station_id": "CP-3", "instance": "1", "trips": 2},
                                 {"station_id": "CP-3", "instance": "2", "trips": 2}]
    clears = {c["code"]: c for c in result["clear_times"]}
    assert clears["GroundFailure"] == {"code": "GroundFailure", "count": 4, "open": 1, "mean_minutes": 43.33,
                                       "median_minutes": 30.0, "max_minutes": 90.0}  # 30, 90, 10 min
    assert clears["Tripped"] == {"code": "Tripped", "count": 3, "open": 0, "mean_minutes": 980.0,
                                 "median_minutes": 40.0, "max_minutes": 2880.0}  # 20, 40, 2880 min
    assert clears["OverCurrent"] == {"code": "OverCurrent", "count": 1, "open": 1, "mean_minutes": None,
                                     "median_minutes": None, "max_minutes": None}
    assert [c["code"] for c in result["clear_times"]][:2] == ["GroundFailure", "Tripped"]


async def test_repeat_offenders_by_code_and_by_failures(store):
    by_codes = await analytics(store, HealthConfig(repeat_offender=3), START, END)
    # CP-1 raised GroundFailure 3 times, CP-3 Tripped 3 times; CP-2's two codes once each.
    assert by_codes["repeat_offenders"] == [
        {"station_id": "CP-3", "failures": None, "alarms": 5, "codes": ["Tripped", "OverCurrent", "TemperatureDrift"],
         "repeated": ["Tripped"]},
        {"station_id": "CP-1", "failures": None, "alarms": 3, "codes": ["GroundFailure"],
         "repeated": ["GroundFailure"]},
    ]
    availability = {"stations": [{"station_id": "CP-1", "failures": 1}, {"station_id": "CP-2", "failures": 4},
                                 {"station_id": "CP-3", "failures": 0}, {"station_id": "CP-9", "failures": 0}]}
    with_failures = await analytics(store, HealthConfig(repeat_offender=3), START, END, availability)
    assert [(r["station_id"], r["failures"]) for r in with_failures["repeat_offenders"]] == [
        ("CP-2", 4), ("CP-1", 1), ("CP-3", 0)]
    assert (await analytics(store, HealthConfig(repeat_offender=5), START, END, availability))["repeat_offenders"] == []


async def test_an_empty_window_has_no_faults(store):
    result = await analytics(store, HealthConfig(), END + 86400, END + 2 * 86400)
    assert (result["alarms"], result["codes"], result["modules"], result["clear_times"]) == (0, [], [], [])


async def _wait(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_each_trip_of_a_simulated_module_counts_once_on_both_versions(tmp_path):
    app = await start_app(tmp_path)
    stations = [SimStation("DC-16", app.url + "/ocpp", "1.6", kind="dc", modules=2),
                SimStation("DC-201", app.url + "/ocpp", "2.0.1", kind="dc", modules=2)]
    try:
        for st in stations:
            await st.start()
        for st in stations:
            await st.wait_booted()
            await st.proto.report_module(1, True)
            await st.proto.report_module(1, True)   # told again while tripped: the same trip
            await st.proto.report_module(1, False)
            await st.proto.report_module(1, True)   # a second trip
            await st.proto.report_module(2, True)

        async def trips():
            rows = await app.ctx.store.module_trips(0, time.time() + 60)
            return rows if sum(r["trips"] for r in rows) >= 6 else None

        assert await _wait(trips) is not None
        async with ZaspotClient(app.url + "/api/websocket") as client:
            result = await client.command("reports/faults", start=time.time() - 3600, end=time.time() + 60)
        assert sorted((m["station_id"], m["instance"], m["trips"]) for m in result["modules"]) == [
            ("DC-16", "1", 2), ("DC-16", "2", 1), ("DC-201", "1", 2), ("DC-201", "2", 1)]
    finally:
        for st in stations:
            await st.stop()
        await app.stop()
