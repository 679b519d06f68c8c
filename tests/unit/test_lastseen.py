"""Last-seen times written in chunks: every station lands, and a failed write keeps
what it could not write for the next flush (the newest time wins)."""

from __future__ import annotations

import sqlite3

from zaspot.ocpp import lastseen
from zaspot.ocpp.lastseen import LastSeen
from zaspot.store import Store


async def test_a_big_fleet_is_written_whole_in_chunks(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    try:
        seen = LastSeen(store)
        n = 2 * lastseen.CHUNK + 17
        for i in range(n):
            seen.heard(f"CP{i}", 100.0 + i)
        commits = store.stats.commits
        await seen.flush()
        assert store.stats.commits - commits == 3
        rows = await store._query("SELECT id, last_seen FROM stations")
        assert {r["id"]: r["last_seen"] for r in rows} == {f"CP{i}": 100.0 + i for i in range(n)}
    finally:
        await store.close()


async def test_what_could_not_be_written_waits_for_the_next_flush(tmp_path):
    path = tmp_path / "z.db"
    store = await Store.open(path, busy_timeout_ms=20)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        seen = LastSeen(store)
        seen.heard("A", 1.0)
        seen.heard("B", 2.0)
        other.execute("BEGIN IMMEDIATE")  # the database is locked elsewhere
        try:
            await seen.flush()
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the flush should have failed")
        other.execute("ROLLBACK")
        seen.heard("B", 3.0)  # heard again meanwhile: the newer time is written
        await seen.flush()
        rows = await store._query("SELECT id, last_seen FROM stations")
        assert {r["id"]: r["last_seen"] for r in rows} == {"A": 1.0, "B": 3.0}
    finally:
        other.close()
        await store.close()
