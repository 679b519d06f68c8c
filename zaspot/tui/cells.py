"""What each fleet-table cell shows for a station, and how the table sorts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from zaspot.tui import format as fmt
from zaspot.tui.alarms import alarm_name
from zaspot.tui.columns import Col
from zaspot.tui.model import Station
from zaspot.tui.temps import celsius, margin

# In a narrow terminal the columns with the highest `drop` go first; the station, its
# connectors' status, its power and its alarms always stay (an offline station then says
# so in its connectors cell).
COLUMNS: tuple[Col, ...] = (
    Col("station", "Station", 12),
    Col("name", "Name · site", 20, drop=3),
    Col("version", "OCPP", 5, drop=9),
    Col("link", "Link", 7, drop=7),
    Col("connectors", "Connectors", 28, grow=True),
    Col("power", "Power", 8),
    Col("cost", "Cost", 9, drop=5),
    Col("today", "Today", 9, drop=6),
    Col("hottest", "Hottest", 7, drop=2),
    Col("modules", "Modules", 7, drop=4),
    Col("alarms", "Alarms", 17),
    Col("seen", "Seen", 5, drop=8),
)
STATION_WIDTH = (7, 24)  # the station column: as wide as the longest id, within these


def columns_for(station_ids: list[str]) -> tuple[Col, ...]:
    """COLUMNS with the station column as wide as the longest id (so none is cut)."""
    low, high = STATION_WIDTH
    width = max(low, min(high, max((len(s) for s in station_ids), default=low)))
    return tuple(Col(c.key, c.label, width) if c.key == "station" else c for c in COLUMNS)


def name_cell(st: Station) -> Text:
    text = Text(st.name)
    if st.site:
        text.append((" · " if st.name else "") + st.site, style="bright_black")
    return text if text.plain else Text("–", style="bright_black")


def connectors_cell(st: Station, now: float, say_offline: bool = False) -> Text:
    text = Text()
    if say_offline and not st.online:  # the Link column is not shown: this cell says it
        text.append("offline", style="bold red").append(" ")
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
            text.append(f"({alarm_name(c.error_code)})", style="red")
        text.append(" ")
    text.rstrip()
    return text


def alarms_cell(st: Station) -> Text:
    if not st.open_alarms:
        return Text("–", style="bright_black")
    names = sorted({alarm_name(code) for code in st.open_alarms.values()})
    return Text(f"{len(st.open_alarms)} {', '.join(names)}", style="bold red")


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


def cells(st: Station, now: float, say_offline: bool = False) -> dict[str, Any]:
    """Every column's cell; `say_offline`: the Link column is hidden (a narrow terminal)."""
    hottest = st.hottest
    return {
        "station": Text(st.station_id, style="bold red" if st.trouble else "bold"),
        "name": name_cell(st),
        "version": st.ocpp_version,
        "link": Text("online", style="green") if st.online else Text("offline", style="bold red"),
        "connectors": connectors_cell(st, now, say_offline),
        "power": fmt.kw(st.power_w) if st.online else "–",
        "cost": cost_cell(st),
        "today": fmt.kwh(st.energy_today_wh),
        "hottest": celsius(hottest[1], st.limit(hottest[0])) if hottest else celsius(None, None),
        "modules": modules_cell(st),
        "alarms": alarms_cell(st),
        "seen": fmt.age(st.last_seen, now),
    }


def _hottest(st: Station) -> tuple[float, float]:
    """Nearest its own limit first (as the cell shows it), then the highest."""
    hot = st.hottest
    if not hot:
        return (-9999.0, -999.0)
    return (margin(hot[1], st.limit(hot[0])), hot[1])


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
