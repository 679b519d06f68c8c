"""uptime.availability / daily and the exclusions on a real SQLite store, rows written as
the outage log writes them: a port commissioned mid-month, exclusions by scope, an open
outage, months and days in the health timezone, the config's maintenance windows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from zaspot.health import calendar, exclusions, uptime
from zaspot.health.config import HealthConfig, MaintenanceWindow
from zaspot.health.outages import OUTAGE_ROW, PORT_ROW
from zaspot.ranges import Invalid
from zaspot.store.store import Store

UTC = ZoneInfo("UTC")
PRAGUE = ZoneInfo("Europe/Prague")
DAY = 86400.0


def at(text: str, zone=UTC) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path / "z.db")
    yield s
    await s.close()


async def write(store, ports, outages) -> None:
    await store._writer.submit(PORT_ROW, [(*p, 1, p[3]) for p in ports])  # + networked, updated_at
    await store._writer.submit(OUTAGE_ROW, outages)


async def test_a_port_commissioned_mid_month_is_judged_from_its_first_status(store):
    nov1, nov16, dec1 = at("2026-11-01T00:00"), at("2026-11-16T00:00"), at("2026-12-01T00:00")
    await write(store, [("CP-1", 1, 1, nov1, "Available", None), ("CP-1", 2, 2, nov16, "Available", None)], [
        # connector 2: faulted 11-20 10:00-16:00 (6 h)
        (1, "CP-1", 2, 2, "faulted", "GroundFailure", None, at("2026-11-20T10:00"), at("2026-11-20T16:00")),
    ])
    config = HealthConfig()
    figures = await uptime.availability(store, config, nov1, dec1, now=dec1 + 60)
    ports = {p["evse_id"]: p for p in figures["ports"]}
    # connector 2 exists for 15 days = 21,600 min: (21600 - 360) / 21600 = 98.333 %
    assert ports[2]["minutes"] == 21600
    assert ports[2]["uptime"] == 98.333
    assert (ports[2]["failures"], ports[2]["mttr_hours"], ports[2]["mtbf_hours"]) == (1, 6.0, (21600 - 360) / 60)
    assert ports[1]["minutes"] == 43200 and ports[1]["uptime"] == 100.0
    # the station: (64800 - 360) / 64800 = 99.444 %; as a unit up 43200 - 360 min
    station = figures["stations"][0]
    assert (station["uptime"], station["ports"], station["failures"]) == (99.444, 2, 1)
    assert station["mtbf_hours"] == (43200 - 360) / 60
    days = await uptime.daily(store, config, nov1, dec1, now=dec1 + 60)
    assert [d["uptime"] for d in days[:15]] == [100.0] * 15  # connector 1 alone
    assert days[19]["day"] == "2026-11-20" and days[19]["uptime"] == round(100 * (2880 - 360) / 2880, 3)
    # A month before it was commissioned: no such port. A port with no time yet: None.
    october = await uptime.availability(store, config, *calendar.month_bounds("2026-10", UTC), now=dec1)
    assert october["ports"] == [] and october["site"]["uptime"] is None
    early = await uptime.availability(store, config, nov1, dec1, now=at("2026-11-10T00:00"))
    assert {p["evse_id"]: p["uptime"] for p in early["ports"]} == {1: 100.0, 2: None}


async def test_an_open_outage_counts_up_to_now_and_the_future_is_nobody_s(store):
    nov1 = at("2026-11-01T00:00")
    await write(store, [("CP-2", 1, 1, nov1, "Unavailable", None)],
                [(1, "CP-2", 1, 1, "unavailable", None, None, nov1 + DAY, None)])
    now = nov1 + 2 * DAY
    figures = await uptime.availability(store, HealthConfig(), *calendar.month_bounds("2026-11", UTC), now=now)
    port = figures["ports"][0]
    assert (port["minutes"], port["outage_minutes"], port["uptime"]) == (2880, 1440, 50.0)
    assert figures["minutes"] == 2880
    days = await uptime.daily(store, HealthConfig(), *calendar.month_bounds("2026-11", UTC), now=now)
    assert [d["uptime"] for d in days[:3]] == [100.0, 0.0, None]


async def test_exclusions_cover_their_scope_and_only_outage_time(store):
    nov1, dec1 = at("2026-11-01T00:00"), at("2026-12-01T00:00")
    ports = [("A", 1, 1, nov1, None, None), ("A", 2, 2, nov1, None, None), ("B", 1, 1, nov1, None, None)]
    ten, noon = at("2026-11-10T10:00"), at("2026-11-10T12:00")
    # every port offline 10:00-12:00
    await write(store, ports, [(i + 1, s, e, c, "offline", None, "disconnected", ten, noon)
                               for i, (s, e, c, *_rest) in enumerate(ports)])
    config = HealthConfig()
    await store.add_exclusion(at("2026-11-10T11:00"), at("2026-11-10T13:00"), "utility", "A", 2)  # A/2 only
    await store.add_exclusion(at("2026-11-09T00:00"), at("2026-11-09T12:00"), "nothing was down", None)
    figures = await uptime.availability(store, config, nov1, dec1, now=dec1)
    excluded = {(p["station_id"], p["evse_id"]): p["excluded_minutes"] for p in figures["ports"]}
    # A/2: the 11:00-12:00 part of its outage; the window's 12:00-13:00 was up time anyway;
    # the site-wide window on 11-09 covered no outage: it excludes nothing.
    assert excluded == {("A", 1): 0, ("A", 2): 60, ("B", 1): 0}
    a2 = next(p for p in figures["ports"] if p["evse_id"] == 2)
    assert a2["uptime"] == round(100 * (43200 - 60) / 43200, 3)
    window = await store.add_exclusion(at("2026-11-10T00:00"), at("2026-11-11T00:00"), "storm")  # everything
    figures = await uptime.availability(store, config, nov1, dec1, now=dec1)
    assert {p["uptime"] for p in figures["ports"]} == {100.0}
    assert figures["site"]["excluded_minutes"] == 360 and figures["site"]["outage_minutes"] == 360
    assert await store.remove_exclusion(window) and not await store.remove_exclusion(window)
    with pytest.raises(ValueError):
        await store.add_exclusion(ten, ten, "empty")


async def test_config_windows_replace_the_last_start_s_and_leave_the_api_s(store):
    api = await store.add_exclusion(at("2026-11-02T00:00"), at("2026-11-02T01:00"), "operator")
    config = HealthConfig(timezone="Europe/Prague", maintenance=[
        MaintenanceWindow("2026-11-10T08:00", "2026-11-10T12:00", "connector swap", ["CP-1", "CP-2"], 1, 1),
        MaintenanceWindow("2026-11-11T08:00+00:00", "2026-11-11T09:00+00:00", "site"),
    ])
    await exclusions.load_config(store, config)
    await exclusions.load_config(store, config)  # a restart: the same rows, not twice
    rows = await store.all_exclusions()
    assert [(r["station_id"], r["evse_id"], r["connector_id"], r["source"]) for r in rows] == [
        (None, None, None, "api"), ("CP-1", 1, 1, "config"), ("CP-2", 1, 1, "config"), (None, None, None, "config")]
    assert rows[1]["start"] == at("2026-11-10T08:00", PRAGUE)  # local time of the health timezone
    assert rows[3]["start"] == at("2026-11-11T08:00")  # its own offset
    await exclusions.load_config(store, HealthConfig())  # the windows taken out of the config
    assert [r["id"] for r in await store.all_exclusions()] == [api]
    for window, key in ((MaintenanceWindow("2026-11-10T08:00", "2026-11-10T07:00"), "end"),
                        (MaintenanceWindow("2026-11-10T08:00", "2026-11-10T09:00", " "), "reason"),
                        (MaintenanceWindow("2026-11-10T08:00", "2026-11-10T09:00", connector_id=1), "connector_id"),
                        (MaintenanceWindow("2026-11-10", "soon"), "end")):
        with pytest.raises(Invalid) as error:
            window.validate()
        assert error.value.key == key


def test_months_and_days_in_the_health_timezone():
    assert calendar.month_bounds("2026-11", PRAGUE) == (at("2026-11-01T00:00", PRAGUE), at("2026-12-01T00:00", PRAGUE))
    assert calendar.month_bounds("2026-12", UTC)[1] == at("2027-01-01T00:00")
    assert calendar.last_month(at("2026-12-01T00:30", PRAGUE), PRAGUE) == "2026-11"
    assert calendar.last_month(at("2026-11-30T23:30"), PRAGUE) == "2026-11"  # already December in Prague
    assert calendar.last_month(at("2027-01-15T00:00"), UTC) == "2026-12"
    assert calendar.rolling_bounds("2026-11", UTC) == (at("2025-12-01T00:00"), at("2026-12-01T00:00"))
    with pytest.raises(ValueError):
        calendar.month_bounds("November", UTC)
    # October 2026 in Prague has 31 days, one of them 25 hours long (DST ends on the 25th)
    bounds, days = calendar.day_bounds(*calendar.month_bounds("2026-10", PRAGUE), PRAGUE)
    assert len(days) == 31 and days[24] == "2026-10-25"
    assert bounds[25] - bounds[24] == 25 * 3600
