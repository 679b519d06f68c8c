"""Meter samples land in a small unindexed table and move to the indexed history in bulk
(zaspot/store/meter_rows.py). Whichever table a sample is in, a reader sees it once and in
the order it arrived: the `meter_samples` view, the history API, the fleet snapshot and
the rules' replay; a database of the schema before keeps its samples."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from tests.helpers import until
from zaspot.core.events import Sample
from zaspot.store import Store, schema
from zaspot.store.rules import read_events

T0 = 1_790_000_000.0


def samples(i: int) -> list[Sample]:
    """One MeterValues: energy and power at one moment (every second message shares the previous one's)."""
    ts = T0 + i // 2
    return [Sample("Energy.Active.Import.Register", 1000.0 + i, "Wh", timestamp=ts),
            Sample("Power.Active.Import", float(i), "W", timestamp=ts)]


def counts(path: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(path)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("meter_recent", "meter_history", "meter_samples"))
    finally:
        con.close()


def values(rows: list[dict]) -> list[tuple[float, str]]:
    return [(r["ts"], r["measurand"][:6] + str(r["value"])) for r in rows]


async def test_samples_read_in_arrival_order_whichever_table_holds_them(tmp_path: Path) -> None:
    path = tmp_path / "z.db"
    store = await Store.open(path)
    await store._meter_merge.stop()  # this test says when samples move
    try:
        for station in ("CP1", "CP2"):
            await store.station_connected(station, "1.6", None, T0)
        for i in range(5):
            await store.meter_samples("CP1", 1, 1, None, samples(i))
        assert await store._meter_merge.run_once() == 10
        for i in range(5, 10):  # message 5 shares its moment with message 4, now in the history
            await store.meter_samples("CP1", 1, 1, None, samples(i))
        await store.meter_samples("CP2", 1, 1, None, samples(3))
        assert counts(path) == (12, 10, 22)

        expected = [(T0 + i // 2, f"{m[:6]}{v}") for i in range(10)
                    for m, v in (("Energy.Active.Import.Register", 1000.0 + i), ("Power.Active.Import", float(i)))]
        everything = await store.meter_samples_of("CP1", since=0.0)
        assert values(everything) == expected
        assert {r["station_id"] for r in everything} == {"CP1"}
        assert values(await store.meter_samples_of("CP1", since=T0 + 2, limit=5)) == expected[8:13]
        assert values(await store.meter_samples_of("CP1", limit=7)) == expected[-7:]
        fleet = {(m["station_id"], m["measurand"]): m["value"] for m in (await store.fleet_snapshot())["meters"]}
        assert fleet[("CP1", "Energy.Active.Import.Register")] == 1009.0 and fleet[("CP2", "Power.Active.Import")] == 3.0

        assert await store._meter_merge.run_once() == 12
        assert counts(path) == (0, 22, 22)
        assert values(await store.meter_samples_of("CP1", since=0.0)) == expected
        assert values(await store.meter_samples_of("CP1", limit=7)) == expected[-7:]
    finally:
        await store.close()


async def test_the_rules_replay_reads_both_tables_in_order(tmp_path: Path) -> None:
    path = tmp_path / "z.db"
    store = await Store.open(path)
    await store._meter_merge.stop()
    try:
        for i in range(4):
            await store.meter_samples("CP1", 1, 1, None, samples(i))
            if i == 1:
                await store._meter_merge.run_once()
        replayed = list(read_events(str(path), None, ["meter_sample"]))
    finally:
        await store.close()
    assert [(e["ts"], [s["value"] for s in e["data"]["samples"]]) for e in replayed] == [
        (T0, [1000.0, 0.0, 1001.0, 1.0]), (T0 + 1, [1002.0, 2.0, 1003.0, 3.0])]


async def test_a_running_store_moves_samples_to_the_history_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "z.db"
    store = await Store.open(path)
    try:
        for i in range(6):
            await store.meter_samples("CP1", 1, 1, None, samples(i))
        await until(lambda: counts(path) == (0, 12, 12), what="the samples in meter_history")
    finally:
        await store.close()


async def test_a_database_of_the_schema_before_keeps_its_samples(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(schema.MIGRATIONS[:13]):
        for statement in schema._statements(script):
            con.execute(statement)
        con.execute(f"PRAGMA user_version = {version + 1}")
    con.execute("INSERT INTO meter_samples (station_id, evse_id, connector_id, ts, measurand, unit, value) "
                "VALUES ('CP1', 1, 1, ?, 'Energy.Active.Import.Register', 'Wh', 500.0)", (T0 - 10,))
    con.close()

    store = await Store.open(path)
    try:
        await store.meter_samples("CP1", 1, 1, None, samples(0))
        assert [r["value"] for r in await store.meter_samples_of("CP1", since=0.0)] == [500.0, 1000.0, 0.0]
    finally:
        await store.close()
    assert counts(path) == (0, 3, 3)


async def test_a_failing_move_is_logged_once_and_its_recovery_too(tmp_path: Path, monkeypatch, caplog) -> None:
    from zaspot.store import meter_rows

    store = await Store.open(tmp_path / "z.db")
    await store._meter_merge.stop()
    broken = {"on": True}
    real = meter_rows.merge

    def merge(c: sqlite3.Connection, rows: int = meter_rows.MERGE_ROWS) -> int:
        if broken["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        return real(c, rows)

    monkeypatch.setattr(meter_rows, "merge", merge)
    caplog.set_level(logging.INFO, logger="zaspot.store.meter_rows")
    store._meter_merge.every = 0.01
    try:
        await store.meter_samples("CP1", 1, 1, None, samples(0))
        store._meter_merge.start()
        await until(lambda: store.stats.failed >= 5, what="five failed moves")
        broken["on"] = False
        await until(lambda: any(r.getMessage().endswith("history again") for r in caplog.records),
                    what="the recovery logged")
        assert counts(tmp_path / "z.db") == (0, 2, 2)
    finally:
        await store.close()
    assert len([r for r in caplog.records if r.getMessage().startswith("moving meter samples")]) == 1
