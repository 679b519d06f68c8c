"""A station's sessions with what they cost: the station screen's "Sessions" tab
(`history/sessions station_id=…`) and a session's receipt (`sessions/receipt`, key p).

The tab is read when the screen opens and again when a `session_cost`, `transaction_started`
or `transaction_ended` of its station arrives (a running session's cost changes at most
once a minute), never on a fast timer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from zaspot.tui import format as fmt
from zaspot.tui.costs import session_key, tariff_name
from zaspot.tui.feed import optional

SESSION_EVENTS = ("session_cost", "transaction_started", "transaction_ended")
RECENT = 50
STATE_STYLE = {"active": "bold cyan", "ended": "", "stale": "yellow"}


def total(row: dict[str, Any], key: str = "incl_vat") -> float | None:
    value = (row.get("total_cost") or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def place(row: dict[str, Any]) -> str:
    evse, conn = row.get("evse_id"), row.get("connector_id")
    return str(evse) if conn in (None, evse) else f"{evse}/{conn}"


def kwh(value: Any) -> str:
    return f"{value:.2f} kWh" if isinstance(value, (int, float)) else "–"


class SessionsTable(DataTable):
    """Newest first; None until read, and on a server without session costs."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", **kw)
        self.sessions: list[dict[str, Any]] | None = None

    def on_mount(self) -> None:
        for label, width in (("Tx", 10), ("Conn", 4), ("Card", 12), ("Started", 11), ("Ended", 11), ("Energy", 10),
                             ("Time", 5), ("Cost", 11), ("Tariff", 12), ("State", 6)):
            self.add_column(label, width=width)
        self.border_title = "Sessions"

    async def load(self, client: Any, station_id: str) -> None:
        if client is None:
            return
        rows = await optional(client, "history/sessions", station_id=station_id, limit=RECENT)
        self.sessions = ([r for r in rows if r.get("station_id") in (None, station_id)]
                         if isinstance(rows, list) else None)
        self._show()

    def _show(self) -> None:
        keep = self.selected
        self.clear()
        for r in self.sessions or []:
            state = r.get("state") or "?"
            self.add_row(fmt.short_id(session_key(r)), place(r), escape(str(r.get("id_token") or "–")),
                         fmt.day_time(r.get("start_date_time")), fmt.day_time(r.get("end_date_time")),
                         kwh(r.get("total_energy")), fmt.hours(r.get("total_time")),
                         fmt.money(total(r), r.get("currency") or ""), tariff_name(r.get("tariff")) or "–",
                         Text(state, style=STATE_STYLE.get(state, "")), key=session_key(r) or None)
        if keep and any(session_key(r) == keep for r in self.sessions or []):
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        self.border_title = ("Sessions · this server keeps no session costs" if self.sessions is None
                             else f"Sessions · {len(self.sessions)} recent · p: receipt")

    @property
    def selected(self) -> str | None:
        """The selected session's transaction id (the newest when none is selected yet)."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return row_key.value


def receipt_text(r: dict[str, Any]) -> str:
    cur = r.get("currency") or ""
    excl, incl = total(r, "excl_vat"), total(r)
    state = r.get("state") or "?"
    style = STATE_STYLE.get(state)
    lines = [
        f"[b]Receipt[/b] · session {escape(session_key(r))} · " + (f"[{style}]{state}[/]" if style else state),
        (f"Station {escape(str(r.get('station_id') or '–'))}, connector {place(r)}"
         f" · card {escape(str(r.get('id_token') or '–'))}"),
        f"From {fmt.day_time(r.get('start_date_time'))} to {fmt.day_time(r.get('end_date_time'))}"
        f" · charging time {fmt.hours(r.get('total_time'))}"
        + (f", parked {fmt.hours(r.get('total_parking_time'))}" if r.get("total_parking_time") is not None else ""),
        f"Energy [b]{kwh(r.get('total_energy'))}[/b]",
        # its formula, with its name
        "Tariff " + escape(str(r.get("tariff_text") or tariff_name(r.get("tariff")) or "–")),
    ]
    fees = [f"session fee {fmt.money(r['session_fee'], cur)}" if r.get("session_fee") else "",
            (f"idle fee {fmt.money(r['idle_fee'], cur)} ({r.get('idle_minutes') or 0:.0f} min idle)"
             if r.get("idle_fee") else "")]
    if any(fees):
        lines.append("Fees incl. VAT: " + ", ".join(f for f in fees if f))
    lines.append(f"Cost [b]{fmt.money(incl, cur)}[/b] incl. VAT ({fmt.money(excl, cur)} excl. VAT)"
                 if incl is not None else "Cost: none kept (the session ran before prices were set up)")
    return "\n".join(lines)


class ReceiptScreen(ModalScreen[None]):
    """One session: energy, time, tariff, cost, and each period's energy, price and cost."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "close", "Close"), ("p", "close", "Close"),
                                             ("q", "close", "Close")]

    def __init__(self, receipt: dict[str, Any]) -> None:
        super().__init__()
        self.receipt = receipt

    def compose(self) -> ComposeResult:
        with Vertical(id="receipt"):
            yield Static(receipt_text(self.receipt), id="receipt-head")
            yield DataTable(id="receipt-periods", cursor_type="none")
            yield Static("[dim]escape to close[/dim]", id="receipt-foot")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Period", 17), ("Energy", 10), ("Spot", 6), ("Price", 6), ("Cost", 11)):
            table.add_column(label, width=width)
        cur = self.receipt.get("currency") or ""
        periods = self.receipt.get("periods") or []
        for p in periods:
            wh = p.get("energy_wh")
            table.add_row(f"{fmt.day_time(p.get('start'))}–{fmt.clock_hm(p.get('end'))}",
                          kwh(wh / 1000 if isinstance(wh, (int, float)) else None), fmt.price(p.get("spot")),
                          fmt.price(p.get("price")), fmt.money(p.get("cost"), cur))
        table.border_title = f"{len(periods)} period{'s' if len(periods) != 1 else ''} · prices per kWh incl. VAT"

    def action_close(self) -> None:
        self.dismiss(None)
