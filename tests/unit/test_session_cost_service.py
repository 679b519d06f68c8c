"""The pricing service on a real store and bus, fed the units station messages make, on a
clock of its own: a running cost is stored at most every 60 s, a final one is never
replaced by a running one and late samples change nothing, a stale close prices what was
read, and a cost a crash left open is finished at the next start."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from zaspot.core.bus import EventBus
from zaspot.core.events import Sample
from zaspot.pricing.cost import recompute
from zaspot.pricing.service import Pricing
from zaspot.pricing.slot import PriceSlot
from zaspot.pricing.tariff import Tariff, Tariffs
from zaspot.store import Store, messages, stale
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

T0 = 1_780_000_200.0  # 20:30 UTC, a quarter hour's start


class Feed:
    """The price feed's face: 3.00 CZK/kWh every quarter hour of the day around T0."""

    currency, fallback_price = "CZK", 4.5

    def __init__(self) -> None:
        self._slots = tuple(PriceSlot(T0 + q * 900, T0 + (q + 1) * 900, 3.0, "CZK/kWh") for q in range(-8, 40))

    def slots(self):
        return self._slots

    def price_at(self, ts):
        return next((s for s in self._slots if s.start <= ts < s.end), PriceSlot(ts, ts + 900, 4.5, "CZK/kWh", True))


@pytest.fixture
async def world(tmp_path: Path):
    store = await Store.open(tmp_path / "z.db")
    bus = EventBus()
    now = [T0]
    ctx = SimpleNamespace(store=store, bus=bus, prices=Feed(), cards=None, config=SimpleNamespace(pricing=None))
    services = []

    async def start() -> Pricing:
        pricing = Pricing(ctx, Tariffs([Tariff("standard", markup=1.0, vat=0.2)], currency="CZK"),
                          clock=lambda: now[0])
        await pricing.start()
        services.append(pricing)
        return pricing

    yield SimpleNamespace(store=store, bus=bus, now=now, start=start)
    for pricing in services:
        await pricing.stop()
    await bus.close()
    await store.close()


async def _do(w, fn, *args):
    unit = Unit()
    unit.do(fn, *args)
    return (await publish(w.store, w.bus, unit))[0]


def _sample(wh: float, ts: float) -> list[Sample]:
    return [Sample(messages.ENERGY, wh, "Wh", None, "Outlet", "Sample.Periodic", ts)]


async def _settled(pricing: Pricing) -> None:
    deadline = time.monotonic() + 10
    while pricing._tasks or pricing._adopting:
        assert time.monotonic() < deadline, "the service did not settle"
        await asyncio.sleep(0.01)


async def _costs(w, tx: str) -> list[dict]:
    return [e["data"] for e in reversed(await w.store.events(type="session_cost", limit=1000))
            if e["data"]["transaction_id"] == tx]


async def test_a_running_cost_is_stored_at_most_every_60_s(world):
    w = world
    pricing = await w.start()
    tx = str(await _do(w, messages.start_transaction, "CP-1", 1, "TAG", 0.0, T0, None))
    await _settled(pricing)
    for second in range(1, 151):  # a sample every second for 150 s: 10 Wh each
        w.now[0] = T0 + second
        await _do(w, messages.metered_transaction, "CP-1", 1, 1, tx, _sample(second * 10.0, T0 + second))
        # A store reads what is committed when it runs, and writes queued after a read may
        # commit before it (store/writer.py): 150 samples in a tight loop would outrun it.
        await _settled(pricing)
    costs = await _costs(w, tx)
    # stored when taken up (0 Wh), then from the samples 60 s and 120 s after: three in 150 s
    energies = [c["energy_wh"] for c in costs]
    assert energies == [0, 600, 1200]
    assert all(not c["final"] for c in costs)
    # while cost_of() is always up to the last sample: 1.5 kWh * (3 + 1) * 1.2 = 7.20
    assert (pricing.cost_of("CP-1", tx).energy_wh, pricing.cost_of("CP-1", tx).incl_vat) == (1500.0, 7.2)


async def test_a_final_cost_stays_and_late_samples_change_nothing(world):
    w = world
    pricing = await w.start()
    tx = str(await _do(w, messages.start_transaction, "CP-1", 1, "TAG", 1000.0, T0, None))
    await _do(w, messages.metered_transaction, "CP-1", 1, 1, tx, _sample(2000.0, T0 + 600))
    await _do(w, messages.stop_transaction, "CP-1", tx, 3000.0, T0 + 1200, "Local", "TAG", [])
    await _settled(pricing)
    final = await w.store.stored_cost("CP-1", tx)
    # 2 kWh * (3 + 1) * 1.2 = 9.60
    assert final["final"] and (final["energy_wh"], final["incl_vat"]) == (2000.0, 9.6)
    # A late MeterValues for it (a backlog), and a store asked for after: the same final cost
    await _do(w, messages.metered_transaction, "CP-1", 1, 1, tx, _sample(9000.0, T0 + 1100))
    await pricing._store(("CP-1", tx))
    await _settled(pricing)
    assert await w.store.stored_cost("CP-1", tx) == final
    assert pricing.cost_of("CP-1", tx).incl_vat == 9.6
    assert [c["final"] for c in await _costs(w, tx)][-1] is True
    assert recompute(final).incl_vat == 9.6


async def test_a_stale_close_prices_what_was_read(world):
    w = world
    pricing = await w.start()
    tx = str(await _do(w, messages.start_transaction, "CP-1", 1, "TAG", 0.0, T0, None))
    await _do(w, messages.metered_transaction, "CP-1", 1, 1, tx, _sample(5000.0, T0 + 900))
    await _settled(pricing)
    row = (await w.store.active_transactions())[0]
    w.now[0] = T0 + 86400
    await _do(w, stale.close_silent, [row], "Stale: silent for 24 h")
    await _settled(pricing)
    saved = await w.store.stored_cost("CP-1", tx)
    # up to its last reading (5 kWh * 4.8 = 24.00), no idle time after it
    assert saved["final"] and (saved["incl_vat"], saved["until"]) == (24.0, T0 + 900)
    rows = await w.store.sessions()
    assert rows[0]["state"] == "stale"


async def test_a_cost_left_open_by_a_crash_is_finished_at_start(world):
    w = world
    pricing = await w.start()
    tx = str(await _do(w, messages.start_transaction, "CP-1", 1, "TAG", 0.0, T0, None))
    await _do(w, messages.metered_transaction, "CP-1", 1, 1, tx, _sample(1000.0, T0 + 300))
    await _settled(pricing)
    await pricing.stop()  # as if it died here: the transaction ends while nothing follows it
    await _do(w, messages.stop_transaction, "CP-1", tx, 2500.0, T0 + 600, "Local", "TAG", [])
    assert not (await w.store.stored_cost("CP-1", tx))["final"]
    again = await w.start()
    await _settled(again)
    saved = await w.store.stored_cost("CP-1", tx)
    assert saved["final"] and (saved["energy_wh"], saved["incl_vat"]) == (2500.0, 12.0)  # 2.5 kWh * 4.8
    assert again.cost_of("CP-1", tx).final
