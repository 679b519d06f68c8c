"""What every shell command that talks to a running zaspot shares: where to reach it, how a
failure reads (one stderr line, exit 1, never a traceback), and how a table is laid out."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any, Awaitable, Callable, Iterable, Sequence

from zaspot.api.client import DEFAULT_URL, ApiError, ZaspotClient

Work = Callable[[ZaspotClient], Awaitable[int]]
ApiErrorHandler = Callable[[ApiError], bool]


def connection_options(parser: argparse.ArgumentParser) -> None:
    """--url and --token, defaulting to $ZASPOT_URL and $ZASPOT_TOKEN so one export serves every command.
    (--timeout is each command's own: not all have one, and their defaults differ.)"""
    parser.add_argument("--url", default=os.environ.get("ZASPOT_URL", DEFAULT_URL),
                        help=f"API URL (default {DEFAULT_URL})")
    parser.add_argument("--token", default=os.environ.get("ZASPOT_TOKEN"), help="access token (or $ZASPOT_TOKEN)")


async def with_client(args: argparse.Namespace, work: Work, on_api_error: ApiErrorHandler | None = None) -> int:
    """`await work(client)` against the running zaspot; a failure is one line and exit 1.
    `on_api_error` may report an ApiError its own way (True: reported) instead of the one line."""
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
