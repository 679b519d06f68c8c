"""One station in detail: name and site, connectors and reservations, power, temperatures,
modules, limit, firmware and logs, the running sessions' cost, recent sessions and their
receipts, events, frames."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, RichLog, Sparkline, Static, TabbedContent, TabPane

from zaspot.api.client import ApiError
from zaspot.tui import format as fmt
from zaspot.tui.model import Connector, Station
from zaspot.tui.sessions import SESSION_EVENTS, ReceiptScreen, SessionsTable
from zaspot.tui.station_data import LIMIT_EVENTS, event_line, power_limit
from zaspot.tui.station_lifecycle import LIFECYCLE_EVENTS, LifecyclePane, firmware_line, logs_line, reservations_line

REFRESH_EVERY = 0.5
FRAMES_EVERY = 3.0
QUIET = {"meter_sample", "temperature", "device_event", "transaction_updated"}


class StationScreen(Screen[None]):
    BINDINGS = [("escape", "app.pop_screen", "Fleet"), ("f", "frames", "Frames"), ("n", "sessions", "Sessions"),
                ("p", "receipt", "Receipt")]

    def __init__(self, station_id: str) -> None:
        super().__init__()
        self.station_id = station_id
        self._dirty = True
        self._limit = "…"
        self._module_ok: dict[Any, bool] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="station-title")
        yield Static(id="station-notes")
        with Horizontal(id="station-top"):
            with Vertical(id="station-left"):
                yield DataTable(id="connectors", cursor_type="none")
                yield Static(id="power-label")
                yield Sparkline([], id="power")
                yield Static(id="session")
            with Vertical(id="station-right"):
                yield DataTable(id="temperatures", cursor_type="none")
                yield DataTable(id="modules", cursor_type="none")
        with TabbedContent(id="station-logs"):
            with TabPane("Events", id="tab-events"):
                yield RichLog(id="events", max_lines=300, wrap=False)
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

    def on_mount(self) -> None:
        self.query_one("#connectors", DataTable).add_columns("Conn", "Status", "Error", "Vendor code", "Power", "Meter", "Tx", "Reserved for")
        self.query_one("#temperatures", DataTable).add_columns("Where", "Temp")
        self.query_one("#modules", DataTable).add_columns("Module", "Enabled", "Problem", "Tripped", "Temp")
        for widget_id, title in (("connectors", "Connectors"), ("temperatures", "Temperatures"), ("modules", "Power modules")):
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
        if self._worth_a_line(event):
            self.query_one("#events", RichLog).write(event_line(event))
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

    @work(exclusive=True, group="history")
    async def load_history(self) -> None:
        feed = self.app.feed  # type: ignore[attr-defined]
        try:
            limits = await feed.command("limits/get", station_id=self.station_id)
            events = await feed.command("history/events", station_id=self.station_id, limit=40)
        except ApiError as exc:
            self._limit = f"unknown ({exc.code})"
            return
        self._limit = power_limit(limits)
        self._dirty = True
        try:
            samples = await feed.command("history/meter_samples", station_id=self.station_id, limit=1000)
        except ApiError:
            samples = []
        if self.station is not None:
            self.station.seed_power_history(samples)  # the sparkline starts with the past, not empty
        log = self.query_one("#events", RichLog)
        if not log.lines:
            for e in reversed(events):
                log.write(event_line({**(e.get("data") or {}), "time": e.get("ts")}))
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
        st = self.station
        if not self._dirty or st is None:
            return
        self._dirty = False
        now = self.app.clock()  # type: ignore[attr-defined]
        link = "[green]online[/]" if st.online else "[b red]OFFLINE[/]"
        named = (f" [b]{escape(st.name)}[/b]" if st.name else "") + (f" · site {escape(st.site)}" if st.site else "")
        self.query_one("#station-title", Static).update(
            f"[b]{st.station_id}[/b]{named}  OCPP {st.ocpp_version} · {st.vendor} {st.model} · fw {st.firmware or '–'} · {link}"
            f" · last seen {fmt.age(st.last_seen, now)} ago" + (f" · [b red]{len(st.open_alarms)} open alarm(s)[/]" if st.open_alarms else "")
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
        self.query_one("#power-label", Static).update(f"Power now [b]{fmt.kw(st.power_w)}[/b] · peak {fmt.kw(peak)} (last {len(spark)} readings)")
        tx = [running_line(st, c) for c in st.outlets if c.transaction_id]
        lifecycle = self.query_one(LifecyclePane)
        self.query_one("#session", Static).update(
            f"Transaction: {'; '.join(tx) if tx else 'none'}\n{reservations_line(st, now)}\nPower limit: {self._limit}"
            f"\nEnergy today: {fmt.kwh(st.energy_today_wh)}\n{firmware_line(st, lifecycle.updates)}\n{logs_line(lifecycle.uploads)}"
        )

    def _connectors(self, st: Station, now: float) -> None:
        table = self.query_one("#connectors", DataTable)
        table.clear()
        held = st.reservations_at(now)
        for c in sorted(st.connectors.values(), key=lambda c: (c.evse_id, c.connector_id)):
            error = c.error_code if c.error_code not in (None, "NoError") else "–"
            whole = (c.evse_id, c.connector_id) == (0, 0)
            mine = [r for r in held if (r.whole_station if whole else r.covers(c))]
            status = "Reserved" if mine and c.status == "Available" else c.status
            reserved = Text("; ".join(f"{r.id_token} until {fmt.clock(r.expires_at)}" for r in mine) or "–",
                            style="bold magenta" if mine else "bright_black")
            table.add_row("station" if whole else c.label, fmt.status_text(status),
                          Text(error, style="bold red" if error != "–" else "bright_black"), c.vendor_error_code or "–",
                          fmt.kw(c.power_w), fmt.kwh(c.energy_wh), fmt.short_id(c.transaction_id), reserved)

    def _temperatures(self, st: Station) -> None:
        table = self.query_one("#temperatures", DataTable)
        table.clear()
        for where, value in sorted(st.temperatures.items()):
            table.add_row(fmt.location(where), fmt.celsius(value))
        if not st.temperatures:
            table.add_row(Text("none reported", style="bright_black"), "")

    def _modules(self, st: Station) -> None:
        table = self.query_one("#modules", DataTable)
        table.clear()

        def flag(value: Any, bad: bool) -> Text:
            if value is None:
                return Text("–", style="bright_black")
            return Text("yes" if value else "no", style="bold red" if bool(value) == bad else "green")

        for name, m in sorted(st.modules.items()):
            table.add_row(name, flag(m.get("enabled"), False), flag(m.get("problem"), True),
                          flag(m.get("tripped"), True), fmt.celsius(m.get("celsius")))
        ok = st.modules_ok
        table.border_title = f"Power modules · {ok[0]}/{ok[1]} ok" if ok else "Power modules · none (AC or not reported)"


def running_line(st: Station, c: Connector) -> str:
    """'1: tx 41, 14.0 kWh, 31.80 CZK so far (standard)': the energy as the cost counts it."""
    line = f"{c.label}: tx {fmt.short_id(c.transaction_id)}"
    cost = st.cost_of(c)
    if cost is not None and cost.energy_wh is not None:
        line += f", {fmt.kwh(cost.energy_wh)}"
    elif c.energy_wh is not None and c.meter_start_wh is not None:
        line += f", {fmt.kwh(c.energy_wh - c.meter_start_wh)}"
    if cost is not None:
        line += f", [b]{fmt.money(cost.cost, cost.currency)}[/b] so far" + (f" ({escape(cost.tariff)})" if cost.tariff else "")
    return line
