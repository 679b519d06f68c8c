"""`c`: the charge cards (who may charge) and each station's local authorization list.

Reads `cards/list`, `cards/lists` and `cards/mode`; changes go through `cards/add`,
`cards/block`, `cards/unblock`, `cards/remove`, `cards/sync`. Live: a `card_changed` or
`local_list_synced` event marks the lists stale and they are read again on a short
timer, so an import of a thousand cards is one reload, not a thousand.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from zaspot.api.client import ApiError
from zaspot.tui import format as fmt
from zaspot.tui.actions import CARD_FORM, CARD_REMOVE, card_answers
from zaspot.tui.feed import MISSING, optional
from zaspot.tui.modals import ConfirmAction

RELOAD_EVERY = 0.5
CARD_STYLE = {"Accepted": "green", "Blocked": "bold red", "Expired": "yellow"}
CARD_EVENTS = ("card_changed", "local_list_synced")
MODE_TEXT = {"open": "[b black on yellow] auth: open [/] every card that is not blocked may charge (unknown ones are logged)",
             "list": "auth: list · only the cards below, when Accepted, may charge"}


class CardsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Change"),
        Binding("b", "block", "Block"),
        Binding("u", "unblock", "Unblock"),
        Binding("d", "remove", "Remove"),
        Binding("y", "sync", "Sync lists"),
    ]
    HELP = (("a / e", "add a card / change the selected one (a form)"), ("b / u", "block / unblock the selected card"),
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
        yield Input(placeholder="filter: words to match (id, driver, group, note, status); enter keeps it, escape clears",
                    id="cards-filter")
        yield DataTable(id="cards", cursor_type="row")
        yield DataTable(id="local-lists", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        cards = self.query_one("#cards", DataTable)
        for label, width in (("Card", 20), ("Status", 9), ("Expires", 16), ("Group", 12), ("Driver", 20),
                             ("Note", 30), ("Changed", 8)):
            cards.add_column(label, width=width)
        lists = self.query_one("#local-lists", DataTable)
        for label, width in (("Station", 16), ("List version", 12), ("In step", 8), ("Supported", 9), ("Synced", 8),
                             ("Error", 50)):
            lists.add_column(label, width=width)
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
        table = self.query_one("#cards", DataTable)
        keep = self.selected
        table.clear()
        now = self.app.clock()  # type: ignore[attr-defined]
        shown = self.shown_cards()
        for c in shown:
            status = c.get("status") or "?"
            table.add_row(Text(c["id_token"], style="bold"), Text(status, style=CARD_STYLE.get(status, "")),
                          fmt.date_time(c.get("expiry")) or Text("never", style="bright_black"),
                          c.get("group") or "–", c.get("driver") or "–", c.get("note") or "",
                          fmt.age(c.get("updated_at"), now) if c.get("updated_at") else "–", key=c["id_token"])
        if keep is not None and keep in {c["id_token"] for c in shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        counts = {s: sum(1 for c in self.cards if c.get("status") == s) for s in ("Blocked", "Expired")}
        extra = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
        filt = f" · {len(shown)} shown, filter “{self.filter_text}”" if self.filter_text else ""
        table.border_title = f"Cards ({len(self.cards)}{', ' + extra if extra else ''}){filt}"
        mode = MODE_TEXT.get(self.mode or "", f"auth: {self.mode}" if self.mode else "")
        self.query_one("#cards-title", Static).update("[b]Charge cards[/b]" + (f"  ·  {mode}" if mode else ""))

    def _show_lists(self, lists: list[dict[str, Any]] | None, current: int | None) -> None:
        table = self.query_one("#local-lists", DataTable)
        table.clear()
        table.display = lists is not None  # an older server: no local lists to show
        now = self.app.clock()  # type: ignore[attr-defined]
        for row in lists or []:
            supported = row.get("supported")
            in_step = row.get("in_step")
            table.add_row(row.get("station_id", ""), "–" if row.get("version") is None else str(row["version"]),
                          Text("–", style="bright_black") if in_step is None or supported is False
                          else Text("yes", style="green") if in_step else Text("behind", style="yellow"),
                          Text("–" if supported is None else "yes" if supported else "no",
                               style="bright_black" if not supported else ""),
                          fmt.age(row.get("synced_at"), now) if row.get("synced_at") else "never",
                          Text(row.get("error") or "", style="red"))
        if lists is not None and not lists:
            table.add_row(Text("no station has been sent a list yet", style="bright_black"), "", "", "", "", "")
        version = f" · the cards are at version {current}" if current is not None else ""
        table.border_title = f"Local authorization lists on the stations{version}"

    @property
    def selected(self) -> str | None:
        table = self.query_one("#cards", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key((table.cursor_row, 0))
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
