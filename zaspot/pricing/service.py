"""The pricing service (`ctx.pricing`): which tariff a session gets, and what each session
costs while it charges and when it ends, kept in `session_costs`.

- A transaction is taken up when it starts (or at its first meter sample, or at zaspot's
  start while it runs): its tariff is chosen then and kept for all of it.
- Each meter sample adds its energy register readings in memory; cost_of() prices them
  when asked (what chargers are told, the API). At most every 60 s per session its cost is
  stored, computed from the stored samples, and `session_cost` fired.
- When it ends, its final cost is in memory at once (for the station's answer) and stored
  in a unit of its own right after, with a final `session_cost`.
- At start, running transactions are taken up again from the store, and costs a crash
  left unfinished are finished.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from zaspot.core import events as ev
from zaspot.core.connection_events import StationUpdated
from zaspot.core.pricing_events import SessionCost
from zaspot.core.tasks import TaskSet
from zaspot.pricing.cost import Cost, NoPrice, Reading, session_cost, slots_between, stored
from zaspot.pricing.tariff import LOCKED, Tariff, Tariffs, load_tariffs
from zaspot.store import pricing as cost_rows
from zaspot.store.messages import ENERGY
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

STORE_EVERY = 60.0  # s: a running session's cost is stored (and announced) at most this often
KEEP_FINALS = 1000  # ended sessions whose final cost stays in memory
Key = tuple[str, str]  # (station_id, transaction key)


def _energy(s: ev.Sample) -> bool:
    return s.measurand == ENERGY and s.phase is None and s.location in (None, "Outlet")


class _Session:
    """A running session in memory: its tariff and its register readings so far."""

    __slots__ = ("_cached", "evse_id", "locked_spot", "readings", "started_at", "stored_at", "tariff")

    def __init__(self, evse_id: int, tariff: Tariff, locked_spot: float | None, started_at: float,
                 readings: list[Reading]) -> None:
        self.evse_id, self.tariff, self.locked_spot, self.started_at = evse_id, tariff, locked_spot, started_at
        self.readings = readings
        self.stored_at = 0.0
        self._cached: tuple[int, Any, Cost | None] = (-1, None, None)  # (readings, slots) it was priced on


class Pricing:
    def __init__(self, ctx: Any, tariffs: Tariffs, *, store_every: float = STORE_EVERY,
                 clock: Callable[[], float] = time.time) -> None:
        self.ctx, self.tariffs, self.store_every, self.clock = ctx, tariffs, store_every, clock
        self.currency = tariffs.currency
        self._sessions: dict[Key, _Session] = {}
        self._by_evse: dict[tuple[str, int], Key] = {}
        self._finals: OrderedDict[Key, Cost] = OrderedDict()
        self._gone: OrderedDict[Key, None] = OrderedDict()  # samples name them, the store has them not running
        self._adopting: dict[Key, list[Reading]] = {}  # being read from the store: readings meanwhile
        self._busy: set[Key] = set()  # a store of it is running
        self._again: set[Key] = set()  # and another was asked for meanwhile
        self._sites: dict[str, str] = {}
        self._tasks = TaskSet()
        self._unsubscribe: list[Callable[[], None]] = []
        self._slot_index: tuple[tuple[Any, ...], list[float]] = ((), [])

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        store, bus = self.ctx.store, self.ctx.bus
        self._sites = {sid: site for sid, (_, site) in (await store.station_names()).items()}
        for kind, fn in ((ev.MeterSample.type, self._on_meter), (ev.TransactionStarted.type, self._on_started),
                         (ev.TransactionEnded.type, self._on_ended), (StationUpdated.type, self._on_station)):
            self._unsubscribe.append(bus.listen(kind, fn, name=f"pricing.{kind}", inline=True))
        for key in await store.running_transactions():
            await self._adopt(key)
        for key in await store.costs_to_finish():  # ended while zaspot was away
            await self._store(key)

    async def stop(self) -> None:
        """Stop following; each running session's cost so far is stored (a restart goes on from it)."""
        for undo in self._unsubscribe:
            undo()
        self._unsubscribe.clear()
        await self._tasks.drain(10)
        for key in list(self._sessions):
            try:
                await self._store(key)
            except Exception:  # the store is closing: the samples are kept, the next start prices them
                _LOGGER.exception("session cost of %s %s not stored at stop", *key)

    # --- what others ask -------------------------------------------------------

    def tariff_for(self, station_id: str, id_token: str | None) -> Tariff:
        """The tariff a session of this card at this station gets (its card group, the station's site)."""
        book = getattr(getattr(self.ctx, "cards", None), "book", None)
        card = book.find(id_token) if book is not None and id_token else None
        return self.tariffs.choose(station_id, self._sites.get(station_id, ""), card.group if card else None)

    def cost_of(self, station_id: str, transaction_id: str) -> Cost | None:
        """The running cost (up to the last reading) or the final one; None for a session not followed."""
        key = (station_id, str(transaction_id))
        final = self._finals.get(key)
        if final is not None:
            return final
        session = self._sessions.get(key)
        if session is None:
            return None
        count, slots, cost = session._cached
        if count != len(session.readings) or slots is not self.ctx.prices.slots():
            cost = self._priced(session.tariff, session.readings, session.locked_spot)
            session._cached = (len(session.readings), self.ctx.prices.slots(), cost)
        return cost

    # --- the bus (inline: cheap, and in memory before the station gets its answer) ---

    def _on_started(self, e: ev.TransactionStarted) -> None:
        key = (e.station_id, e.transaction_id)
        self._gone.pop(key, None)
        if key not in self._sessions:
            self._begin_adopt(key, [])

    def _on_meter(self, e: ev.MeterSample) -> None:
        readings = [Reading(e.time if s.timestamp is None else s.timestamp, s.value) for s in e.samples if _energy(s)]
        if not readings:
            return
        key = (e.station_id, e.transaction_id) if e.transaction_id else self._by_evse.get((e.station_id, e.evse_id))
        if key is None or key in self._finals or key in self._gone:
            return  # no transaction, or a late sample of one that ended (or that never ran)
        session = self._sessions.get(key)
        if session is None:
            self._begin_adopt(key, readings)
            return
        if not e.transaction_id:  # an EVSE's sample naming no transaction: the ones while it ran
            readings = [r for r in readings if r.ts >= session.started_at]
        session.readings.extend(readings)
        if self.clock() - session.stored_at >= self.store_every:
            session.stored_at = self.clock()
            self._spawn(self._store(key), "pricing.store")

    def _on_ended(self, e: ev.TransactionEnded) -> None:
        key = (e.station_id, e.transaction_id)
        session = self._sessions.pop(key, None)
        if session is not None:
            if self._by_evse.get((e.station_id, session.evse_id)) == key:
                del self._by_evse[e.station_id, session.evse_id]
            readings = session.readings + ([] if e.meter_stop_wh is None else [Reading(e.time, e.meter_stop_wh)])
            cost = self._priced(session.tariff, readings, session.locked_spot, until=e.time, final=True)
            if cost is not None:
                self._remember(key, cost)
        self._spawn(self._store(key), "pricing.final")

    def _on_station(self, e: StationUpdated) -> None:
        self._sites[e.station_id] = e.site

    # --- taking a session up -----------------------------------------------------

    def _begin_adopt(self, key: Key, readings: list[Reading]) -> None:
        if key in self._adopting:
            self._adopting[key].extend(readings)
            return
        self._adopting[key] = list(readings)
        self._spawn(self._adopt(key), "pricing.adopt")

    async def _adopt(self, key: Key) -> None:
        """Take a running transaction up from the store: its tariff (the stored one, else chosen
        now), its readings so far; and store its first cost if it has none."""
        self._adopting.setdefault(key, [])
        try:
            inputs = await self.ctx.store.session_inputs(*key)
        finally:
            meanwhile = self._adopting.pop(key, [])
        if inputs is None or inputs["tx"]["state"] != "active":
            self._gone[key] = None  # its next samples are not worth a read each
            while len(self._gone) > KEEP_FINALS:
                self._gone.popitem(last=False)
            return
        if key in self._sessions:
            return
        tx, old = inputs["tx"], inputs["cost"]
        tariff, locked = self._terms(tx, old)
        readings = sorted(dict.fromkeys([Reading(ts, wh) for ts, wh in inputs["readings"]] + meanwhile),
                          key=lambda r: r.ts)
        evse_id = tx["evse_id"] or 0
        self._sessions[key] = session = _Session(evse_id, tariff, locked, tx["started_at"] or self.clock(), readings)
        self._by_evse[key[0], evse_id] = key
        if old is None:
            session.stored_at = self.clock()
            await self._store(key)

    def _terms(self, tx: dict[str, Any], old: dict[str, Any] | None) -> tuple[Tariff, float | None]:
        """A session's tariff and, for a locked one, its spot price at the start."""
        session = self._sessions.get((tx["station_id"], tx["tx_key"]))
        if old is not None:
            return Tariff.from_terms(old["terms"]), old["detail"].get("locked_spot")
        if session is not None:
            return session.tariff, session.locked_spot
        tariff = self.tariff_for(tx["station_id"], tx["id_token"])
        started = tx["started_at"] if tx["started_at"] is not None else self.clock()
        return tariff, self._spot_at(started) if tariff.pricing == LOCKED else None

    # --- storing -----------------------------------------------------------------

    async def _store(self, key: Key) -> None:
        """Compute the session's cost from the store and keep it; one at a time per session."""
        if key in self._busy:
            self._again.add(key)
            return
        self._busy.add(key)
        try:
            while True:
                self._again.discard(key)
                await self._store_once(key)
                if key not in self._again:
                    return
        finally:
            self._busy.discard(key)

    async def _store_once(self, key: Key) -> None:
        inputs = await self.ctx.store.session_inputs(*key)
        if inputs is None:
            return
        tx, old = inputs["tx"], inputs["cost"]
        final = tx["state"] != "active"
        if old is not None and old["final"] and not final:
            return
        tariff, locked = self._terms(tx, old)
        readings = [Reading(ts, wh) for ts, wh in inputs["readings"]]
        until = tx["stopped_at"] if final else (readings[-1].ts if readings else tx["started_at"])
        cost = self._priced(tariff, readings, locked, until=until, final=final)
        if cost is None:
            return
        unit = Unit()
        unit.do(_save, tx, stored(cost, readings, tariff.terms()), self.clock())
        if old is None or (old["energy_wh"], old["cost_incl_vat"], bool(old["final"])) != (
                cost.energy_wh, cost.incl_vat, cost.final):
            unit.emit(SessionCost(tx["station_id"], tx["tx_key"], tx["evse_id"] or 0, cost.energy_wh, cost.incl_vat,
                                  cost.currency, cost.final, cost.tariff, cost.excl_vat, time=self.clock()))
        await publish(self.ctx.store, self.ctx.bus, unit)
        if final:
            self._remember(key, cost)

    def _remember(self, key: Key, cost: Cost) -> None:
        self._finals[key] = cost
        self._finals.move_to_end(key)
        while len(self._finals) > KEEP_FINALS:
            self._finals.popitem(last=False)

    # --- pricing -----------------------------------------------------------------

    def _priced(self, tariff: Tariff, readings: list[Reading], locked: float | None, *,
                until: float | None = None, final: bool = False) -> Cost | None:
        prices = self.ctx.prices
        first = min((r.ts for r in readings), default=0.0)
        last = max((r.ts for r in readings), default=0.0)
        try:
            return session_cost(readings, tariff, self._slots_between(first, last),
                                fallback_price=prices.fallback_price, locked_spot=locked, until=until, final=final)
        except (NoPrice, ValueError) as exc:  # no fallback price (only `ems.prices`, no `pricing:`)
            _LOGGER.warning("session cost: %s", exc)
            return None

    def _slots_between(self, start: float, end: float) -> list[Any]:
        slots = self.ctx.prices.slots()
        if self._slot_index[0] is not slots:
            self._slot_index = (slots, [s.start for s in slots])
        return slots_between(slots, self._slot_index[1], start, end)

    def _spot_at(self, ts: float) -> float | None:
        slot = self.ctx.prices.price_at(ts)
        return None if slot is None else slot.price

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.spawn(coro, name)


def _save(c: Any, unit: Unit, tx: dict[str, Any], saved: dict[str, Any], now: float) -> None:
    cost_rows.save_cost(c, tx, saved, now)


async def start_pricing(ctx: Any) -> Pricing | None:
    """ctx.pricing from the `pricing:` section's tariffs, on the price feed (ctx.prices); None
    without a `pricing:` section. Its teardown is `stop`."""
    if getattr(ctx.config, "pricing", None) is None or ctx.prices is None:
        return None
    pricing = Pricing(ctx, load_tariffs(ctx.config.pricing, ctx.prices.currency))
    await pricing.start()
    ctx.pricing = pricing
    return pricing
