"""`h`: fleet health: each station's uptime over the last 30 days against the target, worst
first, with its outage minutes, failures, MTBF/MTTR, open alarms and power-module trips.
Enter on a station: its ports and its recent outages.

Reads `reports/snapshot` (the server's cached figures, cheap to ask) again every few
seconds while open; a station's ports from `reports/availability` and its outages from
`reports/outages`, read again while that screen is open.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from zaspot.api.client import ApiError
from zaspot.tui import format as fmt
from zaspot.tui.alarms import alarm_name
from zaspot.tui.columns import Col, CollapsingTable
from zaspot.tui.feed import MISSING

RELOAD_EVERY = 2.0  # s: the snapshot is a cached dict on the server; open alarms in it are live
DETAIL_EVERY = 10.0  # s: a station's ports and outages are computed on each read
WINDOW_DAYS = 30
BAR_WIDTH = 20
DEFAULT_TARGET = 97.0  # HealthConfig's; each station's figures say the server's own
MAX_OUTAGES = 200

_CSS = """
#health-title, #health-station-title { height: auto; padding: 0 1; background: $panel; }
#health-stations, #health-ports, #health-outages {
    height: 1fr; border: round $primary-darken-2; border-title-color: $text-muted;
}
#health-ports { height: auto; max-height: 14; }
"""
UPTIME = Col("uptime", "Uptime, last 30 days", BAR_WIDTH + 11)
# In a narrow terminal the highest `drop` goes first: the station, its uptime, outage and alarms stay.
STATION_COLS = (UPTIME, Col("outage", "Outage", 9, drop=1), Col("failures", "Failures", 8, drop=3),
                Col("mtbf", "MTBF", 8, drop=4), Col("mttr", "MTTR", 7, drop=2), Col("alarms", "Alarms", 6),
                Col("trips", "Trips", 5, drop=5))
PORT_COLS = (Col("port", "Port", 5), UPTIME, Col("outage", "Outage", 9), Col("offline", "Offline", 8, drop=4),
             Col("faulted", "Faulted", 8, drop=2), Col("unavailable", "Unavail.", 8, drop=5),
             Col("excluded", "Excluded", 8, drop=6), Col("failures", "Failures", 8, drop=1),
             Col("mtbf", "MTBF", 8, drop=7), Col("mttr", "MTTR", 7, drop=3))
OUTAGE_COLS = (Col("started", "Started", 11), Col("ended", "Ended", 11), Col("port", "Port", 5),
               Col("cause", "Cause", 12), Col("why", "Code / detail", 14, grow=True), Col("minutes", "Minutes", 7))


def bar_floor(uptimes: list[float], target: float) -> float:
    """Where a bar starts: 100 % is always its end, and both the target and the worst uptime
    shown must fall inside it, with room under the target (a 97 % target: 80..100)."""
    lowest = min([target - 10, *uptimes])
    return max(0.0, lowest // 10 * 10)


def uptime_bar(uptime: float | None, target: float, floor: float, width: int = BAR_WIDTH) -> Text:
    """`█████████████████┃██ 99.120 %`: the bar from `floor` to 100 %, the target marked."""
    if uptime is None:
        return Text("no time in the window yet", style="bright_black")
    span = max(100.0 - floor, 1e-9)
    filled = round(max(0.0, min(1.0, (uptime - floor) / span)) * width)
    mark = min(width - 1, round((target - floor) / span * width))
    style = "green" if uptime >= target else "bold red"
    out = Text()
    for i in range(width):
        if i == mark:
            out.append("┃", style="yellow")
        else:
            out.append("█" if i < filled else "░", style=style if i < filled else "bright_black")
    out.append(f" {uptime:7.3f} %", style=style)
    return out


def worst_first(stations: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Lowest uptime first; stations with no uptime yet last; then more alarms, then by id."""
    def key(item: tuple[str, dict[str, Any]]) -> tuple[Any, ...]:
        sid, row = item
        up = row.get("uptime_30d")
        return (up is None, up if up is not None else 0.0, -(row.get("open_alarms") or 0), sid)
    return sorted(stations.items(), key=key)


def _hours(value: float | None) -> str:
    return "–" if value is None else fmt.hours(value)


def _many(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _count(n: int | None, loud: str = "bold red") -> Text:
    return Text(str(n), style=loud) if n else Text("0", style="bright_black")


class HealthScreen(Screen[None]):
    DEFAULT_CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Fleet")]
    KEYS = (("enter", "the selected station's ports and its outages in the last 30 days"),
            ("escape", "back"))

    def __init__(self) -> None:
        super().__init__()
        self.stations: dict[str, dict[str, Any]] = {}
        self.unavailable: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("[b]Fleet health[/b] · reading…", id="health-title")
        yield CollapsingTable(self._cols(), self._show, id="health-stations", cursor_type="row")
        yield Footer()

    def _cols(self) -> tuple[Col, ...]:
        """The station column as wide as the longest label (10 to 24)."""
        width = max(10, min(24, max((len(self._label(sid)) for sid in self.stations), default=10)))
        return (Col("station", "Station", width), *STATION_COLS)

    def on_mount(self) -> None:
        table = self.query_one("#health-stations", CollapsingTable)
        table.fit_columns()
        table.border_title = "Stations, worst uptime first"
        table.focus()
        self.set_interval(RELOAD_EVERY, self.load)
        self.load()

    @property
    def feed(self) -> Any:
        return self.app.feed  # type: ignore[attr-defined]

    @work(exclusive=True, group="health")
    async def load(self) -> None:
        try:
            stations = await self.feed.command("reports/snapshot")
        except ApiError as exc:
            self.unavailable = ("this server has no health reports (an older zaspot)" if exc.code in MISSING
                                else f"cannot read them — {exc.code}: {exc.message}")
            self.query_one("#health-title", Static).update(f"[b red]Fleet health: {escape(self.unavailable)}[/]")
            return
        self.stations, self.unavailable = stations or {}, None
        self._show()

    def _label(self, station_id: str) -> str:
        st = self.app.model.stations.get(station_id)  # type: ignore[attr-defined]
        return st.label if st else station_id

    def _show(self) -> None:
        if not self.is_mounted:
            return
        table = self.query_one("#health-stations", CollapsingTable)
        if table.set_cols(self._cols()):
            return  # laid out again, and this was called to put the rows back
        keep = self.selected
        table.clear()
        ordered = worst_first(self.stations)
        target = next((r["target"] for _, r in ordered if r.get("target") is not None), DEFAULT_TARGET)
        floor = bar_floor([r["uptime_30d"] for _, r in ordered if r.get("uptime_30d") is not None], target)
        for sid, row in ordered:
            goal = row.get("target", target)
            table.put({"station": Text(self._label(sid), style="bold"),
                       "uptime": uptime_bar(row.get("uptime_30d"), goal, floor),
                       "outage": f"{row.get('outage_minutes_30d') or 0:.0f} min",
                       "failures": _count(row.get("failures_30d"), "yellow"), "mtbf": _hours(row.get("mtbf_hours_30d")),
                       "mttr": _hours(row.get("mttr_hours_30d")), "alarms": _count(row.get("open_alarms")),
                       "trips": _count(row.get("module_trips_30d"), "yellow")}, key=sid)
        if keep is not None and keep in self.stations:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        below = sum(1 for _, r in ordered
                    if r.get("uptime_30d") is not None and r["uptime_30d"] < r.get("target", target))
        self.query_one("#health-title", Static).update(
            f"[b]Fleet health[/b] · last {WINDOW_DAYS} days · target {target:g} %"
            f" (the bar runs {floor:g}–100 %, ┃ marks the target) · "
            + (f"[b red]{below} below target[/]" if below
               else "all at or above target" if ordered else "no stations yet"))

    @property
    def selected(self) -> str | None:
        table = self.query_one("#health-stations", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0))
        return row_key.value

    @on(DataTable.RowSelected, "#health-stations")
    def open_station(self, event: DataTable.RowSelected) -> None:
        sid = str(event.row_key.value)
        self.app.push_screen(StationHealthScreen(sid, self._label(sid), self.stations.get(sid, {})))


class StationHealthScreen(Screen[None]):
    """One station's ports (uptime, outages by cause, failures) and its outages, newest first."""

    DEFAULT_CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, station_id: str, label: str, summary: dict[str, Any]) -> None:
        super().__init__()
        self.station_id, self.label, self.summary = station_id, label, summary
        # what is shown (ports, target, outages, now), to show it again when the columns change
        self._figures: tuple[list[dict[str, Any]], float, list[dict[str, Any]], float] | None = None

    @property
    def selected(self) -> str:
        return self.station_id

    def compose(self) -> ComposeResult:
        yield Static(id="health-station-title")
        yield CollapsingTable(PORT_COLS, self._ports_again, id="health-ports", cursor_type="none")
        yield CollapsingTable(OUTAGE_COLS, self._outages_again, id="health-outages", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        ports = self.query_one("#health-ports", CollapsingTable)
        ports.fit_columns()
        ports.border_title = "Ports"
        outages = self.query_one("#health-outages", CollapsingTable)
        outages.fit_columns()
        outages.border_title = f"Outages, last {WINDOW_DAYS} days"
        self._title()
        self.set_interval(DETAIL_EVERY, self.load)
        self.load()

    def _title(self) -> None:
        s = self.summary
        up = s.get("uptime_30d")
        self.query_one("#health-station-title", Static).update(
            f"[b]{escape(self.label)}[/b] · uptime {'–' if up is None else f'{up:.3f} %'} over {WINDOW_DAYS} days"
            f" (target {s.get('target', DEFAULT_TARGET):g} %) · {_many(s.get('open_alarms') or 0, 'open alarm')}"
            f" · {_many(s.get('module_trips_30d') or 0, 'module trip')} · escape: back")

    @work(exclusive=True, group="health-station")
    async def load(self) -> None:
        feed = self.app.feed  # type: ignore[attr-defined]
        now = self.app.clock()  # type: ignore[attr-defined]
        try:
            figures = await feed.command("reports/availability", station_id=self.station_id, days=WINDOW_DAYS)
            outages = await feed.command("reports/outages", station_id=self.station_id, start=now - WINDOW_DAYS * 86400)
            summary = (await feed.command("reports/snapshot") or {}).get(self.station_id)
        except ApiError as exc:
            self.query_one("#health-station-title", Static).update(
                f"[b]{escape(self.label)}[/b] · [b red]cannot read its health — {exc.code}: {escape(exc.message)}[/]")
            return
        if summary is not None:
            self.summary = summary
            self._title()
        self._figures = ([p for p in figures.get("ports", []) if p.get("station_id") == self.station_id],
                       self.summary.get("target", DEFAULT_TARGET), outages, now)
        self._ports_again()
        self._outages_again()

    def _ports_again(self) -> None:
        if self._figures is not None:
            self._show_ports(*self._figures[:2])

    def _outages_again(self) -> None:
        if self._figures is not None:
            self._show_outages(*self._figures[2:])

    def _show_ports(self, ports: list[dict[str, Any]], target: float) -> None:
        table = self.query_one("#health-ports", CollapsingTable)
        table.clear()
        ports = sorted(ports, key=lambda p: (p.get("evse_id", 0), p.get("connector_id", 0)))
        floor = bar_floor([p["uptime"] for p in ports if p.get("uptime") is not None], target)
        for p in ports:
            cause = p.get("by_cause") or {}
            table.put({"port": f"{p.get('evse_id')}/{p.get('connector_id')}",
                       "uptime": uptime_bar(p.get("uptime"), target, floor),
                       "outage": f"{p.get('outage_minutes') or 0:.0f} min",
                       **{c: f"{cause.get(c) or 0:.0f}" for c in ("offline", "faulted", "unavailable")},
                       "excluded": f"{p.get('excluded_minutes') or 0:.0f}",
                       "failures": _count(p.get("failures"), "yellow"),
                       "mtbf": _hours(p.get("mtbf_hours")), "mttr": _hours(p.get("mttr_hours"))})
        if not ports:
            table.put({"uptime": Text("no port seen in the window", style="bright_black")})

    def _show_outages(self, outages: list[dict[str, Any]], now: float) -> None:
        table = self.query_one("#health-outages", CollapsingTable)
        table.clear()
        newest = sorted(outages, key=lambda o: o.get("started") or 0, reverse=True)[:MAX_OUTAGES]
        for o in newest:
            ended = o.get("ended")
            minutes = o.get("minutes")
            if minutes is None:
                minutes = ((ended if ended is not None else now) - (o.get("started") or now)) / 60
            why = " · ".join(str(v) for v in (o.get("code") and alarm_name(o["code"]), o.get("detail")) if v)
            table.put({"started": fmt.day_time(o.get("started")),
                       "ended": Text("still out", style="bold red") if ended is None else Text(fmt.day_time(ended)),
                       "port": f"{o.get('evse_id')}/{o.get('connector_id')}", "cause": o.get("cause") or "?",
                       "why": why,
                       "minutes": f"{minutes:.0f}"})
        if not outages:
            table.put({"why": Text(f"no outage in the last {WINDOW_DAYS} days", style="bright_black")})
        table.border_title = f"Outages, last {WINDOW_DAYS} days · {len(outages)}"
