"""`zaspot rules check` and `zaspot rules test` as a user runs them (subprocess), and
replay of a recorded database through the shipped rules on the events' own clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers import ROOT
from zaspot.core.events import StationConnected, StationOnline, StatusChanged, Temperature
from zaspot.rules.replay import replay
from zaspot.store import Store
from zaspot.store.unit import Unit


def zaspot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "zaspot", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def test_check_passes_the_shipped_rules_and_fails_a_bad_file_with_file_and_line(tmp_path):
    good = zaspot("rules", "check")
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("- id: a\n  trigger: {platform: temperature, above: 70, for: soon}\n"
                        "  action:\n    - service: explode\n")
    bad = zaspot("rules", "check", str(ROOT / "rules"), str(bad_file))
    missing = zaspot("rules", "check", str(tmp_path / "nowhere"))

    assert (good.returncode, good.stdout) == (0, "")
    assert "7 rules OK in 6 files, 0 errors" in good.stderr
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [f"{bad_file}:2: for: bad duration 'soon' (examples: 30s, 10m, 1h30m, 00:05:00)"]
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr


async def recorded_db(path: Path) -> float:
    """A night at a small site: a connector that runs hot for 40 s, one that only blips
    hot, and a station faulted from 02:40 until after 03:00."""
    night = datetime.now().replace(hour=2, minute=30, second=0, microsecond=0) - timedelta(days=1)
    t0 = night.timestamp()
    events = [
        StationConnected("HOT-1", "1.6", time=t0), StationConnected("BLIP-1", "2.0.1", time=t0),
        StationConnected("FLT-1", "1.6", time=t0),
        *(Temperature("HOT-1", "connector", 75.0 + i, evse_id=1, connector_id=1, time=t0 + 60 + 10 * i) for i in range(5)),
        Temperature("BLIP-1", "connector", 75.0, evse_id=1, connector_id=1, time=t0 + 60),
        Temperature("BLIP-1", "connector", 60.0, evse_id=1, connector_id=1, time=t0 + 70),
        StatusChanged("FLT-1", 1, 1, "Faulted", "GroundFailure", time=t0 + 600),
        StationOnline("FLT-1", time=t0 + 40 * 60),  # 03:10: the clock moves past 03:00
    ]
    async with await Store.open(path) as store:
        unit = Unit()  # the event log, as a running server writes it
        for event in events:
            unit.emit(event)
        await store.commit(unit)
    return t0


async def test_replay_shows_what_the_shipped_rules_would_have_done_and_sends_nothing(tmp_path):
    db = tmp_path / "zaspot.db"
    t0 = await recorded_db(db)

    report = await replay([ROOT / "rules"], str(db))
    fired = [(t.rule_id, t.station_id, round(t.started - t0)) for t in report.fired]

    assert fired == [("connector_overheat", "HOT-1", 90),  # 30 s after the first hot reading
                     ("nightly_reset_faulted", None, 1800)]  # 03:00, FLT-1 faulted for 20 min
    overheat, nightly = report.fired
    assert [(a["service"], a["data"].get("kw"), a["result"]["status"]) for a in overheat.actions] == [
        ("set_power_limit", 11, "not sent (replay)"), ("notify", None, "not sent (replay)")]
    assert [(a["service"], a["data"]["station_id"]) for a in nightly.actions] == [("reset", "FLT-1")]


async def test_rules_test_prints_the_runs_that_would_have_fired(tmp_path):
    db = tmp_path / "zaspot.db"
    await recorded_db(db)

    out = zaspot("rules", "test", str(ROOT / "rules" / "connector_overheat.yaml"), "--db", str(db), "--since", "7d")

    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].endswith("connector_overheat  HOT-1  (temperature)")
    assert lines[1] == "    set_power_limit(evse_id=1, connector_id=1, kw=11) -> would send"
    assert lines[2] == "    notify(message=HOT-1 connector 1 at 77.0 °C) -> would send"
    assert "nothing was sent" in lines[3] and lines[4] == "  connector_overheat: 1 done"


async def test_replay_rebuilds_meter_events_from_the_meter_samples_table(tmp_path):
    """Meter samples are stored once (their own table), yet replay still sees them."""
    from zaspot.core.events import Sample

    rule = tmp_path / "big_draw.yaml"
    rule.write_text(
        "- id: big_draw\n  trigger:\n    - platform: meter\n      measurand: Power.Active.Import\n      above: 20000\n"
        "  action:\n    - service: set_power_limit\n      data: {kw: 11}\n"
    )
    db = tmp_path / "zaspot.db"
    store = await Store.open(db)
    t0 = time.time() - 3600
    for i, watts in enumerate((7000.0, 22000.0, 8000.0)):
        await store.meter_samples("DRAW-1", 1, 1, "42", [
            Sample("Power.Active.Import", watts, "W", timestamp=t0 + 60 * i),
            Sample("Energy.Active.Import.Register", 1000.0 * i, "Wh", timestamp=t0 + 60 * i),
        ])
    await store.close()

    report = await replay([rule], str(db))
    assert [(t.rule_id, t.station_id, round(t.started - t0)) for t in report.fired] == [("big_draw", "DRAW-1", 60)]
