"""`zaspot tui --web`: the same TUI as a web page, through textual-serve.

Each browser that opens the page gets its own `python -m zaspot.tui.login URL` process
(zaspot/tui/login.py) against the API URL this command resolved. No token is handed on: not on
that command line (any user of the machine can read it), not in its environment (textual-serve
passes its own on, so $ZASPOT_TOKEN is dropped first). Each session asks for a token and checks
it with zaspot. The page listens on 127.0.0.1 unless told otherwise; a reverse proxy with TLS
is the way to reach it from elsewhere (README, "The TUI in a browser").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from typing import Any

from zaspot.api.auth import is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def session_command(url: str) -> str:
    """What textual-serve runs (through a shell) for each browser session: the URL, no secret."""
    return shlex.join([sys.executable, "-m", "zaspot.tui.login", url])


def local_only(host: str) -> bool:
    return host == "localhost" or is_loopback(host)


def open_to_anyone(url: str) -> bool:
    """True when this zaspot lets us in without a token (it has none, and we are local)."""
    from zaspot.tui.login import Refused, check_token

    try:
        asyncio.run(check_token(url, None))
    except (Refused, OSError):  # a token is needed, or zaspot is not up yet (sessions will say)
        return False
    return True


def serve(url: str, args: argparse.Namespace) -> int:
    """Serve the TUI of the zaspot at `url` until Ctrl-C; one stderr line and exit 1 on failure."""
    from textual_serve.server import Server

    host = args.host or DEFAULT_HOST
    port = DEFAULT_PORT if args.port is None else args.port
    if args.token:
        print("zaspot tui --web: --token / $ZASPOT_TOKEN is not passed to the page: each browser "
              "session asks for its token", file=sys.stderr)
    if not local_only(host) and open_to_anyone(url):
        print(f"zaspot: {url} takes local clients without a token (none created yet), so anyone "
              f"reaching {host}:{port} would control the fleet: create one with `zaspot token create NAME` "
              f"first, or keep --host {DEFAULT_HOST}", file=sys.stderr)
        return 1
    os.environ.pop("ZASPOT_TOKEN", None)  # textual-serve hands its environment to every session

    class TuiServer(Server):
        async def on_startup(self, app: Any) -> None:  # one line of ours, not textual-serve's banner
            self.console.print(f"zaspot tui --web: the TUI of {url} on {self.public_url} "
                               "(each browser asks for an API token; Ctrl-C stops)", highlight=False, soft_wrap=True)

    server = TuiServer(session_command(url), host=host, port=port, title="zaspot", public_url=args.public_url)
    try:
        server.serve()
    except OSError as exc:
        print(f"zaspot: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
