"""`zaspot backup` of a running server's database while stations keep sending MeterValues,
and `zaspot restore`: refused while zaspot runs, then the backup in place, the replaced
database kept, and a server running on what was restored."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import ZaspotProcess
from tests.ops.shell import zaspot, zaspot_async
from zaspot.api.client import ZaspotClient
from zaspot.sim.station import SimStation
from zaspot.store.schema import SCHEMA_VERSION

BASE = {"1.6": 1_000_000, "2.0.1": 2_000_000}  # each station's readings: BASE + n Wh, n = 0, 1, 2, …


def meter_payload(protocol: str, wh: int) -> dict:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if protocol == "1.6":
        return {"connectorId": 1, "meterValue": [{"timestamp": stamp, "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}
    return {"evseId": 1, "meterValue": [{"timestamp": stamp, "sampledValue": [
        {"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}]}]}


class Pump:
    """A station sending MeterValues one after another; `acked` holds the readings answered."""

    def __init__(self, station: SimStation) -> None:
        self.station, self.acked, self.stopping = station, [], False
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        n = 0
        while not self.stopping:
            wh = BASE[self.station.protocol] + n
            await self.station.call("MeterValues", meter_payload(self.station.protocol, wh))
            self.acked.append(wh)
            n += 1

    async def stop(self) -> None:
        # A flag, not cancel(): a cancel landing as an answer arrives can be lost in wait_for (Python 3.11).
        self.stopping = True
        await asyncio.wait_for(self.task, 15)


def stored(db: Path, station_id: str) -> set[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT value FROM meter_samples WHERE station_id = ?", (station_id,)).fetchall()
    finally:
        conn.close()
    return {int(v) for (v,) in rows}


async def until(check, what: str, limit: float = 15) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_backup_while_running_then_restore(tmp_path: Path) -> None:
    db, copy = tmp_path / "zaspot.db", tmp_path / "backup.db"
    server = ZaspotProcess(db).start()
    stations = [SimStation("BK-16", f"{server.url}/ocpp", "1.6", validate=True, meter_interval=3600),
                SimStation("BK-201", f"{server.url}/ocpp", "2.0.1", validate=True, meter_interval=3600)]
    try:
        for st in stations:
            await st.start()
        for st in stations:
            await st.wait_booted()
        pumps = [Pump(st) for st in stations]
        await until(lambda: all(len(p.acked) >= 200 for p in pumps), "the stations are sending")

        before = {p.station.station_id: list(p.acked) for p in pumps}  # acknowledged before the backup began
        code, out, err = await zaspot_async("backup", str(copy), "--db", str(db), cwd=tmp_path)
        assert (code, err) == (0, ""), err
        assert out.startswith(f"backup of {db} in {copy}: ") and f"schema version {SCHEMA_VERSION}" in out
        during = {p.station.station_id: len(p.acked) for p in pumps}

        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, nothing beside it
        conn.close()
        assert not Path(f"{copy}-wal").exists()
        for station_id, acked in before.items():
            assert set(acked) <= stored(copy, station_id), f"{station_id}: acknowledged readings missing"

        # While zaspot runs, restore refuses and names it; the stations go on meanwhile.
        code, out, err = await zaspot_async("restore", str(copy), "--db", str(db), cwd=tmp_path)
        assert code == 1 and out == ""
        assert err.startswith(f"zaspot: database {db}: in use by pid {server.proc.pid} (") and "stop zaspot first" in err
        await until(lambda: all(len(p.acked) > during[p.station.station_id] + 50 for p in pumps), "still taking them")
        for p in pumps:
            await p.stop()
    finally:
        for st in stations:
            await st.stop()
        server.stop()

    newer = {st.station_id: stored(db, st.station_id) for st in stations}
    kept = {st.station_id: stored(copy, st.station_id) for st in stations}
    assert all(newer[s] > kept[s] for s in newer)  # readings after the backup: in the database, not the copy

    done = zaspot("restore", str(copy), "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    aside = sorted(tmp_path.glob("zaspot.db.replaced-*"))
    assert len(aside) == 1 and f"the database it replaced is at {aside[0]}" in done.stdout
    assert {s: stored(db, s) for s in newer} == kept  # the backup is in place
    assert {s: stored(aside[0], s) for s in newer} == newer  # and nothing of the replaced one is lost

    server = ZaspotProcess(db).start()  # zaspot runs on what was restored
    try:
        async with ZaspotClient(f"{server.url}/api/websocket") as client:
            fleet = await client.command("fleet/list")
        assert {row["id"] for row in fleet} >= {"BK-16", "BK-201"}
    finally:
        server.stop()


def test_what_backup_and_restore_refuse(tmp_path: Path) -> None:
    assert zaspot("backup", "b.db", cwd=tmp_path).stderr == f"zaspot: database {tmp_path / 'zaspot.db'}: no such database\n"

    db = tmp_path / "zaspot.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL, station_id TEXT, type TEXT, data TEXT)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.commit()
    conn.close()
    assert zaspot("backup", "b.db", cwd=tmp_path).returncode == 0
    again = zaspot("backup", "b.db", cwd=tmp_path)
    assert (again.returncode, again.stderr) == (1, f"zaspot: {tmp_path / 'b.db'}: already exists (another name, or --force to replace it)\n")
    folder = tmp_path / "backups"
    folder.mkdir()
    into = zaspot("backup", str(folder), cwd=tmp_path)  # a folder: a dated file in it
    assert into.returncode == 0 and len(list(folder.glob("zaspot-*.db"))) == 1

    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    refused = zaspot("restore", str(newer), cwd=tmp_path)
    assert refused.returncode == 1 and "written by a newer zaspot" in refused.stderr
    (tmp_path / "junk.db").write_text("not a database at all, just text that is long enough" * 20)
    junk = zaspot("restore", "junk.db", cwd=tmp_path)
    assert junk.returncode == 1 and junk.stderr.startswith(f"zaspot: backup {tmp_path / 'junk.db'}: cannot be read")
    assert not list(tmp_path.glob("zaspot.db.replaced-*"))  # nothing was replaced by a refused restore
