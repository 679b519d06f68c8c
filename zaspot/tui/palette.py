"""Command palette entries (ctrl+p) for every station action and the sort orders."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import Hit, Hits, Provider

from zaspot.tui.actions import ACTIONS
from zaspot.tui.cells import SORTS

if TYPE_CHECKING:
    from zaspot.tui.app import ZaspotTui


class ZaspotCommands(Provider):
    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app = cast("ZaspotTui", self.app)  # this provider is ZaspotTui's (its COMMANDS)
        station = app.current_station() or "the selected station"
        out: list[tuple[str, str, Callable[[], Any]]] = [
            (f"{a.title} ({station})", f"key {a.key}", partial(app.station_action, a.name)) for a in ACTIONS]
        out += [(f"Sort by {name}", "fleet table", partial(app.set_sort, name)) for name in SORTS]
        out.append(("Cards (who may charge)", "key c", app.action_cards))
        return out

    async def discover(self) -> Hits:
        for title, help_, callback in self._entries():
            yield Hit(1.0, title, callback, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_)
