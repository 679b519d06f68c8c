"""`?`: every key on one page. Two columns in a wide terminal (the fleet and the screens,
then the actions and the dialogs), one in a narrow one; it scrolls when it is taller than
the terminal. tests/tui/test_tui_help.py checks every screen's bindings are here.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zaspot.tui.actions import ACTIONS
from zaspot.tui.cards_screen import CardsScreen
from zaspot.tui.health_screen import HealthScreen

Rows = tuple[tuple[str, str], ...]

GENERAL: Rows = (
    ("enter", "open the selected station"),
    ("/", ("filter stations: every word must match (id, name, site, model, status, error code, offline, "
           "alarm, reserved)")),
    ("escape", "clear the filter / back to the fleet"),
    ("s / S", "next sort order (station, site, trouble, power, hottest, alarms, seen) / trouble first"),
    ("a", "focus the alarms pane (open alarms first)"),
    ("c", "charge cards and the stations' local lists"),
    ("h", "fleet health: uptime over the last 30 days against the target, worst first"),
    ("tab / shift+tab", "the next / previous table, pane or tab"),
    ("ctrl+p", "command palette (every action by name)"),
    ("ctrl+c / super+c", "copy the selected text"),
    ("?", "this help"),
    ("q / ctrl+q", "quit"),
)
STATION_SCREEN: Rows = (
    ("f", "the OCPP frames tab"),
    ("n", "the sessions tab: recent sessions with energy, time, cost and tariff"),
    ("p, enter", "the receipt of the selected session (each period's energy, price, cost)"),
    ("escape", "back to the fleet"),
)
STATION_HEALTH: Rows = (("escape", "back to the fleet health"),)
DIALOGS: Rows = (
    ("enter", "confirm (in a field: the same)"),
    ("tab", "the next field or button"),
    ("escape", "cancel; close the help or a receipt"),
    ("? / q", "close the help"),
    ("p / q", "close a receipt"),
)
SECTIONS: tuple[tuple[str, Rows], ...] = (
    ("Fleet and navigation", GENERAL),
    ("Station screen (its tabs: events, OCPP frames, firmware & logs, sessions)", STATION_SCREEN),
    ("Cards screen (c)", CardsScreen.KEYS),
    ("Health screen (h; station actions act on the station in view)", HealthScreen.KEYS),
    ("A station's health (enter on the health screen)", STATION_HEALTH),
)
ACTION_ROWS: Rows = tuple((a.key, a.title) for a in ACTIONS)
ACTIONS_TITLE = "Station actions (the selected station; each asks first)"
DIALOGS_TITLE = "Dialogs (a confirmation, the help, a receipt)"
FOOT = ("Results appear as notifications at the bottom right;", "errors stay until read.", "",
        "[dim]escape or ? to close[/dim]")


def _keys(rows: Rows) -> list[str]:
    return [f"  [b]{k:<8}[/b] {what}" for k, what in rows]


def help_columns() -> tuple[str, str]:
    """The help as text, two columns (what the page shows, and what the test reads)."""
    left = ["[b]zaspot — keys[/b]"]
    for title, rows in SECTIONS:
        left += ["", f"[b]{title}[/b]", *_keys(rows)]
    right = ["", "", f"[b]{ACTIONS_TITLE}[/b]", *_keys(ACTION_ROWS), "", f"[b]{DIALOGS_TITLE}[/b]", *_keys(DIALOGS),
             "", *FOOT]
    return "\n".join(left), "\n".join(right)


def help_text() -> str:
    return "\n\n".join(help_columns())


def _grid(title: str, rows: Rows) -> Group:
    """A section with a hanging indent: a long description wraps under itself, not under its key."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(min_width=9, style="bold")
    grid.add_column(ratio=1)
    for key, what in rows:
        grid.add_row(key, what)
    return Group(Text(""), Text.from_markup(f"[b]{title}[/b]"), Padding(grid, (0, 0, 0, 2)))


def help_renderables() -> tuple[Group, Group]:
    left = Group(Text.from_markup("[b]zaspot — keys[/b]"), *(_grid(t, rows) for t, rows in SECTIONS))
    right = Group(Text(""), _grid(ACTIONS_TITLE, ACTION_ROWS), _grid(DIALOGS_TITLE, DIALOGS), Text(""),
                  *(Text.from_markup(line) for line in FOOT))
    return left, right


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "close", "Close"), ("question_mark", "close", "Close"),
                                             ("q", "close", "Close")]

    def compose(self) -> ComposeResult:
        left, right = help_renderables()
        with VerticalScroll(id="help"), Horizontal(id="help-columns"):
            yield Static(left, id="help-left")
            yield Static(right, id="help-right")

    def on_mount(self) -> None:
        self.query_one("#help").focus()  # the arrow keys and page up/down scroll it

    def action_close(self) -> None:
        self.dismiss(None)
