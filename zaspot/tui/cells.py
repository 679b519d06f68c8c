"""What each fleet-table cell shows for a station, and how the table sorts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from zaspot.tui import format as fmt
from zaspot.tui.model import Station

COLUMNS: tuple[tuple[str, str, int], ...] = (  # key, label, width
    ("station", "Station", 12),
    ("version", "OCPP", 5),
    ("link", "Link", 7),
    ("connectors", "Connectors", 26),
    ("power", "Power", 9),
    ("today", "Today", 10),
    ("hottest", "Hottest", 8),
    ("modules", "Modules", 8),
    ("alarms", "Alarms", 24),
    ("seen", "Seen", 5),
)


def connectors_cell(st: Station) -> Text:
    text = Text()
    station_wide = st.connectors.get((0, 0))
    if station_wide is not None and station_wide.status not in ("Available", "Unknown"):
        text.append("stn ", style="bright_black").append_text(fmt.status_text(station_wide.status, short=True))
        text.append(" ")
    for c in st.outlets:
        text.append(f"{c.label}:", style="bright_black").append_text(fmt.status_text(c.status, short=True))
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


def cells(st: Station, now: float) -> dict[str, Any]:
    hottest = st.hottest
    return {
        "station": Text(st.station_id, style="bold red" if st.trouble else "bold"),
        "version": st.ocpp_version,
        "link": Text("online", style="green") if st.online else Text("offline", style="bold red"),
        "connectors": connectors_cell(st),
        "power": fmt.kw(st.power_w) if st.online else "–",
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
    "trouble": (lambda st: (not st.trouble, -len(st.open_alarms), st.station_id), False),
    "power": (lambda st: st.power_w or 0.0, True),
    "hottest": (_hottest, True),
    "alarms": (lambda st: len(st.open_alarms), True),
    "seen": (lambda st: st.last_seen, True),
}
