"""Firmware files and updates: what `zaspot firmware …` and the API's firmware/* do.

Files live in `files.dir/firmware/`, each with its size and sha256 in `firmware_files`; an
operator uploads one to a one-time link on the file endpoint. An update is one station's
part of a rollout (zaspot.lifecycle.rollout): UpdateFirmware through the version-neutral
commands with a download URL carrying the update's own token, then every
FirmwareStatusNotification onto the update until Installed or a failure. An update that
hears nothing for `files.status_timeout` is timed_out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zaspot.lifecycle.files import Download, FileEndpoint, Received, Refused, Upload
from zaspot.lifecycle.links import Tickets, TransferError, new_token, station_url
from zaspot.lifecycle.rollout import Rollouts
from zaspot.store import lifecycle as rows
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
# 2.0.1 answers that refuse an UpdateFirmware (1.6 refuses with a CALLERROR, if at all).
REFUSALS = frozenset({"Rejected", "InvalidCertificate", "RevokedCertificate"})
PUBLIC = ("id", "station_id", "rollout_id", "firmware", "status", "detail", "created_at", "sent_at", "updated_at",
          "done_at")


def public(update: dict[str, Any]) -> dict[str, Any]:
    """An update as the API shows it (its token stays a secret of the station's URL)."""
    return {key: update.get(key) for key in PUBLIC}


def watch_interval(timeout: float) -> float:
    return min(max(timeout / 4, 0.2), 30.0)


class FirmwareService:
    def __init__(self, ctx: Any, commands: Any, endpoint: FileEndpoint, tickets: Tickets) -> None:
        self.ctx, self.commands, self.endpoint, self.tickets = ctx, commands, endpoint, tickets
        self.directory = Path(ctx.config.files.dir) / "firmware"  # made at the first upload
        self.rollouts = Rollouts(ctx, self._send, self._reject)
        self._calls: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[None] | None = None
        self._started = time.time()

    async def start(self) -> None:
        self.endpoint.route("firmware", ("GET", "HEAD"), self._download)
        self.endpoint.route("upload", ("PUT",), self._upload)
        await self.rollouts.start()
        self._watch = asyncio.get_running_loop().create_task(self._time_out(), name="firmware-timeouts")

    async def stop(self) -> None:
        await self.rollouts.stop()
        tasks = [*self._calls, *([self._watch] if self._watch else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- files ------------------------------------------------------------------------

    async def files(self) -> list[dict[str, Any]]:
        files = await self.ctx.store.firmware_files()
        return [{k: f[k] for k in ("name", "size", "sha256", "added_at")} for f in files]

    async def upload_ticket(self, name: str, size: int, sha256: str) -> tuple[str, float]:
        """A one-time upload token for a new file (or a new version of one no rollout is using)."""
        if not FILE_NAME.match(name):
            raise TransferError("invalid_format", f"a firmware name is letters, digits and . _ + - (got {name!r})")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256) or size < 0:
            raise TransferError("invalid_format", "size is a byte count and sha256 64 hex digits")
        if size > self.endpoint.max_upload:
            raise TransferError("rejected", f"{size} bytes is more than files.max_upload_mb allows")
        busy = [u for u in await self.ctx.store.unfinished_firmware_updates() if u["firmware"] == name]
        if busy:
            raise TransferError("rejected", f"{name} is being installed (update {busy[0]['id']} on "
                                            f"{busy[0]['station_id']}): add it under another name")
        return self.tickets.issue("firmware-upload", {"name": name, "size": size, "sha256": sha256})

    async def _upload(self, method: str, token: str, name: str | None) -> Upload | None:
        ticket = self.tickets.get("firmware-upload", token, use=True)
        if ticket is None:
            return None
        return Upload(self.directory, partial(self._store_file, ticket), who="operator")

    async def _store_file(self, ticket: dict[str, Any], received: Received) -> str:
        name = ticket["name"]
        if (received.size, received.sha256) != (ticket["size"], ticket["sha256"]):
            raise Refused(409, f"{name}: got {received.size} bytes with sha256 {received.sha256[:16]}…, "
                               f"expected {ticket['size']} bytes with {ticket['sha256'][:16]}…")
        target = self.directory / name
        os.replace(received.path, target)
        unit = Unit()
        unit.do(rows.add_firmware_file, name, str(target.resolve()), received.size, received.sha256, time.time())
        await publish(self.ctx.store, self.ctx.bus, unit)
        _LOGGER.info("firmware %s added (%d bytes, sha256 %s)", name, received.size, received.sha256)
        return f"stored {name} ({received.size} bytes)"

    async def _download(self, method: str, token: str, name: str | None) -> Download | None:
        update = await self.ctx.store.firmware_update_by_token(token)
        if update is None or (update["status"] in rows.FIRMWARE_DONE and update["status"] != "timed_out"):
            return None  # a station that timed out may still be fetching: its word will count
        file = await self.ctx.store.firmware_file(update["firmware"])
        return Download(Path(file["path"]), who=update["station_id"]) if file else None

    # --- updates ----------------------------------------------------------------------

    async def update(self, station_ids: list[str], firmware: str, concurrency: int = 2, max_failures: int = 1,
                     options: dict[str, Any] | None = None, source: str = "operator") -> dict[str, Any]:
        """Start a rollout of `firmware` over the stations, in their order."""
        store = self.ctx.store
        if not station_ids or len(set(station_ids)) != len(station_ids):
            raise TransferError("invalid_format", "station_ids: one or more stations, each once")
        if await store.firmware_file(firmware) is None:
            raise TransferError("not_found", f"no firmware file {firmware!r} (add it with `zaspot firmware add`)")
        for station_id in station_ids:
            if await store.station(station_id) is None:
                raise TransferError("not_found", f"no station {station_id!r}")
        busy = {u["station_id"]: u for u in await store.unfinished_firmware_updates()}
        for station_id in station_ids:
            if station_id in busy:
                u = busy[station_id]
                raise TransferError("rejected", f"{station_id} has an update in progress "
                                                f"(update {u['id']}, {u['status']})")
        unit = Unit()
        unit.do(rows.create_rollout, firmware, [(s, new_token()) for s in station_ids], concurrency, max_failures,
                options or {}, source, time.time())
        rollout_id = (await publish(store, self.ctx.bus, unit))[0]
        _LOGGER.info("firmware rollout %d: %s to %s (%d at a time, stops after %d failures)", rollout_id, firmware,
                     ", ".join(station_ids), concurrency, max_failures)
        self.rollouts.run(rollout_id)
        return {"rollout_id": rollout_id, "state": "running",
                "updates": [public(u) for u in await store.firmware_updates(rollout_id=rollout_id)]}

    async def status(self, station_id: str | None = None, rollout_id: int | None = None) -> list[dict[str, Any]]:
        return [public(u) for u in await self.ctx.store.firmware_updates(station_id, rollout_id)]

    async def rollout_list(self) -> list[dict[str, Any]]:
        out = []
        for r in await self.ctx.store.firmware_rollouts():
            updates = await self.ctx.store.firmware_updates(rollout_id=r["id"], limit=100_000)
            statuses = [u["status"] for u in updates]
            out.append({
                "id": r["id"], "firmware": r["firmware"], "state": r["state"], "total": len(statuses),
                "installed": statuses.count("Installed"),
                "failed": sum(s in rows.FIRMWARE_FAILED for s in statuses),
                "skipped": statuses.count("skipped"),
                "pending": sum(s not in rows.FIRMWARE_DONE for s in statuses),
                "concurrency": r["concurrency"], "max_failures": r["max_failures"],
                "created_at": r["created_at"], "updated_at": r["updated_at"],
            })
        return out

    def reported(self, unit: Unit, station_id: str, status: str, request_id: int | None) -> None:
        """A station's FirmwareStatusNotification, into the unit of its message."""
        unit.do(rows.station_firmware_status, station_id, status, request_id, time.time())

    # --- sending ------------------------------------------------------------------------

    async def _send(self, update: dict[str, Any], rollout: dict[str, Any]) -> None:
        """Mark the update sent and send UpdateFirmware (in a task of its own: a silent station
        holds up only itself); a station that is away fails the update at once."""
        path = f"/firmware/{update['token']}/{quote(update['firmware'])}"
        location = station_url(self.ctx, update["station_id"], path)
        if location is None:
            await self._set(update["id"], "rejected", f"{update['station_id']} is not connected", {"pending"})
            return
        await self._set(update["id"], "sent", None, {"pending"})
        task = asyncio.get_running_loop().create_task(self._call(update, rollout, location),
                                                      name=f"firmware-update-{update['id']}")
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _reject(self, update: dict[str, Any], why: str) -> None:
        await self._set(update["id"], "rejected", why, {"pending"})

    async def _call(self, update: dict[str, Any], rollout: dict[str, Any], location: str) -> None:
        args = {"location": location, "request_id": update["id"], "retrieve_at": time.time(),
                "install_at": rollout.get("install_at"), "signature": rollout.get("signature"),
                "signing_certificate": rollout.get("signing_certificate")}
        outcome = await self.commands.run(update["station_id"], "update_firmware", args,
                                          rollout.get("source") or "operator")
        if outcome.error is not None or outcome.status in REFUSALS:
            info = (outcome.result or {}).get("statusInfo") if isinstance(outcome.result, dict) else None
            detail = outcome.error or f"the station answered {outcome.status}" + (
                f" ({info.get('reasonCode')})" if info else "")
            await self._set(update["id"], "rejected", detail, {"sent"})

    async def _set(self, update_id: int, status: str, detail: str | None, only_if: set[str]) -> None:
        unit = Unit()
        unit.do(rows.set_update_status, update_id, status, detail, time.time(), frozenset(only_if))
        await publish(self.ctx.store, self.ctx.bus, unit)

    async def _time_out(self) -> None:
        timeout = self.ctx.config.files.status_timeout
        while True:
            await asyncio.sleep(watch_interval(timeout))
            now = time.time()
            if now - self._started < timeout:
                continue  # after a restart each update gets its full time again
            unit = Unit()
            unit.do(rows.time_out_updates, now - timeout, now)
            timed_out = (await publish(self.ctx.store, self.ctx.bus, unit))[0]
            if timed_out:
                _LOGGER.warning("firmware updates %s timed out: no word from the station for %.0f s",
                                ", ".join(map(str, timed_out)), timeout)
