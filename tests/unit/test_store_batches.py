"""The writer's batches: what arrives while its thread is busy goes in together, on
the loop, as few statements as SQLite allows, and one bad op still fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from zaspot.core.events import Sample
from zaspot.store import Store


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path / "z.db")
    yield s
    await s.close()


class _Hold:
    """Keeps the writer's thread inside a batch until released, so that what is
    queued meanwhile makes up the next batch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._entered, self._gate = threading.Event(), threading.Event()

    def _hold(self, conn) -> None:
        self._entered.set()
        self._gate.wait(10)

    async def __aenter__(self) -> _Hold:
        self._held = self.store._writer.call_long(self._hold)
        assert await asyncio.to_thread(self._entered.wait, 10)
        return self

    async def queued(self, n: int) -> None:
        async with asyncio.timeout(10):
            while len(self.store._writer._pending) < n:
                await asyncio.sleep(0)

    async def __aexit__(self, *exc) -> None:
        self._gate.set()
        await self._held


def _samples(i: int) -> list[Sample]:
    return [Sample("Energy.Active.Import.Register", float(i), "Wh", timestamp=float(i)),
            Sample("Power.Active.Import", 1000.0 + i, "W", timestamp=float(i))]


async def test_hundreds_of_rows_in_one_batch_all_land_in_order(store):
    n = 300  # 300 rows (600 samples): more than one multi-row statement holds
    async with _Hold(store) as hold:
        before = store.stats.commits
        writes = asyncio.gather(*(store.meter_samples("CP1", 1, 1, "t", _samples(i)) for i in range(n)))
        await hold.queued(n)
    await writes
    assert store.stats.commits - before == 2  # the held batch, then all 300 in one transaction
    rows = await store.meter_samples_of("CP1", limit=10 * n)
    energy = sorted((r["ts"], r["value"]) for r in rows if r["unit"] == "Wh")
    power = sorted((r["ts"], r["value"]) for r in rows if r["unit"] == "W")
    assert energy == [(float(i), float(i)) for i in range(n)]
    assert power == [(float(i), 1000.0 + i) for i in range(n)]


async def test_a_row_of_the_wrong_width_fails_alone(store):
    from zaspot.store.messages import METER_VALUE

    good = ("CP1", 1, 1, None, 1.0, None, '[["Power.Active.Import", null, null, null, "W", 5.0]]')
    async with _Hold(store) as hold:
        writes = asyncio.gather(
            store._writer.submit(METER_VALUE, [good]),
            store._writer.submit(METER_VALUE, [good[:-1]]),  # one value short
            store._writer.submit(METER_VALUE, [good, good]),
            return_exceptions=True,
        )
        await hold.queued(3)
    first, short, pair = await writes
    assert first is None and pair is None
    assert isinstance(short, sqlite3.ProgrammingError)
    assert len(await store.meter_samples_of("CP1", limit=10)) == 3


async def test_a_bad_row_in_a_one_statement_batch_fails_alone(store):
    # token ids are unique: the second insert of "A" breaks the multi-row statement
    async with _Hold(store) as hold:
        writes = asyncio.gather(store.add_id_token("A"), store.add_id_token(None), store.add_id_token("B"),
                                return_exceptions=True)
        await hold.queued(3)
    results = await writes
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert (await store.card("A"))["status"] == "Accepted"
    assert (await store.card("B"))["status"] == "Accepted"


async def test_writes_and_reads_keep_their_order_in_memory():
    # ':memory:' has no read connection: reads queue behind the writes before them
    s = await Store.open(":memory:")
    try:
        await asyncio.gather(*(s.meter_samples("CP1", 1, 1, None, _samples(i)) for i in range(50)))
        count = s.meter_samples_of("CP1", limit=1000)
        await s.heartbeat("CP1", 9.0)
        assert len(await count) == 100
        assert (await s.station("CP1"))["last_seen"] == 9.0
    finally:
        await s.close()


async def test_an_empty_write_is_no_write(store):
    from zaspot.store.messages import METER_VALUE

    assert await store._writer.submit(METER_VALUE, []) is None
    await store.meter_samples("CP1", 1, 1, None, _samples(1))
    assert len(await store.meter_samples_of("CP1", limit=10)) == 2


# --- where a batch runs: the event loop or the writer's thread ----------------------


def _thread_name(conn) -> str:
    return threading.current_thread().name


async def test_quick_batches_run_on_the_loop_and_long_ops_on_the_thread(store):
    on_loop = store.stats.on_loop
    assert await store._writer.call(_thread_name) == threading.current_thread().name
    await store.heartbeat("CP1", 1.0)
    assert store.stats.on_loop == on_loop + 2
    assert await store._writer.call_long(_thread_name) == "zaspot-store-writer"
    assert store.stats.on_loop == on_loop + 2


async def test_a_write_never_waits_in_maintenance_queued_with_it(store):
    """A station's write and a long op (the filing, a prune) queued in the same turn: the
    write commits on the loop, not in the long op's transaction on the thread, where the
    station's answer waited for the maintenance to end."""
    gate, entered = threading.Event(), threading.Event()

    def maintenance(conn) -> None:
        entered.set()
        gate.wait(10)

    writer = store._writer
    try:
        write = writer.call(_thread_name)
        long = writer.call_long(maintenance)
        assert await asyncio.wait_for(write, 5) == threading.current_thread().name
        assert await asyncio.to_thread(entered.wait, 10)  # and the maintenance runs after it
    finally:
        gate.set()
    await long


async def test_writes_wait_on_the_loop_while_the_thread_has_the_connection(store):
    async with _Hold(store) as hold:
        writes = [store._writer.call(_thread_name) for _ in range(3)]
        await hold.queued(3)
        on_loop = store.stats.on_loop
    # the thread let go and asked for a flush: they went in together, on the loop
    assert await asyncio.gather(*writes) == [threading.current_thread().name] * 3
    assert store.stats.on_loop == on_loop + 1


async def test_a_big_batch_goes_to_the_thread_in_one_transaction(store):
    before = store.stats.commits, store.stats.on_loop
    n = 300  # 300 meter values (600 samples), more rows than a loop turn may take
    await asyncio.gather(*(store.meter_samples("CP1", 1, 1, "t", _samples(i)) for i in range(n)))
    assert (store.stats.commits, store.stats.on_loop) == (before[0] + 1, before[1])
    assert len(await store.meter_samples_of("CP1", limit=10 * n)) == 2 * n


async def test_a_bad_row_fails_alone_in_a_batch_on_the_loop(store):
    from zaspot.store.cards import _ADD_ID_TOKEN
    from zaspot.store.messages import METER_VALUE

    good = ("CP1", 1, 1, None, 1.0, None, '[["Power.Active.Import", null, null, null, "W", 5.0]]')
    on_loop = store.stats.on_loop
    w = store._writer
    first, short, pair, no_id, token_b = await asyncio.gather(  # all queued in this loop turn
        w.submit(METER_VALUE, [good]),
        w.submit(METER_VALUE, [good[:-1]]),  # one value short
        w.submit(METER_VALUE, [good, good]),
        w.submit(_ADD_ID_TOKEN, [(None, "Accepted", None)]),  # NOT NULL
        w.submit(_ADD_ID_TOKEN, [("B", "Accepted", None)]),
        return_exceptions=True,
    )
    assert store.stats.on_loop == on_loop + 1
    assert first is None and pair is None and token_b is None
    assert isinstance(short, sqlite3.ProgrammingError)
    assert isinstance(no_id, sqlite3.IntegrityError)
    assert len(await store.meter_samples_of("CP1", limit=10)) == 3
    assert (await store.card("B"))["status"] == "Accepted"


async def test_a_database_locked_elsewhere_is_waited_for_off_the_loop(tmp_path):
    path = tmp_path / "z.db"
    s = await Store.open(path, busy_timeout_ms=20_000)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        write = asyncio.ensure_future(s.heartbeat("CP1", 1.0))
        async with asyncio.timeout(10):  # a loop stuck in SQLite's busy handler would miss this
            for _ in range(20):  # the loop goes on turning while the write waits
                await asyncio.sleep(0.01)
        assert not write.done()
        other.execute("ROLLBACK")
        async with asyncio.timeout(30):
            await write
        assert (await s.station("CP1"))["last_seen"] == 1.0
    finally:
        other.close()
        await s.close()
