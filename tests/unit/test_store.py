"""The SQLite store, on real files."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from zaspot.core.events import CommandSent, Sample, StatusChanged
from zaspot.store import Store
from zaspot.store.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path / "z.db")
    yield s
    await s.close()


def _raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path)


# --- opening, pragmas, migrations -------------------------------------------


async def test_open_sets_wal_and_schema_version(tmp_path):
    path = tmp_path / "sub" / "z.db"  # parent directory is created
    s = await Store.open(path)
    await s.close()
    db = _raw(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"stations", "connectors", "transactions", "transaction_events", "meter_values",
            "events", "commands", "id_tokens"} <= tables
    views = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='view'")}
    assert "meter_samples" in views  # a row per sampled value, over meter_values' packed rows


async def test_migrations_idempotent_on_reopen(tmp_path):
    path = tmp_path / "z.db"
    s = await Store.open(path)
    await s.station_connected("CP1", "1.6", "10.0.0.1", 100.0)
    await s.close()
    for _ in range(3):
        s = await Store.open(path)
        assert (await s.station("CP1"))["remote"] == "10.0.0.1"
        await s.close()
    db = _raw(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM stations").fetchone()[0] == 1


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "z.db"
    db = _raw(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        await Store.open(path)


async def test_memory_database_works():
    s = await Store.open(":memory:")
    await s.station_connected("CP1", "2.0.1", "r", 1.0)
    assert (await s.station("CP1"))["ocpp_version"] == "2.0.1"
    await s.close()


# --- stations and connectors ---------------------------------------------------


async def test_station_lifecycle(store):
    await store.station_connected("CP1", "1.6", "10.0.0.1:5000", 100.0)
    st = await store.station("CP1")
    assert st["connected"] == 1 and st["remote"] == "10.0.0.1:5000"
    assert st["last_seen"] == 100.0 and st["first_seen"] == 100.0

    await store.station_booted("CP1", "1.6", "ACME", "Fast-50", "SN1", "1.2.3", "Accepted", 101.0)
    await store.heartbeat("CP1", 150.0)
    st = await store.station("CP1")
    assert (st["vendor"], st["model"], st["serial"], st["firmware"], st["registration"]) == (
        "ACME", "Fast-50", "SN1", "1.2.3", "Accepted")
    assert st["last_boot"] == 101.0 and st["last_seen"] == 150.0

    await store.heartbeat("CP1", 120.0)  # an older heartbeat never moves last_seen back
    assert (await store.station("CP1"))["last_seen"] == 150.0

    await store.station_disconnected("CP1", 200.0)
    st = await store.station("CP1")
    assert st["connected"] == 0 and st["last_seen"] == 200.0
    assert st["first_seen"] == 100.0

    await store.station_connected("CP2", "2.0.1", "r", 300.0)
    assert [s["id"] for s in await store.stations()] == ["CP1", "CP2"]
    assert await store.station("nope") is None


async def test_connector_status_returns_previous(store):
    assert await store.connector_status("CP1", 1, 1, "Available", None, None, None, 1.0) is None
    assert await store.connector_status("CP1", 1, 1, "Occupied", None, None, None, 2.0) == "Available"
    assert await store.connector_status(
        "CP1", 1, 1, "Faulted", "GroundFailure", "E42", "leak", 3.0) == "Occupied"
    # 1.6 style: no evse id -> the connector is the EVSE
    assert await store.connector_status("CP1", None, 2, "Available", "NoError", None, None, 4.0) is None
    rows = await store.connectors("CP1")
    assert [(r["evse_id"], r["connector_id"], r["status"]) for r in rows] == [
        (1, 1, "Faulted"), (2, 2, "Available")]
    assert rows[0]["error_code"] == "GroundFailure" and rows[0]["vendor_error_code"] == "E42"
    assert rows[0]["info"] == "leak" and rows[0]["updated_at"] == 3.0


# --- 1.6 transactions --------------------------------------------------------


async def test_start_transaction_unique_and_idempotent(store):
    a = await store.start_transaction("CP1", 1, "TAG1", 1000.0, 10.0)
    b = await store.start_transaction("CP1", 2, "TAG2", 5.0, 11.0, reservation_id=7)
    assert isinstance(a, int) and a != b
    # the station repeats StartTransaction after a reconnect
    assert await store.start_transaction("CP1", 1, "TAG1", 1000.0, 10.0) == a
    txs = await store.transactions("CP1")
    assert len(txs) == 2
    t = await store.transaction("CP1", a)
    assert t["tx_key"] == str(a) and t["state"] == "active"
    assert (t["connector_id"], t["id_token"], t["meter_start_wh"], t["started_at"]) == (
        1, "TAG1", 1000.0, 10.0)
    assert (await store.transaction("CP1", b))["reservation_id"] == 7
    # a different start on the same connector is a new transaction
    c = await store.start_transaction("CP1", 1, "TAG1", 1500.0, 20.0)
    assert c not in (a, b)


async def test_stop_transaction_outcomes(store):
    tx = await store.start_transaction("CP1", 1, "TAG1", 1000.0, 10.0)
    assert await store.stop_transaction("CP1", tx, 4000.0, 50.0, "Local") == "stopped"
    t = await store.transaction("CP1", tx)
    assert (t["state"], t["stopped_at"], t["meter_stop_wh"], t["stop_reason"]) == (
        "ended", 50.0, 4000.0, "Local")
    assert await store.stop_transaction("CP1", tx, 9999.0, 60.0, "Other") == "duplicate"
    t = await store.transaction("CP1", tx)
    assert t["meter_stop_wh"] == 4000.0 and t["stopped_at"] == 50.0  # nothing changed

    # unknown id, and a known id of another station: orphans, recorded
    assert await store.stop_transaction("CP1", 424242, 10.0, 70.0, "PowerLoss", "TAGX") == "orphan"
    assert await store.stop_transaction("CP2", tx, 10.0, 70.0, None) == "orphan"
    o = await store.transaction("CP1", 424242)
    assert o["state"] == "orphan" and o["id_token"] == "TAGX" and o["meter_stop_wh"] == 10.0
    assert await store.stop_transaction("CP1", 424242, 10.0, 70.0, "PowerLoss") == "duplicate"
    assert len(await store.transactions()) == 3


async def test_start_after_orphan_with_colliding_key(store):
    # An orphan stop for id 2 arrives before the store ever handed out id 2.
    first = await store.start_transaction("CP1", 1, "T", 0.0, 1.0)
    assert first == 1
    assert await store.stop_transaction("CP1", 2, 5.0, 2.0, None) == "orphan"  # row id 2
    assert await store.stop_transaction("CP1", 4, 5.0, 2.0, None) == "orphan"  # row id 3
    nxt = await store.start_transaction("CP1", 1, "T", 0.0, 3.0)
    assert nxt not in (1, 2, 3, 4)  # id 4 is skipped: CP1 already has key "4"
    assert await store.stop_transaction("CP1", nxt, 9.0, 4.0, None) == "stopped"


# --- 2.0.1 transaction events ------------------------------------------------


async def test_transaction_event_flow_and_duplicates(store):
    ev = store.transaction_event
    assert await ev("CP9", "Started", "uuid-1", 0, 10.0, "Authorized", 1, 1, "TOK", "EVConnected",
                    None, 500.0)
    t = await store.transaction("CP9", "uuid-1")
    assert (t["state"], t["meter_start_wh"], t["started_at"], t["id_token"], t["evse_id"]) == (
        "active", 500.0, 10.0, "TOK", 1)
    assert await ev("CP9", "Updated", "uuid-1", 1, 20.0, "MeterValuePeriodic", 1, 1, None,
                    "Charging", None, 900.0)
    # the same seq_no again (a resend after reconnect): not fresh, nothing written
    assert not await ev("CP9", "Updated", "uuid-1", 1, 21.0, "MeterValuePeriodic", 1, 1, None,
                        "SuspendedEV", None, 950.0)
    assert await ev("CP9", "Ended", "uuid-1", 2, 30.0, "StopAuthorized", 1, 1, None, "Idle",
                    "Local", 1500.0)
    assert not await ev("CP9", "Ended", "uuid-1", 2, 30.0, "StopAuthorized", 1, 1, None, "Idle",
                        "Local", 1500.0)
    t = await store.transaction("CP9", "uuid-1")
    assert (t["state"], t["stopped_at"], t["meter_stop_wh"], t["stop_reason"], t["last_seq_no"]) == (
        "ended", 30.0, 1500.0, "Local", 2)
    assert t["meter_start_wh"] == 500.0 and t["started_at"] == 10.0
    evs = await store.transaction_events("CP9", "uuid-1")
    assert [(e["seq_no"], e["event_type"], e["charging_state"]) for e in evs] == [
        (0, "Started", "EVConnected"), (1, "Updated", "Charging"), (2, "Ended", "Idle")]
    # the same transactionId on another station is another transaction
    assert await ev("CP8", "Started", "uuid-1", 0, 10.0, "Authorized", 1, 1, None, None, None, None)


async def test_transaction_event_without_started(store):
    # The station lost its Started: the first Updated creates the row.
    assert await store.transaction_event("CP9", "Updated", "tx-7", 3, 40.0, "MeterValuePeriodic",
                                         2, 1, None, "Charging", None, 100.0)
    t = await store.transaction("CP9", "tx-7")
    assert t["state"] == "active" and t["started_at"] == 40.0 and t["meter_start_wh"] is None
    # Ended with no meter value keeps what was there; an Ended-only transaction also works
    assert await store.transaction_event("CP9", "Ended", "tx-7", 4, 50.0, "EVDeparted",
                                         2, 1, None, None, "EVDisconnected", None)
    t = await store.transaction("CP9", "tx-7")
    assert (t["state"], t["stopped_at"], t["stop_reason"], t["meter_stop_wh"]) == (
        "ended", 50.0, "EVDisconnected", None)
    assert await store.transaction_event("CP9", "Ended", "tx-8", 0, 60.0, "Deauthorized",
                                         1, 1, None, None, "DeAuthorized", 70.0)
    t = await store.transaction("CP9", "tx-8")
    assert (t["state"], t["meter_stop_wh"]) == ("ended", 70.0)


# --- samples, events, commands, id tokens -------------------------------------


async def test_meter_samples_roundtrip(store):
    samples = [
        Sample("Energy.Active.Import.Register", 1234.5, "Wh", timestamp=100.0),
        Sample("Voltage", 230.1, "V", phase="L1-N", location="Outlet", context="Sample.Periodic",
               timestamp=100.0),
        Sample("Power.Active.Import", 7000.0, "W", timestamp=101.0),
    ]
    await store.meter_samples("CP1", 1, 1, 17, samples)
    await store.meter_samples("CP1", 1, 1, None, [])  # nothing to do
    rows = await store.meter_samples_of("CP1")
    assert len(rows) == 3
    assert rows[1]["measurand"] == "Voltage" and rows[1]["phase"] == "L1-N"
    assert rows[1]["location"] == "Outlet" and rows[1]["context"] == "Sample.Periodic"
    assert rows[0]["tx_key"] == "17" and rows[0]["value"] == 1234.5 and rows[0]["unit"] == "Wh"
    assert [r["ts"] for r in await store.meter_samples_of("CP1", since=100.5)] == [101.0]
    assert len(await store.meter_samples_of("CP1", limit=2)) == 2
    assert (await store.meter_samples_of("CP1", limit=1))[0]["ts"] == 101.0  # the latest
    # a sample without a timestamp gets the current time
    await store.meter_samples("CP2", 0, 0, None, [Sample("Temperature", 40.0, "Celsius")])
    assert abs((await store.meter_samples_of("CP2"))[0]["ts"] - time.time()) < 60


async def test_events_roundtrip(store):
    e1 = StatusChanged("CP1", evse_id=1, connector_id=1, status="Faulted", time=5.0)
    e2 = CommandSent("CP2", command="reset", action="Reset", payload={"type": "Hard"}, time=6.0)
    await store.event(e1)
    await store.event(e2)
    rows = await store.events()
    assert [r["type"] for r in rows] == ["command_sent", "status_changed"]  # newest first
    assert rows[1]["data"] == e1.to_dict() and rows[0]["data"]["payload"] == {"type": "Hard"}
    assert rows[1]["ts"] == 5.0 and rows[1]["station_id"] == "CP1"
    assert [r["type"] for r in await store.events(station_id="CP1")] == ["status_changed"]
    assert [r["station_id"] for r in await store.events(type="command_sent")] == ["CP2"]
    assert await store.events(station_id="CP1", type="command_sent") == []
    assert len(await store.events(limit=1)) == 1


async def test_commands_roundtrip(store):
    cid = await store.command("CP1", "reset", "Reset", {"type": "Soft"}, "operator", 10.0)
    cid2 = await store.command("CP2", "unlock", "UnlockConnector", {"connectorId": 1}, "rule:x", 11.0)
    assert cid != cid2
    await store.command_result(cid, True, "Accepted", {"status": "Accepted"}, None, 12.0)
    await store.command_result(cid2, False, None, None, "timeout", 41.0)
    rows = await store.commands()
    assert [r["id"] for r in rows] == [cid2, cid]
    c = (await store.commands("CP1"))[0]
    assert (c["command"], c["action"], c["payload"], c["source"], c["sent_at"]) == (
        "reset", "Reset", {"type": "Soft"}, "operator", 10.0)
    assert (c["ok"], c["status"], c["result"], c["done_at"], c["error"]) == (
        1, "Accepted", {"status": "Accepted"}, 12.0, None)
    c2 = (await store.commands("CP2"))[0]
    assert (c2["ok"], c2["error"], c2["result"]) == (0, "timeout", None)


async def test_id_token_rows_are_kept_and_updated(store):
    # who may charge is zaspot.cards' (tests/unit/test_cards.py); the store keeps the rows
    assert await store.card("ANY") is None
    await store.add_id_token("GOOD")
    await store.add_id_token("BLOCK", "Blocked")
    await store.add_id_token("OLD", "Accepted", expiry=1000.0)
    assert (await store.card("GOOD"))["status"] == "Accepted"
    assert (await store.card("BLOCK"))["status"] == "Blocked"
    assert (await store.card("OLD"))["expiry"] == 1000.0
    await store.add_id_token("BLOCK", "Accepted")  # re-adding updates
    assert (await store.card("BLOCK"))["status"] == "Accepted"
    assert [c["id_token"] for c in await store.cards()] == ["BLOCK", "GOOD", "OLD"]


# --- durability -------------------------------------------------------------------


async def test_data_survives_close_and_reopen(tmp_path):
    path = tmp_path / "z.db"
    s = await Store.open(path)
    await s.station_booted("CP1", "2.0.1", "V", "M", None, None, "Accepted", 1.0)
    await s.connector_status("CP1", 1, 1, "Occupied", None, None, None, 2.0)
    tx = await s.start_transaction("CP2", 1, "T", 0.0, 3.0)
    await s.transaction_event("CP1", "Started", "u1", 0, 4.0, "Authorized", 1, 1, None, None,
                              None, 10.0)
    await s.meter_samples("CP1", 1, 1, "u1", [Sample("Energy.Active.Import.Register", 10.0, "Wh",
                                                     timestamp=4.0)])
    cid = await s.command("CP1", "reset", "Reset", {}, "operator", 5.0)
    await s.add_id_token("TAG")
    await s.close()
    await s.close()  # idempotent

    s = await Store.open(path)
    try:
        assert (await s.station("CP1"))["vendor"] == "V"
        assert (await s.connectors("CP1"))[0]["status"] == "Occupied"
        assert (await s.transaction("CP2", tx))["state"] == "active"
        assert (await s.transaction("CP1", "u1"))["meter_start_wh"] == 10.0
        assert len(await s.meter_samples_of("CP1")) == 1
        assert (await s.commands())[0]["id"] == cid
        assert (await s.card("TAG"))["status"] == "Accepted"
        # state continues: a repeat is still a repeat, ids keep growing
        assert await s.start_transaction("CP2", 1, "T", 0.0, 3.0) == tx
        assert not await s.transaction_event("CP1", "Started", "u1", 0, 4.0, None, 1, 1, None,
                                             None, None, None)
        assert await s.start_transaction("CP2", 1, "T", 0.0, 9.0) > tx
    finally:
        await s.close()


async def test_writes_after_close_are_refused(tmp_path):
    s = await Store.open(tmp_path / "z.db")
    await s.close()
    with pytest.raises(RuntimeError):
        await s.heartbeat("CP1", 1.0)


async def test_close_flushes_queued_writes(tmp_path):
    path = tmp_path / "z.db"
    s = await Store.open(path)
    tasks = [asyncio.ensure_future(s.heartbeat(f"CP{i}", float(i))) for i in range(50)]
    await asyncio.sleep(0)  # queued, maybe not yet written
    await s.close()
    await asyncio.gather(*tasks)
    assert _raw(path).execute("SELECT count(*) FROM stations").fetchone()[0] == 50


# --- group commit -------------------------------------------------------------------


async def test_concurrent_writes_are_group_committed(store):
    before = store.stats.commits
    n = 500
    await asyncio.gather(*(
        store.meter_samples("CP1", 1, 1, "t", [
            Sample("Energy.Active.Import.Register", float(i), "Wh", timestamp=float(i)),
            Sample("Power.Active.Import", 11000.0, "W", timestamp=float(i)),
        ])
        for i in range(n)
    ))
    rows = await store.meter_samples_of("CP1", limit=10 * n)
    assert len(rows) == 2 * n
    assert {r["value"] for r in rows if r["unit"] == "Wh"} == {float(i) for i in range(n)}
    commits = store.stats.commits - before
    assert 1 <= commits < n / 10
    assert store.stats.ops >= n


async def test_mixed_concurrent_writes(store):
    async def station(i):
        sid = f"CP{i}"
        await store.station_connected(sid, "1.6", "r", 1.0)
        tx = await store.start_transaction(sid, 1, "T", 0.0, 2.0)
        await store.meter_samples(sid, 1, 1, tx, [Sample("Energy.Active.Import.Register", 5.0,
                                                         "Wh", timestamp=3.0)])
        assert await store.stop_transaction(sid, tx, 5.0, 4.0, "Local") == "stopped"
        return tx

    ids = await asyncio.gather(*(station(i) for i in range(100)))
    assert len(set(ids)) == 100
    assert len(await store.transactions(limit=1000)) == 100
    assert store.stats.commits < 100 * 4


async def test_failing_op_does_not_fail_its_batch(store):
    # Hold the writer's thread inside a batch, so that the ops below all queue up
    # behind it and go in together as the next one.
    entered, gate = threading.Event(), threading.Event()

    def hold(conn):
        entered.set()
        gate.wait(10)

    before = store.stats.commits
    held = store._writer.call_long(hold)
    assert await asyncio.to_thread(entered.wait, 10)
    # same-SQL run (executemany): one bad row (NOT NULL id_token) among good ones
    gathered = asyncio.gather(
        store.add_id_token("A"),
        store.add_id_token(None),
        store.add_id_token("B"),
        # function ops: a bad one between good ones
        store.connector_status("CP1", 1, 1, "Available", None, None, None, 1.0),
        store.connector_status(None, 1, 1, "Available", None, None, None, 1.0),
        store.start_transaction("CP1", 1, "T", 0.0, 2.0),
        store.heartbeat("CP1", 3.0),
        return_exceptions=True,
    )
    async with asyncio.timeout(10):
        while len(store._writer._pending) < 7:  # all seven queued behind the held batch
            await asyncio.sleep(0)
    gate.set()
    await held
    results = await gathered
    assert store.stats.commits - before == 2  # the held batch, then all seven in one transaction
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert isinstance(results[4], sqlite3.IntegrityError)
    assert [r for i, r in enumerate(results) if i not in (1, 4) and isinstance(r, Exception)] == []
    assert (await store.card("A"))["status"] == "Accepted"
    assert (await store.card("B"))["status"] == "Accepted"
    assert len(await store.connectors("CP1")) == 1
    assert (await store.transaction("CP1", results[5]))["state"] == "active"
    assert (await store.station("CP1"))["last_seen"] == 3.0
    assert store.stats.failed >= 2


async def test_write_error_reaches_caller_and_writer_keeps_going(tmp_path):
    path = tmp_path / "z.db"
    s = await Store.open(path, busy_timeout_ms=50)
    try:
        await s.heartbeat("CP1", 1.0)
        # another process holds the write lock: our writes cannot reach the disk
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await s.start_transaction("CP1", 1, "T", 0.0, 2.0)
        with pytest.raises(sqlite3.OperationalError):
            await s.heartbeat("CP1", 2.0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # a one-statement batch too
            await s.meter_samples("CP1", 1, 1, None, [Sample("Power.Active.Import", 1.0, "W", timestamp=2.0)])
        other.execute("ROLLBACK")
        other.close()
        # the writer is still alive
        tx = await s.start_transaction("CP1", 1, "T", 0.0, 2.0)
        await s.heartbeat("CP1", 5.0)
        assert (await s.transaction("CP1", tx))["state"] == "active"
        assert (await s.station("CP1"))["last_seen"] == 5.0
    finally:
        await s.close()


# --- crash safety ---------------------------------------------------------------------

_CRASH_WRITER = textwrap.dedent("""
    import asyncio, sys
    from zaspot.core.events import Sample
    from zaspot.store import Store

    async def main(path):
        store = await Store.open(path)
        out = sys.stdout
        async def worker(w):
            sid = f"CP{w}"
            i = 0
            while True:
                i += 1
                tx = await store.start_transaction(sid, 1, "TAG", float(i), float(i))
                out.write(f"tx {sid} {tx} {i}\\n"); out.flush()
                await store.meter_samples(sid, 1, 1, tx, [
                    Sample("Energy.Active.Import.Register", float(i), "Wh", timestamp=float(i))])
                out.write(f"ms {sid} {tx} {i}\\n"); out.flush()
        await asyncio.gather(*(worker(w) for w in range(8)))

    asyncio.run(main(sys.argv[1]))
""")


def test_kill_9_loses_no_acknowledged_write(tmp_path):
    path = tmp_path / "crash.db"
    script = tmp_path / "writer.py"
    script.write_text(_CRASH_WRITER)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    lines: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while len(lines) < 3000 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    lines += rest.splitlines(keepends=True)
    acked = [ln.decode().split() for ln in lines if ln.endswith(b"\n")]
    assert len(acked) >= 1000, err.decode()

    db = _raw(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    txs = {(sid, tx): started for sid, tx, started in db.execute(
        "SELECT station_id, id, started_at FROM transactions")}
    samples = set(db.execute("SELECT station_id, tx_key, value FROM meter_samples"))
    for kind, sid, tx, i in acked:
        if kind == "tx":
            assert txs.get((sid, int(tx))) == float(i), (kind, sid, tx, i)
        else:
            assert (sid, tx, float(i)) in samples, (kind, sid, tx, i)
    # ids were never handed out twice
    assert len({tx for kind, _, tx, _ in acked if kind == "tx"}) == sum(
        1 for a in acked if a[0] == "tx")


async def test_disk_full_fails_callers_and_writer_recovers(store):
    w = store._writer
    pages = await w.call(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
    await w.call(lambda c: c.execute(f"PRAGMA max_page_count = {pages}"))  # the disk is "full"
    big = [Sample("Voltage", float(i), "V", phase="L1-N" * 50, timestamp=float(i))
           for i in range(2000)]
    results = await asyncio.gather(
        store.heartbeat("CP1", 1.0),
        store.meter_samples("CP1", 1, 1, None, big),
        store.start_transaction("CP1", 1, "T", 0.0, 2.0),
        store.meter_samples("CP1", 1, 1, None, big),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.OperationalError) and "full" in str(results[1])
    assert isinstance(results[3], sqlite3.OperationalError)
    # whatever was acknowledged is there; whatever failed is not
    txs = await store.transactions()
    if isinstance(results[2], int):
        assert [t["id"] for t in txs] == [results[2]]
    else:
        assert txs == []
    assert await store.meter_samples_of("CP1") == []
    assert (await store.station("CP1") is not None) == (results[0] is None)

    await w.call(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))  # space again
    await store.meter_samples("CP1", 1, 1, None, big)
    tx = await store.start_transaction("CP1", 1, "T", 0.0, 3.0)
    assert len(await store.meter_samples_of("CP1", limit=5000)) == 2000
    assert (await store.transaction("CP1", tx))["state"] == "active"
