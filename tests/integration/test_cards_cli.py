"""`zaspot cards …` as an operator types it, against a running zaspot: add, block, list,
a CSV import that reports its bad rows by line and imports nothing, an export that gives
the same file back, local lists and ClearCache for both versions."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.helpers import ROOT
from tests.integration.test_cards import station, until
from zaspot.sim.cards import local_list


async def zaspot(app, *args: str, cwd: Path) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZASPOT_URL=f"{app.url}/api/websocket")
    env.pop("ZASPOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", "cards", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_cards_from_the_shell_and_a_csv_round_trip(app, tmp_path):
    code, out, _ = await zaspot(app, "add", "04A1B2C3", "--driver", "Eva Novak", "--group", "FLEET",
                                "--expiry", "2030-06-30", cwd=tmp_path)
    assert (code, out) == (0, "04A1B2C3  Accepted  expires 2030-06-30  group FLEET  Eva Novak\n")
    code, out, _ = await zaspot(app, "block", "04A1B2C3", cwd=tmp_path)
    assert out == "04A1B2C3  Blocked  expires 2030-06-30  group FLEET  Eva Novak\n"

    bad = tmp_path / "drivers.csv"
    bad.write_text("id_token,status,expiry,group,driver,note\n"
                   "AB12,accepted,,FLEET,Jan Kral,\n"
                   "CD34,sometimes,,,,\n"
                   "EF56,blocked,31.12.2030,,,lost\n")
    code, out, err = await zaspot(app, "import", "drivers.csv", cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.splitlines() == ["drivers.csv:3: status must be accepted, blocked or expired, not 'sometimes'",
                                "drivers.csv:4: expiry must be a date (YYYY-MM-DD) or an ISO 8601 time, not '31.12.2030'"]
    assert [c["id_token"] for c in await _cards(app)] == ["04A1B2C3"]  # nothing of it imported

    bad.write_text(bad.read_text().replace("sometimes", "Expired").replace("31.12.2030", "2030-12-31"))
    code, out, _ = await zaspot(app, "import", "drivers.csv", cwd=tmp_path)
    assert (code, out) == (0, "drivers.csv: 3 added, 0 updated\n")
    code, out, _ = await zaspot(app, "list", "--status", "BLOCKED", cwd=tmp_path)
    assert out.splitlines() == [
        "ID TOKEN  STATUS   EXPIRES     GROUP  DRIVER     NOTE",
        "04A1B2C3  Blocked  2030-06-30  FLEET  Eva Novak",
        "EF56      Blocked  2030-12-31  -      -          lost"]

    code, out, _ = await zaspot(app, "export", "all.csv", cwd=tmp_path)
    assert (code, out) == (0, "exported 4 cards to all.csv\n")
    exported = (tmp_path / "all.csv").read_text()
    code, out, _ = await zaspot(app, "export", cwd=tmp_path)
    assert out == exported and exported.splitlines()[0] == "id_token,status,expiry,group,driver,note"
    assert "EF56,Blocked,2030-12-31T00:00:00Z,,,lost" in exported.splitlines()
    code, out, _ = await zaspot(app, "import", "all.csv", cwd=tmp_path)  # the round trip changes nothing
    assert out == "all.csv: 0 added, 4 updated\n"
    code, out, _ = await zaspot(app, "export", cwd=tmp_path)
    assert out == exported

    code, _, err = await zaspot(app, "unblock", "NOPE", cwd=tmp_path)
    assert (code, err) == (1, "zaspot: not_found: no card 'NOPE'\n")
    code, _, err = await zaspot(app, "add", "XY", "--status", "maybe", cwd=tmp_path)
    assert (code, err) == (1, "zaspot: invalid_format: status must be accepted, blocked or expired, not 'maybe'\n")


async def _cards(app) -> list[dict]:
    return [c.to_dict() for c in app.ctx.cards.book.list()]


async def test_local_lists_and_clear_cache_from_the_shell(app, tmp_path):
    await zaspot(app, "add", "04A1B2C3", cwd=tmp_path)
    old = await station(app.url, "CP-1", "1.6")
    new = await station(app.url, "CP-2", "2.0.1", features={"local_list": False})
    try:
        await until(lambda: local_list(old)["version"] == 1)
        await until(lambda: app.ctx.cards.lists.states["CP-2"].supported is False)
        code, out, _ = await zaspot(app, "sync", cwd=tmp_path)
        assert (code, out.splitlines()) == (0, ["CP-1  version 1  in step",
                                                "CP-2  no local list (the station does not support one)"])
        code, out, _ = await zaspot(app, "lists", cwd=tmp_path)
        lines = out.splitlines()
        assert lines[0].split() == ["STATION", "VERSION", "LOCAL", "LIST", "SYNCED", "ERROR"]
        assert lines[1].split()[:3] == ["CP-1", "1", "yes"]
        assert lines[2].split()[:3] == ["CP-2", "-", "no"] and lines[2].endswith("no local authorization list")
        for st in (old, new):
            code, out, _ = await zaspot(app, "clear-cache", st.station_id, cwd=tmp_path)
            assert (code, out) == (0, f"{st.station_id}: Accepted\n") and st.feature_state["cache_cleared"] == 1
        code, out, _ = await zaspot(app, "mode", cwd=tmp_path)
        assert out.startswith("authorization: open (every card that is not blocked or expired is accepted")
    finally:
        await old.stop()
        await new.stop()
