"""The zaspot TUI: wiring only. Data lives in model.py, the link in feed.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input

from zaspot.api.client import DEFAULT_URL, ApiError, ZaspotClient
from zaspot.tui.actions import ACTIONS, BY_NAME, Action, defaults, outcome_text, summary, target_args, what_stops
from zaspot.tui.banner import Banner
from zaspot.tui.cards_screen import CARD_EVENTS, CardsScreen
from zaspot.tui.choices import NOTHING_TO_PICK, pick_options
from zaspot.tui.feed import Client, Feed, LinkState, Snapshot, optional
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.health_screen import HealthScreen, StationHealthScreen
from zaspot.tui.help import HelpScreen
from zaspot.tui.modals import ConfirmAction
from zaspot.tui.model import FleetModel
from zaspot.tui.palette import ZaspotCommands
from zaspot.tui.panes import AlarmsPane, RulesPane, RulesUnavailable
from zaspot.tui.prices import PAST_SECONDS, PRICE_EVENTS, PricePane
from zaspot.tui.station_screen import StationScreen
from zaspot.tui.temps import limits_config

SORT_CYCLE = ("station", "site", "trouble", "power", "hottest", "alarms", "seen")
RULES_EVERY = 5.0


class ZaspotTui(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "zaspot"
    COMMANDS = App.COMMANDS | {ZaspotCommands}
    # Every screen gets -narrow or -wide, -short or -tall (app.tcss lays an 80×24 terminal out with them).
    # No ClassVar: Textual declares these `ClassVar[...] | None`, which mypy reads as instance attributes.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "next_sort", "Sort"),
        Binding("S", "set_sort('trouble')", "Trouble first", show=False),
        Binding("a", "focus_alarms", "Alarms", show=False),
        Binding("c", "cards", "Cards"),
        Binding("h", "health", "Health"),
        *(Binding(a.key, f"station_action('{a.name}')", a.title, show=a.key in "rlt") for a in ACTIONS),
    ]

    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, *,
                 make_client: Callable[[], Client] | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.url, self.clock = url, clock
        self.model = FleetModel(clock)
        self.rules_available = False
        self._banner: Banner | None = None  # from on_mount
        self.feed = Feed(make_client or (lambda: ZaspotClient(url, token)),
                         self.feed_link, self.feed_snapshot, self.feed_event)

    def compose(self) -> ComposeResult:
        yield Banner(self.url, id="banner")
        yield Input(placeholder="filter: words to match (id, model, status, error, offline, alarm); "
                                "enter keeps it, escape clears", id="filter")
        yield FleetTable(self.model, self.clock, id="fleet")
        yield PricePane(self.clock, id="prices")
        with Horizontal(id="panes"):
            yield AlarmsPane(self.model.alarms, id="alarms")
            yield RulesPane(id="rules")
            yield RulesUnavailable("Rules not available on this server: rule runs will show here once it has a "
                                   "rules engine.", id="no-rules")
        yield Footer()

    def on_mount(self) -> None:
        self._banner = self.query_one(Banner)
        self.query_one("#rules").display = False
        self.query_one(FleetTable).focus()
        self.run_worker(self.feed.run(), name="feed", group="feed", exit_on_error=True)
        self.set_interval(1.0, self._show_totals)
        self.set_interval(RULES_EVERY, self.load_rule_traces)

    async def on_unmount(self) -> None:
        await self.feed.close()

    # --- the feed's callbacks -----------------------------------------------------

    # The feed and the totals timer can still fire while the app shuts down, after
    # its widgets are gone (seen once in CI as NoMatches for Banner): they update
    # only widgets that are still there.

    def _live_banner(self) -> Banner | None:
        """The banner while the app is up; None before it mounts and once it is torn down."""
        return self._banner if self._banner is not None and self._banner.is_attached else None

    def _torn_down(self) -> bool:
        return self._live_banner() is None

    def feed_link(self, link: LinkState) -> None:
        if (banner := self._live_banner()) is not None:
            banner.link = link

    def feed_snapshot(self, snap: Snapshot) -> None:
        banner = self._live_banner()
        if banner is None:
            return
        self.model.load(snap.stations, snap.transactions, snap.reservations, snap.sessions, snap.alarms)
        self.model.set_limits(limits_config(snap.temperature_limits))
        self.model.rule_names = snap.rule_names
        banner.auth_mode = snap.auth_mode
        banner.warnings = snap.warnings
        self.query_one(FleetTable).rebuild()
        self.query_one(AlarmsPane).redraw()
        self._show_rules(snap.rule_traces)
        self._show_totals()
        self.load_prices()
        # after a reconnect: what an open screen shows may have changed while we were away
        if isinstance(self.screen, StationScreen):
            self.screen.load_lifecycle()
        elif isinstance(self.screen, CardsScreen):
            self.screen.card_event({})

    def feed_event(self, event: dict[str, Any]) -> None:
        self.model.apply(event)
        if self._torn_down():
            return
        kind = event.get("type")
        if kind in ("alarm_raised", "alarm_cleared"):  # the model's AlarmBook has it: both counts at once
            self.query_one(AlarmsPane).redraw()
            self._show_totals()
        elif kind in PRICE_EVENTS:
            self.load_prices()
        screen = self.screen
        if isinstance(screen, StationScreen) and screen.station_id == event.get("station_id"):
            screen.station_event(event)
        elif isinstance(screen, CardsScreen) and kind in CARD_EVENTS:
            screen.card_event(event)

    def _show_totals(self) -> None:
        if (banner := self._live_banner()) is not None:
            banner.show(self.model.totals())

    def _show_rules(self, traces: list[dict[str, Any]] | None) -> None:
        self.rules_available = traces is not None
        self.query_one("#rules").display = self.rules_available
        self.query_one("#no-rules").display = not self.rules_available
        if traces is not None:
            self.query_one(RulesPane).load(traces, self.model.rule_names)

    @work(exclusive=True, group="rules")
    async def load_rule_traces(self) -> None:
        if not self.rules_available or self.feed.client is None:
            return
        try:
            self._show_rules(await optional(self.feed.client, "history/rule_traces", limit=100))
        except ApiError:
            pass  # the banner already says when the link is down

    @work(exclusive=True, group="prices", exit_on_error=False)
    async def load_prices(self) -> None:
        """The periods from an hour ago on, and the price now; a server without them: no strip."""
        client = self.feed.client
        if client is None:
            return
        now = self.clock()
        try:
            rows = await optional(client, "prices/list", since=now - PAST_SECONDS)  # up to the last known one
            now_info = await optional(client, "prices/now") if rows else None
        except ApiError:
            return  # the link is down (the banner says so), or this server cannot say: the strip stays as it was
        if not self._torn_down():
            self.query_one(PricePane).show(rows if isinstance(rows, list) else None, now_info)

    # --- navigation ---------------------------------------------------------------

    @on(DataTable.RowSelected, "#fleet")
    def open_station(self, event: DataTable.RowSelected) -> None:
        self.push_screen(StationScreen(str(event.row_key.value)))

    FLEET_ONLY = ("filter", "next_sort", "set_sort", "focus_alarms")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Fleet keys work on the fleet, station keys where a station is in view, not on
        the cards screen (its own keys win there; these must not act behind it)."""
        if action in self.FLEET_ONLY:
            return len(self.screen_stack) == 1
        if action in ("station_action", "cards"):
            return not any(isinstance(s, CardsScreen) for s in self.screen_stack)
        if action == "health":  # once is enough; not behind the cards screen either
            return not any(isinstance(s, (CardsScreen, HealthScreen)) for s in self.screen_stack)
        return True

    def action_cards(self) -> None:
        self.push_screen(CardsScreen())

    def action_health(self) -> None:
        self.push_screen(HealthScreen())

    def current_station(self) -> str | None:
        if isinstance(self.screen, StationScreen):
            return self.screen.station_id
        if isinstance(self.screen, (HealthScreen, StationHealthScreen)):  # the station in view there
            return self.screen.selected
        return self.query_one(FleetTable).selected

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        if isinstance(self.screen, StationScreen):
            return
        box = self.query_one("#filter", Input)
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("visible")
        self.query_one(FleetTable).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(FleetTable).filter_text = event.value.strip()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(FleetTable).focus()
        if not self.query_one("#filter", Input).value:
            self.query_one("#filter").remove_class("visible")

    def action_next_sort(self) -> None:
        table = self.query_one(FleetTable)
        table.sort_name = SORT_CYCLE[(SORT_CYCLE.index(table.sort_name) + 1) % len(SORT_CYCLE)]

    def action_set_sort(self, name: str) -> None:
        self.query_one(FleetTable).sort_name = name

    set_sort = action_set_sort

    def action_focus_alarms(self) -> None:
        self.query_one(AlarmsPane).focus()

    # --- station actions ------------------------------------------------------------

    def action_station_action(self, name: str) -> None:
        self.station_action(name)

    def station_action(self, name: str) -> None:
        station_id = self.current_station()
        if station_id is None:
            self.notify("No station selected.", severity="warning")
            return
        action = BY_NAME[name]
        if any(f.kind == "pick" for f in action.fields):
            self.open_with_options(action, station_id)  # the choices come from the server first
        else:
            self._confirm(action, station_id, {})

    def _label(self, station_id: str) -> str:
        st = self.model.stations.get(station_id)
        return st.label if st else station_id

    def _confirm(self, action: Action, station_id: str, options: dict[str, list[tuple[str, Any]]]) -> None:
        answers = defaults(action, self.model.stations.get(station_id))

        def confirmed(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.send_command(action.name, station_id, args)

        question = f"{action.title} on [b]{escape(self._label(station_id))}[/b]?"
        stops = what_stops(action, self.model.stations.get(station_id))
        if stops:
            question += f"\n[b red]{escape(stops)}[/]" if "will end" in stops else f"\n{escape(stops)}"
        self.push_screen(ConfirmAction(action, station_id, answers, options, question), confirmed)

    @work(exclusive=True, group="options")
    async def open_with_options(self, action: Action, station_id: str) -> None:
        try:
            options = await pick_options(self.feed, action, station_id)
        except ApiError as exc:
            self.notify(f"{action.title}: {exc.code}: {exc.message}", severity="error", timeout=15)
            return
        if not all(options.get(f.name) for f in action.fields if f.kind == "pick"):
            self.notify(NOTHING_TO_PICK[action.name].format(station=self._label(station_id)), severity="warning")
            return
        self._confirm(action, station_id, options)

    @work(group="commands")
    async def send_command(self, name: str, station_id: str, args: dict[str, Any]) -> None:
        action = BY_NAME[name]
        label = self._label(station_id)
        self.notify(summary(action, label, args) + " — sent", timeout=4)
        try:
            result = await self.feed.command(action.command, **target_args(action, station_id), **args)
        except ApiError as exc:
            self.notify(f"{label}: {action.title.lower()} failed — {exc.code}: {exc.message}",
                        title="Command failed", severity="error", timeout=30)
            return
        self.notify(outcome_text(action, label, result), title="Station answered", timeout=8)
