"""The alarms pane and the rule-runs pane under the fleet table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from zaspot.tui import format as fmt
from zaspot.tui.alarms import AlarmBook, alarm_text, is_open
from zaspot.tui.columns import Col, CollapsingTable

MAX_ROWS = 200


def station_col(ids: list[str]) -> Col:
    """As wide as the longest station id shown (7 to 16)."""
    return Col("station", "Station", max(7, min(16, max((len(i) for i in ids), default=7))))


class AlarmsPane(CollapsingTable):
    """Open alarms first (loud, newest first), then the cleared ones (grey). Its rows and
    its count are the model's AlarmBook, as the top line's count is."""

    def __init__(self, book: AlarmBook, **kw: Any) -> None:
        super().__init__(self._cols([]), cursor_type="row", **kw)
        self.book = book

    @staticmethod
    def _cols(ids: list[str]) -> tuple[Col, ...]:
        return (Col("raised", "Raised", 8, drop=2), station_col(ids), Col("severity", "Severity", 8, drop=3),
                Col("alarm", "Alarm", 22, grow=True), Col("state", "State", 5, drop=1))

    def on_mount(self) -> None:
        self.border_title = "Alarms"
        self.fit_columns()

    def redraw(self) -> None:
        """After the book changed (a snapshot, a raised or cleared alarm)."""
        rows = self.book.ordered()[:MAX_ROWS]
        self.cols = self._cols([a.get("station_id") or "" for a in rows])
        if not self.fit_columns():
            self.refill()

    def refill(self) -> None:
        self.clear()
        for a in self.book.ordered()[:MAX_ROWS]:
            open_ = is_open(a)
            dim = "" if open_ else "bright_black"
            severity = a.get("severity") or ""
            self.put({
                "raised": Text(fmt.clock(a.get("raised_at")), style=dim),
                "station": Text(a.get("station_id") or "", style=dim),
                "severity": Text(severity, style=fmt.SEVERITY_STYLE.get(severity, "") if open_ else dim),
                "alarm": Text(alarm_text(a), style="red" if open_ else dim),
                "state": Text("open", style="bold red") if open_
                else Text(fmt.clock_hm(a.get("cleared_at")), style=dim),
            })
        count = self.book.open_count()
        self.border_title = f"Alarms · {count} open" if count else "Alarms · none open"


def outcome_words(outcome: str) -> str:
    """'conditions_failed' -> 'conditions failed'."""
    return outcome.replace("_", " ")


class RulesPane(CollapsingTable):
    """What the rules engine did, from `history/rule_traces` (if the server has one); each
    rule by its alias where it has one."""

    def __init__(self, **kw: Any) -> None:
        super().__init__((), cursor_type="row", **kw)
        self.traces: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}

    def on_mount(self) -> None:
        self.border_title = "Rule runs"
        self.cols = self._cols([])
        self.fit_columns()

    @staticmethod
    def _cols(ids: list[str]) -> tuple[Col, ...]:
        return (Col("time", "Time", 8, drop=2), Col("rule", "Rule", 14, grow=True), station_col(ids),
                Col("outcome", "Outcome", 10, drop=1))

    def load(self, traces: list[dict[str, Any]], names: dict[str, str] | None = None) -> None:
        self.traces = traces[:MAX_ROWS]
        if names is not None:
            self.names = names
        self.cols = self._cols([str(fmt.first(t, "station_id", default="")) for t in self.traces])
        if not self.fit_columns():
            self.refill()

    def refill(self) -> None:
        self.clear()
        for t in self.traces:
            outcome = str(fmt.first(t, "outcome", "result", "status", default=""))
            failed = any(w in outcome.lower() for w in ("error", "fail"))
            rule = str(fmt.first(t, "rule_id", "rule", "alias", default="?"))
            self.put({
                "time": fmt.clock(fmt.first(t, "started", "time", "ts")),
                "rule": self.names.get(rule, rule),
                "station": str(fmt.first(t, "station_id", default="")),
                "outcome": Text(outcome_words(outcome), style="red" if failed else ""),
            })
        self.border_title = f"Rule runs · {len(self.traces)} recent"


class RulesUnavailable(Static):
    """Shown instead of RulesPane when the server has no rules engine."""

    def on_mount(self) -> None:
        self.border_title = "Rule runs"
