"""reports/* on a real in-process zaspot, through the real API client: maintenance windows
added, listed and removed (times in the health timezone), the monthly report and fault
analytics of a month, and a clear refusal for each kind of bad input."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.health.clock import utc
from tests.helpers import start_app
from zaspot.api.client import ApiError, ZaspotClient
from zaspot.health.calendar import last_month
from zaspot.health.config import MaintenanceWindow
from zaspot.health.exclusions import load_config


@pytest.fixture
async def app(tmp_path):
    app = await start_app(tmp_path)
    db = sqlite3.connect(app.ctx.config.db)
    with db:
        db.execute("INSERT INTO stations (id, vendor, model, first_seen) VALUES ('CP-1', 'ABB', 'Terra 54', ?)",
                   (utc("2026-10-01T00:00"),))
    db.close()
    yield app
    await app.stop()


@pytest.fixture
async def client(app):
    async with ZaspotClient(app.url + "/api/websocket") as client:
        yield client


async def refused(client: ZaspotClient, kind: str, **data) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await client.command(kind, **data)
    return caught.value


async def test_a_maintenance_window_is_added_listed_and_removed_in_the_health_timezone(app, client):
    app.ctx.config.health.timezone = "Europe/Prague"
    added = await client.command("reports/exclusions/add", start="2026-11-10T08:00", end="2026-11-10T12:00",
                                 reason=" connector swap ", station_id="CP-1", evse_id=1, connector_id=1)
    assert added["start"] == utc("2026-11-10T07:00") and added["end"] == utc("2026-11-10T11:00")  # CET = UTC+1
    assert (added["start_local"], added["end_local"]) == ("2026-11-10T08:00+01:00", "2026-11-10T12:00+01:00")
    assert (added["station_id"], added["evse_id"], added["connector_id"], added["reason"], added["source"]) == (
        "CP-1", 1, 1, "connector swap", "api")
    site = await client.command("reports/exclusions/add", start=utc("2026-11-20T00:00"),
                                end="2026-11-20T02:00+00:00", reason="site power work")
    listed = await client.command("reports/exclusions")
    assert [(e["id"], e["station_id"], e["reason"]) for e in listed] == [
        (added["id"], "CP-1", "connector swap"), (site["id"], None, "site power work")]
    assert listed[1]["end_local"] == "2026-11-20T03:00+01:00"
    assert await client.command("reports/exclusions/remove", exclusion_id=added["id"]) == {"removed": added["id"]}
    assert [e["id"] for e in await client.command("reports/exclusions")] == [site["id"]]
    gone = await refused(client, "reports/exclusions/remove", exclusion_id=added["id"])
    assert (gone.code, gone.message) == ("not_found", f"no exclusion {added['id']} (reports/exclusions lists them)")


async def test_a_window_from_the_config_is_not_removed_through_the_api(app, client):
    config = app.ctx.config.health
    config.maintenance = [MaintenanceWindow("2026-11-10T08:00", "2026-11-10T12:00", "yearly check", ["CP-1"])]
    await load_config(app.ctx.store, config)
    [window] = await client.command("reports/exclusions")
    assert (window["source"], window["reason"]) == ("config", "yearly check")
    error = await refused(client, "reports/exclusions/remove", exclusion_id=window["id"])
    assert error.code == "rejected" and "health.maintenance" in error.message
    assert len(await client.command("reports/exclusions")) == 1


@pytest.mark.parametrize(("kind", "data", "code", "message"), [
    ("reports/monthly", {"month": "2026-13"}, "invalid_format", "'2026-13' is not a month: YYYY-MM (e.g. 2026-11)"),
    ("reports/monthly", {"month": "November"}, "invalid_format", "'November' is not a month: YYYY-MM (e.g. 2026-11)"),
    ("reports/faults", {"month": "2026-00"}, "invalid_format", "'2026-00' is not a month: YYYY-MM (e.g. 2026-11)"),
    ("reports/faults", {"month": "2026-11", "start": "2026-11-01"}, "invalid_format",
     "give a month or a start and end, not both"),
    ("reports/availability", {"start": "2026-11-02T00:00", "end": "2026-11-01T00:00"}, "invalid_format",
     "the start (2026-11-02T00:00+00:00) is not before the end (2026-11-01T00:00+00:00)"),
    ("reports/outages", {"start": "yesterday"}, "invalid_format",
     "start 'yesterday' is not a time: epoch seconds or ISO 8601 (2026-11-10T08:00)"),
    ("reports/availability", {"days": 0}, "invalid_format", "'days' must be between 0 and 3660, not 0"),
    ("reports/exclusions/add", {"start": "2026-11-10T12:00", "end": "2026-11-10T08:00", "reason": "x"},
     "invalid_format", "the start (2026-11-10T12:00+00:00) is not before the end (2026-11-10T08:00+00:00)"),
    ("reports/exclusions/add", {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00"}, "invalid_format",
     "missing 'reason'"),
    ("reports/exclusions/add", {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00", "reason": "  "},
     "invalid_format", "'reason' must say why (e.g. connector swap)"),
    ("reports/exclusions/add", {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00", "reason": "x",
                                "station_id": "CP-9"}, "not_found", "no station 'CP-9'"),
    ("reports/exclusions/add", {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00", "reason": "x",
                                "evse_id": 1}, "invalid_format", "an EVSE or connector needs its station_id"),
    ("reports/exclusions/add", {"start": "2026-11-10T08:00", "end": "2026-11-10T12:00", "reason": "x",
                                "station_id": "CP-1", "connector_id": 2}, "invalid_format",
     "a connector needs its evse_id (on 1.6 the same number)"),
    ("reports/exclusions/remove", {"exclusion_id": 42}, "not_found", "no exclusion 42 (reports/exclusions lists them)"),
    ("reports/exclusions/remove", {}, "invalid_format", "missing 'exclusion_id'"),
])
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(client, kind, data, code, message):
    error = await refused(client, kind, **data)
    assert (error.code, error.message) == (code, message)
    assert await client.command("reports/exclusions") == []


async def test_every_report_type_answers_on_a_running_server(app, client):
    now = time.time()
    monthly = await client.command("reports/monthly")
    assert monthly["month"] == last_month(now, app.ctx.config.health.zone) and monthly["partial"] is False
    assert set(monthly) >= {"availability", "rolling_12m", "days", "outages", "faults", "temperature", "exclusions"}
    window = await client.command("reports/availability", days=7, station_id="CP-1")
    assert window["end"] - window["start"] == 7 * 86400 and window["end"] == pytest.approx(now, abs=60)
    assert await client.command("reports/outages", start="2026-11-01", end="2026-12-01") == []
    faults = await client.command("reports/faults", month="2026-11")
    assert (faults["start"], faults["end"], faults["codes"]) == (utc("2026-11-01T00:00"), utc("2026-12-01T00:00"), [])
    assert await client.command("reports/temperature", station_id="CP-1") == {"series": []}
    assert isinstance(await client.command("reports/snapshot"), dict)
