"""Storage scenario: what a meter sample costs on disk, per station-day and per year.

A synthetic run (S stations each sending M MeterValues to a real zaspot) fills a fresh
database; or `analyze_db(path)` reads the database of any earlier run. The cost per
sample is the meter_values table (a row per meter value, its samples packed) plus its
station index, meter_index, measured page by page with SQLite's dbstat table (the whole file divided by
the samples when dbstat is missing), and the
projection assumes a meter value every `meter_interval` seconds.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime

import orjson

from .idle import METER, IdleStation
from .load import meter_payload
from .scale import warm_up
from .servers import ServerProcess, write_zaspot_config

METER_OBJECTS = ("meter_values", "meter_index")
# The event log (alarms and rules consume it; meter samples are not kept there twice).
REPLAY_OBJECTS = ("events", "events_station", "events_type")


def _object_bytes(db: sqlite3.Connection) -> dict[str, int] | None:
    try:
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return None
    return {name: int(size) for name, size in rows}


def analyze_db(path: str) -> dict:
    """Bytes per stored sample in the database at `path`, and samples per meter value
    (readings sharing a station, EVSE and timestamp)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        samples, stations = db.execute("SELECT COUNT(*), COUNT(DISTINCT station_id) FROM meter_samples").fetchone()
        readings = db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT station_id, evse_id, ts "
                              "FROM meter_samples)").fetchone()[0]
        objects = _object_bytes(db)
    db_bytes = os.path.getsize(path) + (os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0)
    if not samples:
        return {"db_bytes": db_bytes, "samples": 0, "failed": "no meter samples in the database"}
    out = {"db_bytes": db_bytes, "samples": samples, "stations": stations, "dbstat": objects is not None,
           "samples_per_meter_value": round(samples / readings, 2),
           "db_bytes_per_sample": round(db_bytes / samples, 1)}
    if objects is None:
        return {**out, "bytes_per_sample": out["db_bytes_per_sample"], "replay_bytes_per_sample": 0.0}
    out["bytes_per_sample"] = round(sum(objects.get(n, 0) for n in METER_OBJECTS) / samples, 1)
    out["replay_bytes_per_sample"] = round(sum(objects.get(n, 0) for n in REPLAY_OBJECTS) / samples, 1)
    out["largest_kb"] = {n: round(b / 1024) for n, b in sorted(objects.items(), key=lambda kv: -kv[1])[:6]}
    return out


def project(figures: dict, meter_interval: float, fleet: int) -> dict:
    """A station-day and a fleet-year at one meter value per `meter_interval` s, for the
    meter tables alone and with the replay log."""
    samples_per_day = 86400 / meter_interval * figures["samples_per_meter_value"]
    day = samples_per_day * figures["bytes_per_sample"]
    day_all = samples_per_day * (figures["bytes_per_sample"] + figures["replay_bytes_per_sample"])
    return {"meter_interval_s": meter_interval, "fleet": fleet,
            "bytes_per_station_day": round(day), "bytes_per_station_day_with_replay": round(day_all),
            "fleet_year_gb": round(day * 365 * fleet / 1e9, 2),
            "fleet_year_gb_with_replay": round(day_all * 365 * fleet / 1e9, 2)}


def meter_frames(messages: int, start: float, every: float = 60.0) -> list[bytes]:
    """MeterValues payloads a minute apart, as a station would send them over a day."""
    out = []
    for k in range(messages):
        p = meter_payload("1.6", energy_wh=1000.0 + 120.0 * k)
        p["meterValue"][0]["timestamp"] = datetime.fromtimestamp(start + k * every, UTC) \
            .isoformat(timespec="seconds").replace("+00:00", "Z")
        out.append(orjson.dumps(p))
    return out


async def fill(url: str, stations: int, messages: int) -> int:
    """Each station sends `messages` MeterValues; returns how many were answered."""
    sims = [IdleStation(url, f"STORE{i + 1:04d}", "1.6", timeout=30) for i in range(stations)]
    frames = meter_frames(messages, time.time() - messages * 60.0)

    async def one(st: IdleStation) -> int:
        await st.open(10)
        await st.boot()
        for payload in frames:
            await st.call(METER, payload)
        return messages

    try:
        return sum(await asyncio.gather(*(one(s) for s in sims)))
    finally:
        await asyncio.gather(*(s.close() for s in sims), return_exceptions=True)


async def storage(stations: int = 20, messages: int = 250, db: str | None = None,
                  meter_interval: float = 60.0, fleet: int = 200) -> dict:
    """Analyze `db` if given, else a fresh database filled by a synthetic run."""
    source = db or f"synthetic: {stations} stations x {messages} MeterValues, 1 min apart"
    out: dict = {"scenario": "storage", "source": source}
    if db is not None:
        out["result"] = analyze_db(db)
    else:
        with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as workdir:
            write_zaspot_config(workdir)
            try:
                async with ServerProcess("zaspot", workdir) as server:
                    await warm_up(server.url, "1.6")
                    out["answered"] = await fill(server.url, stations, messages)
                # stopped: the database is closed and checkpointed before it is measured
                out["result"] = analyze_db(os.path.join(workdir, "bench.db"))
            except Exception as exc:
                out["result"] = {"failed": f"{type(exc).__name__}: {exc}"[:400]}
    if "bytes_per_sample" in out["result"]:
        out["result"].update(project(out["result"], meter_interval, fleet))
    return out
