"""One station in detail: name and site, connectors and reservations, power, temperatures,
modules, limit, firmware and logs, the running sessions' cost, recent sessions and their
receipts, events, frames."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, RichLog, Sparkline, Static, TabbedContent, TabPane

from zaspot.api.client import ApiError
from zaspot.tui import format as fmt
from zaspot.tui.alarms import alarm_name
from zaspot.tui.columns import Col, CollapsingTable
from zaspot.tui.event_log import EventLines
from zaspot.tui.model import Connector, Station
from zaspot.tui.sessions import SESSION_EVENTS, ReceiptScreen, SessionsTable
from zaspot.tui.station_data import LIMIT_EVENTS, event_line, power_limit
from zaspot.tui.station_lifecycle import LIFECYCLE_EVENTS, LifecyclePane, firmware_line, logs_line, reservations_line
from zaspot.tui.temps import celsius

REFRESH_EVERY = 0.5
FRAMES_EVERY = 3.0
# In the panels above (temperatures fold into one line a run); a fault's line is its alarm's.
QUIET = {"meter_sample", "device_event", "transaction_updated", "fault"}
CONNECTOR_COLS = (Col("conn", "Conn", 5), Col("status", "Status", 22, grow=True), Col("power", "Power", 8, drop=1),
                  Col("tx", "Tx", 10, drop=2), Col("reserved", "Reserved for", 24, drop=3),
                  Col("meter", "Meter", 9, drop=4), Col("vendor", "Vendor code", 11, drop=5))


class StationScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "app.pop_screen", "Fleet"), ("f", "frames", "Frames"),
                                             ("n", "sessions", "Sessions"), ("p", "receipt", "Receipt")]

    def __init__(self, station_id: str) -> None:
        super().__init__()
        self.station_id = station_id
        self._dirty = True
        self._limits: list[dict[str, Any]] | None = None  # limits/get; None: not read (yet)
        self._limit_error = ""
        self._module_ok: dict[Any, bool] = {}
        self._early: list[dict[str, Any]] | None = []  # live events before the history came; None: it came
        self._rewrite = False  # the last event line changed (a temperature run): the list is drawn again

    def compose(self) -> ComposeResult:
        yield Static(id="station-title")
        yield Static(id="station-notes")
        with VerticalScroll(id="station-body"), Horizontal(id="station-top"):
            with Vertical(id="station-left"):
                yield CollapsingTable(CONNECTOR_COLS, self._connectors_again, id="connectors", cursor_type="none")
                yield Static(id="power-label")
                yield Sparkline([], id="power")
                yield Static(id="session")
            with Vertical(id="station-right"):
                yield DataTable(id="temperatures", cursor_type="none")
                yield DataTable(id="modules", cursor_type="none")
        with TabbedContent(id="station-logs"):
            with TabPane("Events", id="tab-events"):
                yield RichLog(id="events", max_lines=300, wrap=True)
            with TabPane("OCPP frames", id="tab-frames"):
                yield RichLog(id="frames", max_lines=400, wrap=False)
            with TabPane("Firmware & logs", id="tab-lifecycle"):
                yield LifecyclePane(id="lifecycle")
            with TabPane("Sessions", id="tab-sessions"):
                yield SessionsTable(id="sessions")
        yield Footer()

    @property
    def station(self) -> Station | None:
        return self.app.model.stations.get(self.station_id)  # type: ignore[attr-defined]

    @property
    def rule_names(self) -> dict[str, str]:
        return self.app.model.rule_names  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.events = EventLines(lambda e: event_line(e, self.rule_names),
                                 lambda key: self.station.limit(key) if self.station else None)
        self.query_one("#connectors", CollapsingTable).fit_columns()
        self.query_one("#temperatures", DataTable).add_columns("Where", "Temp")
        self.query_one("#modules", DataTable).add_columns("Module", "State", "Temp")
        titles = (("connectors", "Connectors"), ("temperatures", "Temperatures"), ("modules", "Power modules"))
        for widget_id, title in titles:
            self.query_one(f"#{widget_id}").border_title = title
        self.set_interval(REFRESH_EVERY, self.refresh_view)
        self.set_interval(FRAMES_EVERY, self.load_frames)
        self.load_history()
        self.load_frames()
        self.load_lifecycle()
        self.load_sessions()
        self.refresh_view()

    # --- data in ---------------------------------------------------------------

    def station_event(self, event: dict[str, Any]) -> None:
        """Called by the app for each live event of this station."""
        self._dirty = True
        if not self.query("#events"):
            return  # pushed but not composed yet: its mount reads the history and the lists (seen in tests)
        if self._early is not None:
            self._early.append(event)  # shown after the stored ones, once they are read
        else:
            self._log(event)
        if event.get("type") in LIMIT_EVENTS:
            self.load_history()
        if event.get("type") in LIFECYCLE_EVENTS:
            self.load_lifecycle()
        if event.get("type") in SESSION_EVENTS:
            self.load_sessions()

    def _worth_a_line(self, event: dict[str, Any]) -> bool:
        """Periodic readings are in the panels above; the log keeps what changed."""
        kind = event.get("type")
        if kind == "power_module":
            instance = event.get("instance")
            ok = not (event.get("problem") or event.get("tripped")) and event.get("enabled") is not False
            changed = self._module_ok.get(instance, True) != ok  # a healthy first report is not news
            self._module_ok[instance] = ok
            return changed
        return kind not in QUIET and not (kind == "session_cost" and not event.get("final"))

    def on_resize(self) -> None:
        self._rewrite = self._dirty = True  # the event lines wrap at the new width

    def _log(self, event: dict[str, Any]) -> None:
        if not self._worth_a_line(event):
            return
        if self.events.add(event):
            self.query_one("#events", RichLog).write(self.events.last)
        else:
            self._rewrite = True  # drawn again on the next refresh, at most twice a second

    @work(exclusive=True, group="history")
    async def load_history(self) -> None:
        feed = self.app.feed  # type: ignore[attr-defined]
        try:
            limits = await feed.command("limits/get", station_id=self.station_id)
            events = await feed.command("history/events", station_id=self.station_id, limit=100)
        except ApiError as exc:
            self._limit_error = f"unknown ({exc.code})"
            return
        self._limits = limits
        self._dirty = True
        try:
            samples = await feed.command("history/meter_samples", station_id=self.station_id, limit=1000)
        except ApiError:
            samples = []
        try:
            commands = await feed.command("history/commands", station_id=self.station_id, limit=20)
        except ApiError:
            commands = []
        if self.station is not None:
            self.station.seed_power_history(samples)  # the sparkline starts with the past, not empty
        if self._early is not None:  # the first read: the stored events, then what came live meanwhile
            stored = [{**(e.get("data") or {}), "time": e.get("ts")} for e in reversed(events)]
            stored = sorted(stored + command_events(commands), key=lambda e: e["time"] or 0)  # answers are live only
            last = max((e["time"] or 0 for e in stored), default=0)
            early, self._early = self._early, None
            for e in [*stored, *(e for e in early if (e.get("time") or 0) > last)]:
                if self._worth_a_line(e):
                    self.events.add(e)
            self._rewrite = True
        self._dirty = True

    @work(exclusive=True, group="lifecycle")
    async def load_lifecycle(self) -> None:
        try:
            await self.query_one(LifecyclePane).load(self.app.feed.client, self.station_id)  # type: ignore[attr-defined]
        except ApiError:
            return  # the banner says when the link is down; the next event reads again
        self._dirty = True

    @work(exclusive=True, group="sessions", exit_on_error=False)
    async def load_sessions(self) -> None:
        try:
            await self.query_one(SessionsTable).load(self.app.feed.client, self.station_id)  # type: ignore[attr-defined]
        except ApiError:
            return  # the banner says when the link is down; the next session event reads again

    def action_sessions(self) -> None:
        self.query_one(TabbedContent).active = "tab-sessions"
        self.query_one(SessionsTable).focus()

    def action_receipt(self) -> None:
        self.open_receipt()

    @work(exclusive=True, group="receipt", exit_on_error=False)
    async def open_receipt(self) -> None:
        table = self.query_one(SessionsTable)
        if table.sessions is None:
            self.notify("This server keeps no session costs.", severity="warning")
            return
        transaction_id = table.selected
        if transaction_id is None:
            self.notify("No sessions on this station yet.", severity="warning")
            return
        try:
            receipt = await self.app.feed.command("sessions/receipt", transaction_id=transaction_id,  # type: ignore[attr-defined]
                                                  station_id=self.station_id)
        except ApiError as exc:
            self.notify(f"Receipt of {transaction_id}: {exc.code}: {exc.message}", severity="error", timeout=15)
            return
        if isinstance(receipt, dict) and self.is_attached:
            self.app.push_screen(ReceiptScreen(receipt))

    @on(DataTable.RowSelected, "#sessions")
    def _session_chosen(self) -> None:
        self.open_receipt()

    @work(exclusive=True, group="frames")
    async def load_frames(self) -> None:
        if self.query_one(TabbedContent).active != "tab-frames":
            return  # only poll what is on screen
        try:
            frames = await self.app.feed.command("history/frames", station_id=self.station_id, limit=200)  # type: ignore[attr-defined]
        except ApiError:
            return
        log = self.query_one("#frames", RichLog)
        log.clear()
        for f in frames:
            arrow = Text("→ ", style="cyan") if f["direction"] == "out" else Text("← ", style="green")
            log.write(Text(fmt.clock(f["ts"]) + " ").append_text(arrow).append(f["frame"]))

    def action_frames(self) -> None:
        self.query_one(TabbedContent).active = "tab-frames"
        self.load_frames()

    # --- data out ----------------------------------------------------------------

    def refresh_view(self) -> None:
        if self._rewrite:
            self._rewrite = False
            log = self.query_one("#events", RichLog)
            log.clear()
            for line in self.events.lines():
                log.write(line)
        st = self.station
        if not self._dirty or st is None:
            return
        self._dirty = False
        now = self.app.clock()  # type: ignore[attr-defined]
        link = "[green]online[/]" if st.online else "[b red]OFFLINE[/]"
        named = (f" [b]{escape(st.name)}[/b]" if st.name else "") + (f" · site {escape(st.site)}" if st.site else "")
        alarms = len(st.open_alarms)
        self.query_one("#station-title", Static).update(
            f"[b]{st.station_id}[/b]{named}  OCPP {st.ocpp_version} · {escape(st.vendor)} {escape(st.model)}"
            f" · fw {escape(st.firmware) or '–'} · {link} · last seen {fmt.age(st.last_seen, now)} ago"
            + (f" · [b red]{alarms} open alarm{'s' if alarms != 1 else ''}[/]" if alarms else "")
        )
        notes = self.query_one("#station-notes", Static)
        notes.display = bool(st.notes)
        notes.update(Text(f"Notes: {st.notes}"))
        self._connectors(st, now)
        self._temperatures(st)
        self._modules(st)
        spark = list(st.power_history)
        self.query_one("#power", Sparkline).data = spark or [0.0]
        peak = max(spark) if spark else None
        # a short terminal has no curve: nothing to say the span of
        span = f" (last {len(spark)} readings)" if self.query_one("#power").display else ""
        self.query_one("#power-label", Static).update(
            f"Power now [b]{fmt.kw(st.power_w)}[/b] · peak {fmt.kw(peak)}{span} · today {fmt.kwh(st.energy_today_wh)}")
        self.query_one("#session", Static).update("\n".join(self._summary(st, now)))

    def _summary(self, st: Station, now: float) -> list[str]:
        """The running sessions, the limit, firmware and logs: a line each, none that says nothing."""
        lines = [f"Transaction on {running_line(st, c)}" for c in st.outlets if c.transaction_id]
        lines = lines or ["Transaction: none"]
        if st.reservations_at(now):
            lines.append(reservations_line(st, now))
        limit = power_limit(self._limits, self.rule_names) if self._limits is not None else self._limit_error or "…"
        lines.append(f"Power limit: {limit}")
        lifecycle = self.query_one(LifecyclePane)
        lines.append(firmware_line(st, lifecycle.updates))
        if lifecycle.uploads:
            lines.append(logs_line(lifecycle.uploads))
        return lines

    def _connectors_again(self) -> None:
        if self.station is not None and self.is_mounted:
            self._connectors(self.station, self.app.clock())  # type: ignore[attr-defined]

    def _connectors(self, st: Station, now: float) -> None:
        table = self.query_one("#connectors", CollapsingTable)
        table.clear()
        held = st.reservations_at(now)
        for c in sorted(st.connectors.values(), key=lambda c: (c.evse_id, c.connector_id)):
            whole = (c.evse_id, c.connector_id) == (0, 0)
            mine = [r for r in held if (r.whole_station if whole else r.covers(c))]
            if whole and not mine and c.status in ("Available", "Unknown") and not c.faulted:
                continue  # 1.6's connector 0 saying all is well: no row for it
            status = fmt.status_text("Reserved" if mine and c.status == "Available" else c.status)
            if c.error_code not in (None, "NoError"):
                status.append(" · ").append(alarm_name(c.error_code), style="bold red")
            reserved = Text("; ".join(f"{r.id_token} until {fmt.clock(r.expires_at)}" for r in mine) or "–",
                            style="bold magenta" if mine else "bright_black")
            table.put({"conn": "station" if whole else c.label, "status": status, "power": fmt.kw(c.power_w),
                       "tx": fmt.short_id(c.transaction_id), "reserved": reserved, "meter": fmt.kwh(c.energy_wh),
                       "vendor": c.vendor_error_code or "–"})

    def _temperatures(self, st: Station) -> None:
        """Each place's reading against its own limit; a power module's is in the modules table."""
        table = self.query_one("#temperatures", DataTable)
        table.clear()
        shown = {k: v for k, v in st.temperatures.items() if not module_reading(k, st)}
        for where, value in sorted(shown.items()):
            table.add_row(fmt.location(where), celsius(value, st.limit(where)))
        if not shown:
            table.add_row(Text("none reported", style="bright_black"), "")

    def _modules(self, st: Station) -> None:
        """DC power modules: shown only when the station has some."""
        table = self.query_one("#modules", DataTable)
        table.display = bool(st.modules)
        table.clear()
        for name, m in sorted(st.modules.items()):
            value = m.get("celsius") if m.get("celsius") is not None else st.temperatures.get(f"module:{name}")
            table.add_row(name, module_state(m), celsius(value, st.limit("module")))
        ok = st.modules_ok
        table.border_title = f"Power modules · {ok[0]}/{ok[1]} ok" if ok else "Power modules"


def command_events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The station's answered commands (history/commands) as the `command_result` events the
    feed brings live (the event log keeps no answers)."""
    return [{"type": "command_result", "command": r.get("command"), "action": r.get("action"),
             "status": r.get("status"), "ok": bool(r.get("ok")),
             "error": r.get("error"), "source": r.get("source"), "time": r["done_at"]}
            for r in rows if r.get("done_at")]


def module_reading(key: str, st: Station) -> bool:
    """'module:3' of a module the modules table lists (its temperature is shown there)."""
    return key.startswith("module:") and key.split(":", 1)[1].split("@", 1)[0] in st.modules


def module_state(m: dict[str, Any]) -> Text:
    if m.get("tripped"):
        return Text("TRIPPED", style="bold red")
    if m.get("problem"):
        return Text("problem", style="bold red")
    if m.get("enabled") is False:
        return Text("disabled", style="yellow")
    return Text("ok", style="green") if m.get("enabled") else Text("–", style="bright_black")


def running_line(st: Station, c: Connector) -> str:
    """'1: tx 41, 14.0 kWh, 31.80 CZK so far (standard)': the energy as the cost counts it."""
    line = f"{c.label}: tx {fmt.short_id(c.transaction_id)}"
    cost = st.cost_of(c)
    if cost is not None and cost.energy_wh is not None:
        line += f", {fmt.kwh(cost.energy_wh)}"
    elif c.energy_wh is not None and c.meter_start_wh is not None:
        line += f", {fmt.kwh(c.energy_wh - c.meter_start_wh)}"
    if cost is not None:
        line += f", [b]{fmt.money(cost.cost, cost.currency)}[/b] so far"
        line += f" ({escape(cost.tariff)})" if cost.tariff else ""
    return line
