"""`zaspot cards add|block|unblock|remove|list|import|export|sync|lists|clear-cache|mode`:
through a running zaspot's API (the server owns the cards)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zaspot.api.client import ApiError, ZaspotClient
from zaspot.api.shell import connection_options, run_client, table
from zaspot.cards.model import iso, readable_expiry

Printer = Callable[[Any, argparse.Namespace], int]


def card_line(card: dict[str, Any]) -> str:
    """`04A1B2C3  Accepted  group FLEET  Eva Novak`: one card, what matters first."""
    parts = [card["id_token"], card["status"]]
    if card.get("expiry") is not None:
        parts.append(f"expires {readable_expiry(card['expiry'])}")
    if card.get("group"):
        parts.append(f"group {card['group']}")
    if card.get("driver"):
        parts.append(card["driver"])
    if card.get("note"):
        parts.append(f"note: {card['note']}")
    return "  ".join(parts)


def _print_card(card: Any, args: argparse.Namespace) -> int:
    print(card_line(card))
    return 0


def _print_list(cards: Any, args: argparse.Namespace) -> int:
    if not cards:
        print("no cards" + (f" with status {args.status}" if args.status else ""))
        return 0
    rows = [[c["id_token"], c["status"], readable_expiry(c["expiry"]) or "-", c["group"] or "-", c["driver"] or "-",
             c["note"] or ""] for c in cards]
    print("\n".join(table(["ID TOKEN", "STATUS", "EXPIRES", "GROUP", "DRIVER", "NOTE"], rows)))
    return 0


def _print_removed(result: Any, args: argparse.Namespace) -> int:
    print(f"removed {result['removed']}")
    return 0


def _print_imported(result: Any, args: argparse.Namespace) -> int:
    print(f"{args.file}: {result['added']} added, {result['updated']} updated")
    return 0


def _print_export(result: Any, args: argparse.Namespace) -> int:
    if not args.file or args.file == "-":
        sys.stdout.write(result["csv"])
        return 0
    try:
        Path(args.file).write_text(result["csv"], encoding="utf-8")
    except OSError as exc:
        print(f"zaspot: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"exported {result['cards']} card{'' if result['cards'] == 1 else 's'} to {args.file}")
    return 0


def sync_line(report: dict[str, Any]) -> str:
    sid, status = report["station_id"], report["status"]
    if status == "not_connected":
        return f"{sid}  not connected"
    if status == "unsupported":
        return f"{sid}  no local list (the station does not support one)"
    sent = ", ".join(f"{s['update_type']} v{s['version']} ({s['entries']} cards) {s['status']}" for s in report["sent"])
    if status == "failed":
        return f"{sid}  failed: {report['error']}" + (f"  sent {sent}" if sent else "")
    return f"{sid}  version {report['version']}  " + (f"sent {sent}" if sent else "in step")


def _print_sync(reports: Any, args: argparse.Namespace) -> int:
    for report in reports:
        print(sync_line(report))
    if not reports:
        print("no station is connected")
    return 1 if any(r["status"] == "failed" for r in reports) else 0


def _print_lists(rows: Any, args: argparse.Namespace) -> int:
    if not rows:
        print("no station has been asked for its local list yet")
        return 0
    has = {True: "yes", False: "no", None: "?"}
    print("\n".join(table(["STATION", "VERSION", "LOCAL LIST", "SYNCED", "ERROR"], [
        [r["station_id"], "-" if r["version"] is None else str(r["version"]), has[r["supported"]],
         iso(r["synced_at"]) or "-", r["error"] or ""] for r in rows])))
    return 0


def _print_answer(outcome: Any, args: argparse.Namespace) -> int:
    print(f"{args.station}: {outcome['status']}")
    return 0


def _print_mode(result: Any, args: argparse.Namespace) -> int:
    what = {"open": "every card that is not blocked or expired is accepted; unknown ones are logged",
            "list": "only known Accepted cards may charge"}[result["mode"]]
    lists = "synced" if result["local_lists"] else "not synced (authorization.local_lists: false)"
    print(f"authorization: {result['mode']} ({what}); {result['cards']} cards, list version {result['version']}; "
          f"local lists {lists}")
    return 0


def _file_errors(args: argparse.Namespace, exc: ApiError) -> bool:
    """An import's bad rows as `FILE:LINE: message`, one line each, so an editor can jump to them."""
    errors = (exc.result or {}).get("errors") if isinstance(exc.result, dict) else None
    if not (errors and getattr(args, "file", None)):
        return False
    for error in errors:
        print(f"{args.file}:{error['line']}: {error['message']}", file=sys.stderr)
    return True


def _run(kind: str, show: Printer, build: Callable[[argparse.Namespace], dict[str, Any]]) -> Callable[..., int]:
    def command(args: argparse.Namespace) -> int:
        try:
            data = build(args)
        except OSError as exc:
            print(f"zaspot: {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return 1

        async def work(client: ZaspotClient) -> int:
            return show(await client.command(kind, timeout=args.timeout, **data), args)

        return run_client(args, work, lambda exc: _file_errors(args, exc))

    return command


def _add_fields(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"id_token": args.id_token}
    for name in ("status", "expiry", "group", "driver", "note"):
        value = getattr(args, name)
        if value is not None:
            data[name] = value
    return data


def _options(parser: argparse.ArgumentParser) -> None:
    connection_options(parser)
    parser.add_argument("--timeout", type=float, default=120)


def configure(sub: Any) -> None:
    """Add this feature's commands to the `zaspot` parser."""
    cards = sub.add_parser("cards", help="cards (id tokens) and who may charge, through a running zaspot")
    commands = cards.add_subparsers(dest="cards_command", metavar="COMMAND", required=True)

    def command(name: str, help: str, kind: str, show: Printer, build: Callable[..., dict[str, Any]],
                *arguments: tuple[str, dict[str, Any]]) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help)
        for flag, options in arguments:
            parser.add_argument(flag, **options)
        _options(parser)
        parser.set_defaults(func=_run(kind, show, build))
        return parser

    card_id = ("id_token", {"metavar": "ID", "help": "the card's id token"})
    add = command("add", "add a card, or change a known one's fields", "cards/add", _print_card, _add_fields, card_id)
    add.add_argument("--status", help="accepted | blocked | expired (default: accepted)")
    add.add_argument("--expiry", help="YYYY-MM-DD (midnight UTC) or an ISO 8601 time; '' for none")
    add.add_argument("--group", help="its group (1.6 parentIdTag, 2.0.1 groupIdToken); '' for none")
    add.add_argument("--driver", help="who carries it")
    add.add_argument("--note", help="anything worth knowing")
    for name, kind, what in (("block", "cards/block", "refuse the card from now on"),
                             ("unblock", "cards/unblock", "accept a blocked card again")):
        command(name, what, kind, _print_card, lambda a: {"id_token": a.id_token}, card_id)
    command("remove", "forget a card", "cards/remove", _print_removed, lambda a: {"id_token": a.id_token}, card_id)
    command("list", "the cards, as a table", "cards/list", _print_list,
            lambda a: {k: v for k, v in (("status", a.status), ("search", a.search)) if v},
            ("--status", {"help": "only accepted | blocked | expired ones"}),
            ("--search", {"help": "only those whose id, group, driver or note has this text"}))
    command("import", "add or update cards from a CSV file (all or nothing)", "cards/import", _print_imported,
            lambda a: {"csv": Path(a.file).read_text(encoding="utf-8-sig")},
            ("file", {"metavar": "FILE.csv", "help": "header id_token,status,expiry,group,driver,note"}))
    command("export", "the cards as CSV", "cards/export", _print_export, lambda a: {},
            ("file", {"metavar": "FILE", "nargs": "?", "help": "where to write (default: stdout)"}))
    command("sync", "bring stations' local lists to the current version now", "cards/sync", _print_sync,
            lambda a: {"station_id": a.station} if a.station else {},
            ("station", {"metavar": "STATION", "nargs": "?", "help": "one station (default: every connected one)"}))
    command("lists", "each station's local list: its version, when it was synced", "cards/lists", _print_lists,
            lambda a: {})
    command("clear-cache", "make a station forget the cards it cached", "command/clear_cache", _print_answer,
            lambda a: {"station_id": a.station}, ("station", {"metavar": "STATION"}))
    command("mode", "the authorization mode (authorization.mode in zaspot.yaml)", "cards/mode", _print_mode,
            lambda a: {})
