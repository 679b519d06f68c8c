"""`zaspot session plan|charge-now`: a running session's need and departure, through a
running zaspot's API:

    zaspot session plan TX --kwh 30 --by 07:00     # 30 kWh in all, by the next 07:00
    zaspot session plan TX                         # the plan: periods, energy, expected cost
    zaspot session charge-now TX [--off]           # full power whatever the price, or back to the plan

A session is its transaction id TX, or `--station S [--evse N]`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from zaspot.api.client import ApiError, ZaspotClient
from zaspot.api.shell import connection_options, run_client, table


def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.localtime(ts))


def _session(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in (("transaction_id", args.transaction), ("station_id", args.station), ("evse_id", args.evse)):
        if value is not None:
            data[key] = value
    return data


def need_line(n: dict[str, Any]) -> str:
    """`session 7 on CP-1 EVSE 1: 30 kWh by 2026-12-02 07:00, charge now (operator:ops)`."""
    said = [f"{n['energy_wh'] / 1000:g} kWh" if n["energy_wh"] is not None else "",
            f"by {_when(n['departure'])}" if n["departure"] is not None else ""]
    what = " ".join(part for part in said if part) or "no need said"
    if n["charge_now"]:
        what += ", charge now"
    tail = "" if n.get("planned", True) else "; kept, but nothing plans this EVSE by its needs"
    return f"session {n['transaction_id']} on {n['station_id']} EVSE {n['evse_id']}: {what} ({n['source']}){tail}"


def plan_lines(p: dict[str, Any]) -> list[str]:
    """One session's plan as `ems/plan` gives it."""
    head = (f"session {p['transaction_id']} on {p['station_id']} EVSE {p['evse_id']}: "
            f"{p['need_wh'] / 1000:g} kWh ({p['energy_from']}) by {_when(p['departure'])} ({p['departure_from']}), "
            f"{p['delivered_wh'] / 1000:g} kWh delivered")
    rows = [(f"{_hhmm(r['start'])}-{_hhmm(r['end'])}", f"{r['energy_wh'] / 1000:.2f}",
             f"{r.get('driver_price', r['price']):g}", f"{r['cost']:.2f}") for r in p["periods"]]
    basis = f"tariff {p['tariff']}" if p.get("price_basis") == "tariff" else "spot price"
    lines = [head, f"{p['mode']}: {p['reason']}"]
    if rows:
        lines += table(("PERIOD", "KWH", "PRICE", "COST"), rows)
    lines.append(f"expected cost {p['expected_cost']:.2f} {p['currency']} ({basis})".replace("  ", " "))
    return lines


def _show_plan(args: argparse.Namespace) -> int:
    async def work(client: ZaspotClient) -> int:
        result = await client.command("ems/plan", timeout=args.timeout)
        mine = [p for p in result["plans"].values() if isinstance(p, dict) and _is(p, args)]
        if not mine:
            raise ApiError("not_found", f"no plan for {_named(args)} (is it charging on a spot_price site?)")
        for plan in mine:
            for text in plan_lines(plan):
                print(text)
        return 0

    return run_client(args, work)


def _is(plan: dict[str, Any], args: argparse.Namespace) -> bool:
    return ((args.transaction is None or str(plan.get("transaction_id")) == args.transaction)
            and (args.station is None or plan["station_id"] == args.station)
            and (args.evse is None or plan["evse_id"] == args.evse))


def _named(args: argparse.Namespace) -> str:
    return " ".join(part for part in (f"transaction {args.transaction}" if args.transaction else "",
                                      f"station {args.station}" if args.station else "",
                                      f"EVSE {args.evse}" if args.evse else "") if part)


def _send(args: argparse.Namespace, kind: str, data: dict[str, Any]) -> int:
    async def work(client: ZaspotClient) -> int:
        print(need_line(await client.command(kind, timeout=args.timeout, **data)))
        return 0

    return run_client(args, work)


def _cmd_plan(args: argparse.Namespace) -> int:
    if args.kwh is None and args.by is None:
        return _show_plan(args)
    data = _session(args)
    if args.kwh is not None:
        data["kwh"] = args.kwh
    if args.by is not None:
        data["by"] = float(args.by) if args.by.replace(".", "", 1).isdigit() else args.by
    return _send(args, "sessions/plan", data)


def _cmd_charge_now(args: argparse.Namespace) -> int:
    return _send(args, "sessions/charge_now", {**_session(args), "on": not args.off})


def _which(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("transaction", nargs="?", metavar="TX", help="the session's transaction id")
    parser.add_argument("--station", help="the session's station (instead of TX, or with it)")
    parser.add_argument("--evse", type=int, help="the session's EVSE, where the station has several running")
    parser.add_argument("--timeout", type=float, default=30)
    connection_options(parser)


def configure(sub: Any) -> None:
    """Add `zaspot session plan` and `zaspot session charge-now` to the `zaspot` parser."""
    session = sub.add_parser("session", help="a running session's need and departure, and its plan")
    actions = session.add_subparsers(dest="action", required=True, metavar="plan|charge-now")
    plan = actions.add_parser("plan", help="set what a session needs and by when (or, with neither, show its plan)")
    _which(plan)
    plan.add_argument("--kwh", type=float, help="energy in all for this session, kWh")
    plan.add_argument("--by", help="departure: HH:MM (the next such local time), ISO 8601 or epoch seconds")
    plan.set_defaults(func=_cmd_plan)
    now = actions.add_parser("charge-now", help="full power whatever the price, until --off or the session ends")
    _which(now)
    now.add_argument("--off", action="store_true", help="back to the plan")
    now.set_defaults(func=_cmd_charge_now)
