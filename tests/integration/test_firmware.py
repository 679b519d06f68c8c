"""Firmware updates end to end, through the operator API, with simulated 1.6 and 2.0.1
stations that really download the file, report each step and boot with the new version:
a rollout over five stations with one failing (stopped on it, then run again with room for
a failure), a refusal of each version, signing fields, a silent station timed out, and a
rollout that resumes after a restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import OcppClient, free_port
from tests.integration.test_files import add_firmware, start_with_files
from zaspot.api.client import ApiError, ZaspotClient
from zaspot.sim.station import SimStation

FLEET = [("FW-1", "1.6", None), ("FW-2", "2.0.1", None), ("FW-3", "1.6", "fail_download"), ("FW-4", "2.0.1", None),
         ("FW-5", "1.6", None)]


async def until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def finished(client: ZaspotClient, rollout_id: int) -> list[dict[str, Any]] | None:
    """The rollout's updates once it is over (not running, none in flight)."""
    [rollout] = [r for r in await client.command("firmware/rollouts") if r["id"] == rollout_id]
    updates = await client.command("firmware/status", rollout_id=rollout_id)
    return updates if rollout["state"] != "running" and rollout["pending"] == 0 else None


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    app = await start_with_files(tmp_path)
    yield app
    await app.stop()


async def sims(app: Any, fleet: list[tuple[str, str, str | None]]) -> list[SimStation]:
    stations = [SimStation(sid, f"{app.url}/ocpp", version, validate=True, reconnect_delay=0.1, meter_interval=600,
                           features={"firmware": knob} if knob else None) for sid, version, knob in fleet]
    for station in stations:
        await station.start()
    for station in stations:
        await station.wait_booted()
    return stations


async def test_a_rollout_over_five_stations_stops_on_a_failure_and_installs_the_rest_when_it_may(app: Any) -> None:
    stations = await sims(app, FLEET)
    await add_firmware(app, "fw-2.1.0.bin", b"image 2.1.0\n" * 1000)
    await add_firmware(app, "fw-3.0.0.bin", b"image 3.0.0\n" * 1000)
    events: list[Any] = []
    app.ctx.bus.listen(["firmware_status", "rollout_changed"], lambda e: events.append(e), inline=True)
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        # One at a time, stop on the first failure: FW-1 and FW-2 install, FW-3 fails, the rest never start.
        first = await client.command("firmware/update", station_ids=[s for s, _, _ in FLEET], firmware="fw-2.1.0.bin",
                                     concurrency=1, max_failures=1)
        updates = await until(lambda: finished(client, first["rollout_id"]))
        assert [(u["station_id"], u["status"]) for u in updates] == [
            ("FW-1", "Installed"), ("FW-2", "Installed"), ("FW-3", "DownloadFailed"), ("FW-4", "skipped"),
            ("FW-5", "skipped")]
        assert "FW-3 failed" in updates[3]["detail"]
        [rollout] = [r for r in await client.command("firmware/rollouts") if r["id"] == first["rollout_id"]]
        assert (rollout["state"], rollout["installed"], rollout["failed"], rollout["skipped"]) == ("stopped", 2, 1, 2)
        assert [s.firmware for s in stations] == ["2.1.0", "2.1.0", "1.0.0", "1.0.0", "1.0.0"]
        fw1 = [e.status for e in events if e.type == "firmware_status" and e.station_id == "FW-1"]
        assert fw1 == ["sent", "Downloading", "Downloaded", "Installing", "Installed"]
        fw2 = [e.status for e in events if e.type == "firmware_status" and e.station_id == "FW-2"]
        assert fw2 == ["sent", "Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]

        # Two at a time, up to two failures: only FW-3 fails, the four others install.
        second = await client.command("firmware/update", station_ids=[s for s, _, _ in FLEET],
                                      firmware="fw-3.0.0.bin", concurrency=2, max_failures=2)
        updates = await until(lambda: finished(client, second["rollout_id"]))
        assert {u["station_id"]: u["status"] for u in updates} == {
            "FW-1": "Installed", "FW-2": "Installed", "FW-3": "DownloadFailed", "FW-4": "Installed", "FW-5": "Installed"}
        assert (await client.command("firmware/rollouts"))[0]["state"] == "done"
        assert [s.firmware for s in stations] == ["3.0.0", "3.0.0", "1.0.0", "3.0.0", "3.0.0"]
        booted = {s["id"]: s["firmware"] for s in await client.command("fleet/list")}
        assert booted["FW-4"] == "3.0.0"  # what it told us in its BootNotification after the install
        rollouts = [(e.rollout_id, e.state) for e in events if e.type == "rollout_changed"]
        assert rollouts == [(1, "running"), (1, "stopped"), (2, "running"), (2, "done")]
    for station in stations:
        await station.stop()


async def test_refusals_of_both_versions_and_an_install_that_fails(app: Any) -> None:
    stations = await sims(app, [("NO-16", "1.6", "reject"), ("NO-201", "2.0.1", "reject"),
                                ("BAD-201", "2.0.1", "fail_install")])
    await add_firmware(app, "fw-9.bin", b"nine")
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        done = await client.command("firmware/update", station_ids=["NO-16", "NO-201", "BAD-201"], firmware="fw-9.bin",
                                    concurrency=3, max_failures=3)
        updates = await until(lambda: finished(client, done["rollout_id"]))
        by_station = {u["station_id"]: u for u in updates}
        assert by_station["NO-16"]["status"] == "rejected" and "CALLERROR" in by_station["NO-16"]["detail"]
        assert (by_station["NO-201"]["status"], by_station["NO-201"]["detail"]) == (
            "rejected", "the station answered Rejected")
        assert by_station["BAD-201"]["status"] == "InstallationFailed"
        with pytest.raises(ApiError) as refused:
            await client.command("firmware/update", station_ids=["NO-16"], firmware="missing.bin")
        assert refused.value.code == "not_found"
    for station in stations:
        await station.stop()


async def test_signing_fields_are_sent_and_a_silent_station_times_out(tmp_path: Path) -> None:
    app = await start_with_files(tmp_path, status_timeout=1)
    try:
        await add_firmware(app, "fw-signed.bin", b"signed")
        quiet = await OcppClient.connect(app.url, "QUIET-201", "2.0.1")
        await quiet.boot()
        async with ZaspotClient(f"{app.url}/api/websocket") as client:
            result = await client.command("firmware/update", station_ids=["QUIET-201"], firmware="fw-signed.bin",
                                          signature="c2lnbmF0dXJl", signing_certificate="-----BEGIN CERTIFICATE-----",
                                          install_at="2030-01-01T02:00:00Z")
            call = await _answer(quiet, "UpdateFirmware", {"status": "Accepted"})
            assert call["requestId"] == result["updates"][0]["id"]
            assert call["firmware"]["signature"] == "c2lnbmF0dXJl"
            assert call["firmware"]["signingCertificate"] == "-----BEGIN CERTIFICATE-----"
            assert call["firmware"]["installDateTime"] == "2030-01-01T02:00:00Z"
            # then not a word from the station
            [update] = await until(lambda: finished(client, result["rollout_id"]))
            assert (update["status"], update["detail"]) == ("timed_out", "no word from the station")
        await quiet.close()
    finally:
        await app.stop()


async def test_a_rollout_resumes_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    app = await _start(tmp_path, port)
    await add_firmware(app, "fw-5.0.bin", b"five")
    manual = await OcppClient.connect(app.url, "MANUAL-16", "1.6")
    await manual.boot()
    [sim] = await sims(app, [("AUTO-201", "2.0.1", None)])
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        rollout = await client.command("firmware/update", station_ids=["MANUAL-16", "AUTO-201"], firmware="fw-5.0.bin",
                                       concurrency=1)
    await _answer(manual, "UpdateFirmware", {})  # sent: AUTO-201 waits its turn
    await manual.close()
    await app.stop()

    app = await _start(tmp_path, port)  # the same database and port: stations find it again
    try:
        manual = await OcppClient.connect(app.url, "MANUAL-16", "1.6")
        await manual.boot()
        assert (await manual.call("FirmwareStatusNotification", {"status": "Installed"}))[0] == 3  # 1.6: no request id
        async with ZaspotClient(f"{app.url}/api/websocket") as client:
            updates = await until(lambda: finished(client, rollout["rollout_id"]))
        assert [(u["station_id"], u["status"]) for u in updates] == [("MANUAL-16", "Installed"), ("AUTO-201", "Installed")]
        assert sim.firmware == "5.0"
        await manual.close()
    finally:
        await sim.stop()
        await app.stop()


async def _start(tmp_path: Path, port: int) -> Any:
    return await start_with_files(tmp_path, ocpp_port=port, port=0)


async def _answer(station: OcppClient, action: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Answer the server's next `action` CALL (others: NotSupported); returns its payload."""
    while True:
        frame = orjson.loads(await asyncio.wait_for(station.ws.recv(), 10))
        if frame[0] != 2:
            continue
        if frame[2] == action:
            await station.ws.send(orjson.dumps([3, frame[1], answer]).decode())
            return frame[3]
        await station.ws.send(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())
