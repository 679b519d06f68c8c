"""Shell commands of reservations, through a running zaspot's API:

    zaspot reserve STATION --card TOKEN [--connector N | --evse N] [--minutes M]
    zaspot reservations [--station S] [--all]
    zaspot reservations cancel ID
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client, table


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _where(r: dict[str, Any]) -> str:
    if r["connector_id"] is not None:
        return f"connector {r['connector_id']}"
    return f"EVSE {r['evse_id']}" if r["evse_id"] is not None else "any connector"


def _outcome(r: dict[str, Any]) -> str:
    """What became of it, in words: "active until …", "used by transaction 7", "rejected: Occupied"."""
    status = r["status"]
    if status == "active":
        return f"active until {_when(r['expires_at'])}"
    if status == "used" and r.get("transaction_id"):
        return f"used by transaction {r['transaction_id']}"
    detail = r.get("station_status") if status == "rejected" else None
    return f"{status}: {detail}" if detail else status


def _detail(r: dict[str, Any]) -> str:
    status = r["status"]
    if status == "used":
        return f"transaction {r['transaction_id']}" if r.get("transaction_id") else ""
    if status == "rejected":
        return r.get("station_status") or r.get("detail") or ""
    return "" if status == "active" else r.get("detail") or ""


def line(r: dict[str, Any]) -> str:
    return f"reservation {r['id']}  {r['station_id']} {_where(r)}  card {r['id_token']}  {_outcome(r)}"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    """Every field a column, so a list of reservations can be scanned and compared by eye."""
    return table(("ID", "STATION", "WHERE", "CARD", "STATUS", "EXPIRES", "DETAIL"),
                 [(r["id"], r["station_id"], _where(r), r["id_token"], r["status"], _when(r["expires_at"]), _detail(r))
                  for r in rows])


def _run(args: argparse.Namespace, kind: str, data: dict[str, Any], show: Callable[[Any], list[str]]) -> int:
    """One API command; `show` turns its result into the lines to print."""
    async def work(client: ZaspotClient) -> int:
        for text in show(await client.command(kind, timeout=args.timeout, **data)):
            print(text)
        return 0

    return run_client(args, work)


def _cmd_reserve(args: argparse.Namespace) -> int:
    data: dict[str, Any] = {"station_id": args.station, "id_token": args.card, "minutes": args.minutes}
    if args.connector is not None:
        data["connector_id"] = args.connector
    if args.evse is not None:
        data["evse_id"] = args.evse
    return _run(args, "reservations/make", data, lambda r: [line(r)])


def _cmd_reservations(args: argparse.Namespace) -> int:
    if args.action == "cancel":
        return _run(args, "reservations/cancel", {"reservation_id": args.reservation}, lambda r: [line(r)])
    data: dict[str, Any] = {"active_only": not args.all}
    if args.station:
        data["station_id"] = args.station

    def show(rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return ["no reservations" if args.all else "no active reservations"]
        return _table(list(reversed(rows)))  # oldest first, as a table reads

    return _run(args, "reservations/list", data, show)


def configure(sub: Any) -> None:
    """Add `zaspot reserve` and `zaspot reservations` to the `zaspot` parser."""
    reserve = sub.add_parser("reserve", help="reserve a connector or EVSE of a station for a card")
    reserve.add_argument("station")
    reserve.add_argument("--card", required=True, help="the id token the reservation is for")
    where = reserve.add_mutually_exclusive_group()
    where.add_argument("--connector", type=int, help="connector N (1.6); default: any")
    where.add_argument("--evse", type=int, help="EVSE N (2.0.1; on 1.6 the same as --connector); default: any")
    reserve.add_argument("--minutes", type=float, default=15.0, help="until it expires (default 15)")
    reserve.add_argument("--timeout", type=float, default=60)
    connection_options(reserve)
    reserve.set_defaults(func=_cmd_reserve)

    listing = sub.add_parser("reservations", help="list reservations (active ones by default), or cancel one")
    listing.add_argument("--station", help="only this station's")
    listing.add_argument("--all", action="store_true", help="every reservation, not only the active ones")
    listing.add_argument("--timeout", type=float, default=60)
    connection_options(listing)
    listing.set_defaults(func=_cmd_reservations, action=None)
    actions = listing.add_subparsers(dest="action", metavar="cancel ID")
    cancel = actions.add_parser("cancel", help="cancel an active reservation")
    cancel.add_argument("reservation", type=int, metavar="ID")
    cancel.add_argument("--timeout", type=float, default=60)
    connection_options(cancel)
