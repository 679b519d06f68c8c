"""`?`: every key on one page."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zaspot.tui.actions import ACTIONS

GENERAL = (
    ("enter", "open the selected station"),
    ("/", "filter stations (words: id, model, status, error code, offline, alarm)"),
    ("escape", "clear the filter / back to the fleet"),
    ("s / S", "next sort order / sort by trouble first"),
    ("a", "focus the alarms pane"),
    ("ctrl+p", "command palette (every action by name)"),
    ("?", "this help"),
    ("q", "quit"),
)


def help_text() -> str:
    lines = ["[b]zaspot — keys[/b]", "", "[b]Fleet and navigation[/b]"]
    lines += [f"  [b]{k:<8}[/b] {what}" for k, what in GENERAL]
    lines += ["", "[b]Station actions[/b] (on the selected station; each asks first)"]
    lines += [f"  [b]{a.key:<8}[/b] {a.title}" for a in ACTIONS]
    lines += ["", "Results appear as notifications at the bottom right; errors stay until read.", "",
              "[dim]escape or ? to close[/dim]"]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "close", "Close"), ("question_mark", "close", "Close"), ("q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text())

    def action_close(self) -> None:
        self.dismiss(None)
