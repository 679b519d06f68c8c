"""The alarms pane shows one fault once: a generic alarm superseded by the fault's specific
code is left out, whether it comes live or from the stored history; open alarms come first,
by name, not by code."""

from __future__ import annotations

from textual.app import App, ComposeResult

from zaspot.tui.alarms import AlarmBook, alarm_text
from zaspot.tui.panes import AlarmsPane

NOW = 1_795_600_000.0


def _row(alarm_id: int, code: str, cleared: float | None = None, superseded_by: str | None = None) -> dict:
    return {"id": alarm_id, "station_id": "CP1", "severity": "critical", "code": code, "message": f"connector 1: {code}",
            "raised_at": NOW + alarm_id, "cleared_at": cleared, "superseded_by": superseded_by}


class _Pane(App):
    def __init__(self) -> None:
        super().__init__()
        self.book = AlarmBook()

    def compose(self) -> ComposeResult:
        yield AlarmsPane(self.book)


def texts(pane: AlarmsPane, column: str) -> list[str]:
    return [str(pane.get_cell_at((i, pane.shown.index(column)))) for i in range(pane.row_count)]


async def test_a_superseded_alarm_from_the_history_is_not_a_row():
    app = _Pane()
    async with app.run_test(size=(120, 20)):
        pane = app.query_one(AlarmsPane)
        app.book.load([_row(3, "GroundFailure"), _row(2, "Faulted", NOW + 3, "GroundFailure"),
                       _row(1, "OverTemperature", NOW + 2)])
        pane.redraw()
        assert texts(pane, "alarm") == ["Ground failure · connector 1", "Over temperature · connector 1"]


async def test_a_superseded_alarm_cleared_live_leaves_the_pane():
    app = _Pane()
    async with app.run_test(size=(120, 20)):
        pane = app.query_one(AlarmsPane)
        app.book.raised({"alarm_id": 2, "station_id": "CP1", "severity": "critical", "code": "Faulted",
                         "message": "connector 1: Faulted", "time": NOW})
        app.book.raised({"alarm_id": 3, "station_id": "CP1", "severity": "critical", "code": "GroundFailure",
                         "message": "connector 1: GroundFailure", "time": NOW + 1})
        app.book.cleared({"alarm_id": 2, "code": "Faulted", "superseded_by": "GroundFailure", "time": NOW + 1})
        pane.redraw()
        assert pane.row_count == 1 and app.book.open_count() == 1


async def test_open_alarms_come_first_even_when_older():
    app = _Pane()
    async with app.run_test(size=(120, 20)):
        pane = app.query_one(AlarmsPane)
        app.book.load([_row(9, "WeakSignal", NOW + 20), _row(8, "ReaderFailure", NOW + 15), _row(1, "GroundFailure")])
        pane.redraw()
        assert texts(pane, "state")[0] == "open"
        assert texts(pane, "alarm")[0].startswith("Ground failure")
        assert pane.border_title == "Alarms · 1 open"


def test_alarm_text_names_the_fault_and_keeps_the_rest_of_the_message():
    assert alarm_text({"code": "Tripped", "message": "module 3: Tripped overcurrent"}) == "Tripped · module 3: overcurrent"
    assert alarm_text({"code": "OverTemperature", "message": "connector 1 at 74 °C (limit 70 °C)"}) \
        == "Over temperature · connector 1 at 74 °C (limit 70 °C)"
    assert alarm_text({"code": "X-Vendor-17", "message": ""}) == "X-Vendor-17"  # a code with no name: as sent
