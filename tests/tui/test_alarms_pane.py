"""The alarms pane shows one fault once: a generic alarm superseded by the fault's
specific code is left out, whether it comes live or from the stored history."""

from __future__ import annotations

from textual.app import App, ComposeResult

from zaspot.tui.panes import AlarmsPane

NOW = 1_795_600_000.0


def _row(alarm_id: int, code: str, cleared: float | None = None, superseded_by: str | None = None) -> dict:
    return {"id": alarm_id, "station_id": "CP1", "severity": "critical", "code": code, "message": f"connector 1: {code}",
            "raised_at": NOW + alarm_id, "cleared_at": cleared, "superseded_by": superseded_by}


class _Pane(App):
    def compose(self) -> ComposeResult:
        yield AlarmsPane()


async def test_a_superseded_alarm_from_the_history_is_not_a_row():
    app = _Pane()
    async with app.run_test():
        pane = app.query_one(AlarmsPane)
        pane.load([_row(3, "GroundFailure"), _row(2, "Faulted", NOW + 3, "GroundFailure"),
                   _row(1, "OverTemperature", NOW + 2)])
        assert pane.row_count == 2
        codes = {str(pane.get_row_at(i)[3]) for i in range(pane.row_count)}
        assert codes == {"connector 1: GroundFailure", "connector 1: OverTemperature"}


async def test_a_superseded_alarm_cleared_live_leaves_the_pane():
    app = _Pane()
    async with app.run_test():
        pane = app.query_one(AlarmsPane)
        pane.raised({"alarm_id": 2, "station_id": "CP1", "severity": "critical", "code": "Faulted",
                     "message": "connector 1: Faulted", "time": NOW})
        pane.raised({"alarm_id": 3, "station_id": "CP1", "severity": "critical", "code": "GroundFailure",
                     "message": "connector 1: GroundFailure", "time": NOW + 1})
        pane.cleared({"alarm_id": 2, "code": "Faulted", "superseded_by": "GroundFailure", "time": NOW + 1})
        assert pane.row_count == 1
