"""Tables whose columns collapse by priority: in a narrow terminal the columns that matter
least go first, and the ones that must stay (a station's id, its status) always do.

`fit()` is plain (unit-testable); `CollapsingTable` is a DataTable that lays its columns
out again when its width changes and asks its owner (`refill`) to put the rows back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.widgets import DataTable

SCROLLBAR = 2  # always kept free: the columns must not change when the rows start to scroll


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    label: str
    width: int
    drop: int = 0  # 0: always shown; the higher, the sooner it goes when room is short
    grow: bool = False  # gets the room left over (a name, a message)


def fit(cols: Iterable[Col], room: int, padding: int = 1) -> list[tuple[Col, int]]:
    """The columns that fit in `room` cells, in their order, each with its width: the
    highest `drop` goes first (the later column of a tie); a growing column takes the rest."""
    keep = list(cols)
    order = {c.key: i for i, c in enumerate(keep)}

    def need(cs: list[Col]) -> int:
        return sum(c.width + 2 * padding for c in cs)

    while need(keep) > room:
        droppable = [c for c in keep if c.drop]
        if not droppable:
            break
        keep.remove(max(droppable, key=lambda c: (c.drop, order[c.key])))
    spare = max(0, room - need(keep))
    out = []
    for c in keep:
        extra = spare if c.grow else 0
        spare -= extra
        out.append((c, c.width + extra))
    return out


class CollapsingTable(DataTable):
    """A DataTable over `cols`; rows go in with `put(cells_by_key)`. After the columns
    changed, `refill()` adds the rows again: a subclass overrides it, or passes `refill`."""

    def __init__(self, cols: Iterable[Col] = (), refill: Callable[[], None] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.cols: tuple[Col, ...] = tuple(cols)
        self.layout_: list[tuple[Col, int]] = []
        self._refill = refill

    @property
    def shown(self) -> list[str]:
        """The keys of the columns on screen now."""
        return [c.key for c, _ in self.layout_]

    def room(self) -> int:
        return max(0, self.size.width - SCROLLBAR)

    def set_cols(self, cols: Iterable[Col]) -> bool:
        """Other columns (a station column as wide as the longest id); True if that changed what
        is on screen (the rows were put back with `refill`)."""
        cols = tuple(cols)
        if cols == self.cols:
            return False
        self.cols = cols
        return self.fit_columns()

    def fit_columns(self) -> bool:
        """Lay the columns out for the width there is now; True if they changed (rows refilled)."""
        layout = fit(self.cols, self.room(), self.cell_padding)
        if [(c.key, w) for c, w in layout] == [(c.key, w) for c, w in self.layout_] and self.columns:
            return False
        self.layout_ = layout
        self.clear(columns=True)
        for c, width in layout:
            self.add_column(c.label, width=width, key=c.key)
        self.refill()
        return True

    def on_resize(self, event: events.Resize) -> None:
        self.fit_columns()

    def refill(self) -> None:
        """Put the rows back (after the columns changed)."""
        if self._refill is not None:
            self._refill()

    def put(self, cells: dict[str, Any], key: str | None = None) -> None:
        self.add_row(*(cells.get(c.key, "") for c, _ in self.layout_), key=key)

    def set_cell(self, row_key: str, column_key: str, value: Any) -> None:
        if column_key in self.shown:
            self.update_cell(row_key, column_key, value)
