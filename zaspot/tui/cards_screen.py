"""`c`: the charge cards (who may charge) and each station's local authorization list.

Reads `cards/list`, `cards/lists` and `cards/mode`; changes go through `cards/add`,
`cards/block`, `cards/unblock`, `cards/remove`, `cards/sync`. Live: a `card_changed` or
`local_list_synced` event marks the lists stale and they are read again on a short
timer, so an import of a thousand cards is one reload, not a thousand.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from zaspot.api.client import ApiError
from zaspot.tui import format as fmt
from zaspot.tui.actions import CARD_FORM, CARD_REMOVE, card_answers
from zaspot.tui.columns import Col, CollapsingTable
from zaspot.tui.feed import MISSING, optional
from zaspot.tui.modals import ConfirmAction

RELOAD_EVERY = 0.5
CARD_STYLE = {"Accepted": "green", "Blocked": "bold red", "Expired": "yellow"}
CARD_EVENTS = ("card_changed", "local_list_synced")
CARD_COLS = (Col("card", "Card", 16), Col("status", "Status", 9), Col("expires", "Expires", 16, drop=2),
             Col("group", "Group", 10, drop=3), Col("driver", "Driver", 18, drop=1),
             Col("note", "Note", 20, drop=4, grow=True),
             Col("changed", "Changed", 8, drop=5))
LIST_COLS = (Col("station", "Station", 14), Col("version", "List version", 12, drop=2), Col("in_step", "In step", 8),
             Col("supported", "Supported", 9, drop=3), Col("synced", "Synced", 8, drop=1),
             Col("error", "Error", 16, grow=True))
MODE_TEXT = {"open": ("[b black on yellow] auth: open [/] every card that is not blocked may charge "
                      "(unknown ones are logged)"),
             "list": "auth: list · only the cards below, when Accepted, may charge"}


class CardsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Change"),
        Binding("b", "block", "Block"),
        Binding("u", "unblock", "Unblock"),
        Binding("d", "remove", "Remove"),
        Binding("y", "sync", "Sync lists"),
    ]
    # its keys for zaspot/tui/help.py (Textual's own HELP is a screen's help text)
    KEYS = (("a / e", "add a card / change the selected one (a form)"), ("b / u", "block / unblock the selected card"),
            ("d", "remove the selected card (asks first)"), ("y", "send the local lists to the stations now"),
            ("/", "filter cards (id, driver, group, note, status)"), ("escape", "clear the filter / back"))

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, Any]] = []
        self.filter_text = ""
        self.mode: str | None = None
        self._stale = True

    def compose(self) -> ComposeResult:
        yield Static(id="cards-title")
        yield Input(placeholder="filter: words to match (id, driver, group, note, status); "
                                "enter keeps it, escape clears", id="cards-filter")
        yield CollapsingTable(CARD_COLS, self._show_cards, id="cards", cursor_type="row")
        yield CollapsingTable(LIST_COLS, self._show_lists_again, id="local-lists", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self._lists: tuple[list[dict[str, Any]] | None, int | None] = (None, None)
        cards = self.query_one("#cards", CollapsingTable)
        cards.fit_columns()
        lists = self.query_one("#local-lists", CollapsingTable)
        lists.fit_columns()
        lists.border_title = "Local authorization lists on the stations"
        cards.focus()
        self.set_interval(RELOAD_EVERY, self._reload_if_stale)
        self._reload_if_stale()

    @property
    def feed(self) -> Any:
        return self.app.feed  # type: ignore[attr-defined]

    # --- data in -----------------------------------------------------------------

    def card_event(self, event: dict[str, Any]) -> None:
        """Called by the app for `card_changed` and `local_list_synced`."""
        self._stale = True

    def _reload_if_stale(self) -> None:
        if self._stale:
            self._stale = False
            self.load()

    @work(exclusive=True, group="cards")
    async def load(self) -> None:
        try:
            cards = await self.feed.command("cards/list")
            lists = await optional(self.feed.client, "cards/lists") if self.feed.client else None
            mode = await optional(self.feed.client, "cards/mode") if self.feed.client else None
        except ApiError as exc:
            why = ("this server has no cards (an older zaspot)" if exc.code in MISSING
                   else f"cannot read them — {exc.code}: {exc.message}")
            self.query_one("#cards-title", Static).update(f"[b red]Cards: {why}[/]")
            return
        self.cards, self.mode = cards, (mode or {}).get("mode")
        self._show_cards()
        self._show_lists(lists, (mode or {}).get("version"))

    # --- data out ----------------------------------------------------------------

    def shown_cards(self) -> list[dict[str, Any]]:
        words = self.filter_text.lower().split()

        def text(c: dict[str, Any]) -> str:
            return " ".join(str(c.get(k) or "") for k in ("id_token", "status", "group", "driver", "note")).lower()

        return [c for c in self.cards if all(w in text(c) for w in words)]

    def _show_cards(self) -> None:
        if not self.is_mounted:
            return
        table = self.query_one("#cards", CollapsingTable)
        keep = self.selected
        table.clear()
        now = self.app.clock()  # type: ignore[attr-defined]
        shown = self.shown_cards()
        for c in shown:
            status = c.get("status") or "?"
            table.put({"card": Text(c["id_token"], style="bold"),
                       "status": Text(status, style=CARD_STYLE.get(status, "")),
                       "expires": fmt.date_time(c.get("expiry")) or Text("never", style="bright_black"),
                       "group": c.get("group") or "–", "driver": c.get("driver") or "–", "note": c.get("note") or "",
                       "changed": fmt.age(c.get("updated_at"), now) if c.get("updated_at") else "–"}, key=c["id_token"])
        if keep is not None and keep in {c["id_token"] for c in shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        counts = {s: sum(1 for c in self.cards if c.get("status") == s) for s in ("Blocked", "Expired")}
        extra = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
        filt = f" · {len(shown)} shown, filter “{self.filter_text}”" if self.filter_text else ""
        table.border_title = f"Cards ({len(self.cards)}{', ' + extra if extra else ''}){filt}"
        mode = MODE_TEXT.get(self.mode or "", f"auth: {self.mode}" if self.mode else "")
        self.query_one("#cards-title", Static).update("[b]Charge cards[/b]" + (f"  ·  {mode}" if mode else ""))

    def _show_lists_again(self) -> None:
        if self.is_mounted:
            self._show_lists(*self._lists)

    def _show_lists(self, lists: list[dict[str, Any]] | None, current: int | None) -> None:
        self._lists = (lists, current)
        table = self.query_one("#local-lists", CollapsingTable)
        table.clear()
        table.display = lists is not None  # an older server: no local lists to show
        now = self.app.clock()  # type: ignore[attr-defined]
        for row in lists or []:
            supported = row.get("supported")
            in_step = row.get("in_step")
            table.put({"station": row.get("station_id", ""),
                       "version": "–" if row.get("version") is None else str(row["version"]),
                       "in_step": Text("–", style="bright_black") if in_step is None or supported is False
                       else Text("yes", style="green") if in_step else Text("behind", style="yellow"),
                       "supported": Text("–" if supported is None else "yes" if supported else "no",
                                         style="bright_black" if not supported else ""),
                       "synced": fmt.age(row.get("synced_at"), now) if row.get("synced_at") else "never",
                       "error": Text(row.get("error") or "", style="red")})
        if lists is not None and not lists:
            table.put({"error": Text("no station has been sent a list yet", style="bright_black")})
        version = f" · the cards are at version {current}" if current is not None else ""
        table.border_title = f"Local authorization lists on the stations{version}"

    @property
    def selected(self) -> str | None:
        table = self.query_one("#cards", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0))
        return row_key.value

    def _selected_card(self) -> dict[str, Any] | None:
        token = self.selected
        card = next((c for c in self.cards if c["id_token"] == token), None)
        if card is None:
            self.notify("No card selected.", severity="warning")
        return card

    # --- keys --------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#cards-filter", Input)
        if box.has_class("visible"):
            box.value = ""
            box.remove_class("visible")
            self.query_one("#cards").focus()
        else:
            self.app.pop_screen()

    def action_filter(self) -> None:
        box = self.query_one("#cards-filter", Input)
        box.add_class("visible")
        box.focus()

    @on(Input.Changed, "#cards-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._show_cards()

    @on(Input.Submitted, "#cards-filter")
    def _filter_done(self) -> None:
        self.query_one("#cards").focus()
        if not self.filter_text:
            self.query_one("#cards-filter").remove_class("visible")

    def action_add(self, card: dict[str, Any] | None = None) -> None:
        question = f"Change card [b]{card['id_token']}[/b]" if card else "Add a card (an id that exists is changed)"

        def done(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.send("cards/add", args, f"card {args['id_token']} saved")

        self.app.push_screen(ConfirmAction(CARD_FORM, "", card_answers(card), question=question), done)

    def action_edit(self) -> None:
        card = self._selected_card()
        if card is not None:
            self.action_add(card)

    def action_block(self) -> None:
        if (card := self._selected_card()) is not None:
            self.send("cards/block", {"id_token": card["id_token"]}, f"card {card['id_token']} blocked")

    def action_unblock(self) -> None:
        if (card := self._selected_card()) is not None:
            self.send("cards/unblock", {"id_token": card["id_token"]}, f"card {card['id_token']} unblocked")

    def action_remove(self) -> None:
        card = self._selected_card()
        if card is None:
            return
        token = card["id_token"]
        who = f" ({card['driver']})" if card.get("driver") else ""

        def done(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.send("cards/remove", {"id_token": token}, f"card {token} removed")

        self.app.push_screen(ConfirmAction(CARD_REMOVE, "", {}, question=f"Remove card [b]{token}[/b]{who}? "
                                           "It is taken off the stations' local lists too."), done)

    def action_sync(self) -> None:
        self.send("cards/sync", {}, "local lists sent")

    @work(group="card-commands")
    async def send(self, command: str, args: dict[str, Any], done: str) -> None:
        try:
            await self.feed.command(command, **args)
        except ApiError as exc:
            self.notify(f"{command}: {exc.code}: {exc.message}", title="Cards", severity="error", timeout=30)
            return
        self.notify(done, title="Cards", timeout=5)
        self._stale = True  # the card_changed event says so too; this covers a server that sends none
