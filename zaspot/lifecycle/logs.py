"""Log retrieval: what `zaspot logs …` and the API's logs/* do.

A request is a `log_uploads` row with a token of its own. The station is sent GetLog
(2.0.1, and 1.6's security log) or GetDiagnostics (1.6) with an upload URL on the file
endpoint; it PUTs or POSTs (multipart/form-data, as many 1.6 chargers do) its file there,
which is kept as `files.dir/logs/<station>/<id>-<filename>`. A file that arrives is the
truth: the request is Uploaded, whatever the station says after. Its Diagnostics- and
LogStatusNotifications are shown as they come (UploadFailed, Rejected with the reason);
a request that hears nothing for `files.status_timeout` is timed_out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from zaspot.lifecycle import multipart
from zaspot.lifecycle.files import Download, FileEndpoint, Received, Refused, Upload
from zaspot.lifecycle.firmware import watch_interval
from zaspot.lifecycle.links import Tickets, TransferError, new_token, safe_name, station_url
from zaspot.store import lifecycle as rows
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

LOG_TYPES = ("diagnostics", "security")
CLOSED = frozenset({"Rejected", "timed_out"})  # no upload is expected any more
PUBLIC = ("id", "station_id", "log_type", "status", "filename", "size", "detail", "created_at", "updated_at")


def public(upload: dict[str, Any]) -> dict[str, Any]:
    return {key: upload.get(key) for key in PUBLIC}


def answer_of(outcome: Any) -> tuple[str, str | None, str | None]:
    """(status, filename, detail) of the station's answer. GetLog (2.0.1, and 1.6's security
    extension) answers a status; 1.6 GetDiagnostics a fileName, or none when it has nothing."""
    if outcome.error is not None:
        return "Rejected", None, outcome.error
    result = outcome.result if isinstance(outcome.result, dict) else {}
    if "status" in result:
        status, filename = result["status"], result.get("filename")
        info = result.get("statusInfo") or {}
        if status == "Rejected":
            return status, filename, "the station refused" + (f": {info['reasonCode']}" if info else "")
        if status == "AcceptedCanceled":
            return "Accepted", filename, "the station cancelled an upload in progress for this one"
        return status, filename, None
    if result.get("fileName"):
        return "Accepted", result["fileName"], None
    return "Rejected", None, "the station has no diagnostics to upload"


class LogService:
    def __init__(self, ctx: Any, commands: Any, endpoint: FileEndpoint, tickets: Tickets) -> None:
        self.ctx, self.commands, self.endpoint, self.tickets = ctx, commands, endpoint, tickets
        self.directory = Path(ctx.config.files.dir) / "logs"  # made at the first upload
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.endpoint.route("logs", ("PUT", "POST"), self._upload)
        self.endpoint.route("download", ("GET", "HEAD"), self._download)
        self._watch = asyncio.get_running_loop().create_task(self._time_out(), name="log-timeouts")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)

    # --- requests ---------------------------------------------------------------------

    async def fetch(self, station_id: str, log_type: str = "diagnostics", source: str = "operator") -> dict[str, Any]:
        """Ask the station for its log; returns the request once the station has answered."""
        if log_type not in LOG_TYPES:
            raise TransferError("invalid_format", f"log_type is one of {', '.join(LOG_TYPES)}, not {log_type!r}")
        if station_id not in self.ctx.sessions:
            raise TransferError("not_connected", f"station {station_id} is not connected")
        token = new_token()
        unit = Unit()
        unit.do(rows.create_log_upload, station_id, log_type, token, source, time.time())
        upload_id = (await publish(self.ctx.store, self.ctx.bus, unit))[0]
        location = station_url(self.ctx, station_id, f"/logs/{token}")
        detail: str | None
        if location is None:
            outcome_status, filename, detail = "Rejected", None, f"station {station_id} is not connected"
        else:
            args = {"log_type": log_type, "request_id": upload_id, "location": location}
            outcome_status, filename, detail = answer_of(await self.commands.run(station_id, "get_log", args, source))
        await self._set(upload_id, outcome_status, detail, filename, {"requested"})
        return public(await self.ctx.store.log_upload(upload_id) or {})

    async def list(self, station_id: str | None = None) -> list[dict[str, Any]]:
        return [public(u) for u in await self.ctx.store.log_uploads(station_id)]

    def reported(self, unit: Unit, station_id: str, status: str, request_id: int | None) -> None:
        """A station's Diagnostics- or LogStatusNotification, into the unit of its message."""
        unit.do(rows.station_log_status, station_id, status, request_id, time.time())

    def download_ticket(self, upload: dict[str, Any]) -> tuple[str, float]:
        return self.tickets.issue("log-download", upload["id"])

    async def _set(self, upload_id: int, status: str, detail: str | None, filename: str | None,
                   only_if: set[str]) -> None:
        unit = Unit()
        unit.do(rows.set_log_status, upload_id, status, detail, time.time(), filename, frozenset(only_if))
        await publish(self.ctx.store, self.ctx.bus, unit)

    # --- the endpoint's side ------------------------------------------------------------

    async def _upload(self, method: str, token: str, name: str | None) -> Upload | None:
        upload = await self.ctx.store.log_upload_by_token(token)
        if upload is None or upload["path"] is not None or upload["status"] in CLOSED:
            return None
        directory = self.directory / safe_name(upload["station_id"], "station")
        return Upload(directory, partial(self._store, upload, name), who=upload["station_id"])

    async def _store(self, upload: dict[str, Any], url_name: str | None, received: Received) -> str:
        """The file into place (the part that holds it, for a multipart body), then its row."""
        try:
            boundary = multipart.boundary_of(received.content_type)
            part = await asyncio.to_thread(multipart.file_part, received.path, boundary) if boundary else None
        except ValueError as exc:
            raise Refused(400, f"bad multipart/form-data upload: {exc}") from None
        source, size = received.path, received.size
        if part is not None:
            fd, name = tempfile.mkstemp(dir=received.path.parent, prefix=".part-")
            os.close(fd)
            source, size = Path(name), part.end - part.start
            await asyncio.to_thread(multipart.copy_part, received.path, part, source)
        default = f"{upload['log_type']}-{upload['id']}.log"
        filename = safe_name((part.filename if part else None) or url_name or upload["filename"], default)
        target = received.path.parent / f"{upload['id']}-{filename}"
        try:
            os.replace(source, target)
        finally:
            if source != received.path:
                source.unlink(missing_ok=True)
        unit = Unit()
        unit.do(rows.log_file_stored, upload["id"], filename, str(target.resolve()), size, time.time())
        await publish(self.ctx.store, self.ctx.bus, unit)
        _LOGGER.info("%s: log %d stored as %s (%d bytes)", upload["station_id"], upload["id"], target, size)
        return f"stored {filename} ({size} bytes)"

    async def _download(self, method: str, token: str, name: str | None) -> Download | None:
        upload_id = self.tickets.get("log-download", token)
        upload = await self.ctx.store.log_upload(upload_id) if upload_id is not None else None
        if upload is None or upload["path"] is None:
            return None
        return Download(Path(upload["path"]), who="operator")

    async def _time_out(self) -> None:
        timeout = self.ctx.config.files.status_timeout
        started = time.time()
        while True:
            await asyncio.sleep(watch_interval(timeout))
            now = time.time()
            if now - started < timeout:
                continue
            unit = Unit()
            unit.do(rows.time_out_logs, now - timeout, now)
            await publish(self.ctx.store, self.ctx.bus, unit)
