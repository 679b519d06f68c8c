"""What each fleet-table cell shows for a station, and how the table sorts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from zaspot.tui import format as fmt
from zaspot.tui.model import Station

COLUMNS: tuple[tuple[str, str, int], ...] = (  # key, label, width
    ("station", "Station", 12),
    ("name", "Name · site", 20),
    ("version", "OCPP", 5),
    ("link", "Link", 7),
    ("connectors", "Connectors", 26),
    ("power", "Power", 8),
    ("cost", "Cost", 9),
    ("today", "Today", 9),
    ("hottest", "Hottest", 7),
    ("modules", "Modules", 7),
    ("alarms", "Alarms", 17),
    ("seen", "Seen", 5),
)


def name_cell(st: Station) -> Text:
    text = Text(st.name)
    if st.site:
        text.append((" · " if st.name else "") + st.site, style="bright_black")
    return text if text.plain else Text("–", style="bright_black")


def connectors_cell(st: Station, now: float) -> Text:
    text = Text()
    held = st.reservations_at(now) if st.reservations else []
    station_wide = st.connectors.get((0, 0))
    if any(r.whole_station for r in held):
        text.append("stn ", style="bright_black").append_text(fmt.status_text("Reserved", short=True)).append(" ")
    elif station_wide is not None and station_wide.status not in ("Available", "Unknown"):
        text.append("stn ", style="bright_black").append_text(fmt.status_text(station_wide.status, short=True))
        text.append(" ")
    for c in st.outlets:
        # A reservation the station accepted holds the connector even before its
        # StatusNotification says Reserved (and 2.0.1 may reserve a whole EVSE).
        status = "Reserved" if c.status == "Available" and any(r.covers(c) for r in held) else c.status
        text.append(f"{c.label}:", style="bright_black").append_text(fmt.status_text(status, short=True))
        if c.faulted and c.error_code and c.error_code != "NoError":
            text.append(f"({c.error_code})", style="red")
        text.append(" ")
    text.rstrip()
    return text


def alarms_cell(st: Station) -> Text:
    if not st.open_alarms:
        return Text("–", style="bright_black")
    codes = sorted(set(st.open_alarms.values()))
    return Text(f"{len(st.open_alarms)} {','.join(codes)}", style="bold red")


def modules_cell(st: Station) -> Text:
    ok = st.modules_ok
    if ok is None:
        return Text("–", style="bright_black")
    return Text(f"{ok[0]}/{ok[1]} ok", style="" if ok[0] == ok[1] else "bold red")


def cost_cell(st: Station) -> Text:
    """What the station's running sessions have cost so far (incl. VAT)."""
    running = st.running_cost
    if running is None:
        return Text("–", style="bright_black")
    return Text(fmt.money(running.cost, running.currency, compact=True))


def cells(st: Station, now: float) -> dict[str, Any]:
    hottest = st.hottest
    return {
        "station": Text(st.station_id, style="bold red" if st.trouble else "bold"),
        "name": name_cell(st),
        "version": st.ocpp_version,
        "link": Text("online", style="green") if st.online else Text("offline", style="bold red"),
        "connectors": connectors_cell(st, now),
        "power": fmt.kw(st.power_w) if st.online else "–",
        "cost": cost_cell(st),
        "today": fmt.kwh(st.energy_today_wh),
        "hottest": fmt.celsius(hottest[1] if hottest else None),
        "modules": modules_cell(st),
        "alarms": alarms_cell(st),
        "seen": fmt.age(st.last_seen, now),
    }


def _hottest(st: Station) -> float:
    hot = st.hottest
    return hot[1] if hot else -999.0


# name -> (key function, newest/biggest first?)
SORTS: dict[str, tuple[Callable[[Station], Any], bool]] = {
    "station": (lambda st: st.station_id, False),
    "site": (lambda st: (not st.site, st.site.lower(), st.name.lower(), st.station_id), False),
    "trouble": (lambda st: (not st.trouble, -len(st.open_alarms), st.station_id), False),
    "power": (lambda st: st.power_w or 0.0, True),
    "hottest": (_hottest, True),
    "alarms": (lambda st: len(st.open_alarms), True),
    "seen": (lambda st: st.last_seen, True),
}
