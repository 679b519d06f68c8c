"""`zaspot rules check [PATH…]` and `zaspot rules test FILE --db zaspot.db [--since 7d]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from zaspot.core.registry import ACTION
from zaspot.rules.catalog import offline_registry
from zaspot.rules.durations import parse_duration
from zaspot.rules.loader import Loader, check_paths, rule_files
from zaspot.rules.reload import missing_folder_warning
from zaspot.rules.triggers import platforms


def _default_folder() -> Path:
    """The folder `zaspot run` here would load: ./zaspot.yaml's `rules:`, else ./rules."""
    from zaspot.config import ConfigError, load
    from zaspot.rules import rules_folder

    try:
        return rules_folder(load("zaspot.yaml" if Path("zaspot.yaml").exists() else None))
    except ConfigError:
        return Path("rules")


def _cmd_check(args: argparse.Namespace) -> int:
    paths = args.paths
    if not paths:  # the running server's folder: missing is a warning there, so it is one here
        folder = _default_folder()
        warning = missing_folder_warning(folder)
        if warning:
            print(f"warning: {warning} (create it, or set rules: in zaspot.yaml)", file=sys.stderr)
        paths = [] if warning else [str(folder)]
    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        print(f"{p}: no such file or folder", file=sys.stderr)
    registry = offline_registry()
    loader = Loader(platforms(registry), lambda name: getattr(registry.get(ACTION, name), "obj", None))
    rules, errors = check_paths([p for p in paths if p not in missing], loader)
    for error in errors:
        print(error)
    files = len(rule_files([p for p in paths if p not in missing]))
    print(f"{len(rules)} rules OK in {files} file{'s' if files != 1 else ''}, "
          f"{len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
    return 1 if errors or missing else 0


def _cmd_test(args: argparse.Namespace) -> int:
    from zaspot.rules.replay import format_report, replay

    if not Path(args.db).exists():
        print(f"zaspot: {args.db}: no such database", file=sys.stderr)
        return 2
    since = None
    if args.since:
        try:
            since = time.time() - parse_duration(args.since)
        except ValueError as exc:
            print(f"zaspot: --since: {exc}", file=sys.stderr)
            return 2
    report = asyncio.run(replay(args.files, args.db, since))
    if report.errors:
        for error in report.errors:
            print(error)
        return 1
    print("\n".join(format_report(report)))
    return 0


def configure(sub: argparse._SubParsersAction) -> None:
    rules = sub.add_parser("rules", help="check rule files, or replay recorded events through them")
    commands = rules.add_subparsers(dest="rules_command", required=True, metavar="check|test")
    check = commands.add_parser("check", help="validate rule files: one `file:line: message` per error")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="rule files or folders (default: the rules folder of ./zaspot.yaml, else ./rules)")
    check.set_defaults(func=_cmd_check)
    test = commands.add_parser("test", help="replay recorded events through rules; prints what would have fired")
    test.add_argument("files", nargs="+", metavar="FILE", help="rule files or folders")
    test.add_argument("--db", default="zaspot.db", help="the database to read events from (default ./zaspot.db)")
    test.add_argument("--since", help="only events this recent: 7d, 12h, 30m (default: all)")
    test.set_defaults(func=_cmd_test)
