"""Clients find their server: `zaspot api|call|events|tui` take --url, else -c FILE, else
$ZASPOT_URL, else the host and port of ./zaspot.yaml; and the TUI's top line says when every
rule is off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from tests.helpers import OcppClient, free_port, start_app
from tests.ops.shell import zaspot, zaspot_async
from zaspot.tui.app import ZaspotTui


@pytest.fixture
async def server(tmp_path: Path):
    app = await start_app(tmp_path)  # no rules folder there: every rule is off
    app.api_url = f"{app.url}/api/websocket"
    yield app
    await app.stop()


def beside(folder: Path, port: int, tls: str = "") -> Path:
    """A folder with the server's zaspot.yaml in it, as an operator's shell on that box has."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zaspot.yaml").write_text(f"host: 0.0.0.0\nport: {port}\n{tls}")
    return folder


async def test_the_url_from_zaspot_yaml_here_or_from_zaspot_url(server, tmp_path: Path) -> None:
    here = beside(tmp_path / "box", server.server.port)
    listing = await asyncio.to_thread(zaspot, "api", "fleet/list", cwd=here)  # no --url, no ZASPOT_URL
    assert (listing.returncode, listing.stderr) == (0, "")
    assert orjson.loads(listing.stdout) == []
    called = await asyncio.to_thread(zaspot, "call", "CP-NOWHERE", "reset", cwd=here)
    assert called.returncode == 1 and called.stderr.startswith("zaspot: not_connected: ")  # it reached the server

    events = asyncio.create_task(zaspot_async("events", "--count", "1", "--type", "station_booted", cwd=here))
    station = None
    try:
        for _ in range(200):  # the subscription is in place once a boot is heard; until then, boot again
            station = station or await OcppClient.connect(server.url, "CP-URL")
            await station.boot()
            done, _ = await asyncio.wait([events], timeout=0.1)
            if done:
                break
        code, out, err = await events
    finally:
        if station:
            await station.close()
    assert (code, err) == (0, "")
    assert orjson.loads(out)["station_id"] == "CP-URL"

    empty = tmp_path / "elsewhere"
    empty.mkdir()
    by_env = await asyncio.to_thread(zaspot, "api", "fleet/list", cwd=empty, ZASPOT_URL=server.api_url)
    assert by_env.returncode == 0 and [row["id"] for row in orjson.loads(by_env.stdout)] == ["CP-URL"]
    named = await asyncio.to_thread(zaspot, "api", "fleet/list", "-c", str(here / "zaspot.yaml"), cwd=empty,
                                    ZASPOT_URL="ws://127.0.0.1:1/api/websocket")  # -c is the command line: it wins
    assert named.returncode == 0, named.stderr


async def test_what_wins_and_what_cannot_say(server, tmp_path: Path) -> None:
    nowhere = f"ws://127.0.0.1:{free_port()}/api/websocket"
    here = beside(tmp_path / "box", free_port())  # a zaspot.yaml for another server
    flag = await asyncio.to_thread(zaspot, "api", "fleet/list", "--url", server.api_url, cwd=here, ZASPOT_URL=nowhere)
    assert flag.returncode == 0, flag.stderr
    env_first = await asyncio.to_thread(zaspot, "api", "fleet/list", cwd=here, ZASPOT_URL=server.api_url)
    assert env_first.returncode == 0, env_first.stderr  # $ZASPOT_URL before ./zaspot.yaml
    missed = await asyncio.to_thread(zaspot, "api", "fleet/list", cwd=here)
    port = (here / "zaspot.yaml").read_text().split("port: ")[1].split()[0]
    assert missed.returncode == 1
    assert missed.stderr.startswith(f"zaspot: cannot reach ws://127.0.0.1:{port}/api/websocket: ")

    (here / "zaspot.yaml").write_text("port: 0\n")
    zero = await asyncio.to_thread(zaspot, "api", "fleet/list", cwd=here)
    assert (zero.returncode, zero.stderr) == (1, ("zaspot: zaspot.yaml: port 0 (any free port) says nowhere to connect: "
                                                  "give --url\n"))
    (here / "zaspot.yaml").write_text("port: 9443\ntls:\n  cert: a.pem\n  key: a.key\n")
    from zaspot.api.shell import api_url
    from zaspot.config import load

    assert api_url(load(here / "zaspot.yaml")) == "wss://127.0.0.1:9443/api/websocket"


def test_zaspot_tui_finds_its_server_the_same_way(tmp_path: Path, monkeypatch) -> None:
    from zaspot.cli import main

    opened: list[str] = []
    monkeypatch.setattr(ZaspotTui, "run", lambda self, *a, **kw: opened.append(self.url))
    monkeypatch.delenv("ZASPOT_URL", raising=False)
    monkeypatch.chdir(beside(tmp_path, 9123))
    assert main(["tui"]) == 0
    monkeypatch.setenv("ZASPOT_URL", "ws://10.0.0.5:9000/api/websocket")
    assert main(["tui"]) == 0
    assert main(["tui", "--url", "ws://[::1]:9001/api/websocket"]) == 0
    assert opened == ["ws://127.0.0.1:9123/api/websocket", "ws://10.0.0.5:9000/api/websocket",
                      "ws://[::1]:9001/api/websocket"]


async def test_the_tui_header_says_every_rule_is_off(server, tmp_path: Path) -> None:
    async def banner_text() -> str:
        app = ZaspotTui(server.api_url)
        async with app.run_test(size=(160, 40)) as pilot:
            banner = app.query_one("#banner")
            for _ in range(400):
                if "stations" in str(banner.render()):
                    break
                await pilot.pause(0.05)
            return str(banner.render())

    shown = await banner_text()
    assert f"⚠ rules folder {tmp_path / 'rules'} does not exist: every rule is off" in shown
    (tmp_path / "rules").mkdir()
    assert "every rule is off" not in await banner_text()  # the server sees the folder made; so does the TUI
