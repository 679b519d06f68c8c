"""The log of a real `zaspot run` names every station with its version and address, in
text lines and in JSON lines (`--log-format json`); websockets' own lines stay out."""

from __future__ import annotations

import asyncio
import base64
import re
import subprocess
import sys
import time

import orjson
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.helpers import ROOT, OcppClient, ZaspotProcess
from zaspot.sim.station import SimStation


def set_password(db, station_id: str, password: str) -> None:
    subprocess.run([sys.executable, "-m", "zaspot", "station", "password", station_id, "--db", str(db),
                    "--password", password], check=True, cwd=ROOT)


async def wait_for_line(server: ZaspotProcess, pattern: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.log.read_text().splitlines():
            if re.search(pattern, line):
                return line
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log line matches {pattern!r}:\n{server.log.read_text()}")


async def refused_with_wrong_password(url: str, station_id: str) -> None:
    auth = base64.b64encode(f"{station_id}:not-the-password".encode()).decode()
    with pytest.raises(InvalidStatus):
        await websockets.connect(f"{url}/ocpp/{station_id}", subprotocols=["ocpp1.6"],
                                 additional_headers={"Authorization": f"Basic {auth}"})


async def test_every_line_about_a_station_names_it_with_its_version_and_address(tmp_path) -> None:
    db = tmp_path / "zaspot.db"
    set_password(db, "LOCKED-1", "the right one")
    server = ZaspotProcess(db).start()
    cp1 = SimStation("CP-1", f"{server.url}/ocpp", "1.6", vendor="Autel", model="MaxiCharger", firmware="1.2.3",
                     meter_interval=60)
    cp2 = SimStation("CP-2", f"{server.url}/ocpp", "2.0.1", vendor="Kempower", model="S-Series", firmware="4.1",
                     meter_interval=60)
    try:
        for station in (cp1, cp2):
            await station.start()
            await station.wait_booted()
        await cp1.stop()
        gone = await OcppClient.connect(server.url, "GONE-1", "2.0.1")
        await gone.boot()
        gone.ws.transport.abort()  # no close frame: 1006
        await refused_with_wrong_password(server.url, "LOCKED-1")
        first = await OcppClient.connect(server.url, "TWIN", "1.6")
        second = await OcppClient.connect(server.url, "TWIN", "1.6")
        with pytest.raises(InvalidStatus):
            await websockets.connect(f"{server.url}/ocpp/a%20b", subprotocols=["ocpp1.6"])
        await wait_for_line(server, r"CP-1 disconnected")
        await wait_for_line(server, r"GONE-1 disconnected")
        await wait_for_line(server, r"TWIN replaced")
        for client in (first, second):
            await client.close()
    finally:
        await cp2.stop()
        server.stop()
    log = server.log.read_text()
    for pattern in (
        r"INFO zaspot\.ocpp\.station: CP-1 connected \(1\.6, 127\.0\.0\.1\)$",
        r"CP-1 booted: Autel MaxiCharger fw 1\.2\.3 \(1\.6, 127\.0\.0\.1\)$",
        r"CP-1 disconnected \(1\.6, 127\.0\.0\.1, code 1000\)$",
        r"CP-2 connected \(2\.0\.1, 127\.0\.0\.1\)$",
        r"CP-2 booted: Kempower S-Series fw 4\.1 \(2\.0\.1, 127\.0\.0\.1\)$",
        r"GONE-1 disconnected \(2\.0\.1, 127\.0\.0\.1, code 1006\)$",
        r"WARNING zaspot\.ocpp\.security: LOCKED-1 refused: wrong password \(127\.0\.0\.1\)$",
        r"TWIN replaced: connection \d+ takes over from \d+ \(1\.6, 127\.0\.0\.1\)$",
        r"\? refused: no station id in the path '/ocpp/a%20b' \(127\.0\.0\.1\)$",
    ):
        assert re.search(pattern, log, re.MULTILINE), f"no line matches {pattern!r}:\n{log}"
    # websockets' own lines name no station: they are not in the log.
    assert "connection open" not in log and "connection rejected" not in log and "connection closed" not in log


async def test_json_lines_carry_the_station_id_version_and_address(tmp_path) -> None:
    db = tmp_path / "zaspot.db"
    set_password(db, "LOCKED-2", "the right one")
    server = ZaspotProcess(db, "--log-format", "json").start()
    station = SimStation("CP-2", f"{server.url}/ocpp", "2.0.1", meter_interval=60)
    try:
        await station.start()
        await station.wait_booted()
        await refused_with_wrong_password(server.url, "LOCKED-2")
        await wait_for_line(server, r"LOCKED-2 refused")
    finally:
        await station.stop()
        server.stop()
    lines = [orjson.loads(line) for line in server.log.read_text().splitlines() if line.strip()]  # every line parses
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    by_message = {line["message"]: line for line in lines}
    connected = by_message["CP-2 connected (2.0.1, 127.0.0.1)"]
    assert (connected["station_id"], connected["version"], connected["remote"]) == ("CP-2", "2.0.1", "127.0.0.1")
    assert connected["level"] == "INFO" and connected["logger"] == "zaspot.ocpp.station"
    booted = next(line for line in lines if line["message"].startswith("CP-2 booted: "))
    assert booted["station_id"] == "CP-2"
    refused = by_message["LOCKED-2 refused: wrong password (127.0.0.1)"]
    assert (refused["station_id"], refused["remote"], refused["level"]) == ("LOCKED-2", "127.0.0.1", "WARNING")
    assert any(line["message"].startswith("zaspot listening on ") for line in lines)
