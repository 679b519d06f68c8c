"""`zaspot report …` and `zaspot maintenance …`: through a running zaspot's API (reports/*).

    zaspot report [--month 2026-11] [--format text|csv|html] [-o FILE]
    zaspot maintenance add --start 2026-12-10T08:00 --end 2026-12-10T12:00 --reason "connector swap"
                           [--station CP-1] [--evse 1] [--connector 1]
    zaspot maintenance list
    zaspot maintenance remove ID

The server computes the report (reports/monthly); it is rendered here. Times without an
offset are in the server's health timezone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client, table
from zaspot.health import render_csv, render_text
from zaspot.health.render_text import where

FORMATS = ("text", "csv", "html")


def _renderer(name: str) -> Callable[[dict[str, Any]], str] | str:
    """The format's render(report), or why there is none (one line)."""
    if name != "html":
        return {"text": render_text.render, "csv": render_csv.render}[name]
    try:
        from zaspot.health import render_html  # matplotlib: needed for this format only
    except ImportError as exc:
        return f"the html report is not available here ({exc})"
    return render_html.render


def _report(args: argparse.Namespace) -> int:
    render = _renderer(args.format)
    if isinstance(render, str):
        print(f"zaspot: {render}", file=sys.stderr)
        return 1

    async def work(client: ZaspotClient) -> int:
        data = {"month": args.month} if args.month else {}
        report = await client.command("reports/monthly", timeout=args.timeout, **data)
        try:
            text = render(report)
        except ImportError as exc:  # a renderer's own dependency (matplotlib for html)
            print(f"zaspot: the {args.format} report is not available here ({exc})", file=sys.stderr)
            return 1
        if not args.output or args.output == "-":
            sys.stdout.write(text)
            return 0
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"zaspot: {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"{report['month']} report ({args.format}) written to {args.output}")
        return 0

    return run_client(args, work)


def _when(row: dict[str, Any], key: str) -> str:
    return row[f"{key}_local"][:16].replace("T", " ")


def exclusion_line(row: dict[str, Any]) -> str:
    """`3  CP-1  2026-12-10 08:00 to 2026-12-10 12:00  connector swap`."""
    return f"{row['id']}  {where(row)}  {_when(row, 'start')} to {_when(row, 'end')}  {row['reason']}"


def _maintenance(kind: str, build: Callable[[argparse.Namespace], dict[str, Any]],
                 show: Callable[[Any], None]) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        async def work(client: ZaspotClient) -> int:
            show(await client.command(kind, timeout=args.timeout, **build(args)))
            return 0

        return run_client(args, work)

    return command


def _add_fields(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"start": args.start, "end": args.end, "reason": args.reason}
    for key, value in (("station_id", args.station), ("evse_id", args.evse), ("connector_id", args.connector)):
        if value is not None:
            data[key] = value
    return data


def _show_added(row: Any) -> None:
    print(f"added {exclusion_line(row)}")


def _show_list(rows: Any) -> None:
    if not rows:
        print("no maintenance windows")
        return
    print("\n".join(table(["ID", "WHERE", "START", "END", "SOURCE", "REASON"],
                          [[r["id"], where(r), _when(r, "start"), _when(r, "end"), r["source"], r["reason"]]
                           for r in rows])))


def _options(parser: argparse.ArgumentParser, timeout: float = 30) -> None:
    connection_options(parser)
    parser.add_argument("--timeout", type=float, default=timeout)


def configure(sub: Any) -> None:
    """Add `zaspot report` and `zaspot maintenance` to the `zaspot` parser."""
    report = sub.add_parser("report", help="the monthly fleet health report (uptime, faults, temperature trends)")
    report.add_argument("--month", help="YYYY-MM in the health timezone (default: the last complete month)")
    report.add_argument("--format", choices=FORMATS, default="text", help="text (default), csv (one row per port) "
                                                                           "or html (one file with charts)")
    report.add_argument("-o", "--output", metavar="FILE", help="write it to FILE (default: stdout)")
    _options(report, timeout=300)
    report.set_defaults(func=_report)

    maintenance = sub.add_parser("maintenance", help="maintenance windows: time not counted against uptime")
    commands = maintenance.add_subparsers(dest="maintenance_command", metavar="COMMAND", required=True)
    add = commands.add_parser("add", help="add a window (the whole site, a station, an EVSE or one port)")
    add.add_argument("--start", required=True, help="ISO 8601 (2026-12-10T08:00) or epoch seconds")
    add.add_argument("--end", required=True, help="ISO 8601 or epoch seconds")
    add.add_argument("--reason", required=True, help="why (it shows in the report)")
    add.add_argument("--station", help="one station (default: every station)")
    add.add_argument("--evse", type=int, help="one EVSE of --station (1.6: the connector)")
    add.add_argument("--connector", type=int, help="one connector of --evse")
    _options(add)
    add.set_defaults(func=_maintenance("reports/exclusions/add", _add_fields, _show_added))
    listing = commands.add_parser("list", help="every window, from zaspot.yaml and the API")
    _options(listing)
    listing.set_defaults(func=_maintenance("reports/exclusions", lambda a: {}, _show_list))
    remove = commands.add_parser("remove", help="remove a window added through the API")
    remove.add_argument("id", type=int, metavar="ID", help="its id (zaspot maintenance list)")
    _options(remove)
    remove.set_defaults(func=_maintenance("reports/exclusions/remove", lambda a: {"exclusion_id": a.id},
                                          lambda r: print(f"removed {r['removed']}")))
