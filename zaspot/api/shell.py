"""What every shell command that talks to a running zaspot shares: where to reach it, how a
failure reads (one stderr line, exit 1, never a traceback), and how a table is laid out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from zaspot.api.client import DEFAULT_URL, ApiError, ZaspotClient
from zaspot.config import Config, ConfigError, load

CONFIG_FILE = "zaspot.yaml"

Work = Callable[[ZaspotClient], Awaitable[int]]
ApiErrorHandler = Callable[[ApiError], bool]


def connection_options(parser: argparse.ArgumentParser) -> None:
    """--url (or -c) and --token; $ZASPOT_URL, ./zaspot.yaml and $ZASPOT_TOKEN otherwise (server_url),
    so one export, or the server's own config beside the client, serves every command.
    (--timeout is each command's own: not all have one, and their defaults differ.)"""
    parser.add_argument("--url", help=f"API URL (default: $ZASPOT_URL, else the host and port of "
                                      f"./{CONFIG_FILE}, else {DEFAULT_URL})")
    parser.add_argument("-c", "--config", help="take the URL from this zaspot.yaml's host, port and tls")
    parser.add_argument("--token", default=os.environ.get("ZASPOT_TOKEN"), help="access token (or $ZASPOT_TOKEN)")


def server_url(args: argparse.Namespace) -> str:
    """Where the running zaspot is: --url, else -c FILE's address, else $ZASPOT_URL, else the
    address in ./zaspot.yaml (a client started beside its server), else port 9000 here.
    ConfigError for a config that does not load or does not say (port 0)."""
    if getattr(args, "url", None):
        return str(args.url)
    if getattr(args, "config", None):
        return api_url(load(args.config))
    if os.environ.get("ZASPOT_URL"):
        return os.environ["ZASPOT_URL"]
    if Path(CONFIG_FILE).exists():
        return api_url(load(CONFIG_FILE))
    return DEFAULT_URL


def api_url(config: Config) -> str:
    """The operator API's URL on this machine for a server running with `config`."""
    if config.port == 0:
        raise ConfigError(f"{config.source}: port 0 (any free port) says nowhere to connect: give --url")
    host = config.host
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: here is one of them
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'wss' if config.tls else 'ws'}://{host}:{config.port}/api/websocket"


async def with_client(args: argparse.Namespace, work: Work, on_api_error: ApiErrorHandler | None = None) -> int:
    """`await work(client)` against the running zaspot; a failure is one line and exit 1.
    `on_api_error` may report an ApiError its own way (True: reported) instead of the one line."""
    try:
        args.url = server_url(args)
    except ConfigError as exc:
        print(f"zaspot: {exc}", file=sys.stderr)
        return 1
    try:
        async with ZaspotClient(args.url, args.token) as client:
            return await work(client)
    except ApiError as exc:
        if on_api_error is None or not on_api_error(exc):
            print(f"zaspot: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"zaspot: cannot reach {args.url}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def run_client(args: argparse.Namespace, work: Work, on_api_error: ApiErrorHandler | None = None,
               interrupted: int = 130) -> int:
    """`with_client` for a sync command; Ctrl-C is exit `interrupted` (130, as shells have it), not a traceback."""
    try:
        return asyncio.run(with_client(args, work, on_api_error))
    except KeyboardInterrupt:
        return interrupted


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The header and rows as lines, columns two spaces apart, so every listing lines up alike."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells]
