"""`zaspot tui` (attach to a running server) and `zaspot demo` (everything in one go)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from zaspot.api.shell import connection_options, server_url
from zaspot.config import ConfigError


def configure(subparsers: argparse._SubParsersAction) -> None:
    tui = subparsers.add_parser("tui", help="watch and control a running zaspot in the terminal")
    connection_options(tui)  # --url, -c, --token: found as `zaspot api` finds its server
    web = tui.add_argument_group("in a browser")
    web.add_argument("--web", action="store_true",
                     help="serve the TUI as a web page instead (each browser session asks for an API token)")
    web.add_argument("--host", help="--web: the address to listen on (default 127.0.0.1, this machine only)")
    web.add_argument("--port", type=int, help="--web: the port (default 8080)")
    web.add_argument("--public-url", help="--web: the address browsers use, behind a reverse proxy "
                                          "(e.g. https://tui.example.com)")
    tui.set_defaults(func=_cmd_tui)

    demo = subparsers.add_parser("demo", help="a server, a simulated mixed fleet with faults, and the TUI")
    demo.add_argument("--stations", type=int, default=12, help="simulated stations (default 12)")
    demo.add_argument("--speed", type=float, default=10.0, help="simulated seconds per real second (default 10)")
    demo.set_defaults(func=_cmd_demo)


def _cmd_tui(args: argparse.Namespace) -> int:
    from zaspot.tui.app import ZaspotTui

    try:
        url = server_url(args)
    except ConfigError as exc:
        print(f"zaspot: {exc}", file=sys.stderr)
        return 1
    if args.web:
        from zaspot.tui.web import serve

        return serve(url, args)
    if args.host or args.port is not None or args.public_url:
        print("zaspot: --host, --port and --public-url are for --web", file=sys.stderr)
        return 2
    ZaspotTui(url, args.token).run()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from zaspot.tui.demo import run_demo

    if args.stations < 1 or args.speed <= 0:
        print("demo: --stations must be >= 1 and --speed > 0")
        return 2
    asyncio.run(run_demo(args.stations, args.speed))
    print("zaspot demo: stopped (server, stations and temporary database are gone)")
    return 0
