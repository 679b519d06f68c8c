"""The `zaspot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

from zaspot import __version__
from zaspot.config import Config, ConfigError
from zaspot.ops.configfile import DEFAULT_CONFIG, config_of


def _load_config(args: argparse.Namespace) -> Config:
    config = config_of(args)  # -c FILE or ./zaspot.yaml, and --db
    if args.host:
        config.host = args.host
    if args.port is not None:
        config.port = args.port
    return config


def _loop_factory() -> Any:
    """uvloop when installed (the `fast` extra): a faster event loop and transports for
    the thousands of sockets a central system holds. The standard loop otherwise."""
    if os.environ.get("ZASPOT_LOOP", "auto") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _cmd_run(args: argparse.Namespace) -> int:
    from zaspot.app import run
    from zaspot.ops.database import DatabaseUnusable

    try:
        config = _load_config(args)
    except ConfigError as exc:
        print(f"zaspot: {exc}", file=sys.stderr)
        return 2
    from zaspot.core.logformat import setup as setup_logging

    setup_logging(args.log_level or config.log_level, args.log_format or config.log_format)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(run(config))
    except ConfigError as exc:  # found while starting (e.g. a TLS certificate that won't load)
        print(f"zaspot: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnusable as exc:  # --db a folder, not writable, from a newer zaspot
        print(f"zaspot: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # what the checks before opening could not foresee
        print(f"zaspot: database {config.db}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # port in use, …
        print(f"zaspot: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from zaspot.core.plugin_report import inspect_plugins

    try:
        config = config_of(args)
    except ConfigError as exc:
        print(f"zaspot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL)  # the report carries every error, once
    text, all_loaded = asyncio.run(inspect_plugins(config))
    print(text)
    return 0 if all_loaded else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zaspot", description="zaspot: OCPP 1.6J + 2.0.1 central system")
    parser.add_argument("--version", action="version", version=f"zaspot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the central system")
    run.add_argument("-c", "--config", help=f"config file (default: ./{DEFAULT_CONFIG} if present)")
    run.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    run.add_argument("--port", type=int, help="port for stations, API and metrics (default 9000)")
    run.add_argument("--db", help="SQLite database file (default ./zaspot.db)")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.add_argument("--log-format", choices=["text", "json"], help="log lines as text (default) or JSON lines")
    run.set_defaults(func=_cmd_run)

    plugins = sub.add_parser("plugins", help="list plugins: where each came from, what it registered, why one failed")
    plugins.add_argument("-c", "--config", help=f"config file (default: ./{DEFAULT_CONFIG} if present)")
    plugins.set_defaults(func=_cmd_plugins)

    from zaspot.api.cli import configure as configure_api
    from zaspot.bench.cli import configure as configure_bench
    from zaspot.cards.cli import configure as configure_cards
    from zaspot.health.cli import configure as configure_health
    from zaspot.lifecycle.cli import configure as configure_lifecycle
    from zaspot.ops.cli import configure as configure_ops
    from zaspot.pricing.cli import configure as configure_pricing
    from zaspot.rules.cli import configure as configure_rules
    from zaspot.sim.cli import configure as configure_sim
    from zaspot.tui.cli import configure as configure_tui

    configure_sim(sub)
    configure_bench(sub)
    configure_api(sub)
    configure_rules(sub)
    configure_tui(sub)
    configure_cards(sub)
    configure_lifecycle(sub)
    configure_pricing(sub)
    configure_health(sub)
    configure_ops(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # what there is to run, as a usage error (exit 2)
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
