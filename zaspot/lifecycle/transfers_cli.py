"""`zaspot firmware add|list|update|status|rollouts` and `zaspot logs fetch|list|get`,
through a running zaspot's API. Files go over its file endpoint: `firmware add` PUTs the
file to a one-time link the API gives, `logs get` downloads from one, so both work against
a zaspot on another machine as long as its file port is reachable too."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client, table
from zaspot.store.lifecycle import FIRMWARE_DONE, LOG_DONE

Work = Callable[[ZaspotClient, argparse.Namespace], Any]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _http_error(what: str, exc: OSError) -> int:
    if isinstance(exc, urllib.error.HTTPError):
        detail = exc.read().decode(errors="replace").strip()
        print(f"zaspot: {what}: {exc.code} {detail}", file=sys.stderr)
    else:
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        print(f"zaspot: {what}: {reason}", file=sys.stderr)
    return 1


async def _merged(client: ZaspotClient, *event_types: str) -> AsyncIterator[dict[str, Any]]:
    """Several event types as one stream, in arrival order; subscribed when this returns
    (the client keeps what comes before the stream is read)."""
    return _merge([await client.subscribe(t) for t in event_types])


async def _merge(streams: list[AsyncIterator[dict[str, Any]]]) -> AsyncIterator[dict[str, Any]]:
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def pump(stream: AsyncIterator[dict[str, Any]]) -> None:
        async for event in stream:
            queue.put_nowait(event)
        queue.put_nowait(None)

    tasks = [asyncio.get_running_loop().create_task(pump(s)) for s in streams]
    try:
        while (event := await queue.get()) is not None:
            yield event
    finally:
        for task in tasks:
            task.cancel()


# --- firmware -------------------------------------------------------------------------------


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def _put_file(url: str, path: Path, size: int) -> str:
    with open(path, "rb") as body:
        request = urllib.request.Request(url, data=body, method="PUT", headers={
            "Content-Length": str(size), "Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read().decode(errors="replace").strip()


async def _firmware_add(client: ZaspotClient, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        size, sha256 = await asyncio.to_thread(_digest, path)
    except OSError as exc:
        print(f"zaspot: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    name = args.name or path.name
    ticket = await client.command("firmware/add", name=name, size=size, sha256=sha256)
    try:
        await asyncio.to_thread(_put_file, ticket["upload_url"], path, size)
    except OSError as exc:
        return _http_error(f"upload to {ticket['upload_url'].split('/upload/')[0]}", exc)
    print(f"{name}  {size} bytes  sha256 {sha256[:16]}")
    return 0


async def _firmware_list(client: ZaspotClient, args: argparse.Namespace) -> int:
    files = await client.command("firmware/list")
    if not files:
        print("no firmware files (add one with `zaspot firmware add FILE`)")
        return 0
    rows = [[f["name"], f["size"], f["sha256"][:16], _when(f["added_at"])] for f in files]
    print("\n".join(table(["NAME", "SIZE", "SHA256", "ADDED"], rows)))
    return 0


def _update_line(station_id: str, status: str, detail: str | None) -> str:
    return f"{station_id}  {status}" + (f"  ({detail})" if detail else "")


async def _firmware_update(client: ZaspotClient, args: argparse.Namespace) -> int:
    events = await _merged(client, "firmware_status", "rollout_changed") if args.wait else None
    data: dict[str, Any] = {"station_ids": args.stations, "firmware": args.file, "concurrency": args.concurrency,
                            "max_failures": args.max_failures}
    if args.install_at:
        data["install_at"] = args.install_at
    if args.signature:
        data["signature"] = args.signature
    if args.signing_certificate:
        try:
            data["signing_certificate"] = Path(args.signing_certificate).read_text()
        except OSError as exc:
            print(f"zaspot: {args.signing_certificate}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    result = await client.command("firmware/update", **data)
    rollout_id, updates = result["rollout_id"], {u["id"]: u for u in result["updates"]}
    print(f"rollout {rollout_id}: {args.file} to {_plural(len(updates), 'station')}, {args.concurrency} at a time, "
          f"stopping after {_plural(args.max_failures, 'failure')}")
    if events is None:
        for u in updates.values():
            print(_update_line(u["station_id"], u["status"], u["detail"]))
        return 0
    state = "running"
    async for event in events:
        if event["type"] == "rollout_changed" and event["rollout_id"] == rollout_id:
            state = event["state"]
        elif event["type"] == "firmware_status" and event["update_id"] in updates:
            updates[event["update_id"]]["status"] = event["status"]
            print(_update_line(event["station_id"], event["status"], event.get("detail")), flush=True)
        if state != "running" and all(u["status"] in FIRMWARE_DONE for u in updates.values()):
            break
    else:
        print("zaspot: disconnected: connection to zaspot closed", file=sys.stderr)
        return 1
    return _rollout_summary(rollout_id, state, [u["status"] for u in updates.values()])


def _rollout_summary(rollout_id: int, state: str, statuses: list[str]) -> int:
    installed = statuses.count("Installed")
    skipped = statuses.count("skipped")
    failed = len(statuses) - installed - skipped
    counts = [f"{installed} installed"] + [f"{failed} failed"] * bool(failed) + [f"{skipped} skipped"] * bool(skipped)
    print(f"rollout {rollout_id} {state}: {', '.join(counts)}")
    return 0 if installed == len(statuses) else 1


async def _firmware_status(client: ZaspotClient, args: argparse.Namespace) -> int:
    data = {k: v for k, v in (("station_id", args.station), ("rollout_id", args.rollout)) if v is not None}
    updates = await client.command("firmware/status", **data)
    if not updates:
        print("no firmware updates")
        return 0
    rows = [[u["id"], u["station_id"], u["rollout_id"] or "-", u["firmware"], u["status"], _when(u["updated_at"]),
             u["detail"] or ""] for u in updates]
    print("\n".join(table(["ID", "STATION", "ROLLOUT", "FIRMWARE", "STATUS", "UPDATED", "DETAIL"], rows)))
    return 0


async def _firmware_rollouts(client: ZaspotClient, args: argparse.Namespace) -> int:
    rollouts = await client.command("firmware/rollouts")
    if not rollouts:
        print("no firmware rollouts")
        return 0
    rows = [[r["id"], r["firmware"], r["state"], r["total"], r["installed"], r["failed"], r["skipped"], r["pending"],
             _when(r["created_at"])] for r in rollouts]
    print("\n".join(table(["ID", "FIRMWARE", "STATE", "TOTAL", "INSTALLED", "FAILED", "SKIPPED", "PENDING", "STARTED"],
                           rows)))
    return 0


# --- logs -------------------------------------------------------------------------------------


def _log_line(u: dict[str, Any]) -> str:
    parts = [f"log {u['id']}", u["station_id"], u["log_type"], u["status"]]
    if u.get("filename"):
        parts.append(u["filename"])
    if u.get("size") is not None:
        parts.append(_plural(u["size"], "byte"))
    if u.get("detail"):
        parts.append(f"({u['detail']})")
    return "  ".join(parts)


async def _logs_fetch(client: ZaspotClient, args: argparse.Namespace) -> int:
    events = await client.subscribe("log_status") if args.wait else None
    upload = await client.command("logs/fetch", station_id=args.station, log_type=args.type, timeout=args.timeout)
    if events is not None and upload["status"] not in LOG_DONE:
        async for event in events:
            if event["upload_id"] == upload["id"]:
                upload.update(status=event["status"], detail=event.get("detail"),
                              filename=event.get("filename") or upload["filename"], size=event.get("size"))
                if upload["status"] in LOG_DONE:
                    break
        else:
            print("zaspot: disconnected: connection to zaspot closed", file=sys.stderr)
            return 1
    print(_log_line(upload))
    return 1 if upload["status"] in LOG_DONE and upload["status"] != "Uploaded" else 0


async def _logs_list(client: ZaspotClient, args: argparse.Namespace) -> int:
    uploads = await client.command("logs/list", **({"station_id": args.station} if args.station else {}))
    if not uploads:
        print("no logs")
        return 0
    rows = [[u["id"], u["station_id"], u["log_type"], u["status"], u["filename"] or "-",
             "-" if u["size"] is None else u["size"], _when(u["updated_at"]), u["detail"] or ""] for u in uploads]
    print("\n".join(table(["ID", "STATION", "TYPE", "STATUS", "FILE", "SIZE", "UPDATED", "DETAIL"], rows)))
    return 0


def _download(url: str, out: Any) -> int:
    size = 0
    with urllib.request.urlopen(url, timeout=600) as response:
        while chunk := response.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    return size


async def _logs_get(client: ZaspotClient, args: argparse.Namespace) -> int:
    link = await client.command("logs/get", log_id=args.id)
    if args.output == "-":
        out = sys.stdout.buffer
        try:
            await asyncio.to_thread(_download, link["url"], out)
        except OSError as exc:
            return _http_error("download", exc)
        out.flush()
        return 0
    target = Path(args.output or link["filename"])
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as out:
            size = await asyncio.to_thread(_download, link["url"], out)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return _http_error("download", exc) if isinstance(exc, urllib.error.URLError) else \
            _http_error(str(target), exc)
    print(f"saved {target} ({_plural(size, 'byte')})")
    return 0


# --- the parser ---------------------------------------------------------------------------------


def _options(parser: argparse.ArgumentParser, work: Work) -> None:
    connection_options(parser)
    parser.set_defaults(func=lambda args: run_client(args, lambda client: work(client, args)))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of at least 1")
    return value


def configure(sub: Any) -> None:
    """Add this feature's commands to the `zaspot` parser."""
    firmware = sub.add_parser("firmware", help="firmware files and updates (rollouts over many stations)")
    fw = firmware.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = fw.add_parser("add", help="upload a firmware file to zaspot (kept in files.dir/firmware)")
    add.add_argument("file")
    add.add_argument("--name", help="its name on the server (default: the file's own name)")
    _options(add, _firmware_add)
    _options(fw.add_parser("list", help="the firmware files zaspot serves"), _firmware_list)
    update = fw.add_parser("update", help="install a firmware file on stations, a few at a time")
    update.add_argument("stations", nargs="+", metavar="STATION")
    update.add_argument("--file", required=True, help="the firmware file's name (see `zaspot firmware list`)")
    update.add_argument("--concurrency", type=_positive, default=2, help="stations updating at once (default 2)")
    update.add_argument("--max-failures", type=_positive, default=1,
                        help="stop the rollout after this many failures (default 1)")
    update.add_argument("--install-at", help="2.0.1: install at this time (YYYY-MM-DDTHH:MM:SSZ)")
    update.add_argument("--signature", help="the firmware's signature (base64), sent with the update")
    update.add_argument("--signing-certificate", help="PEM file of the certificate that signed it")
    update.add_argument("--wait", action="store_true",
                        help="print each station's progress; exit 0 when all installed, 1 when not")
    _options(update, _firmware_update)
    status = fw.add_parser("status", help="firmware updates, newest first")
    status.add_argument("station", nargs="?")
    status.add_argument("--rollout", type=int, help="only this rollout's updates")
    _options(status, _firmware_status)
    _options(fw.add_parser("rollouts", help="firmware rollouts and their counts"), _firmware_rollouts)

    logs = sub.add_parser("logs", help="fetch stations' diagnostics and security logs")
    lg = logs.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = lg.add_parser("fetch", help="ask a station to upload its log to zaspot")
    fetch.add_argument("station")
    fetch.add_argument("--type", choices=["diagnostics", "security"], default="diagnostics")
    fetch.add_argument("--wait", action="store_true", help="until the file is here (exit 0) or the upload failed (1)")
    fetch.add_argument("--timeout", type=float, default=60, help="s to wait for the station's answer")
    _options(fetch, _logs_fetch)
    listing = lg.add_parser("list", help="log requests and uploaded files, newest first")
    listing.add_argument("station", nargs="?")
    _options(listing, _logs_list)
    get = lg.add_parser("get", help="download an uploaded log")
    get.add_argument("id", type=int)
    get.add_argument("-o", "--output", help="file to write (default: its own name here; - for stdout)")
    _options(get, _logs_get)
