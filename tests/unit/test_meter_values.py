"""Meter values are stored a row per timestamp with their samples packed (schema 14);
`meter_samples` is still there for readers, a row per sampled value."""

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
    assert db.execute("SELECT COUNT(*) FROM meter_values").fetchone()[0] == 2
