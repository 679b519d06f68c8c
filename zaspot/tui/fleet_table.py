"""The fleet table: one row per station, cells updated in place on a short timer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.coordinate import Coordinate
from textual.reactive import reactive

from zaspot.tui.cells import COLUMNS, SORTS, cells, columns_for
from zaspot.tui.columns import CollapsingTable
from zaspot.tui.format import age
from zaspot.tui.model import FleetModel

FLUSH_EVERY = 0.5  # seconds: events in between are folded into one repaint


class FleetTable(CollapsingTable):
    """Its columns collapse by priority in a narrow terminal (zaspot/tui/cells.py COLUMNS)."""

    sort_name: reactive[str] = reactive("station")
    filter_text: reactive[str] = reactive("")

    def __init__(self, model: FleetModel, clock: Callable[[], float], **kw: Any) -> None:
        super().__init__(COLUMNS, cursor_type="row", zebra_stripes=False, **kw)
        self.model, self.clock = model, clock
        self._shown: dict[str, dict[str, Any]] = {}  # what each visible row displays now
        self._keep: str | None = None  # the selected station, across a change of columns

    def on_mount(self) -> None:
        self.fit_columns()
        self.set_interval(FLUSH_EVERY, self.flush)
        self._title()

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return row_key.value

    def _title(self) -> None:
        total = len(self.model.stations)
        shown = f"{len(self._shown)} of {total}" if self.filter_text else str(total)
        filt = f" · filter “{self.filter_text}”" if self.filter_text else ""
        self.border_title = f"Stations ({shown}) · sorted by {self.sort_name}{filt}"

    def watch_sort_name(self) -> None:
        if self.is_mounted:
            self._sort()
            self._title()

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self.rebuild()

    @property
    def _say_offline(self) -> bool:
        return "link" not in self.shown

    def fit_columns(self) -> bool:
        self._keep = self.selected or self._keep
        return super().fit_columns()

    def refill(self) -> None:
        if self.is_mounted:
            self.rebuild()

    def rebuild(self) -> None:
        """Rows for the stations that match: after a snapshot or a new filter."""
        keep = self.selected or self._keep
        self.model.structure_changed = False
        self.model.take_dirty()
        if self.fit_cols_for(list(self.model.stations)):
            return  # the columns changed: refill() built the rows
        self.clear()
        self._shown.clear()
        now = self.clock()
        for sid in self.model.matching(self.filter_text):
            row = cells(self.model.stations[sid], now, self._say_offline)
            self._shown[sid] = row
            self.put(row, key=sid)
        self._sort(keep)
        self._title()

    def fit_cols_for(self, station_ids: list[str]) -> bool:
        """The station column as wide as the longest id; True if the columns changed."""
        return self.set_cols(columns_for(station_ids))

    def flush(self) -> None:
        """Apply what changed since the last flush; only changed cells are touched."""
        if self.model.structure_changed:
            self.rebuild()
            return
        dirty = self.model.take_dirty()
        if self.filter_text and dirty and set(self.model.matching(self.filter_text)) != set(self._shown):
            self.rebuild()  # a station started or stopped matching the filter
            return
        now = self.clock()
        for sid, shown in self._shown.items():
            if sid not in dirty:
                if shown["seen"] != (seen := age(self.model.stations[sid].last_seen, now)):
                    self.set_cell(sid, "seen", seen)
                    shown["seen"] = seen
                continue
            row = cells(self.model.stations[sid], now, self._say_offline)
            for key, value in row.items():
                if shown.get(key) != value:
                    self.set_cell(sid, key, value)
            self._shown[sid] = row
        if dirty and self.sort_name != "station":
            self._sort()

    def _sort(self, keep: str | None = None) -> None:
        keep = keep or self.selected
        key_fn, reverse = SORTS[self.sort_name]
        stations = self.model.stations
        self.sort("station", key=lambda cell: key_fn(stations[cell.plain]), reverse=reverse)
        if keep in self._shown:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
