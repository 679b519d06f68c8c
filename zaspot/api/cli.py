"""Shell commands on top of the operator API and the store's secrets:

    zaspot call STATION COMMAND [key=value …]    a station command (reset, set_power_limit, …)
    zaspot api TYPE [key=value …]                 any API command (fleet/list, history/frames, …)
    zaspot events [--type T] [--station S]        live events as JSON lines
    zaspot token create|list|revoke NAME          operator API tokens (in the database)
    zaspot station password STATION [--clear]     a station's Basic-auth password (in the database)
    zaspot station info STATION [--name N …]      a station, and its name, site and notes
    zaspot station list                           every station with its name, site, version, state
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

import orjson

from zaspot.api.auth import password_hash
from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client


def _value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text  # a bare word is a string


def _pairs(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"zaspot: expected key=value, got {item!r}")
        out[key] = _value(value)
    return out


def _print(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def _api(args: argparse.Namespace, kind: str, data: dict[str, Any]) -> int:
    async def work(client: ZaspotClient) -> int:
        _print(await client.command(kind, timeout=args.timeout, **data))
        return 0

    return run_client(args, work)


def _cmd_call(args: argparse.Namespace) -> int:
    data = {"station_id": args.station, **_pairs(args.args)}
    return _api(args, f"command/{args.command}", data)


def _cmd_api(args: argparse.Namespace) -> int:
    return _api(args, args.type, _pairs(args.args))


def _cmd_events(args: argparse.Namespace) -> int:
    """Until --count events or Ctrl-C; Ctrl-C is how a watch ends, so it exits 0."""
    async def work(client: ZaspotClient) -> int:
        seen = 0
        async for event in await client.subscribe(args.type, args.station):
            sys.stdout.write(orjson.dumps(event).decode() + "\n")
            sys.stdout.flush()
            seen += 1
            if args.count and seen >= args.count:
                break
        return 0

    return run_client(args, work, interrupted=0)


async def _with_store(db: str, work: Any) -> Any:
    from zaspot.store import Store

    store = await Store.open(db)
    try:
        return await work(store)
    finally:
        await store.close()


def _db(args: argparse.Namespace) -> str:
    if args.db:
        return args.db
    from zaspot.config import load

    return load(args.config if args.config or not os.path.exists("zaspot.yaml") else "zaspot.yaml").db


def _cmd_token(args: argparse.Namespace) -> int:
    db = _db(args)
    if args.action == "create":
        token = asyncio.run(_with_store(db, lambda s: s.create_api_token(args.name)))
        print(token)
        print(f"# token for {args.name!r}: shown once, stored hashed in {db}", file=sys.stderr)
        return 0
    if args.action == "revoke":
        done = asyncio.run(_with_store(db, lambda s: s.revoke_api_token(args.name)))
        if not done:
            print(f"zaspot: no active token named {args.name!r}", file=sys.stderr)
            return 1
        return 0
    for row in asyncio.run(_with_store(db, lambda s: s.api_tokens())):
        state = "revoked" if row["revoked_at"] else "active"
        print(f"{row['name']}\t{state}")
    return 0


def _cmd_station_password(args: argparse.Namespace) -> int:
    if args.clear:
        return _clear_password(args)
    password = args.password
    if password is None:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
    if len(password) < 8:
        print("zaspot: a station password needs at least 8 characters", file=sys.stderr)
        return 2
    asyncio.run(_with_store(_db(args), lambda s: s.set_station_password(args.station, password_hash(password))))
    return 0


def _clear_password(args: argparse.Namespace) -> int:
    if args.password is not None:
        print("zaspot: --clear takes no --password", file=sys.stderr)
        return 2
    if not asyncio.run(_with_store(_db(args), lambda s: s.clear_station_password(args.station))):
        print(f"zaspot: {args.station} has no password", file=sys.stderr)
        return 1
    print(f"{args.station}: password removed (a running zaspot lets it in without one within 5 s, "
          "unless its security profile asks for Basic auth)")
    return 0


def _state_word(row: dict[str, Any]) -> str:
    if not row.get("connected"):
        return "offline"
    return "online" if (row.get("state") or {}).get("online", True) else "silent"


def _station_text(row: dict[str, Any]) -> str:
    lines = ["  ".join(part for part in (row["id"], row.get("name"), row.get("site")) if part)]
    version = f"OCPP {row['ocpp_version']}" if row.get("ocpp_version") else "never connected"
    lines.append("  " + ", ".join(part for part in (version, _state_word(row), row.get("remote")) if part))
    made = " ".join(part for part in (row.get("vendor"), row.get("model")) if part)
    if made:
        extras = [f"firmware {row['firmware']}" if row.get("firmware") else "",
                  f"serial {row['serial']}" if row.get("serial") else ""]
        lines.append("  " + ", ".join(part for part in (made, *extras) if part))
    if row.get("notes"):
        lines += ["  notes: " + line for line in row["notes"].splitlines()]
    return "\n".join(lines)


def _station_table(rows: list[dict[str, Any]]) -> str:
    table = [(r["id"], r.get("name") or "-", r.get("site") or "-", r.get("ocpp_version") or "-", _state_word(r))
             for r in rows]
    if not table:
        return "no stations yet"
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[4]]) for row in table)


def _cmd_station_info(args: argparse.Namespace) -> int:
    fields = {key: getattr(args, key) for key in ("name", "site", "notes") if getattr(args, key) is not None}

    async def work(client: ZaspotClient) -> int:
        if fields:
            row = await client.command("station/update", station_id=args.station, **fields)
        else:
            row = await client.command("station/get", station_id=args.station)
        _print(row) if args.json else print(_station_text(row))
        return 0

    return run_client(args, work)


def _cmd_station_list(args: argparse.Namespace) -> int:
    async def work(client: ZaspotClient) -> int:
        rows = await client.command("fleet/list")
        _print(rows) if args.json else print(_station_table(rows))
        return 0

    return run_client(args, work)


def _db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database file (default: the config's, ./zaspot.db)")
    parser.add_argument("-c", "--config", help="config file to read the database path from")


def configure(sub: Any) -> None:
    call = sub.add_parser("call", help="send a command to a station through a running zaspot")
    call.add_argument("station")
    call.add_argument("command", help="reset, set_power_limit, clear_power_limit, remote_start, remote_stop, "
                                      "unlock_connector, change_availability, get_variables, set_variables, "
                                      "trigger_message, data_transfer, raw")
    call.add_argument("args", nargs="*", metavar="key=value", help="arguments; values are JSON or bare words")
    call.add_argument("--timeout", type=float, default=60)
    connection_options(call)
    call.set_defaults(func=_cmd_call)

    api = sub.add_parser("api", help="send any operator API command (fleet/list, history/frames, …)")
    api.add_argument("type")
    api.add_argument("args", nargs="*", metavar="key=value")
    api.add_argument("--timeout", type=float, default=60)
    connection_options(api)
    api.set_defaults(func=_cmd_api)

    events = sub.add_parser("events", help="print live events as JSON lines")
    events.add_argument("--type", help="only this event type (e.g. status_changed)")
    events.add_argument("--station", help="only this station")
    events.add_argument("--count", type=int, default=0, help="stop after this many events")
    connection_options(events)
    events.set_defaults(func=_cmd_events)

    token = sub.add_parser("token", help="create, list or revoke operator API tokens")
    token.add_argument("action", choices=["create", "list", "revoke"])
    token.add_argument("name", nargs="?", default="")
    _db_options(token)
    token.set_defaults(func=_cmd_token)

    _configure_station(sub.add_parser("station", help="a station's name, site, notes and password"))


def _configure_station(station: argparse.ArgumentParser) -> None:
    actions = station.add_subparsers(dest="action", required=True, metavar="ACTION")
    password = actions.add_parser("password", help="set or --clear a station's Basic-auth password "
                                                   "(security profiles 1 and 2; in the database)")
    password.add_argument("station")
    password.add_argument("--password", help="the password (default: read from stdin or prompt)")
    password.add_argument("--clear", action="store_true", help="remove the station's password")
    _db_options(password)
    password.set_defaults(func=_cmd_station_password)

    info = actions.add_parser("info", help="show a station; with --name, --site or --notes, change them first")
    info.add_argument("station")
    info.add_argument("--name", help="what people call it (\"\" clears it)")
    info.add_argument("--site", help="where it is")
    info.add_argument("--notes", help="anything else worth knowing")
    info.add_argument("--json", action="store_true", help="the station row as JSON")
    connection_options(info)
    info.set_defaults(func=_cmd_station_info)

    listing = actions.add_parser("list", help="every station with its name, site, OCPP version and state")
    listing.add_argument("--json", action="store_true", help="the rows as JSON")
    connection_options(listing)
    listing.set_defaults(func=_cmd_station_list)
