"""`zaspot firmware …` as a user runs it: add a file (uploaded to the server's file endpoint),
list it, update stations with --wait (progress per station, exit 0 when all installed and 1
when not), then status and rollouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_files import start_with_files
from tests.integration.test_logs import cli, started


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    app = await start_with_files(tmp_path)
    yield app
    await app.stop()


async def test_firmware_add_list_update_and_status_through_the_cli(app: Any, tmp_path: Path) -> None:
    sims = await started(app, ("CLI-16", "1.6", None), ("CLI-201", "2.0.1", None),
                         ("SAD-201", "2.0.1", {"firmware": "fail_install"}))
    (tmp_path / "fw-4.2.0.bin").write_bytes(b"firmware 4.2.0\n" * 64)
    code, out = await cli(app, "firmware", "add", "fw-4.2.0.bin", cwd=tmp_path)
    assert (code, out.split()[:3]) == (0, ["fw-4.2.0.bin", "960", "bytes"]), out
    code, out = await cli(app, "firmware", "list", cwd=tmp_path)
    assert code == 0 and out.splitlines()[1].startswith("fw-4.2.0.bin  960  ")

    code, out = await cli(app, "firmware", "update", "CLI-16", "CLI-201", "--file", "fw-4.2.0.bin",
                          "--concurrency", "1", "--wait", cwd=tmp_path)
    assert code == 0, out
    assert out.splitlines() == [
        "rollout 1: fw-4.2.0.bin to 2 stations, 1 at a time, stopping after 1 failure",
        "CLI-16  sent", "CLI-16  Downloading", "CLI-16  Downloaded", "CLI-16  Installing", "CLI-16  Installed",
        "CLI-201  sent", "CLI-201  Downloading", "CLI-201  Downloaded", "CLI-201  Installing",
        "CLI-201  InstallRebooting", "CLI-201  Installed",
        "rollout 1 done: 2 installed"]
    assert [s.firmware for s in sims[:2]] == ["4.2.0", "4.2.0"]

    code, out = await cli(app, "firmware", "update", "SAD-201", "--file", "fw-4.2.0.bin", "--wait", cwd=tmp_path)
    assert code == 1 and out.splitlines()[-2:] == ["SAD-201  InstallationFailed", "rollout 2 stopped: 0 installed, 1 failed"]
    code, out = await cli(app, "firmware", "update", "NOBODY", "--file", "fw-4.2.0.bin", cwd=tmp_path)
    assert (code, out.strip()) == (1, "zaspot: not_found: no station 'NOBODY'")

    code, out = await cli(app, "firmware", "status", "--rollout", "1", cwd=tmp_path)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["ID", "STATION", "ROLLOUT", "FIRMWARE", "STATUS", "UPDATED", "DETAIL"]
    assert [line.split()[1:5] for line in lines[1:]] == [["CLI-16", "1", "fw-4.2.0.bin", "Installed"],
                                                        ["CLI-201", "1", "fw-4.2.0.bin", "Installed"]]
    code, out = await cli(app, "firmware", "rollouts", cwd=tmp_path)
    assert code == 0 and [line.split()[:8] for line in out.splitlines()[1:]] == [
        ["2", "fw-4.2.0.bin", "stopped", "1", "0", "1", "0", "0"], ["1", "fw-4.2.0.bin", "done", "2", "2", "0", "0", "0"]]
    for sim in sims:
        await sim.stop()
