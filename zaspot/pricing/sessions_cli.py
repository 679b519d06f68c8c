"""Sessions and their costs, through a running zaspot's API:

    zaspot sessions [--station S] [--card C] [--since D] [--until D] [--limit N] [--csv]
    zaspot sessions receipt TX [--station S]

D: a date (YYYY-MM-DD, local midnight), an ISO 8601 time or epoch seconds. --csv prints
the rows named like OCPI's CDR, for a billing system.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime
from typing import Any

from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client, table
from zaspot.pricing.cdr import to_csv


def when_arg(text: str) -> float:
    """A --since/--until value as epoch seconds (local time unless it says otherwise)."""
    value = text.strip()
    try:
        if value.replace(".", "", 1).isdigit():
            return float(value)
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time()).timestamp()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD), an ISO 8601 time "
                                         "or epoch seconds") from None


def _local(ts: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if ts is None else time.strftime(fmt, time.localtime(ts))


def _hours(h: float | None) -> str:
    """1.0833 h -> "1 h 05 min"; under an hour "25 min"."""
    if h is None:
        return ""
    minutes = round(h * 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _money(value: float | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    return f"{value:.2f} {currency}" if currency else f"{value:.2f}"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    return table(("TX", "STATION", "EVSE", "CARD", "STARTED", "DURATION", "KWH", "COST", "TARIFF", "STATE"), [
        (r["id"], r["station_id"], r["evse_id"] if r["evse_id"] is not None else "", r["id_token"] or "",
         _local(r["started_at"]), _hours(r["total_time"]),
         "" if r["total_energy"] is None else f"{r['total_energy']:.3f}",
         _money((r["total_cost"] or {}).get("incl_vat"), r["currency"]), r["tariff"] or "", r["state"])
        for r in rows])


def _period_label(p: dict[str, Any]) -> str:
    return f"{_local(p['start'])}-{_local(p['end'], '%H:%M %Z')}"


def receipt_lines(r: dict[str, Any]) -> list[str]:
    """A receipt as a driver reads it: amounts with VAT, then the VAT and the total before it."""
    cur, vat = r["currency"] or "", r.get("vat") or 0.0
    where = f"EVSE {r['evse_id']}" if r["evse_id"] is not None else "EVSE ?"
    card = f", card {r['id_token']}" if r["id_token"] else ""
    lines = [f"Transaction {r['id']} at {r['station_id']}, {where}{card} ({r['state']})",
             f"Started   {_local(r['started_at'], '%Y-%m-%d %H:%M:%S %Z')}"]
    if r["stopped_at"] is not None:
        lines.append(f"Ended     {_local(r['stopped_at'], '%Y-%m-%d %H:%M:%S %Z')}")
    lines.append(f"Duration  {_hours(r['total_time'])}")
    lines.append(f"Energy    {r['total_energy']:.3f} kWh" if r["total_energy"] is not None else "Energy    unknown")
    if r["total_cost"] is None:
        return [*lines, "Cost      not priced (no pricing: section when it ran)"]
    lines.append(f"Tariff    {r.get('tariff_text') or r['tariff']}")
    lines.append("")
    lines += table(("PERIOD", "KWH", f"SPOT {cur}/KWH", f"PRICE {cur}/KWH", "COST"), [
        (_period_label(p) + (" (fallback price)" if p.get("fallback") else ""), f"{p['energy_wh'] / 1000:.3f}",
         f"{p['spot']:.2f}", f"{p['price']:.2f}", f"{p['cost']:.2f}") for p in r["periods"]])
    lines.append("")
    return lines + _sums(r, cur, vat)


def _sums(r: dict[str, Any], cur: str, vat: float) -> list[str]:
    """The energy, the fees and the total, with VAT (as the periods' costs are), amounts aligned."""
    total = r["total_cost"]
    rows = [("Energy", sum(p["cost"] for p in r["periods"]))]
    if r.get("session_fee"):
        rows.append(("Session fee", r["session_fee"]))
    if r.get("idle_fee") or r.get("idle_fee_per_minute"):
        grace = r.get("idle_grace_minutes") or 0
        rows.append((f"Idle {r.get('idle_minutes', 0):.0f} min ({grace:g} free)", r.get("idle_fee", 0)))
    rows += [("Total" if r.get("final") else "Total so far", total["incl_vat"]),
             (f"  of which VAT {vat * 100:g} %", total["incl_vat"] - total["excl_vat"]),
             ("  before VAT", total["excl_vat"])]
    width = max(len(label) for label, _ in rows)
    amounts = [f"{amount:.2f}" for _, amount in rows]
    digits = max(len(a) for a in amounts)
    return [f"{label.ljust(width)}  {a.rjust(digits)}" + (f" {cur}" if label.startswith("Total") else "")
            for (label, _), a in zip(rows, amounts)]


def _cmd_sessions(args: argparse.Namespace) -> int:
    if args.action == "receipt":
        data: dict[str, Any] = {"transaction_id": args.transaction}
        if args.station:
            data["station_id"] = args.station
        kind = "sessions/receipt"
    else:
        data = {"limit": args.limit}
        for key, value in (("station_id", args.station), ("id_token", args.card), ("since", args.since),
                           ("until", args.until)):
            if value is not None:
                data[key] = value
        kind = "history/sessions"

    async def work(client: ZaspotClient) -> int:
        result = await client.command(kind, timeout=args.timeout, **data)
        if args.action == "receipt":
            lines = receipt_lines(result)
        elif args.csv:
            sys.stdout.write(to_csv(list(reversed(result))))
            return 0
        else:
            lines = _table(list(reversed(result))) if result else ["no sessions"]  # oldest first, as a table reads
        for text in lines:
            print(text)
        return 0

    return run_client(args, work)


def configure(sub: Any) -> None:
    """Add `zaspot sessions` (and `zaspot sessions receipt`) to the `zaspot` parser."""
    sessions = sub.add_parser("sessions", help="sessions and what they cost (a table, or CSV for billing); "
                                               "a session's receipt")
    sessions.add_argument("--station", help="only this station's")
    sessions.add_argument("--card", help="only this card's (id token)")
    sessions.add_argument("--since", type=when_arg, help="started at or after (YYYY-MM-DD, ISO time, epoch s)")
    sessions.add_argument("--until", type=when_arg, help="started before")
    sessions.add_argument("--limit", type=int, default=1000, help="at most this many, the newest (default 1000)")
    sessions.add_argument("--csv", action="store_true", help="CSV with OCPI CDR names, for a billing system")
    sessions.add_argument("--timeout", type=float, default=60)
    connection_options(sessions)
    sessions.set_defaults(func=_cmd_sessions, action=None)
    actions = sessions.add_subparsers(dest="action", metavar="receipt TX")
    one = actions.add_parser("receipt", help="a session's receipt: energy, duration, each period's cost, the total")
    one.add_argument("transaction", metavar="TX", help="the transaction id")
    one.add_argument("--station", help="the station, when two have a transaction of that id")
    one.add_argument("--timeout", type=float, default=60)
    connection_options(one)
