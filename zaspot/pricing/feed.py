"""The spot prices, one owner (`ctx.prices`): fetched from the configured source, kept in
the `spot_prices` table, and given to whoever prices or plans (the EMS, session costs,
what chargers are told, the API).

- It fetches every `refresh` seconds, and when tomorrow's prices are due (the day-ahead
  auction's results come out about 13:00 CET) until they are there. A fetch that fails
  keeps what is known and logs one line.
- What it got is stored, and loaded at start: a restart without network still has today.
- A period without a price is priced at `pricing.fallback_price`, flagged as such, with
  one warning per gap; never a crash.
- It announces `price_updated` when the price in force changes (rules' `platform: price`)
  and `prices_fetched` when new or changed periods arrive (plans are made again on it).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from zaspot.core.energy_events import PriceUpdated
from zaspot.core.plugins import call_teardown
from zaspot.core.pricing_events import PricesFetched
from zaspot.pricing.slot import QUARTER, PriceSlot, currency_of
from zaspot.pricing.sources.market import MARKET_TZ, day_bounds, market_day, today_and_tomorrow
from zaspot.store.publish import publish_event

_LOGGER = logging.getLogger(__name__)

KEEP = 7 * 86400.0  # s of past periods kept in memory (a long session is still priced)
RETRY = 300.0  # s after a failed fetch
TOMORROW_RETRY = 600.0  # s between fetches once tomorrow's prices are due and not there
DUE = clock_time(13, 0)  # market time: tomorrow's day-ahead prices are out by then
_MAX_SPAN = 14 * 86400.0  # s: the longest range periods() fills


def _when(ts: float | None) -> str:
    return "…" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class PriceFeed:
    def __init__(self, ctx: Any, source: Any, *, name: str, currency: str, fallback_price: float | None,
                 refresh: float, rates: Any = None, area: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ctx, self.source, self.name = ctx, source, name
        self.currency, self.unit = currency, f"{currency}/kWh"
        self.fallback_price, self.refresh_s, self.rates = fallback_price, refresh, rates
        self.area = area if area is not None else getattr(source, "area", None)
        self.clock = clock
        self._slots: list[PriceSlot] = []
        self._starts: list[float] = []
        self._tuple: tuple[PriceSlot, ...] = ()
        self._warned: dict[tuple[float | None, float | None], None] = {}
        self._announced: PriceSlot | None = None
        self._next_fetch = 0.0
        self.last_fetch: float | None = None  # when a fetch last succeeded
        self.last_error: str | None = None  # why the last one failed (None: it did not)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Load what is stored, then fetch in the background (startup never waits on a network)."""
        rows = await self.ctx.store.spot_prices(self.name, self.clock() - KEEP)
        fetches: dict[float, list[PriceSlot]] = {}
        for r in rows:
            if r["unit"] == self.unit:  # another currency's are not ours
                fetches.setdefault(r["fetched_at"], []).append(PriceSlot(r["start"], r["end"], r["price"], r["unit"]))
        for fetched_at in sorted(fetches):  # in the order they came: a later one replaces what it overlaps
            self._merge(fetches[fetched_at])
        if self._slots:
            _LOGGER.info("prices: %d periods of %s kept from before (until %s)", len(self._slots), self.name,
                         _when(self._slots[-1].end))
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="pricing.feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for part in (self.source, self.rates):  # their HTTP clients (a plugin's source may have none)
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    await call_teardown(close)
                except Exception:
                    _LOGGER.warning("prices: closing %s failed", type(part).__name__, exc_info=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                now = self.clock()
                if now >= self._next_fetch:
                    await self.refresh()
                await self._announce(self.clock())
            except Exception:  # a bug here is logged; the next round tries again
                _LOGGER.exception("price feed round failed")
                self._next_fetch = self.clock() + RETRY
            try:
                await asyncio.wait_for(self._wake.wait(), self._delay(self.clock()))
            except TimeoutError:
                pass

    def _delay(self, now: float) -> float:
        """Until the next fetch or the next change of the period in force, whichever is first."""
        wake = self._next_fetch
        i = bisect.bisect_right(self._starts, now)
        if i > 0 and self._slots[i - 1].end > now:
            wake = min(wake, self._slots[i - 1].end)
        elif i < len(self._slots):
            wake = min(wake, self._slots[i].start)
        return min(max(wake - now, 0.01), 3600.0)

    # --- what others read ------------------------------------------------------

    def slots(self) -> tuple[PriceSlot, ...]:
        """The known periods, oldest first (no fallback ones)."""
        return self._tuple

    def price_at(self, ts: float) -> PriceSlot | None:
        """The period in force at `ts`; a fallback one (`fallback=True`, the quarter hour of
        the gap) when no source gave it, with one warning per gap. None only without a
        fallback price, which only the EMS's own `ems.prices` (no `pricing:` section) has."""
        found, lo, hi = self._find(ts)
        if found is not None:
            return found
        if self.fallback_price is not None:
            self._warn_gap(lo, hi)
        return self._fallback(ts, lo, hi)

    def periods(self, since: float, until: float) -> list[PriceSlot]:
        """The periods from `since` to `until`: the known ones, and fallback quarter hours in
        the gaps between (no warnings: nothing is priced by a listing)."""
        until = min(until, since + _MAX_SPAN)
        out: list[PriceSlot] = []
        t = since
        i = max(bisect.bisect_right(self._starts, since) - 1, 0)
        while t < until:
            slot = self._slots[i] if i < len(self._slots) else None
            if slot is not None and slot.end <= t:
                i += 1
                continue
            if slot is not None and slot.start <= t:
                out.append(slot)
                t, i = slot.end, i + 1
                continue
            gap = self._fallback(t, self._slots[i - 1].end if i > 0 else None, slot.start if slot else None)
            if gap is None:  # no fallback price: the gap stays empty
                if slot is None:
                    break
                t = slot.start
                continue
            out.append(gap)
            t = gap.end
        return out

    def status(self) -> dict[str, Any]:
        return {"source": self.name, "currency": self.currency, "fallback_price": self.fallback_price,
                "periods": len(self._slots), "last_fetch": self.last_fetch, "last_error": self.last_error,
                "until": self._slots[-1].end if self._slots else None}

    def _find(self, ts: float) -> tuple[PriceSlot | None, float | None, float | None]:
        """(the known period at ts, or None and the gap's ends around ts: None for open)."""
        i = bisect.bisect_right(self._starts, ts) - 1
        if i >= 0 and self._slots[i].end > ts:
            return self._slots[i], None, None
        lo = self._slots[i].end if i >= 0 else None
        hi = self._slots[i + 1].start if i + 1 < len(self._slots) else None
        return None, lo, hi

    def _fallback(self, ts: float, lo: float | None, hi: float | None) -> PriceSlot | None:
        if self.fallback_price is None:
            return None
        quarter = math.floor(ts / QUARTER) * QUARTER
        start = quarter if lo is None else max(quarter, lo)
        end = quarter + QUARTER if hi is None else min(quarter + QUARTER, hi)
        return PriceSlot(start, end, self.fallback_price, self.unit, fallback=True)

    def _warn_gap(self, lo: float | None, hi: float | None) -> None:
        if (lo, hi) in self._warned:
            return
        if len(self._warned) >= 100:  # a long outage has many gaps; the oldest are forgotten
            self._warned.pop(next(iter(self._warned)))
        self._warned[lo, hi] = None
        _LOGGER.warning("prices: no price from %s for %s to %s: priced at the fallback %g %s (pricing.fallback_price)",
                        self.name, _when(lo), _when(hi), self.fallback_price, self.unit)

    # --- fetching --------------------------------------------------------------

    async def refresh(self) -> int:
        """Fetch now; the number of periods that are new or changed (0 also when it failed)."""
        now = self.clock()
        if self.source is None:
            self._schedule(now, ok=True)
            return 0
        try:
            slots = await self._convert(await self.source.prices())
        except Exception as exc:  # noqa: BLE001  (logged in the source's own words; what is known stays)
            self.last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            _LOGGER.warning("prices from %s: %s (keeping the %d periods known)", self.name, self.last_error,
                            len(self._slots))
            self._schedule(now, ok=False)
            return 0
        self.last_fetch, self.last_error = now, None
        changed = self._merge(slots)
        self._schedule(now, ok=True)
        if changed:
            await self.ctx.store.save_spot_prices(self.name, [s.to_dict() for s in changed], now)
            _LOGGER.info("prices: %d new periods from %s (%s to %s)", len(changed), self.name,
                         _when(changed[0].start), _when(changed[-1].end))
            await publish_event(self.ctx.store, self.ctx.bus, PricesFetched(
                "", self.name, len(changed), changed[0].start, changed[-1].end, self.currency))
        return len(changed)

    def _schedule(self, now: float, ok: bool) -> None:
        wake = now + (self.refresh_s if ok else min(self.refresh_s, RETRY))
        today, tomorrow = today_and_tomorrow(now)
        if self.source is not None and (not self._slots or self._slots[-1].end < day_bounds(tomorrow)[1]):
            due = datetime.combine(today, DUE, MARKET_TZ).timestamp()
            wake = min(wake, due if now < due else now + min(self.refresh_s, TOMORROW_RETRY))
        self._next_fetch = wake

    async def _convert(self, slots: Iterable[PriceSlot]) -> list[PriceSlot]:
        """Each period per kWh in the feed's currency (a market's EUR at the CNB's rate of its day)."""
        out = []
        for s in slots:
            currency = currency_of(s.unit) or self.currency
            if currency == self.currency:
                out.append(replace(s, unit=self.unit, fallback=False))
                continue
            if self.rates is None:
                raise ValueError(f"prices in {currency}, and no exchange rates to turn them into {self.currency}")
            rate = await self.rates.rate(currency, self.currency, market_day(s.start))
            out.append(PriceSlot(s.start, s.end, round(s.price * rate, 6), self.unit))
        return out

    def _merge(self, slots: list[PriceSlot]) -> list[PriceSlot]:
        """Take the new periods (a newer one replaces what it overlaps); the ones that changed."""
        new: list[PriceSlot] = []
        for s in sorted((s for s in slots if s.end > s.start), key=lambda s: s.start):
            if not new or s.start >= new[-1].end:  # a source's own overlaps: its first period wins
                new.append(s)
        known = {s.start: s for s in self._slots}
        changed = [s for s in new if known.get(s.start) != s]
        if not changed:
            return []
        starts = [s.start for s in new]
        kept = [s for s in self._slots if not _overlaps(new, starts, s)]
        cutoff = self.clock() - KEEP
        self._slots = sorted((s for s in [*kept, *new] if s.end > cutoff), key=lambda s: s.start)
        self._starts = [s.start for s in self._slots]
        self._tuple = tuple(self._slots)
        return changed

    # --- announcing ------------------------------------------------------------

    async def _announce(self, now: float) -> None:
        """Tell the event log and the bus (and so `platform: price` rules) when the price in force changes."""
        slot = self.price_at(now)
        last = self._announced
        if slot is None or slot == last or (slot.fallback and last is not None and last.fallback
                                           and last.price == slot.price):
            return  # a gap goes on at the same fallback price: nothing new to say
        self._announced = slot
        start: float | None = slot.start
        end: float | None = slot.end
        if slot.fallback:
            _, start, end = self._find(now)
        await publish_event(self.ctx.store, self.ctx.bus, PriceUpdated(
            "", slot.price, slot.unit, self.area, start, end))


def _overlaps(slots: list[PriceSlot], starts: list[float], slot: PriceSlot) -> bool:
    """Whether `slot` overlaps one of `slots` (sorted, not overlapping each other, with their `starts`)."""
    i = bisect.bisect_left(starts, slot.end)  # slots[i - 1] is the last to start before `slot` ends
    return i > 0 and slots[i - 1].end > slot.start
