"""One browser session of `zaspot tui --web`: the token screen, then the same TUI.

textual-serve runs `python -m zaspot.tui.login URL` for each browser that opens the page. The
command line holds the API URL only and the server drops $ZASPOT_TOKEN from the environment it
hands on (zaspot/tui/web.py), so whoever reaches the page must know a token: the session asks
for it and checks it against the API (`auth`), as `zaspot tui --token` would. A zaspot that takes
local clients without a token (none created yet) gets no token screen, as the terminal TUI needs
no --token there.
"""

from __future__ import annotations

import asyncio
import sys

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label
from websockets.exceptions import WebSocketException

from zaspot.api.client import ApiError, AuthError, ZaspotClient
from zaspot.tui.app import ZaspotTui
from zaspot.tui.fleet_table import FleetTable

PROBE_TIMEOUT = 10.0


class Refused(Exception):
    """zaspot answered and said no to this token (its reason is the message)."""


async def check_token(url: str, token: str | None) -> None:
    """Connect and authenticate once. Refused: zaspot said no; OSError: it cannot be reached."""
    client = ZaspotClient(url, token)
    try:
        await asyncio.wait_for(client.connect(), PROBE_TIMEOUT)
    except AuthError as exc:
        raise Refused(exc.message) from None
    except ApiError as exc:
        raise OSError(f"{exc.code}: {exc.message}") from None
    except (TimeoutError, WebSocketException) as exc:
        raise OSError(str(exc) or "no answer") from None
    finally:
        await client.close()


class TokenGate:
    """The session's token, once it has one: the feed's connections wait here."""

    def __init__(self) -> None:
        self._opened = asyncio.Event()
        self.token: str | None = None

    def open(self, token: str | None) -> None:
        self.token = token
        self._opened.set()

    async def wait(self) -> str | None:
        await self._opened.wait()
        return self.token


class GatedClient(ZaspotClient):
    """A ZaspotClient that connects only once the session has passed the token screen."""

    def __init__(self, url: str, gate: TokenGate) -> None:
        super().__init__(url)
        self.gate = gate

    async def connect(self) -> ZaspotClient:
        self.token = await self.gate.wait()
        return await super().connect()


class TokenScreen(Screen[str | None]):
    """Asks for an API token until zaspot accepts one; dismissed with it."""

    def __init__(self, url: str, note: str = "") -> None:
        super().__init__(id="token-screen")
        self.url, self.note = url, note

    def compose(self) -> ComposeResult:
        with Vertical(id="token-box"):
            yield Label(f"[b]zaspot[/b] at {escape(self.url)}")
            yield Label("This zaspot needs an API token (create one on its machine with "
                        "`zaspot token create NAME`).")
            yield Input(placeholder="API token, then enter", password=True, id="token")
            yield Label(escape(self.note), id="token-error")

    @on(Input.Submitted, "#token")
    async def try_token(self, event: Input.Submitted) -> None:
        token = event.value.strip() or None  # empty: a zaspot with no tokens may take us without one
        error = self.query_one("#token-error", Label)
        event.input.disabled = True
        error.update("checking…")
        try:
            await check_token(self.url, token)
        except Refused as exc:
            error.update(f"zaspot refused this token: {escape(str(exc))}." if token else escape(str(exc)))
            event.input.value = ""
        except OSError as exc:  # the token may be fine: keep it for the next enter
            error.update(f"cannot reach zaspot at {escape(self.url)}: {escape(str(exc))}. Enter tries again.")
        else:
            self.dismiss(token)
            return
        event.input.disabled = False
        event.input.focus()


class WebTui(ZaspotTui):
    """The TUI whose feed waits for the token screen (or for zaspot to say none is needed)."""

    CSS = """
    #token-screen { align: center middle; }
    #token-box { width: 76; max-width: 100%; height: auto; border: round $accent; padding: 1 2; }
    #token-box Label { width: 100%; margin-bottom: 1; }
    #token-error { color: $error; }
    """

    def __init__(self, url: str) -> None:
        self.gate = TokenGate()
        super().__init__(url, make_client=lambda: GatedClient(url, self.gate))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before the token is in, the app's keys do nothing but quit (no fleet to act on yet)."""
        if isinstance(self.screen, TokenScreen):
            return action in ("quit", "help_quit")
        return super().check_action(action, parameters)

    def on_mount(self) -> None:  # Textual runs ZaspotTui.on_mount (the feed, waiting at the gate) after it
        self.run_worker(self.log_in(), name="login", group="login")

    async def log_in(self) -> None:
        try:
            await check_token(self.url, None)
        except Refused:
            note = ""
        except OSError as exc:  # down for now: a token cannot be checked, so ask for it anyway
            note = f"cannot reach zaspot at {self.url} yet ({exc})."
        else:
            self.gate.open(None)  # this zaspot takes local clients without a token
            return
        self.gate.open(await self.push_screen_wait(TokenScreen(self.url, note)))
        self.query_one(FleetTable).focus()  # the keys are the fleet's, as in the terminal


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m zaspot.tui.login API_URL (zaspot tui --web runs it)", file=sys.stderr)
        return 2
    WebTui(argv[0]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
