"""Retention on a real SQLite file: old raw samples fold into buckets that keep count,
min, max and mean; recent ones stay raw; old history is trimmed; nothing else moves."""

import sqlite3

from zaspot.core.events import Sample, StatusChanged
from zaspot.store import Store
from zaspot.store.retention import DAY, Retention, RetentionConfig

NOW = 1_790_000_000.0  # a fixed clock, aligned to nothing in particular


async def test_old_samples_become_aggregates_and_recent_ones_stay_raw(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    await store.station_booted("CP1", "1.6", "V", "M", None, None, "Accepted", NOW - 200 * DAY)
    # 40 days of one power sample per 5 minutes: 3 per 15-minute bucket.
    start = NOW - 40 * DAY
    values = []
    for i in range(int(40 * DAY / 300)):
        ts = start + 300 * i
        values.append((ts, float(i % 7)))
    for ts, value in values:
        await store.meter_samples("CP1", 1, 1, None, [Sample("Power.Active.Import", value, "W", timestamp=ts)])
    old_event = StatusChanged("CP1", 1, 1, "Faulted", time=NOW - 200 * DAY)
    new_event = StatusChanged("CP1", 1, 1, "Available", time=NOW - DAY)
    await store.event(old_event)
    await store.event(new_event)

    job = Retention(store, RetentionConfig(raw_days=30, bucket_minutes=15, history_days=180))
    await job.run_once(now=NOW)
    await store.close()

    con = sqlite3.connect(tmp_path / "z.db")
    raw = con.execute("SELECT MIN(ts), COUNT(*) FROM meter_samples").fetchone()
    cutoff = NOW - 30 * DAY
    cutoff -= cutoff % 900
    assert raw[0] >= cutoff
    assert raw[1] == sum(1 for ts, _ in values if ts >= cutoff)
    folded = [(ts, v) for ts, v in values if ts < cutoff]
    total, lo, hi = con.execute("SELECT SUM(n), MIN(min), MAX(max) FROM meter_aggregates").fetchone()
    assert (total, lo, hi) == (len(folded), 0.0, 6.0)
    bucket = folded[3][0] - folded[3][0] % 900
    in_bucket = [v for ts, v in folded if bucket <= ts < bucket + 900]
    n, mean = con.execute("SELECT n, mean FROM meter_aggregates WHERE bucket = ?", (bucket,)).fetchone()
    assert (n, mean) == (len(in_bucket), sum(in_bucket) / len(in_bucket))
    left = [r[0] for r in con.execute("SELECT data FROM events")]
    assert len(left) == 1 and '"Available"' in left[0]  # only the recent event is left
    assert job.folded == len(folded) and job.trimmed == 2  # the old status and the old boot
    con.close()


async def test_running_twice_changes_nothing_more(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    await store.station_booted("CP1", "1.6", "V", "M", None, None, "Accepted", NOW - 200 * DAY)
    await store.meter_samples("CP1", 1, 1, None, [Sample("Voltage", 230.0, "V", phase="L1-N", timestamp=NOW - 31 * DAY)])
    job = Retention(store, RetentionConfig(raw_days=30))
    await job.run_once(now=NOW)
    await job.run_once(now=NOW)
    await store.close()
    con = sqlite3.connect(tmp_path / "z.db")
    assert con.execute("SELECT n, phase, mean FROM meter_aggregates").fetchall() == [(1, "L1-N", 230.0)]
    assert con.execute("SELECT COUNT(*) FROM meter_samples").fetchone()[0] == 0
    con.close()
