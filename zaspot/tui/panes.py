"""The alarms pane and the rule-runs pane under the fleet table."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from zaspot.tui import format as fmt

MAX_ROWS = 200


class AlarmsPane(DataTable):
    """Newest first: open alarms loud, cleared ones grey."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.border_title = "Alarms"
        for label, width in (("Raised", 8), ("Station", 10), ("Severity", 8), ("Alarm", 36), ("Cleared", 8)):
            self.add_column(label, width=width)
        self._alarms: dict[int, dict[str, Any]] = {}

    def load(self, alarms: list[dict[str, Any]]) -> None:
        # as cleared() does live: a superseded alarm is the same fault as the one that replaced it
        self._alarms = {a["id"]: a for a in alarms[:MAX_ROWS] if not a.get("superseded_by")}
        self._redraw()

    def raised(self, e: dict[str, Any]) -> None:
        self._alarms[e["alarm_id"]] = {**e, "id": e["alarm_id"], "raised_at": e.get("time")}
        self._redraw()

    def cleared(self, e: dict[str, Any]) -> None:
        if e.get("superseded_by"):  # the same fault, now under its specific code: one row for it
            self._alarms.pop(e["alarm_id"], None)
            self._redraw()
            return
        alarm = self._alarms.setdefault(e["alarm_id"], {**e, "id": e["alarm_id"]})
        alarm["cleared_at"] = e.get("time")
        self._redraw()

    def _redraw(self) -> None:
        self.clear()
        newest = sorted(self._alarms.values(), key=lambda a: a.get("raised_at") or 0, reverse=True)[:MAX_ROWS]
        for a in newest:
            open_ = not a.get("cleared_at")
            dim = "" if open_ else "bright_black"
            self.add_row(
                Text(fmt.clock(a.get("raised_at")), style=dim),
                Text(a.get("station_id", ""), style=dim),
                Text(a.get("severity", ""), style=fmt.SEVERITY_STYLE.get(a.get("severity", ""), "") if open_ else dim),
                Text(a.get("message") or a.get("code", ""), style=dim),
                Text("open", style="bold red") if open_ else Text(fmt.clock(a.get("cleared_at")), style=dim),
            )
        count = sum(1 for a in self._alarms.values() if not a.get("cleared_at"))
        self.border_title = f"Alarms · {count} open" if count else "Alarms · none open"


class RulesPane(DataTable):
    """What the rules engine did, from `history/rule_traces` (if the server has one)."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.border_title = "Rule runs"
        for label, width in (("Time", 8), ("Rule", 22), ("Station", 10), ("Outcome", 24)):
            self.add_column(label, width=width)

    def load(self, traces: list[dict[str, Any]]) -> None:
        self.clear()
        for t in traces[:MAX_ROWS]:
            outcome = str(fmt.first(t, "outcome", "result", "status", default=""))
            failed = any(w in outcome.lower() for w in ("error", "fail"))
            self.add_row(
                fmt.clock(fmt.first(t, "started", "time", "ts")),
                str(fmt.first(t, "rule_id", "rule", "alias", default="?")),
                str(fmt.first(t, "station_id", default="")),
                Text(outcome, style="red" if failed else ""),
            )
        self.border_title = f"Rule runs · {len(traces)} recent"


class RulesUnavailable(Static):
    """Shown instead of RulesPane when the server has no rules engine."""

    def on_mount(self) -> None:
        self.border_title = "Rule runs"
