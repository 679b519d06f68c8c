"""kill -9 at random moments under load: nothing acknowledged is lost.

The promise (DESIGN.md, "Nothing lost"): everything a message carries is in the
database, in one transaction, before the station gets its answer; a crash loses nothing
acknowledged, and a retry after a crash is stored once and whole.

20 stations (10 x OCPP 1.6, 10 x OCPP 2.0.1) write transactions flat out against a real
`zaspot run`, which is killed with SIGKILL at random moments and restarted on the same
port and database. Stations reconnect without booting again and resend what was not
answered (tests/crashstation.py). At the end every value of every acknowledged message is
looked up in the SQLite file.

Reproduce a run with ZASPOT_CRASH_SEED=<the printed seed>.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.crashstation import Acked, CrashStation
from tests.helpers import ZaspotProcess, free_port

KILLS = 20
STATIONS_PER_VERSION = 10
LOAD_S = (0.2, 1.5)  # load between a restart's first answers and the next kill
TRANSIENT = "InternalError"  # the one CALLERROR a station may get (and then succeed)


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()  # as the server parses it


def _owed_samples(station: CrashStation, msg: Acked) -> list[tuple[Any, ...]]:
    """The meter_samples rows an acknowledged message owes the database, one per sampled value."""
    p = msg.payload
    if msg.action == "MeterValues":
        entries, tx_key = p["meterValue"], str(p["transactionId"])
    elif msg.action == "StopTransaction":
        entries, tx_key = p["transactionData"], str(p["transactionId"])
    elif msg.action == "TransactionEvent":
        entries, tx_key = p["meterValue"], p["transactionInfo"]["transactionId"]
    else:
        return []
    out = []
    for entry in entries:
        ts = _ts(entry["timestamp"])
        for sv in entry["sampledValue"]:
            unit = sv["unit"] if station.version == "1.6" else sv["unitOfMeasure"]["unit"]
            # station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, context, unit, value
            out.append((station.id, 1, 1, tx_key, ts, sv["measurand"], sv.get("phase"), "Outlet",
                        sv["context"], unit, float(sv["value"])))
    return out


def _kind(msg: Acked) -> str:
    return msg.payload["eventType"] if msg.action == "TransactionEvent" else msg.action


class Audit:
    """What the database holds against what the stations were told was stored."""

    def __init__(self, db: Path) -> None:
        con = sqlite3.connect(db)
        try:
            self.samples: dict[tuple[str, float], list[tuple[Any, ...]]] = {}
            for row in con.execute(
                "SELECT station_id, evse_id, connector_id, tx_key, ts, measurand, phase, location, "
                "context, unit, value FROM meter_samples"
            ):
                self.samples.setdefault((row[0], row[10]), []).append(row)
            self.transactions = {
                (r[0], r[1]): r[2:] for r in con.execute(
                    "SELECT station_id, tx_key, state, meter_start_wh, meter_stop_wh, started_at FROM transactions"
                )
            }
            self.starts = Counter(
                (r[0], r[1]) for r in con.execute("SELECT station_id, started_at FROM transactions")
            )
            self.tx_events = {tuple(r) for r in con.execute("SELECT station_id, tx_key, seq_no FROM transaction_events")}
        finally:
            con.close()
        self.checked = 0
        self.lost: list[str] = []  # owed and missing (or stored wrong)
        self.duplicated: Counter[str] = Counter()  # extra copies, by the action that carried them
        self.broken: list[str] = []  # stored twice in a way that breaks data
        self.lost_messages: Counter[str] = Counter()  # by kind and whether it was resent

    def check(self, station: CrashStation) -> None:
        for msg in station.acked:
            missing = 0
            for owed in _owed_samples(station, msg):
                self.checked += 1
                stored = self.samples.get((owed[0], owed[10]), [])
                if owed not in stored:
                    missing += 1
                    self.lost.append(f"{_kind(msg)} sample {owed}: stored {stored or 'nothing'}")
                if len(stored) > 1:
                    self.duplicated[msg.action] += len(stored) - 1
                    if msg.action != "MeterValues":  # a repeated transaction message is stored once
                        self.broken.append(f"{_kind(msg)} sample stored {len(stored)} times: {owed}")
            if missing:
                self.lost_messages[f"{_kind(msg)} ({'resent' if msg.sends > 1 else 'first send'})"] += 1
            if station.version == "1.6":
                self._check_v16(station.id, msg.action, msg.payload, msg.answer)
            elif msg.action == "TransactionEvent":
                self._check_v201(station.id, msg.payload)

    def _owe(self, ok: bool, what: str) -> None:
        self.checked += 1
        if not ok:
            self.lost.append(what)

    def _check_v16(self, sid: str, action: str, p: dict[str, Any], answer: dict[str, Any]) -> None:
        if action == "StartTransaction":
            row = self.transactions.get((sid, str(answer["transactionId"])))
            self._owe(row is not None and row[1] == p["meterStart"] and row[3] == _ts(p["timestamp"]),
                      f"{sid} StartTransaction {answer['transactionId']}: row {row}")
            if self.starts[(sid, _ts(p["timestamp"]))] > 1:
                self.broken.append(f"{sid} StartTransaction at {p['timestamp']} stored as "
                                   f"{self.starts[(sid, _ts(p['timestamp']))]} transactions")
        elif action == "StopTransaction":
            row = self.transactions.get((sid, str(p["transactionId"])))
            self._owe(row is not None and row[0] == "ended" and row[2] == p["meterStop"],
                      f"{sid} StopTransaction {p['transactionId']}: row {row}")

    def _check_v201(self, sid: str, p: dict[str, Any]) -> None:
        tx = p["transactionInfo"]["transactionId"]
        self._owe((sid, tx, p["seqNo"]) in self.tx_events, f"{sid} TransactionEvent {tx} seqNo {p['seqNo']} missing")
        if p["eventType"] == "Ended":
            row = self.transactions.get((sid, tx))
            self._owe(row is not None and row[0] == "ended", f"{sid} TransactionEvent Ended {tx}: row {row}")


async def _answered_again(stations: list[CrashStation], tasks: list[asyncio.Task[None]], timeout: float = 30) -> None:
    """Until every station has had an answer since now (a condition, not a sleep)."""
    before = [len(s.acked) for s in stations]
    deadline = time.monotonic() + timeout
    while any(len(s.acked) <= n for s, n in zip(stations, before)):
        for task in tasks:
            if task.done():
                task.result()  # a station died of a bug in the test: say so
                raise AssertionError("a station stopped writing")
        if time.monotonic() > deadline:
            waiting = [s.id for s, n in zip(stations, before) if len(s.acked) <= n]
            raise AssertionError(f"no answer within {timeout}s for {waiting}")
        await asyncio.sleep(0.01)


@pytest.mark.timeout(300)
async def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    seed = int(os.environ.get("ZASPOT_CRASH_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    print(f"crash test seed {seed} (ZASPOT_CRASH_SEED={seed} repeats it)")
    db = tmp_path / "zaspot.db"  # cwd of the server: no ./rules there, so no rules run
    port = free_port()  # the same port after every restart: stations find it where they left it
    server = await asyncio.to_thread(ZaspotProcess(db, port=port).start)
    stations = [CrashStation(server.url, i, "1.6") for i in range(STATIONS_PER_VERSION)]
    stations += [CrashStation(server.url, STATIONS_PER_VERSION + i, "2.0.1") for i in range(STATIONS_PER_VERSION)]
    tasks = [asyncio.create_task(s.run(), name=s.id) for s in stations]
    kills, began, exit_code = 0, time.monotonic(), None
    restarts: list[float] = []  # kill -> /healthz answers
    resumed: list[float] = []  # /healthz answers -> every station answered again
    try:
        await _answered_again(stations, tasks)  # all booted and writing
        while kills < KILLS:
            await asyncio.sleep(rng.uniform(*LOAD_S))
            killed = time.monotonic()
            await asyncio.to_thread(server.kill9)
            kills += 1
            server = await asyncio.to_thread(ZaspotProcess(db, port=port).start)
            up = time.monotonic()
            await _answered_again(stations, tasks)
            restarts.append(up - killed)
            resumed.append(time.monotonic() - up)
        for s in stations:  # stop the load: each finishes its outstanding message, resending until answered
            s.stopping = True
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        exit_code = await asyncio.to_thread(server.stop)
    finally:
        for task in tasks:
            task.cancel()
        if server.proc is not None and server.proc.poll() is None:
            await asyncio.to_thread(server.stop)
    elapsed = time.monotonic() - began

    audit = Audit(db)
    for s in stations:
        audit.check(s)
    errors = Counter()
    for s in stations:
        errors.update(s.call_errors)
    acknowledged = sum(len(s.acked) for s in stations)
    duplicated = sum(audit.duplicated.values())
    print(f"crash test: {kills} kills, {acknowledged} acknowledged messages, {audit.checked} values checked, "
          f"{len(audit.lost)} lost, {duplicated} duplicated")
    print(f"  {elapsed:.1f}s of load; reconnects {sum(s.connects for s in stations) - len(stations)}, "
          f"resends {sum(s.resends for s in stations)}, stalls {sum(s.stalls for s in stations)}, "
          f"duplicated by action {dict(audit.duplicated)}, CALLERRORs {dict(errors)}, server exit {exit_code}, "
          f"tracebacks in the server log {server.log.read_text(errors='replace').count('Traceback')}")
    print(f"  restart (kill to /healthz) mean {sum(restarts) / len(restarts):.2f}s max {max(restarts):.2f}s; "
          f"every station answered again after mean {sum(resumed) / len(resumed):.2f}s max {max(resumed):.2f}s")
    if audit.lost_messages:
        print(f"  messages with lost values: {dict(audit.lost_messages)}")
    for line in audit.lost[:10] + audit.broken[:10] + [e for s in stations for e in s.error_log][:10]:
        print("  " + line)

    assert len(audit.lost) == 0, f"{len(audit.lost)} acknowledged values not in the database (first: {audit.lost[0]})"
    assert not audit.broken, audit.broken[:5]
    assert not [e for e in errors if e[1] != TRANSIENT], f"CALLERRORs other than {TRANSIENT}: {dict(errors)}"
    assert exit_code == 0, f"zaspot exited with {exit_code} on SIGTERM"
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)  # a couple of hundred MB; kept only when the test fails
