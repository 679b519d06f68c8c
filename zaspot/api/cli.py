"""Shell commands on top of the operator API and the store's secrets:

    zaspot call STATION COMMAND [key=value …]    a station command (reset, set_power_limit, …)
    zaspot api TYPE [key=value …]                 any API command (fleet/list, history/frames, …)
    zaspot events [--type T] [--station S]        live events as JSON lines
    zaspot token create|list|revoke NAME          operator API tokens (in the database)
    zaspot station password STATION               a station's Basic-auth password
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
from zaspot.api.client import DEFAULT_URL, ApiError, ZaspotClient


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


async def _api(args: argparse.Namespace, kind: str, data: dict[str, Any]) -> int:
    try:
        async with ZaspotClient(args.url, args.token) as client:
            _print(await client.command(kind, timeout=args.timeout, **data))
            return 0
    except ApiError as exc:
        print(f"zaspot: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"zaspot: cannot reach {args.url}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _cmd_call(args: argparse.Namespace) -> int:
    data = {"station_id": args.station, **_pairs(args.args)}
    return asyncio.run(_api(args, f"command/{args.command}", data))


def _cmd_api(args: argparse.Namespace) -> int:
    return asyncio.run(_api(args, args.type, _pairs(args.args)))


async def _events(args: argparse.Namespace) -> int:
    try:
        async with ZaspotClient(args.url, args.token) as client:
            seen = 0
            async for event in await client.subscribe(args.type, args.station):
                sys.stdout.write(orjson.dumps(event).decode() + "\n")
                sys.stdout.flush()
                seen += 1
                if args.count and seen >= args.count:
                    break
        return 0
    except ApiError as exc:
        print(f"zaspot: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"zaspot: cannot reach {args.url}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _cmd_events(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_events(args))
    except KeyboardInterrupt:
        return 0


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
    password = args.password
    if password is None:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
    if len(password) < 8:
        print("zaspot: a station password needs at least 8 characters", file=sys.stderr)
        return 2
    asyncio.run(_with_store(_db(args), lambda s: s.set_station_password(args.station, password_hash(password))))
    return 0


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("ZASPOT_URL", DEFAULT_URL), help=f"API URL (default {DEFAULT_URL})")
    parser.add_argument("--token", default=os.environ.get("ZASPOT_TOKEN"), help="access token (or $ZASPOT_TOKEN)")


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
    _connection_options(call)
    call.set_defaults(func=_cmd_call)

    api = sub.add_parser("api", help="send any operator API command (fleet/list, history/frames, …)")
    api.add_argument("type")
    api.add_argument("args", nargs="*", metavar="key=value")
    api.add_argument("--timeout", type=float, default=60)
    _connection_options(api)
    api.set_defaults(func=_cmd_api)

    events = sub.add_parser("events", help="print live events as JSON lines")
    events.add_argument("--type", help="only this event type (e.g. status_changed)")
    events.add_argument("--station", help="only this station")
    events.add_argument("--count", type=int, default=0, help="stop after this many events")
    _connection_options(events)
    events.set_defaults(func=_cmd_events)

    token = sub.add_parser("token", help="create, list or revoke operator API tokens")
    token.add_argument("action", choices=["create", "list", "revoke"])
    token.add_argument("name", nargs="?", default="")
    _db_options(token)
    token.set_defaults(func=_cmd_token)

    station = sub.add_parser("station", help="station credentials (OCPP security profiles 1 and 2)")
    station.add_argument("action", choices=["password"])
    station.add_argument("station")
    station.add_argument("--password", help="the password (default: read from stdin or prompt)")
    _db_options(station)
    station.set_defaults(func=_cmd_station_password)
