"""The line at the top: where we are connected, fleet totals, or that the link is lost."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from zaspot.tui import format as fmt
from zaspot.tui.feed import LinkState


class Banner(Static):
    link: reactive[LinkState] = reactive(LinkState(False, "connecting…"), always_update=True)

    def __init__(self, url: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.url = url
        self.totals: dict[str, Any] = {}
        self.auth_mode: str | None = None  # None: the server does not say (older server)
        self.warnings: list[str] = []  # from the server: said first, it must not be missed

    def watch_link(self, link: LinkState) -> None:
        self.set_class(not link.connected, "lost")
        self.show()

    def show(self, totals: dict[str, Any] | None = None) -> None:
        if totals is not None:
            self.totals = totals
        if not self.link.connected:
            tries = f" (attempt {self.link.attempt})" if self.link.attempt else ""
            self.update(f"[b]⚠ NOT CONNECTED[/b] to {self.url} — {self.link.message}{tries}. "
                        "Showing the last known state.")
            return
        line = self._line(with_url=True)
        if self.size.width and Text.from_markup(line).cell_len > self.size.width:
            line = self._line(with_url=False)  # a narrow terminal: the counts matter more than the URL
        self.update(line)

    def _line(self, with_url: bool) -> str:
        t = self.totals
        alarms = t.get("alarms", 0)
        offline = t.get("stations", 0) - t.get("online", 0)
        sep = "  ·  " if with_url else " · "
        warnings = "".join(f"[b black on yellow] ⚠ {escape(w)} [/]{sep}" for w in self.warnings)
        where = f"{escape(self.url)}{auth_label(self.auth_mode, sep)}" if with_url else auth_label(self.auth_mode, "")
        return (
            f"[b]zaspot[/b] {warnings}{where}{sep}{t.get('stations', 0)} stations, {t.get('online', 0)} online"
            + (f", [b red]{offline} offline[/]" if offline else "")
            + f"{sep}{t.get('charging', 0)} charging, {fmt.kw(t.get('power_w', 0.0))}"
            + (f"{sep}[b red]{alarms} open alarm{'s' if alarms != 1 else ''}[/]" if alarms else f"{sep}no open alarms")
        )

    def on_resize(self) -> None:
        self.show()


def auth_label(mode: str | None, sep: str = "  ·  ") -> str:
    """`open` lets every card charge: the operator must notice it, not look for it."""
    if not mode:
        return ""
    if mode == "open":
        return f"{sep}[b black on yellow] auth: open [/]"
    return f"{sep}[dim]auth: {mode}[/]"
