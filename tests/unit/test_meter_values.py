"""Meter values are stored a row per timestamp with their samples packed (schema 14), and
filed into the station index a moment later (store/filing.py); `meter_samples` is still
there for readers, a row per sampled value, filed or not."""

import sqlite3

from zaspot.core.events import Sample
from zaspot.store import Store
from zaspot.store.migrations import MIGRATIONS
from zaspot.store.schema import SCHEMA_VERSION, migrate

_COLUMNS = "station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, context, unit, value, after_tx_end"
OLD_ROWS = [  # as schema 13 stored them: a row per sampled value
    ("CP1", 1, 1, "7", 100.0, "Energy.Active.Import.Register", None, "Outlet", "Sample.Periodic", "Wh", 1200.0, None),
    ("CP1", 1, 1, "7", 100.0, "Current.Import", "L1", "Outlet", "Sample.Periodic", "A", 16.0, None),
    ("CP1", 1, 1, "7", 100.0, "Current.Import", "L2", "Outlet", "Sample.Periodic", "A", 15.5, None),
    ("CP1", 1, 1, "7", 160.0, "Energy.Active.Import.Register", None, None, None, "Wh", 1300.0, 1),
    ("CP2", 2, 1, None, 100.0, "Temperature", None, "Body", None, "Celsius", 41.0, None),
]


def _v13(path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:13]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 13")
    db.executemany(f"INSERT INTO meter_samples ({_COLUMNS}) VALUES ({', '.join('?' * 12)})", OLD_ROWS)
    return db


def test_an_old_database_keeps_every_sample_and_packs_them_per_timestamp(tmp_path):
    db = _v13(tmp_path / "old.db")
    assert migrate(db) == SCHEMA_VERSION
    samples = db.execute(f"SELECT {_COLUMNS} FROM meter_samples").fetchall()
    assert sorted(samples, key=repr) == sorted(OLD_ROWS, key=repr)
    # three samples of one timestamp are one row; the late one and the other station's are their own
    assert db.execute("SELECT COUNT(*) FROM meter_values").fetchone()[0] == 3
    assert db.execute("SELECT COUNT(*) FROM meter_index").fetchone()[0] == 3  # all filed
    assert db.execute("SELECT upto FROM meter_filed").fetchone()[0] == 3
    assert db.execute("SELECT after_tx_end FROM meter_values WHERE ts = 160").fetchone()[0] == 1


def test_an_insert_into_meter_samples_still_stores_the_sample(tmp_path):
    db = _v13(tmp_path / "old.db")
    migrate(db)
    db.execute(f"INSERT INTO meter_samples ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
               ("CP3", 1, 1, None, 5.0, "Power.Active.Import", None, None, None, "W", 7.0, None))
    assert db.execute("SELECT measurand, unit, value FROM meter_samples WHERE station_id = 'CP3'").fetchall() == [
        ("Power.Active.Import", "W", 7.0)]


async def test_a_message_with_two_timestamps_is_two_meter_values_in_order(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    try:
        await store.meter_samples("CP1", 1, 1, "9", [
            Sample("Energy.Active.Import.Register", 10.0, "Wh", timestamp=50.0),
            Sample("Power.Active.Import", 7000, "W", timestamp=50.0),  # an int from a 2.0.1 payload
            Sample("Energy.Active.Import.Register", 20.0, "Wh", timestamp=60.0),
        ])
        rows = await store.meter_samples_of("CP1")
    finally:
        await store.close()
    assert [(r["ts"], r["measurand"], r["value"]) for r in rows] == [
        (50.0, "Energy.Active.Import.Register", 10.0), (50.0, "Power.Active.Import", 7000.0),
        (60.0, "Energy.Active.Import.Register", 20.0)]
    assert isinstance(rows[1]["value"], float)  # REAL, as the column was
    db = sqlite3.connect(tmp_path / "z.db")
    assert db.execute("SELECT COUNT(*) FROM meter_rows").fetchone()[0] == 2


def test_a_meter_value_whose_id_comes_again_after_a_delete_is_not_taken_for_filed(tmp_path):
    from zaspot.store.filing import delete_meter_values

    db = _v13(tmp_path / "old.db")
    migrate(db)
    # retention folds the newest meter value away (a backlog of old readings came last)
    delete_meter_values(db, "CP2", 0.0, 150.0)
    db.execute("INSERT INTO meter_values (station_id, ts, samples) VALUES ('CP9', 1.0, '[[\"Voltage\", null, null, null, \"V\", 230.0]]')")
    # SQLite gave the deleted id again: were it still counted as filed, it would be in no index
    assert db.execute("SELECT id FROM meter_values WHERE station_id = 'CP9'").fetchone()[0] == 3
    assert db.execute("SELECT value FROM meter_samples WHERE station_id = 'CP9'").fetchall() == [(230.0,)]


async def test_filing_indexes_new_meter_values_and_readers_see_them_throughout(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    store.filing.every = 3600  # filed below, by hand
    try:
        for i in range(5):
            await store.meter_samples(f"CP{i % 2}", 1, 1, None, [
                Sample("Energy.Active.Import.Register", 10.0 * i, "Wh", timestamp=100.0 + i),
                Sample("Power.Active.Import", 7.0, "W", timestamp=100.0 + i)])
        before = await store.meter_samples_of("CP0")
        latest_before = await store.meter_samples_of("CP0", limit=3)
        store.filing.chunk = 2  # three moves: 2, 2, 1
        await store.filing.file_all()
        after = await store.meter_samples_of("CP0")
        latest = await store.meter_samples_of("CP0", limit=3)
        since = await store.meter_samples_of("CP0", since=102.0)
    finally:
        await store.close()
    assert store.filing.filed == 5
    assert before == after and [r["ts"] for r in after] == [100.0, 100.0, 102.0, 102.0, 104.0, 104.0]
    assert latest_before == latest
    assert [(r["ts"], r["measurand"]) for r in latest] == [
        (102.0, "Power.Active.Import"), (104.0, "Energy.Active.Import.Register"), (104.0, "Power.Active.Import")]
    assert [r["value"] for r in since] == [20.0, 7.0, 40.0, 7.0]
    db = sqlite3.connect(tmp_path / "z.db")
    assert db.execute("SELECT COUNT(*) FROM meter_index").fetchone()[0] == 5
    assert db.execute("SELECT upto FROM meter_filed").fetchone()[0] == db.execute(
        "SELECT MAX(id) FROM meter_values").fetchone()[0]


def test_retention_and_the_oldest_reading_count_filed_and_unfiled_meter_values_alike(tmp_path):
    from zaspot.store.filing import delete_meter_values, file_meter_values, oldest_meter_value

    db = _v13(tmp_path / "old.db")
    migrate(db)  # CP1's three meter values are filed
    db.execute("INSERT INTO meter_samples (station_id, ts, measurand, unit, value) VALUES ('CP1', 50.0, 'Voltage', 'V', 230)")
    assert oldest_meter_value(db, "CP1") == 50.0  # the unfiled one is the oldest
    assert delete_meter_values(db, "CP1", 0.0, 150.0) == 4  # three samples at 100 (filed), one at 50 (not)
    assert db.execute("SELECT ts FROM meter_samples WHERE station_id = 'CP1'").fetchall() == [(160.0,)]
    assert file_meter_values(db) == 0  # what was deleted is not filed afterwards
    assert db.execute("SELECT COUNT(*) FROM meter_index WHERE station_id = 'CP1'").fetchone()[0] == 1


def test_in_the_middle_of_a_round_every_meter_value_is_seen_once(tmp_path, monkeypatch):
    from zaspot.store import filing
    from zaspot.store.filing import end_round, file_range, read_round, round_bounds, start_round

    monkeypatch.setattr(filing, "ROWS_PER_RANGE", 1)
    db = _v13(tmp_path / "old.db")
    migrate(db)
    db.executemany("INSERT INTO stations (id) VALUES (?)", [("CP1",), ("CP2",)])
    for sid, ts in (("CP1", 200.0), ("CP2", 200.0), ("CP2", 260.0)):
        db.execute(f"INSERT INTO meter_samples ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                   (sid, 1, 1, None, ts, "Power.Active.Import", None, None, None, "W", 7.0, None))
    seen = "SELECT station_id, ts FROM meter_samples WHERE ts >= 200 ORDER BY station_id, ts"
    expected = [("CP1", 200.0), ("CP2", 200.0), ("CP2", 260.0)]
    upto, top, n = start_round(db)
    read_round(db, upto, upto + 2)  # in two steps, as the store's task does
    read_round(db, upto + 2, top)
    bounds = round_bounds(db, n, groups=2)
    assert (n, bounds) == (3, ["CP2"])  # two ranges: up to CP2, and from CP2 on
    assert file_range(db, None, "CP2") == 1  # CP1's, filed; CP2's not yet
    assert db.execute(seen).fetchall() == expected
    assert db.execute("SELECT COUNT(*) FROM meter_samples WHERE station_id = 'CP1' AND ts >= 200").fetchone()[0] == 1
    assert file_range(db, "CP2", None) == 2
    assert file_range(db, None, "CP2") == 0  # a range again after a crash: nothing twice
    end_round(db, upto, top)
    assert db.execute(seen).fetchall() == expected
    assert start_round(db) is None


async def test_of_two_readings_taken_in_the_same_second_the_one_stored_last_is_the_latest(tmp_path):
    # what the fleet shows after a restart, and what a stale transaction is closed with
    store = await Store.open(tmp_path / "z.db")
    store.filing.every = 3600  # filed by hand below
    try:
        energy = "Energy.Active.Import.Register"
        await store.station_connected("CP1", "1.6", None, 1.0)
        for wh in (22_500.0, 23_000.0):  # one second apart on a meter that stamps whole seconds
            await store.meter_samples("CP1", 1, 1, None, [Sample(energy, wh, "Wh", timestamp=500.0)])
        unfiled = [m["value"] for m in (await store.fleet_snapshot())["meters"] if m["measurand"] == energy]
        await store.filing.file_all()
        await store.meter_samples("CP1", 1, 1, None, [Sample(energy, 23_500.0, "Wh", timestamp=500.0)])
        half = [m["value"] for m in (await store.fleet_snapshot())["meters"] if m["measurand"] == energy]
    finally:
        await store.close()
    assert unfiled == [23_000.0]
    assert half == [23_500.0]  # the filed two and the unfiled one
