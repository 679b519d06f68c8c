"""Log retrieval end to end: simulated 1.6 (GetDiagnostics, multipart POST) and 2.0.1
(GetLog, PUT) stations upload a log that is kept and listed, `zaspot logs …` fetches and
downloads it; failures and refusals are shown with their reason, and a file that arrives
is the truth whatever the station says."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import ROOT, OcppClient
from tests.integration.test_files import fetch, start_with_files
from zaspot.api.client import ZaspotClient
from zaspot.sim.station import SimStation


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    app = await start_with_files(tmp_path)
    yield app
    await app.stop()


async def until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
    return value


async def cli(app: Any, *args: str, cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", *args, "--url", f"{app.url}/api/websocket", cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode()


async def started(app: Any, *stations: tuple[str, str, dict | None]) -> list[SimStation]:
    sims = [SimStation(sid, f"{app.url}/ocpp", version, validate=True, meter_interval=600, features=knobs)
            for sid, version, knobs in stations]
    for sim in sims:
        await sim.start()
    for sim in sims:
        await sim.wait_booted()
    return sims


async def test_a_log_is_uploaded_kept_and_listed_for_both_versions(app: Any, tmp_path: Path) -> None:
    sims = await started(app, ("LOG-16", "1.6", None), ("LOG-201", "2.0.1", None))
    code, out = await cli(app, "logs", "fetch", "LOG-16", "--wait", cwd=tmp_path)
    assert code == 0, out
    assert out.startswith("log 1  LOG-16  diagnostics  Uploaded  diagnostics-LOG-16-") and "bytes" in out
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        asked = await client.command("logs/fetch", station_id="LOG-201")
        assert asked["status"] in ("Accepted", "Uploading", "Uploaded")
        listed = await until(lambda: _uploaded(client, 2))
    assert [(u["id"], u["station_id"], u["log_type"], u["status"]) for u in listed] == [
        (2, "LOG-201", "diagnostics", "Uploaded"), (1, "LOG-16", "diagnostics", "Uploaded")]
    kept = {}
    for upload, sim in zip(listed, reversed(sims)):
        [sent] = sim.feature_state["logs"]
        assert (upload["filename"], upload["size"]) == (sent["name"], sent["size"])
        kept[upload["id"]] = tmp_path / "files" / "logs" / upload["station_id"] / f"{upload['id']}-{upload['filename']}"
        assert f"{upload['station_id']} Zaspot {sim.model} firmware 1.0.0" in kept[upload["id"]].read_text()
    assert ("GetDiagnostics" in {a for a, _ in sims[0].received}) and ("GetLog" in {a for a, _ in sims[1].received})

    code, out = await cli(app, "logs", "list", cwd=tmp_path)
    assert code == 0 and out.splitlines()[0].split() == ["ID", "STATION", "TYPE", "STATUS", "FILE", "SIZE", "UPDATED",
                                                         "DETAIL"]
    assert "LOG-201  diagnostics  Uploaded" in out.splitlines()[1]
    code, out = await cli(app, "logs", "get", "2", "-o", "got.log", cwd=tmp_path)
    assert code == 0 and out.strip() == f"saved got.log ({listed[0]['size']} bytes)"
    assert (tmp_path / "got.log").read_bytes() == kept[2].read_bytes()
    for sim in sims:
        await sim.stop()


async def _uploaded(client: ZaspotClient, count: int) -> list[dict[str, Any]] | None:
    uploads = await client.command("logs/list")
    return uploads if len(uploads) == count and all(u["status"] == "Uploaded" for u in uploads) else None


async def test_failures_and_refusals_are_shown_with_their_reason(app: Any, tmp_path: Path) -> None:
    sims = await started(app, ("FAIL-16", "1.6", {"logs": "fail"}), ("FAIL-201", "2.0.1", {"logs": "fail"}),
                         ("NO-16", "1.6", {"logs": "reject"}), ("NO-201", "2.0.1", {"logs": "reject"}),
                         ("SEC-16", "1.6", None))
    code, out = await cli(app, "logs", "fetch", "NO-16", "--wait", cwd=tmp_path)
    assert (code, out.strip()) == (1, "log 1  NO-16  diagnostics  Rejected  (the station has no diagnostics to upload)")
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        refused = await client.command("logs/fetch", station_id="NO-201")
        assert (refused["status"], refused["detail"]) == ("Rejected", "the station refused")
        for station_id in ("FAIL-16", "FAIL-201"):
            await client.command("logs/fetch", station_id=station_id)
        security = await client.command("logs/fetch", station_id="SEC-16", log_type="security")

        async def settled() -> dict[str, Any] | None:
            rows = {u["station_id"]: u for u in await client.command("logs/list")}
            done = rows["FAIL-16"]["status"] != "Uploading" and rows["FAIL-201"]["status"] != "Uploading"
            return rows if done and rows["SEC-16"]["status"] == "Uploaded" else None

        rows = await until(settled)
    assert rows["FAIL-16"]["status"] == "UploadFailed" and rows["FAIL-201"]["status"] == "UploadFailure"
    assert rows["SEC-16"]["id"] == security["id"] and rows["SEC-16"]["filename"].startswith("security-SEC-16-")
    get_log = [p for a, p in sims[4].received if a == "GetLog"]
    assert get_log[0]["logType"] == "SecurityLog"  # 1.6's security log: the security extension's GetLog
    for sim in sims:
        await sim.stop()


async def test_a_file_that_arrives_is_the_truth(app: Any) -> None:
    station = await OcppClient.connect(app.url, "TRUTH-201", "2.0.1")
    await station.boot()
    fibber = await OcppClient.connect(app.url, "FIB-16", "1.6")
    await fibber.boot()
    # It uploads, then says the upload failed: the file is here, so it is Uploaded.
    task = asyncio.create_task(app.ctx.logs.fetch("TRUTH-201"))
    call = await _answer(station, "GetLog", {"status": "Accepted", "filename": "t.log"})
    await task
    status, _, _ = await fetch(call["log"]["remoteLocation"] + "/t.log", "PUT", b"the log\n")
    assert status == 200
    await station.call("LogStatusNotification", {"status": "UploadFailure", "requestId": call["requestId"]})
    # It says Uploaded, and nothing came.
    task = asyncio.create_task(app.ctx.logs.fetch("FIB-16"))
    await _answer(fibber, "GetDiagnostics", {"fileName": "f.log"})
    await task
    await fibber.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
    rows = {u["station_id"]: u for u in await app.ctx.logs.list()}
    assert (rows["TRUTH-201"]["status"], rows["TRUTH-201"]["size"]) == ("Uploaded", 8)
    assert (rows["FIB-16"]["status"], rows["FIB-16"]["detail"]) == (
        "UploadFailed", "the station says Uploaded, but no file reached zaspot")
    await station.close()
    await fibber.close()


async def _answer(station: OcppClient, action: str, answer: dict[str, Any]) -> dict[str, Any]:
    while True:
        frame = orjson.loads(await asyncio.wait_for(station.ws.recv(), 10))
        if frame[0] == 2 and frame[2] == action:
            await station.ws.send(orjson.dumps([3, frame[1], answer]).decode())
            return frame[3]
        if frame[0] == 2:
            await station.ws.send(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())
