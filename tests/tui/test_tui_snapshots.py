"""SVG snapshots of the main screens (pytest-textual-snapshot).

Layout needs fixed data and a frozen clock, so these feed the TUI plain API rows
(the shapes `fleet/list` and the history commands return) through a stand-in
client; test_tui_live.py drives the same TUI against a real server.
Update after an intended change: pytest tests/tui --snapshot-update
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT
from zaspot.api.client import ApiError
from zaspot.tui.app import ZaspotTui
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.station_screen import StationScreen

NOW = 1_795_600_000.0  # frozen: every time on screen is relative to this
SIZE = (160, 46)


def connector(evse: int, conn: int, status: str = "Available", power: float | None = None,
              energy: float | None = None, tx: str | None = None, error: str | None = None) -> dict[str, Any]:
    return {"evse_id": evse, "connector_id": conn, "status": status, "error_code": error, "vendor_error_code": None,
            "info": None, "since": NOW - 600, "power_w": power, "energy_wh": energy, "transaction_id": tx}


def station(sid: str, version: str, model: str, connectors: list[dict[str, Any]], *, online: bool = True,
            temps: dict[str, float] | None = None, modules: dict[str, dict[str, Any]] | None = None,
            alarms: dict[int, str] | None = None, seen: float = 20, name: str = "", site: str = "",
            notes: str = "") -> dict[str, Any]:
    state = {"station_id": sid, "ocpp_version": version, "connected": online, "online": online, "vendor": "Zaspot",
             "model": model, "firmware": "1.4.2", "last_seen": NOW - seen, "connectors": connectors,
             "temperatures": temps or {}, "modules": modules or {}, "open_alarms": alarms or {}}
    return {"id": sid, "ocpp_version": version, "vendor": "Zaspot", "model": model, "firmware": "1.4.2",
            "connected": online, "last_seen": NOW - seen, "state": state, "name": name, "site": site, "notes": notes}


def module(i: int, celsius: float, tripped: bool = False) -> dict[str, Any]:
    return {"instance": str(i), "enabled": True, "problem": tripped, "tripped": tripped, "celsius": celsius}


FLEET = [
    station("LOBBY-1", "1.6", "AC22", [connector(0, 0), connector(1, 1, "Charging", 10_950, 1_204_000, "41"),
                                       connector(2, 2, "Reserved")], temps={"connector@1/1": 41.0, "body@1/1": 29.5},
            name="Lobby left", site="Hotel Praha", notes="Guests only; the key for the cabinet is at reception."),
    station("LOBBY-2", "2.0.1", "AC22", [connector(1, 1, "Faulted", error="GroundFailure"), connector(2, 1)],
            temps={"connector@1/1": 33.0}, alarms={7: "GroundFailure"}, name="Lobby right", site="Hotel Praha"),
    station("DEPOT-DC1", "2.0.1", "DC150", [connector(1, 1, "Charging", 96_400, 2_871_000, "9f100fa9-58cd-4bd1-b678-22ba9967baa6"),
                                            connector(2, 1, "SuspendedEV", 0.0, 2_650_000, "416cbe1f-1a1d-450d-9f73-5f400ee99c0d")],
            temps={"connector@1/1": 52.0, "module:1": 61.0, "module:2": 63.5, "module:3": 88.0, "module:4": 60.0, "body": 31.0},
            modules={str(i): module(i, c, i == 3) for i, c in ((1, 61.0), (2, 63.5), (3, 88.0), (4, 60.0))},
            alarms={8: "Tripped"}, name="Bus bay 1", site="Depot Nord"),
    station("DEPOT-DC2", "1.6", "DC50", [connector(0, 0), connector(1, 1), connector(2, 2, "Unavailable")],
            online=False, seen=4 * 3600, site="Depot Nord"),
    station("GARAGE-7", "1.6", "AC11", [connector(0, 0), connector(1, 1, "Preparing")], temps={"connector@1/1": 24.0}),
]
TRANSACTIONS = [
    {"station_id": "LOBBY-1", "evse_id": 1, "connector_id": 1, "state": "active", "meter_start_wh": 1_190_000,
     "started_at": NOW - 5400},
    {"station_id": "DEPOT-DC1", "evse_id": 1, "connector_id": 1, "state": "active", "meter_start_wh": 2_840_000,
     "started_at": NOW - 1500},
    {"station_id": "DEPOT-DC1", "evse_id": 2, "connector_id": 1, "state": "active", "meter_start_wh": 2_610_000,
     "started_at": NOW - 2700},
    {"station_id": "GARAGE-7", "evse_id": 1, "connector_id": 1, "state": "ended", "meter_start_wh": 100_000,
     "meter_stop_wh": 118_500, "stopped_at": NOW - 3600},
]
ALARMS = [  # as zaspot's diagnostics word them (zaspot/diagnostics/alarms.py)
    {"id": 8, "station_id": "DEPOT-DC1", "severity": "critical", "code": "Tripped", "component": "module",
     "instance": "3", "message": "module 3: Tripped", "raised_at": NOW - 90, "cleared_at": None},
    {"id": 7, "station_id": "LOBBY-2", "severity": "critical", "code": "GroundFailure", "component": "connector",
     "message": "connector 1/1: GroundFailure", "raised_at": NOW - 300, "cleared_at": None},
    {"id": 5, "station_id": "LOBBY-1", "severity": "warning", "code": "OverTemperature",
     "message": "connector 1 at 74 °C (limit 70 °C)", "raised_at": NOW - 5400, "cleared_at": NOW - 4800},
]
LIMITS = [{"station_id": "DEPOT-DC1", "evse_id": 0, "unit": "W", "in_force_amps": 15.9, "in_force_watts": 11_000.0,
           "set_by": "rule:connector_overheat", "since": NOW - 85, "applied": None, "error": None,
           "intents": [{"source": "rule:connector_overheat", "amps": 15.9, "kw": 11.0, "reason": "", "until": None}]}]
EVENTS = [
    {"ts": NOW - 300, "data": {"type": "status_changed", "evse_id": 2, "connector_id": 1, "status": "SuspendedEV"}},
    {"ts": NOW - 90, "data": {"type": "power_module", "instance": "3", "tripped": True, "problem": True}},
    {"ts": NOW - 90, "data": {"type": "alarm_raised", "severity": "critical", "code": "Tripped", "message": "module 3: Tripped"}},
    {"ts": NOW - 89, "data": {"type": "command_result", "command": "reset", "status": "Accepted", "ok": True,
                              "source": "rule:module_trip_reset"}},
    *({"ts": NOW - 88 + 0.5 * i, "data": {"type": "temperature", "location": "connector", "evse_id": 1, "connector_id": 1,
                                    "celsius": 68.0 + i}} for i in range(4)),
    {"ts": NOW - 85, "data": {"type": "command_result", "command": "set_power_limit", "status": "Accepted", "ok": True,
                              "source": "rule:connector_overheat"}},
]


RESERVATIONS = [  # LOBBY-1's connector 2 says Reserved; LOBBY-2's EVSE 2 does not yet, and is held all the same
    {"id": 3, "station_id": "LOBBY-1", "evse_id": 2, "connector_id": 2, "id_token": "04A1B2C3", "expires_at": NOW + 900,
     "status": "active"},
    {"id": 4, "station_id": "LOBBY-2", "evse_id": 2, "connector_id": None, "id_token": "DRIVER-7", "expires_at": NOW + 1500,
     "status": "active"},
]
FIRMWARE_UPDATES = [
    {"id": 2, "station_id": "LOBBY-1", "rollout_id": 1, "firmware": "ac22-1.4.2.bin", "status": "Installed", "detail": None,
     "updated_at": NOW - 86400, "done_at": NOW - 86400},
    {"id": 5, "station_id": "LOBBY-1", "rollout_id": 2, "firmware": "ac22-1.5.0.bin", "status": "Downloading",
     "detail": None, "updated_at": NOW - 40, "done_at": None},
]
LOG_UPLOADS = [
    {"id": 1, "station_id": "LOBBY-1", "log_type": "diagnostics", "status": "Uploaded", "filename": "LOBBY-1-diag.zip",
     "size": 48_213, "created_at": NOW - 7200, "updated_at": NOW - 7100},
    {"id": 2, "station_id": "LOBBY-1", "log_type": "security", "status": "UploadFailed", "filename": None, "size": None,
     "created_at": NOW - 600, "updated_at": NOW - 560},
]
CARDS = [
    {"id_token": "04A1B2C3", "status": "Accepted", "expiry": None, "group": "FLEET", "driver": "Eva Novak",
     "note": "", "updated_at": NOW - 3 * 86400},
    {"id_token": "DRIVER-7", "status": "Accepted", "expiry": NOW + 30 * 86400, "group": "FLEET", "driver": "Jan Dvořák",
     "note": "night shift", "updated_at": NOW - 2 * 3600},
    {"id_token": "GUEST-112", "status": "Expired", "expiry": NOW - 86400, "group": None, "driver": None,
     "note": "hotel guest, room 112", "updated_at": NOW - 5 * 86400},
    {"id_token": "LOST-0042", "status": "Blocked", "expiry": None, "group": "FLEET", "driver": "Petr Král",
     "note": "reported lost", "updated_at": NOW - 120},
]
LOCAL_LISTS = [
    {"station_id": "DEPOT-DC1", "version": 7, "supported": True, "synced_at": NOW - 100, "error": None, "in_step": True},
    {"station_id": "DEPOT-DC2", "version": 6, "supported": True, "synced_at": NOW - 4 * 3600, "error": "not connected",
     "in_step": False},
    {"station_id": "GARAGE-7", "version": None, "supported": False, "synced_at": None, "error": None, "in_step": False},
]

def day_price(hour: float) -> float:
    """A November weekday's spot price in CZK/kWh: a morning and an evening peak, a cheap noon."""
    return round(2.6 + 1.6 * math.exp(-((hour - 8.5) / 1.2) ** 2) + 2.4 * math.exp(-((hour - 18.5) / 1.6) ** 2)
                 - 1.5 * math.exp(-((hour - 13.0) / 1.8) ** 2), 2)


DAY = NOW - NOW % 86400  # midnight (UTC, as the tests run)
PRICES = [{"start": DAY + 900 * i, "end": DAY + 900 * (i + 1), "price": day_price(i / 4), "unit": "CZK/kWh",
           "fallback": False} for i in range(96)]  # today's periods; tomorrow's arrive at 13:00
PRICE_NOW = {"spot": next(p for p in PRICES if p["start"] <= NOW < p["end"]), "currency": "CZK", "driver_price": 7.42,
             "tariff": "standard"}


def session(tx: str, sid: str, evse: int, conn: int, card: str, start: float, end: float | None, kwh: float,
            incl: float, state: str = "ended") -> dict[str, Any]:
    return {"id": tx, "station_id": sid, "evse_id": evse, "connector_id": conn, "id_token": card,
            "start_date_time": start, "end_date_time": end, "total_energy": kwh,
            "total_time": ((end or NOW) - start) / 3600, "total_parking_time": 0.0,
            "total_cost": {"excl_vat": round(incl / 1.21, 2), "incl_vat": incl}, "currency": "CZK",
            "tariff": "standard", "state": state}


SESSIONS = [
    session("41", "LOBBY-1", 1, 1, "04A1B2C3", NOW - 5400, None, 14.0, 97.02, "active"),
    session("9f100fa9-58cd-4bd1-b678-22ba9967baa6", "DEPOT-DC1", 1, 1, "DRIVER-7", NOW - 1500, None, 31.0, 214.52, "active"),
    session("416cbe1f-1a1d-450d-9f73-5f400ee99c0d", "DEPOT-DC1", 2, 1, "BUS-12", NOW - 2700, None, 40.0, 276.80, "active"),
    session("c2a9d4e0-8b1f-4a7e-9d2c-5f3e1b7a6c44", "DEPOT-DC1", 1, 1, "BUS-03", NOW - 9000, NOW - 5400, 52.4, 438.60),
    session("7d3b8f12-4c6e-49a1-b5d0-2e9f8a1c3b77", "DEPOT-DC1", 2, 1, "BUS-07", NOW - 86400, NOW - 82800, 61.8, 402.11,
            "stale"),
    session("40", "GARAGE-7", 1, 1, "GUEST-112", NOW - 7200, NOW - 3600, 18.5, 121.43),
]
RECEIPT = {**SESSIONS[3], "session_fee": 6.05, "idle_fee": 0.0, "idle_minutes": 0.0,
           "tariff_text": "standard: spot x 1 + 2 (at least 3, at most 12), + 21 % VAT, per period", "periods": [
    {"start": NOW - 9000 + 900 * i, "end": NOW - 8100 + 900 * i, "energy_wh": wh, "spot": spot, "price": price,
     "cost": round(wh / 1000 * price, 2)}
    for i, (wh, spot, price) in enumerate(((12_400, 3.71, 7.91), (13_600, 3.95, 8.20), (13_100, 4.12, 8.41),
                                          (13_300, 4.18, 8.48)))]}

# DEPOT-DC1's last hour: both EVSEs ramping up, then EVSE 2's car full and the derate at module 3's trip.
SAMPLES = [{"ts": NOW - 3600 + 60 * i, "evse_id": evse, "connector_id": 1, "measurand": "Power.Active.Import",
            "phase": None, "value": w}
           for i in range(60)
           for evse, w in ((1, min(96_400.0, 2_000.0 * i)), (2, min(48_000.0, 1_500.0 * i) if i < 45 else 0.0))]


# fleet health (reports/snapshot, and one station's ports and outages)
HEALTH = {"DEPOT-DC1": {"uptime_30d": 99.512, "outage_minutes_30d": 211.0, "failures_30d": 1, "mtbf_hours_30d": 716.5,
                        "mttr_hours_30d": 2.5, "ports": 2, "target": 97.0, "module_trips_30d": 2, "open_alarms": 1},
          "LOBBY-2": {"uptime_30d": 94.2, "outage_minutes_30d": 2506.0, "failures_30d": 3, "mtbf_hours_30d": 231.3,
                      "mttr_hours_30d": 13.9, "ports": 2, "target": 97.0, "module_trips_30d": 0, "open_alarms": 1},
          "GARAGE-7": {"uptime_30d": 100.0, "outage_minutes_30d": 0.0, "failures_30d": 0, "mtbf_hours_30d": None,
                       "mttr_hours_30d": None, "ports": 1, "target": 97.0, "module_trips_30d": 0, "open_alarms": 0}}
AVAILABILITY = {"ports": [{"station_id": "LOBBY-2", "evse_id": e, "connector_id": 1, "uptime": up, "outage_minutes": m,
                           "by_cause": {"faulted": m}, "excluded_minutes": 0.0, "failures": f, "mtbf_hours": b,
                           "mttr_hours": r} for e, up, m, f, b, r in ((1, 88.4, 5012.0, 3, 231.3, 27.8),
                                                                       (2, 100.0, 0.0, 0, None, None))]}
OUTAGES = [{"station_id": "LOBBY-2", "evse_id": 1, "connector_id": 1, "cause": "faulted", "code": "GroundFailure",
            "detail": None, "started": NOW - 300, "ended": None},
           {"station_id": "LOBBY-2", "evse_id": 1, "connector_id": 1, "cause": "faulted", "code": "GroundFailure",
            "detail": None, "started": NOW - 9 * 86400, "ended": NOW - 7 * 86400}]

# The shipped rules (rules/*.yaml), as rules/list gives them, and what three of them did.
RULES = {"rules": [{"id": r["id"], "alias": r.get("alias")} for f in sorted((ROOT / "rules").glob("*.yaml"))
                   for r in yaml.safe_load(f.read_text())], "errors": [], "folder": "rules", "warning": None}
TRACES = [{"rule_id": "connector_overheat", "station_id": "DEPOT-DC1", "started": NOW - 85, "outcome": "done"},
          {"rule_id": "module_trip_reset", "station_id": "DEPOT-DC1", "started": NOW - 89, "outcome": "done"},
          {"rule_id": "ground_failure_inoperative", "station_id": "LOBBY-2", "started": NOW - 299, "outcome": "done"},
          {"rule_id": "connector_overheat", "station_id": "LOBBY-1", "started": NOW - 5300, "outcome": "cooldown"}]


def of_station(rows: list[dict[str, Any]], data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rows if data.get("station_id") in (None, r["station_id"])]


class CannedClient:
    """Answers like a server with the shipped rules and the built-in temperature limits; no live events."""

    auth_mode = "open"

    def __init__(self) -> None:
        self._closed = asyncio.Event()

    async def connect(self) -> CannedClient:
        return self

    async def close(self) -> None:
        self._closed.set()

    async def command(self, message_type: str, /, *, timeout: float | None = 60, **data: Any) -> Any:
        answers = {"fleet/list": FLEET, "history/transactions": TRANSACTIONS, "history/alarms": ALARMS,
                   "limits/get": LIMITS, "history/events": list(reversed(EVENTS)), "history/frames": [],
                   "history/meter_samples": SAMPLES, "cards/mode": {"mode": self.auth_mode, "version": 7},
                   "reservations/list": of_station(RESERVATIONS, data),
                   "firmware/status": of_station(FIRMWARE_UPDATES, data), "logs/list": of_station(LOG_UPLOADS, data),
                   "cards/list": CARDS, "cards/lists": LOCAL_LISTS, "prices/list": PRICES, "prices/now": PRICE_NOW,
                   "history/sessions": of_station(SESSIONS, data), "sessions/receipt": RECEIPT,
                   "rules/list": RULES, "history/rule_traces": TRACES, "reports/snapshot": HEALTH,
                   "reports/availability": AVAILABILITY, "reports/outages": OUTAGES}
        if message_type not in answers:
            raise ApiError("unknown_command", f"unknown command type {message_type!r}")
        return answers[message_type]

    async def subscribe(self, event_type: str | None = None, station_id: str | None = None) -> Any:
        async def events():
            await self._closed.wait()
            return
            yield  # an async generator that yields nothing

        return events()


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app() -> ZaspotTui:
    return ZaspotTui("ws://zaspot.example:9000/api/websocket", make_client=CannedClient, clock=lambda: NOW)


async def until(pilot, check) -> None:
    while not check():
        await pilot.pause(0.02)
    await pilot.pause()


async def loaded(pilot) -> None:
    banner = pilot.app.query_one("#banner")
    await until(pilot, lambda: pilot.app.query_one(FleetTable).row_count and not banner.has_class("lost"))


def test_fleet_screen(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=loaded)


def test_fleet_screen_trouble_first_and_filtered(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("S", "slash", *"depot", "enter")
        await until(pilot, lambda: pilot.app.query_one(FleetTable).row_count == 2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_station_screen(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        table = pilot.app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("DEPOT-DC1"))
        await pilot.press("enter")
        await until(pilot, lambda: "11.0 kW" in str(pilot.app.screen.query_one("#session").render()))
        await until(pilot, lambda: "last 60 readings" in str(pilot.app.screen.query_one("#power-label").render()))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_confirmation_modal(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("l")
        await until(pilot, lambda: pilot.app.screen.query("#dialog"))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.query("#help"))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_station_screen_with_a_reservation_and_its_firmware_and_logs(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        table = pilot.app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("LOBBY-1"))
        await pilot.press("enter")
        await until(pilot, lambda: "ac22-1.5.0.bin" in str(pilot.app.screen.query_one("#session").render()))
        pilot.app.screen.query_one("#station-logs").active = "tab-lifecycle"
        await until(pilot, lambda: pilot.app.screen.query_one("#log-uploads").row_count == 2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_station_screen_sessions_and_a_receipt(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        table = pilot.app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("DEPOT-DC1"))
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query_one("#sessions").row_count == 4)
        await pilot.press("n", "down", "down", "p")  # the third session: the one that ended
        await until(pilot, lambda: pilot.app.screen.query("#receipt-periods"))
        await until(pilot, lambda: pilot.app.screen.query_one("#receipt-periods").row_count == 4)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_cards_screen(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("c")
        await until(pilot, lambda: pilot.app.screen.query("#cards") and pilot.app.screen.query_one("#cards").row_count == 4)
        await until(pilot, lambda: pilot.app.screen.query_one("#local-lists").row_count == 3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


class OlderServer(CannedClient):
    """A zaspot from before #17: no cards, reservations, firmware or logs (nor #18's prices and sessions)."""

    async def command(self, message_type: str, /, *, timeout: float | None = 60, **data: Any) -> Any:
        if message_type.split("/")[0] in ("cards", "reservations", "firmware", "logs", "prices", "sessions", "rules",
                                          "diagnostics") or message_type in ("history/sessions", "history/rule_traces"):
            raise ApiError("unknown_command", f"unknown command type {message_type!r}")
        return await super().command(message_type, timeout=timeout, **data)


async def test_an_older_server_shows_no_auth_mode_and_says_it_has_no_cards():
    app = ZaspotTui("ws://old.example:9000/api/websocket", make_client=OlderServer, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        banner = str(app.query_one("#banner").render())
        assert "5 stations" in banner and "auth" not in banner
        assert not app.query_one("#prices").display  # no prices: no price strip
        assert app.query_one(FleetTable).get_cell("LOBBY-1", "cost").plain == "–"
        table = app.query_one(FleetTable)
        assert table.get_cell("LOBBY-1", "connectors").plain == "1:chrg 2:resv"  # its own status still shows
        assert table.get_cell("LOBBY-2", "connectors").plain.endswith("2/1:avail")  # no reservation list to add
        await pilot.press("c")
        await until(pilot, lambda: "older zaspot" in str(app.screen.query_one("#cards-title").render()))


async def test_an_event_for_a_station_screen_not_composed_yet_is_harmless():
    # Seen in a live test: an event of the station arrived between the push of its screen and
    # its compose; the screen's NoMatches for its event log killed the feed, and the TUI with it.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        app.push_screen(StationScreen("LOBBY-1"))
        app.feed_event({"type": "authorization", "station_id": "LOBBY-1", "time": NOW, "id_token": "04A1B2C3",
                        "status": "Accepted", "mode": "open"})
        await until(pilot, lambda: app.screen.query("#events") and app.screen.query_one("#events").lines)
        assert app.is_running


# --- an 80×24 terminal: every screen usable, nothing cut that matters -------------------------

SMALL = (80, 24)


def test_fleet_screen_at_80x24(snap_compare):
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=loaded)


def test_station_screen_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        table = pilot.app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("DEPOT-DC1"))
        await pilot.press("enter")
        await until(pilot, lambda: "11.0 kW" in str(pilot.app.screen.query_one("#session").render()))
        await until(pilot, lambda: len(pilot.app.screen.events.entries) == 6 and not pilot.app.screen._rewrite)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_health_screen_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("h")
        await until(pilot, lambda: pilot.app.screen.query("#health-stations")
                    and pilot.app.screen.query_one("#health-stations").row_count == 3)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_station_health_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("h")
        await until(pilot, lambda: pilot.app.screen.query("#health-stations")
                    and pilot.app.screen.query_one("#health-stations").row_count == 3)
        await pilot.press("enter")  # the worst: LOBBY-2
        await until(pilot, lambda: pilot.app.screen.query("#health-outages")
                    and pilot.app.screen.query_one("#health-outages").row_count == 2)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_help_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.query("#help"))

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_cards_screen_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("c")
        await until(pilot, lambda: pilot.app.screen.query("#cards") and pilot.app.screen.query_one("#cards").row_count == 4)
        await until(pilot, lambda: pilot.app.screen.query_one("#local-lists").row_count == 3)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_reset_confirmation_says_what_stops_at_80x24(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot)
        table = pilot.app.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("DEPOT-DC1"))
        await pilot.press("R")
        await until(pilot, lambda: pilot.app.screen.query("#dialog"))

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)
