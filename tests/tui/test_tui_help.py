"""`?` lists every key: each binding of every screen (and the ones they inherit from Textual)
is in the help, under that screen's heading; and the help shows whole at 80×24."""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tests.tui.test_tui_snapshots import loaded, make_app, until
from zaspot.tui.app import ZaspotTui
from zaspot.tui.cards_screen import CardsScreen
from zaspot.tui.health_screen import HealthScreen, StationHealthScreen
from zaspot.tui.help import HelpScreen, help_text
from zaspot.tui.modals import ConfirmAction
from zaspot.tui.sessions import ReceiptScreen
from zaspot.tui.station_screen import StationScreen

KEY_NAMES = {"question_mark": "?", "slash": "/"}
# Each screen and the heading of its part of the help (the dialogs share one part).
SCREENS = {
    ZaspotTui: ("Fleet and navigation", "Station actions"),
    StationScreen: ("Station screen",),
    CardsScreen: ("Cards screen",),
    HealthScreen: ("Health screen",),
    StationHealthScreen: ("A station's health",),
    HelpScreen: ("Dialogs",),
    ReceiptScreen: ("Dialogs",),
    ConfirmAction: ("Dialogs",),
}


def bindings(cls: type) -> list[tuple[Binding, bool]]:
    """A class's bindings and what it inherits (as Textual merges them), system ones left out;
    each with whether it comes from Textual itself (tab, ctrl+c, …: the general part lists those)."""
    found: list[tuple[Binding, bool]] = []
    for klass in reversed(cls.__mro__):
        own: list[BindingType] = klass.__dict__.get("BINDINGS", [])
        found += [(b, klass.__module__.startswith("textual.")) for b in Binding.make_bindings(own)]
    return [(b, textual) for b, textual in found if not b.system]


def section(text: str, heading: str) -> str:
    """The lines of the help from `heading` to the next heading (a line in bold)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"[b]{heading}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[b]")), len(lines))
    return "\n".join(lines[start:end])


def keys_in(part: str) -> set[str]:
    """The keys a part of the help names: '  [b]s / S     [/b] next sort…' -> {'s', 'S'}."""
    keys: set[str] = set()
    for found in re.findall(r"\[b\](.*?)\[/b\]", part):
        keys |= {k.strip() for k in re.split(r" / |, ", found.strip()) if k.strip()}
    return keys


def test_every_key_of_every_screen_is_in_the_help():
    text = help_text()
    missing = []
    general = keys_in(section(text, "Fleet and navigation"))
    for screen, headings in SCREENS.items():
        listed = set().union(*(keys_in(section(text, h)) for h in headings))
        for b, from_textual in bindings(screen):
            key = b.key_display or KEY_NAMES.get(b.key, b.key)
            if key not in listed | (general if from_textual else set()):
                missing.append(f"{screen.__name__}: {key} ({b.action})")
    assert not missing, "not in the help: " + "; ".join(missing)
    assert {"r", "R", "l", "L", "t", "x", "u", "v", "b", "B", "U", "g"} <= keys_in(section(text, "Station actions"))
    assert {"tab", "ctrl+p", "ctrl+q", "ctrl+c"} <= general


def test_the_check_sees_a_key_left_out():
    class Extra(App):
        BINDINGS: ClassVar[list[BindingType]] = [("z", "zap", "Zap")]

    assert "z" in {b.key for b, _ in bindings(Extra)} and "z" not in keys_in(help_text())


async def test_the_help_fits_an_80x24_terminal_and_scrolls():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen.query("#help"))
        box = app.screen.query_one("#help")
        assert box.outer_size.width <= 80 and box.outer_size.height <= 24
        assert box.max_scroll_y > 0  # taller than the terminal: it scrolls, nothing is cut off
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
