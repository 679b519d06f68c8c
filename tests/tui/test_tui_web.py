"""`zaspot tui --web`: the TUI as a web page, opened in headless Chromium (Debian's, through
Playwright) against a real `zaspot run` with simulated stations, and the token rules around it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.browser import CHROMIUM_ARGS, chromium
from tests.helpers import ROOT, ZaspotProcess, free_port, start_app
from zaspot.api.client import ZaspotClient
from zaspot.sim import SimStation
from zaspot.tui.fleet_table import FleetTable
from zaspot.tui.login import TokenScreen, WebTui

# The page draws the terminal on a canvas, so the text is read where it arrives: every binary
# WebSocket message (what the TUI writes) is decoded into window.__screen.
TAP_SCREEN = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__screen += decoder.decode(new Uint8Array(e.data), {stream: true});
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    """Poll `check` until it holds; `limit` only stops a broken test hanging."""
    end = time.monotonic() + limit
    while not await check():
        if time.monotonic() > end:
            raise AssertionError(f"never saw: {what}")
        await asyncio.sleep(0.05)


def create_token(db: Path, name: str) -> str:
    done = subprocess.run([sys.executable, "-m", "zaspot", "token", "create", name, "--db", str(db)],
                          capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return done.stdout.strip()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the shell textual-serve starts for a session, and the TUI in it)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def proc_bytes(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:
        return b""


class WebTuiProcess:
    """`python -m zaspot tui --web` on a free port, with $ZASPOT_TOKEN set (it must not pass it on)."""

    def __init__(self, tmp_path: Path, api_url: str, token: str) -> None:
        self.port = free_port()
        self.log = tmp_path / "web.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT), ZASPOT_TOKEN=token)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "zaspot", "tui", "--web", "--port", str(self.port),
                                          "--url", api_url], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
        self.url = f"http://127.0.0.1:{self.port}/"

    async def serving(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"zaspot tui --web exited with {self.proc.returncode}:\n{self.log.read_text()}")
        try:
            status = await asyncio.to_thread(lambda: urllib.request.urlopen(self.url, timeout=2).status)
        except (OSError, urllib.error.URLError):
            return False
        return status == 200

    def stop(self) -> None:
        print(self.log.read_text(errors="replace"))  # pytest shows it when the test fails: the sessions' errors too
        sessions = descendants(self.proc.pid)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in sessions:  # a session still running after its server stopped: ours, so end it
            try:
                os.kill(pid, 9)
            except OSError:
                pass


async def screen_text(page) -> str:
    return ESCAPES.sub("", await page.evaluate("window.__screen"))


async def test_the_tui_in_a_browser_asks_for_the_token_shows_the_fleet_and_resets_a_station(tmp_path):
    from playwright.async_api import async_playwright

    executable = chromium()
    db = tmp_path / "zaspot.db"
    token = create_token(db, "web-test")
    server = ZaspotProcess(db).start()
    api_url = server.url + "/api/websocket"
    stations = [SimStation("WEB-1", server.url + "/ocpp", protocol="1.6"),
                SimStation("WEB-2", server.url + "/ocpp", protocol="2.0.1")]
    web = WebTuiProcess(tmp_path, api_url, token)
    try:
        for st in stations:
            await st.start()
        await asyncio.gather(*(st.wait_booted() for st in stations))
        await until(web.serving, "the page served")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 800})
                # the page also asks a font host; there is no network here, so only this machine answers
                await page.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
                await page.add_init_script(TAP_SCREEN)
                await page.goto(web.url)

                async def shows(*texts: str) -> bool:
                    screen = await screen_text(page)
                    return all(text in screen for text in texts)

                await until(lambda: shows("This zaspot needs an API token"), "the token screen")
                assert not await shows("WEB-1"), "the fleet before the token"
                await page.click("#terminal")  # the keys go to the terminal
                await page.keyboard.type("not-the-token")
                await page.keyboard.press("Enter")
                await until(lambda: shows("zaspot refused this token: invalid or revoked access token"),
                            "a wrong token refused")
                assert not await shows("WEB-1")

                # The session runs as a process of its own: neither its command line nor its
                # environment holds the token (the server was started with $ZASPOT_TOKEN).
                sessions = descendants(web.proc.pid)
                assert any(b"zaspot.tui.login" in proc_bytes(pid, "cmdline") for pid in sessions), sessions
                leaked = [pid for pid in sessions
                          if token.encode() in proc_bytes(pid, "cmdline") + proc_bytes(pid, "environ")]
                assert not leaked, f"the token is in the command line or environment of processes {leaked}"

                await page.keyboard.type(token)
                await page.keyboard.press("Enter")
                await until(lambda: shows("WEB-1", "WEB-2"), "the fleet table")

                await page.keyboard.press("r")  # soft reset of the row in focus: WEB-1, the first
                await until(lambda: shows("Soft reset on WEB-1"), "the reset's confirmation")
                await page.keyboard.press("Enter")

                async with ZaspotClient(api_url, token) as client:
                    async def reset_recorded() -> bool:
                        rows = await client.command("history/commands", station_id="WEB-1")
                        return any(r["action"] == "Reset" for r in rows)

                    await until(reset_recorded, "the reset in history/commands")
                    [reset] = [r for r in await client.command("history/commands", station_id="WEB-1")
                               if r["action"] == "Reset"]
                assert reset["payload"] == {"type": "Soft"} and reset["status"] == "Accepted"
                assert reset["source"] == "operator:web-test"  # sent with the token typed into the page
            finally:
                await browser.close()

        async def session_ended() -> bool:  # the tab is gone: its TUI process goes too
            return not any(b"zaspot.tui.login" in proc_bytes(pid, "cmdline") for pid in descendants(web.proc.pid))

        await until(session_ended, "the session's process ended with its tab")
    finally:
        web.stop()
        await asyncio.gather(*(st.stop() for st in stations))
        server.stop()


async def test_a_zaspot_without_tokens_gets_no_token_screen(tmp_path):
    app = await start_app(tmp_path)
    station = SimStation("OPEN-1", app.url + "/ocpp", protocol="2.0.1")
    try:
        await station.start()
        await station.wait_booted()
        tui = WebTui(app.url + "/api/websocket")
        async with tui.run_test(size=(120, 32)) as pilot:
            async def listed() -> bool:
                await pilot.pause(0)
                return "OPEN-1" in tui.query_one(FleetTable)._shown

            await until(listed, "OPEN-1 in the fleet table")
            assert not any(isinstance(s, TokenScreen) for s in tui.screen_stack)
    finally:
        await station.stop()
        await app.stop()


async def run_zaspot(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, (out + err).decode()


async def test_the_page_is_not_opened_to_the_network_for_a_zaspot_that_takes_anyone(tmp_path):
    app = await start_app(tmp_path)  # no token created: local clients need none
    try:
        code, text = await run_zaspot("tui", "--web", "--host", "0.0.0.0", "--port", str(free_port()),
                                      "--url", app.url + "/api/websocket")
    finally:
        await app.stop()
    assert code == 1, text
    assert "anyone reaching 0.0.0.0" in text and "zaspot token create NAME" in text, text

    code, text = await run_zaspot("tui", "--port", "8080", "--url", "ws://127.0.0.1:1/api/websocket")
    assert code == 2 and "--host, --port and --public-url are for --web" in text, text
