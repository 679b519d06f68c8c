"""`?`: every key on one page (two columns: the fleet and screens, then the actions)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zaspot.tui.actions import ACTIONS
from zaspot.tui.cards_screen import CardsScreen
from zaspot.tui.health_screen import HealthScreen

GENERAL = (
    ("enter", "open the selected station"),
    ("/", "filter stations: every word must match (id, name, site, model, status, error code, offline, alarm, reserved)"),
    ("escape", "clear the filter / back to the fleet"),
    ("s / S", "next sort order (station, site, trouble, power, hottest, alarms, seen) / trouble first"),
    ("a", "focus the alarms pane"),
    ("c", "charge cards and the stations' local lists"),
    ("h", "fleet health: uptime over the last 30 days against the target, worst first"),
    ("ctrl+p", "command palette (every action by name)"),
    ("?", "this help"),
    ("q", "quit"),
)
STATION_SCREEN = (
    ("f", "the OCPP frames tab"),
    ("n", "the sessions tab: recent sessions with energy, time, cost and tariff"),
    ("p, enter", "the receipt of the selected session (each period's energy, price, cost)"),
    ("escape", "back to the fleet"),
)


def _keys(rows: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"  [b]{k:<8}[/b] {what}" for k, what in rows]


def help_columns() -> tuple[str, str]:
    left = ["[b]zaspot — keys[/b]", "", "[b]Fleet and navigation[/b]", *_keys(GENERAL),
            "", "[b]Station screen[/b] (its tabs: events, OCPP frames, firmware & logs, sessions)", *_keys(STATION_SCREEN),
            "", "[b]Cards screen[/b] (c)", *_keys(CardsScreen.HELP),
            "", "[b]Health screen[/b] (h; station actions act on the station in view)", *_keys(HealthScreen.KEYS)]
    right = ["", "", "[b]Station actions[/b] (the selected station; each asks first)",
             *_keys(tuple((a.key, a.title) for a in ACTIONS)),
             "", "Results appear as notifications at the bottom right;", "errors stay until read.", "",
             "[dim]escape or ? to close[/dim]"]
    return "\n".join(left), "\n".join(right)


def help_text() -> str:
    return "\n\n".join(help_columns())


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "close", "Close"), ("question_mark", "close", "Close"), ("q", "close", "Close")]

    def compose(self) -> ComposeResult:
        left, right = help_columns()
        with VerticalScroll(id="help"), Horizontal(id="help-columns"):
            yield Static(left, id="help-left")
            yield Static(right, id="help-right")

    def action_close(self) -> None:
        self.dismiss(None)
