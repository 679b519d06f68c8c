"""Each session's energy need and departure, from every source: one owner.

A need is said by the EV (2.0.1 NotifyEVChargingNeeds: ISO 15118's departure time and
energy amount) or by the operator (API `sessions/plan`, `zaspot session plan TX --kwh 30
--by 07:00`), and "charge now" is the operator's (`sessions/charge_now`). Each is written
by `save`, in the unit of work of the message or command that says it: a row of
`session_needs` (one per EVSE, bound to the transaction running there) and a
`session_need` event. The latest value of each field wins; "charge now" holds until it is
turned off or the session ends. A card's default need is the spot_price strategy's
config (`cards:`, `card_groups:`): it fills in what the session itself has not said.

An EV may tell its needs just before its transaction starts: such a need waits,
unbound, and is the need of the transaction that starts on that EVSE within
`BIND_WINDOW` seconds.

`SessionNeeds` keeps the needs, card and start of every running session in memory, from the
rows at start (so a restart keeps them) and the events after; the EMS's inputs read it
each tick (it is ctx.needs while it runs).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zaspot.core import events as ev
from zaspot.core.pricing_events import SessionNeedChanged
from zaspot.store.unit import Unit

BIND_WINDOW = 900.0  # s: a need told this long before a transaction starts is that transaction's
Key = tuple[str, int]



@dataclass(frozen=True, slots=True)
class Need:
    station_id: str
    evse_id: int
    transaction_id: str | None  # None: told before its transaction started
    energy_wh: float | None  # in all, this session
    departure: float | None
    charge_now: bool
    source: str  # "ev" or "operator:<user>": who said it last
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"station_id": self.station_id, "evse_id": self.evse_id, "transaction_id": self.transaction_id,
                "energy_wh": self.energy_wh, "departure": self.departure, "charge_now": self.charge_now,
                "source": self.source, "updated_at": self.updated_at}


def save(c: sqlite3.Connection, unit: Unit, station_id: str, evse_id: int, energy_wh: float | None,
         departure: float | None, charge_now: bool | None, source: str, now: float) -> Need:
    """A unit step: what a session needs, for the transaction running on the EVSE (or, with
    none running, the next one). A field given as None keeps what the session said before."""
    row = c.execute("SELECT tx_key, started_at FROM transactions WHERE station_id = ? AND evse_id = ? "
                    "AND state = 'active' ORDER BY id DESC LIMIT 1", (station_id, evse_id)).fetchone()
    tx_key, started = (row[0], row[1] or now) if row else (None, now)
    old = c.execute("SELECT tx_key, energy_wh, departure, charge_now, updated_at FROM session_needs "
                    "WHERE station_id = ? AND evse_id = ?", (station_id, evse_id)).fetchone()
    same = old is not None and (old[0] == tx_key or (old[0] is None and old[4] >= started - BIND_WINDOW))
    if same:
        energy_wh = old[1] if energy_wh is None else energy_wh
        departure = old[2] if departure is None else departure
        charge_now = bool(old[3]) if charge_now is None else charge_now
    need = Need(station_id, evse_id, tx_key, energy_wh, departure, bool(charge_now), source, now)
    c.execute(
        "INSERT INTO session_needs (station_id, evse_id, tx_key, energy_wh, departure, charge_now, source, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station_id, evse_id) DO UPDATE SET "
        "tx_key = excluded.tx_key, energy_wh = excluded.energy_wh, departure = excluded.departure, "
        "charge_now = excluded.charge_now, source = excluded.source, updated_at = excluded.updated_at",
        (station_id, evse_id, tx_key, energy_wh, departure, int(need.charge_now), source, now))
    unit.emit(SessionNeedChanged(station_id, evse_id, tx_key, energy_wh, departure, need.charge_now, source,
                                 time=now))
    return need


def _load(c: sqlite3.Connection, unit: Unit) -> tuple[list[tuple], list[tuple]]:
    """The needs kept and the running transactions; needs of sessions that ended are dropped."""
    c.execute("DELETE FROM session_needs WHERE tx_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM transactions t "
              "WHERE t.station_id = session_needs.station_id AND t.tx_key = session_needs.tx_key "
              "AND t.state = 'active')")
    needs = c.execute("SELECT station_id, evse_id, tx_key, energy_wh, departure, charge_now, source, updated_at "
                      "FROM session_needs").fetchall()
    running = c.execute("SELECT station_id, evse_id, tx_key, id_token, started_at, meter_start_wh FROM transactions "
                        "WHERE state = 'active' AND evse_id IS NOT NULL").fetchall()
    return needs, [(*row[:5], row[5] if row[5] is not None else _first_reading(c, row[0], row[2], row[4]))
                   for row in running]


def _first_reading(c: sqlite3.Connection, station_id: str, tx_key: str, started: float | None) -> float | None:
    """The session's first energy register reading (a 2.0.1 transaction has no meter start of its own)."""
    row = c.execute("SELECT value FROM meter_samples WHERE station_id = ? AND ts >= ? AND tx_key = ? "
                    "AND measurand = 'Energy.Active.Import.Register' AND phase IS NULL "
                    "ORDER BY ts, meter_value_id LIMIT 1",
                    (station_id, (started or 0.0) - 60, tx_key)).fetchone()
    return row[0] if row else None


class SessionNeeds:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.needs: dict[Key, Need] = {}
        # key -> (transaction, id token, started, meter then in Wh)
        self.running: dict[Key, tuple[str, str | None, float, float | None]] = {}
        self._unsub: Callable[[], None] | None = None

    async def start(self) -> None:
        unit = Unit()
        unit.do(_load)
        [(needs, running)] = await self.ctx.store.commit(unit)
        for row in needs:
            self.needs[row[0], row[1]] = Need(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7])
        for station_id, evse_id, tx_key, token, started, meter_start in running:
            self.running[station_id, evse_id] = (tx_key, token, started or 0.0, meter_start)
        types = (ev.TransactionStarted.type, ev.TransactionEnded.type, SessionNeedChanged.type)
        self._unsub = self.ctx.bus.listen(types, self._on_event, name="pricing.needs", inline=True)
        self.ctx.needs = self

    def stop(self) -> None:
        if self._unsub is not None:
            self._unsub()
        self.ctx.needs = None

    def _on_event(self, e: ev.Event) -> None:
        key = (e.station_id, getattr(e, "evse_id", 0))
        if isinstance(e, ev.TransactionStarted):
            self.running[key] = (e.transaction_id, e.id_token, e.time, e.meter_start_wh)
        elif isinstance(e, ev.TransactionEnded):
            if self.running.get(key, ("",))[0] == e.transaction_id:
                del self.running[key]
            if getattr(self.needs.get(key), "transaction_id", None) == e.transaction_id:
                del self.needs[key]  # its row goes with the next need on this EVSE, or at the next start
        elif isinstance(e, SessionNeedChanged):
            self.needs[key] = Need(e.station_id, e.evse_id, e.transaction_id, e.energy_wh, e.departure,
                                   e.charge_now, e.source, e.time)

    # --- what the EMS reads ------------------------------------------------------

    def of(self, key: Key) -> Need | None:
        """The need of the session running on the EVSE, if it (or its EV) said one."""
        need, running = self.needs.get(key), self.running.get(key)
        if need is None or running is None:
            return None
        tx_key, _, started, _ = running
        if need.transaction_id == tx_key or (need.transaction_id is None and need.updated_at >= started - BIND_WINDOW):
            return need
        return None

    def started(self, key: Key) -> tuple[float, float | None] | None:
        """(when, meter then in Wh) of the session running on the EVSE: what it has been given
        is known after a restart too."""
        running = self.running.get(key)
        return (running[2], running[3]) if running else None

    def card(self, key: Key) -> tuple[str | None, str | None]:
        """(id token, its card group) of the session running on the EVSE."""
        running = self.running.get(key)
        token = running[1] if running else None
        cards = getattr(self.ctx, "cards", None)
        card = cards.book.find(token) if token and cards is not None else None
        return token, getattr(card, "group", None)


async def setup(ctx: Any) -> Callable[[], None]:
    """Start the owner of the needs; returns its teardown."""
    owner = SessionNeeds(ctx)
    await owner.start()
    return owner.stop
