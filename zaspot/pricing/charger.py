"""What chargers are told of prices and costs (#18), for both OCPP versions.

The tariff text and the costs come from the pricing service (ctx.pricing: tariff_for,
cost_of) and the spot price in force from the price feed (ctx.prices). What each version
gets:

- 2.0.1, in its answers (zaspot.ocpp.pricing_v201): the card's tariff as the
  personalMessage of Authorize and TransactionEvent, the cost so far in `totalCost` of
  Updated events and the final cost in that of Ended; while a session charges, a
  `CostUpdated` CALL every `cost_messages.every` seconds when its cost changed (a station
  that answers it NotSupported or NotImplemented is sent no more until it boots again);
- 1.6, only the models in `cost_messages.models_16`, the OCA's California Pricing
  DataTransfer (zaspot.ocpp.pricing_v16): SetUserPrice once a card is accepted (Authorize,
  or a transaction that started without one), RunningCost every `every` seconds while the
  cost changes, FinalCost once the session's cost is final. A station answering
  UnknownVendorId or UnknownMessageId is sent no more until it boots again.

Every CALL is a task through the version-neutral commands (source "pricing"), never sent
from inside a handler; one at a time per station, so a slow station never piles them up.
Nothing is sent, and no answer changes, unless `pricing:` is configured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from zaspot.config import RawSection, decode
from zaspot.core import events as ev
from zaspot.core.pricing_events import DriverIdentified
from zaspot.core.tasks import TaskSet
from zaspot.ranges import Range

_LOGGER = logging.getLogger(__name__)

SOURCE = "pricing"
SESSION_COST = "session_cost"  # zaspot.core.pricing_events.SessionCost (COST's), heard by name
# ISO 4217 minor units where they are not 2 (the rest: 2).
_DECIMALS = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
             "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
             "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}
_PRICE_DECIMALS = 4  # a price per kWh or per hour: finer than a cost (0.2345 EUR/kWh)
_IDLE = ("SuspendedEV", "Finishing")  # the car is done: an idle fee may run
_NOT_THERE = ("NotSupported", "NotImplemented")  # a 2.0.1 station without CostUpdated
_REFUSED_16 = ("UnknownVendorId", "UnknownMessageId")  # a 1.6 station without the cost messages
_FINISHED_KEPT = 10_000


@dataclass
class CostMessagesConfig:
    """`pricing.cost_messages`: which 1.6 models take the OCA cost messages, how often a
    running cost is sent (2.0.1 CostUpdated and 1.6 RunningCost alike)."""

    models_16: list[str] = field(default_factory=list)  # chargePointModel as the station boots with it
    every: Annotated[float, Range(1, 3600)] = 60.0


def decimals(currency: str | None) -> int:
    return _DECIMALS.get((currency or "").upper(), 2)


def amount(value: float, currency: str | None) -> float:
    """A cost with at most the currency's decimals (half up, as a receipt rounds)."""
    exponent = Decimal(1).scaleb(-decimals(currency))
    return float(Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP))


def unit_price(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-_PRICE_DECIMALS), rounding=ROUND_HALF_UP))


def active(ctx: Any) -> bool:
    """Pricing is configured and running: only then are chargers told anything."""
    return ctx.config.pricing is not None and ctx.pricing is not None and ctx.prices is not None


def spot_now(ctx: Any) -> Any:
    """The price slot in force (the feed's fallback when none is known)."""
    slot = ctx.prices.price_at(time.time())
    if slot is None:
        raise LookupError("no spot price now, and no fallback price")
    return slot


def tariff_text(ctx: Any, station_id: str, id_token: str | None) -> str | None:
    """The card's tariff at this station, as a line for its display; None without pricing.
    A failure here is logged and costs the station nothing but the text."""
    if not active(ctx):
        return None
    try:
        return ctx.pricing.tariff_for(station_id, id_token).text(spot_now(ctx).price) or None
    except Exception:
        _LOGGER.exception("%s: no tariff text for the card", station_id)
        return None


def cost_of(ctx: Any, station_id: str, transaction_id: str, final: bool = False) -> Any:
    """The session's cost so far (or final) from the pricing service; None without one."""
    if not active(ctx):
        return None
    try:
        return ctx.pricing.cost_of(station_id, transaction_id)
    except Exception:
        _LOGGER.exception("%s: no cost for transaction %s", station_id, transaction_id)
        return None


def money(value: float, currency: str) -> str:
    return f"{amount(value, currency):.{decimals(currency)}f} {currency}"


def final_text(cost: Any) -> str:
    """What a display shows when the session ended: `123.45 CZK incl. VAT for 12.34 kWh`."""
    return f"{money(cost.incl_vat, cost.currency)} incl. VAT for {cost.energy_wh / 1000:.2f} kWh"


def _register(connector: Any, start: Any) -> float:
    """The energy register now: the last reading, or the transaction's meter start before
    one arrived (a reading older than the start is the previous session's)."""
    begun = start.meter_start_wh if start is not None else None
    if connector.energy_wh is None or (begun is not None and connector.energy_wh < begun):
        return begun or 0.0
    return connector.energy_wh


def _callerror_code(outcome: Any) -> str | None:
    """The code of a CALLERROR answer (the outcome's error reads "… CALLERROR <code>: …")."""
    if outcome.reason != "call_error" or not outcome.error or "CALLERROR " not in outcome.error:
        return None
    return outcome.error.split("CALLERROR ", 1)[1].split(":", 1)[0].strip()


class ChargerPrices:
    """Follows the sessions on the bus, ticks every `every` s, sends through the commands."""

    def __init__(self, ctx: Any, commands: Any, models_16: list[str], every: float) -> None:
        self.ctx, self.commands = ctx, commands
        self.models_16 = frozenset(models_16)
        self.every = every
        self._refused: set[str] = set()  # stations that said they take none (until they boot again)
        self._sent: dict[tuple[str, str], float] = {}  # (station, transaction) -> the last cost sent
        self._starts: dict[tuple[str, str], ev.TransactionStarted] = {}  # (station, transaction) -> its start
        self._priced: dict[str, str] = {}  # 1.6 station -> the card last told its price
        self._finished: dict[tuple[str, str], None] = {}  # FinalCost sent, the latest few (no repeats)
        self._busy: Counter[str] = Counter()  # station -> our CALLs under way
        self._tasks = TaskSet()
        self._unlisten: Any = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        types = (DriverIdentified.type, ev.TransactionStarted.type, ev.TransactionEnded.type,
                 ev.StationBooted.type, SESSION_COST)
        self._unlisten = self.ctx.bus.listen(types, self._on_event, name="charger_prices")
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop(), name="charger-prices")

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        await self._tasks.cancel()

    # --- who takes what ------------------------------------------------------

    def _version(self, station_id: str) -> str | None:
        session = self.ctx.sessions.get(station_id)
        return session.version if session is not None else None

    def takes_costmsg(self, station_id: str) -> bool:
        """A connected 1.6 station of a listed model that has not refused the messages."""
        session = self.ctx.sessions.get(station_id)
        return (session is not None and session.version == "1.6" and station_id not in self._refused
                and session.model in self.models_16)

    def takes_cost_updated(self, station_id: str) -> bool:
        return self._version(station_id) == "2.0.1" and station_id not in self._refused

    # --- events --------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        sid = event.station_id
        if event.type == ev.StationBooted.type:
            self._refused.discard(sid)  # new firmware may take them
        elif event.type == DriverIdentified.type:
            if self.takes_costmsg(sid):
                self._priced[sid] = event.id_token
                self._user_price(sid, event.id_token)
        elif event.type == ev.TransactionStarted.type:
            self._starts[(sid, event.transaction_id)] = event
            told = self._priced.pop(sid, None)
            if event.id_token and told != event.id_token and self.takes_costmsg(sid):
                self._user_price(sid, event.id_token)  # started without an Authorize of its own
        elif event.type == ev.TransactionEnded.type:
            self._sent.pop((sid, event.transaction_id), None)
            self._starts.pop((sid, event.transaction_id), None)
        elif event.type == SESSION_COST and getattr(event, "final", False):
            self._final(sid, event.transaction_id)

    def _user_price(self, station_id: str, id_token: str) -> None:
        text = tariff_text(self.ctx, station_id, id_token)
        if text:
            self._spawn(station_id, "user_price", {"id_token": id_token, "text": text}, wait=True)

    def _final(self, station_id: str, transaction_id: str) -> None:
        key = (station_id, transaction_id)
        if key in self._finished or not self.takes_costmsg(station_id):
            return
        cost = cost_of(self.ctx, station_id, transaction_id)
        if cost is None:
            return
        self._finished[key] = None
        if len(self._finished) > _FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]
        args = {"transaction_id": transaction_id, "cost": amount(cost.incl_vat, cost.currency),
                "text": final_text(cost)}
        self._spawn(station_id, "final_cost", args, wait=True)

    # --- the running cost, every `every` s -------------------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                self.tick()
            except Exception:  # our bug: logged, and the next tick tries again
                _LOGGER.exception("charger prices: tick failed")

    def tick(self) -> None:
        """Each charging session whose cost changed since it was last told: tell it."""
        if not active(self.ctx):
            return
        for station_id in list(self.ctx.sessions):
            if self._busy[station_id] or not (self.takes_cost_updated(station_id) or self.takes_costmsg(station_id)):
                continue
            state = self.ctx.fleet.stations.get(station_id)
            for connector in list(state.connectors.values()) if state is not None else ():
                if connector.transaction_id is None:
                    continue
                try:
                    self._running(station_id, connector)
                except Exception:  # one session's trouble never stops the others'
                    _LOGGER.exception("%s: no running cost for transaction %s", station_id,
                                      connector.transaction_id)

    def _running(self, station_id: str, connector: Any) -> None:
        tx = connector.transaction_id
        cost = cost_of(self.ctx, station_id, tx)
        if cost is None or cost.final:
            return
        value = amount(cost.incl_vat, cost.currency)
        if self._sent.get((station_id, tx)) == value:
            return  # nothing new to show (not charging, or not by enough to see)
        args: dict[str, Any] = {"transaction_id": tx, "cost": value}
        if self._version(station_id) == "1.6":
            args.update(self._details_16(station_id, tx, connector, cost))
        self._spawn(station_id, "running_cost", args, sent=((station_id, tx), value))

    def _details_16(self, station_id: str, tx: str, connector: Any, cost: Any) -> dict[str, Any]:
        """What RunningCost says beside the cost: the register, the state, the prices."""
        start = self._starts.get((station_id, tx))
        tariff = self._tariff_of(station_id, cost, start)
        slot = spot_now(self.ctx)
        periods = getattr(cost, "periods", None) or []
        price = periods[-1]["price"] if periods else tariff.driver_price(slot.price)  # a locked one too
        details: dict[str, Any] = {
            "at": time.time(), "meter_wh": _register(connector, start),
            "state": "Idle" if connector.status in _IDLE else "Charging", "kwh_price": unit_price(price),
        }
        fee = getattr(tariff, "session_fee", 0) or 0
        if fee:
            details["flat_fee"] = unit_price(fee)
        idle_fee = getattr(tariff, "idle_fee_per_minute", 0) or 0
        if idle_fee:
            details["idle"] = (int(getattr(tariff, "idle_grace_minutes", 0) or 0), unit_price(idle_fee * 60))
        upcoming = self._next_price(tariff, slot, price)
        if upcoming is not None:
            details["next_price"] = upcoming
        return details

    def _tariff_of(self, station_id: str, cost: Any, start: Any) -> Any:
        """The tariff the session is priced on (its cost names it; one that started before
        this run has no start event here), else the card's."""
        tariffs = getattr(getattr(self.ctx.pricing, "tariffs", None), "all", ())
        named = next((t for t in tariffs if t.name == getattr(cost, "tariff", None)), None)
        return named or self.ctx.pricing.tariff_for(station_id, start.id_token if start is not None else None)

    def _next_price(self, tariff: Any, slot: Any, price: float) -> tuple[float, float] | None:
        """When the next known period starts and its price, if it differs (a tariff priced
        per period; a locked one keeps its price)."""
        if getattr(tariff, "pricing", "per_period") == "locked" or not getattr(slot, "end", None):
            return None
        upcoming = self.ctx.prices.price_at(slot.end)
        if getattr(upcoming, "fallback", False):
            return None
        next_price = unit_price(tariff.driver_price(upcoming.price))
        return (slot.end, next_price) if next_price != unit_price(price) else None

    # --- sending ---------------------------------------------------------------

    def _spawn(self, station_id: str, command: str, args: dict[str, Any], *, wait: bool = False,
               sent: tuple[tuple[str, str], float] | None = None) -> None:
        """One CALL as a task. A running cost is skipped while another CALL of ours is under
        way (the next tick has a newer one); the price and final cost wait their turn."""
        if self._busy[station_id] and not wait:
            return
        self._tasks.spawn(self._send(station_id, command, args, sent), f"charger-prices:{station_id}:{command}")

    async def _send(self, station_id: str, command: str, args: dict[str, Any],
                    sent: tuple[tuple[str, str], float] | None) -> None:
        self._busy[station_id] += 1
        try:
            outcome = await self.commands.run(station_id, command, args, SOURCE)
        finally:
            self._busy[station_id] -= 1
            if not self._busy[station_id]:
                del self._busy[station_id]
        if outcome.ok and sent is not None:
            self._sent[sent[0]] = sent[1]
        code = _callerror_code(outcome)
        if code in _NOT_THERE or outcome.status in _REFUSED_16:
            if station_id not in self._refused:
                _LOGGER.info("%s does not take cost messages (%s): none sent until it boots again",
                             station_id, code or outcome.status)
            self._refused.add(station_id)


async def setup(ctx: Any, commands: Any, raw: RawSection | None) -> Any:
    """Start telling chargers (zaspot.pricing.setup calls it once the feed and the pricing
    service run; `raw`: the `pricing.cost_messages` section); returns the teardown."""
    config = decode(CostMessagesConfig, raw) if raw is not None else CostMessagesConfig()
    charger = ChargerPrices(ctx, commands, config.models_16, config.every)
    await charger.start()
    return charger.stop
