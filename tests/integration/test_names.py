"""Station names, sites and notes on a real `zaspot run`: from the config and from
`station/update` (the API and `zaspot station info`), in fleet/list and station/get, in
notifications (a webhook), and the config winning at the next start for what it sets."""

from __future__ import annotations

import asyncio
import os
import sys

import orjson

from tests.helpers import ROOT, ZaspotProcess
from tests.integration.test_notify_webhook import HookServer
from zaspot.api.client import ZaspotClient
from zaspot.sim.station import SimStation

RULE = """\
- id: booted_notify
  trigger:
    - platform: station
      event: booted
  action:
    - service: notify
      data:
        title: "{station_name} at {site}"
        message: "{station_id} booted"
  mode: parallel
"""


async def zaspot_cli(server: ZaspotProcess, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", *args, "--url", f"{server.url}/api/websocket", cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out.decode(), err.decode()


async def fleet(client: ZaspotClient) -> dict[str, dict]:
    return {row["id"]: row for row in await client.command("fleet/list")}


async def test_names_from_the_config_and_the_api_are_shown_next_to_the_id(tmp_path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "booted.yaml").write_text(RULE)
    with HookServer() as hook:
        config = tmp_path / "zaspot.yaml"
        config.write_text(
            f"rules: {tmp_path / 'rules'}\nlog_format: json\n"
            "stations:\n  - id: CP-1\n    name: Lobby left\n    site: Garage P1\n"
            f"notify:\n  - platform: webhook\n    url: {hook.url}/hook\n    retries: 0\n")
        db = tmp_path / "zaspot.db"
        server = ZaspotProcess(db, config=config).start()
        stations = [SimStation("CP-1", f"{server.url}/ocpp", "1.6", meter_interval=60),
                    SimStation("CP-2", f"{server.url}/ocpp", "2.0.1", meter_interval=60)]
        try:
            async with ZaspotClient(f"{server.url}/api/websocket") as client:
                # Named in the config: listed before it ever connected.
                before = (await fleet(client))["CP-1"]
                assert (before["name"], before["site"], before["notes"], before["connected"]) == \
                    ("Lobby left", "Garage P1", "", False)
                for station in stations:
                    await station.start()
                    await station.wait_booted()
                booted = {b["message"]: b for b in [(await hook.anext())["body"] for _ in range(2)]}
                assert booted["Lobby left (CP-1) booted"]["title"] == "Lobby left at Garage P1"
                assert booted["Lobby left (CP-1) booted"]["data"]["station_name"] == "Lobby left"
                assert booted["CP-2 booted"]["title"] == "CP-2 at "

                code, out, err = await zaspot_cli(server, "station", "info", "CP-2", "--name", "Depot 7",
                                                  "--site", "Yard", "--notes", "bay 3, by the gate")
                assert code == 0, err
                lines = out.splitlines()
                assert lines[0] == "CP-2  Depot 7  Yard"
                assert lines[1].startswith("  OCPP 2.0.1, online, 127.0.0.1:")
                assert lines[-1] == "  notes: bay 3, by the gate"
                got = await client.command("station/get", station_id="CP-2")
                assert (got["name"], got["site"], got["notes"]) == ("Depot 7", "Yard", "bay 3, by the gate")
                assert (await fleet(client))["CP-2"]["name"] == "Depot 7"
                updated = await client.command("history/events", event_type="station_updated", station_id="CP-2")
                assert updated[0]["data"]["name"] == "Depot 7"

                assert (await client.command("notify", message="CP-2 door open"))["status"] == "queued"
                body = (await hook.anext())["body"]
                assert body["message"] == "Depot 7 (CP-2) door open" and body["data"]["site"] == "Yard"

                code, out, err = await zaspot_cli(server, "station", "list")
                assert code == 0, err
                assert out.splitlines() == ["CP-1  Lobby left  Garage P1  1.6    online",
                                            "CP-2  Depot 7     Yard       2.0.1  online"]
                code, out, err = await zaspot_cli(server, "station", "info", "NOPE", "--name", "x")
                assert code == 1 and err.startswith("zaspot: not_found: no station 'NOPE'")

                await client.command("station/update", station_id="CP-1", name="Renamed", notes="kept")
                assert (await fleet(client))["CP-1"]["name"] == "Renamed"
        finally:
            for station in stations:
                await station.stop()
            server.stop()
        # At the next start the config wins for what it sets (name, site); notes it leaves alone.
        server = ZaspotProcess(db, config=config).start()
        try:
            async with ZaspotClient(f"{server.url}/api/websocket") as client:
                row = (await fleet(client))["CP-1"]
        finally:
            server.stop()
        assert (row["name"], row["site"], row["notes"]) == ("Lobby left", "Garage P1", "kept")
        # log_format: json in the config: the log is JSON lines, station lines with their id.
        lines = [orjson.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
        assert any(line.get("station_id") == "CP-2" and line["message"].startswith("CP-2 connected") for line in lines)
