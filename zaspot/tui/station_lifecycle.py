"""A station's firmware updates and log uploads: the summary lines and the tab's tables.

Read from `firmware/status` and `logs/list`; the station screen reads them again when a
`firmware_status` or `log_status` event of its station arrives (no fast polling).
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from zaspot.tui import format as fmt
from zaspot.tui.feed import optional
from zaspot.tui.model import Station

LIFECYCLE_EVENTS = ("firmware_status", "log_status")
DONE_WELL = {"Installed", "Uploaded"}
UNDER_WAY = {"pending", "sent", "Downloading", "Downloaded", "Installing", "InstallRebooting", "InstallScheduled",
             "DownloadScheduled", "DownloadPaused", "SignatureVerified", "Uploading", "Accepted", "requested"}
QUIET = {"Idle", "skipped", "cancelled"}


def status_style(status: str | None) -> str:
    if status in DONE_WELL:
        return "green"
    if status in UNDER_WAY:
        return "yellow"
    if status in QUIET or not status:
        return "bright_black"
    return "bold red"  # DownloadFailed, InstallationFailed, InvalidSignature, UploadFailed, rejected, timed_out, …


def newest(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return sorted(rows or [], key=lambda r: (r.get("updated_at") or 0, r.get("id") or 0), reverse=True)


def firmware_line(st: Station, updates: list[dict[str, Any]] | None) -> str:
    line = f"Firmware: {escape(st.firmware) or '–'}"
    if updates is None:
        return line
    if not updates:
        return line + " · no update sent"
    last = newest(updates)[0]
    status = last.get("status") or "?"
    detail = f" ({escape(str(last['detail']))})" if last.get("detail") else ""
    return line + (f" · last update {escape(str(last.get('firmware')))}: "
                   f"[{status_style(status)}]{escape(status)}[/]{detail} at {fmt.clock(last.get('updated_at'))}")


def logs_line(uploads: list[dict[str, Any]] | None) -> str:
    if uploads is None:
        return "Logs: –"
    if not uploads:
        return "Logs: none fetched"
    last = newest(uploads)[0]
    status = last.get("status") or "?"
    file = f" ({escape(str(last['filename']))}, {fmt.size(last.get('size'))})" if last.get("filename") else ""
    return (f"Logs: last {last.get('log_type')} [{status_style(status)}]{escape(status)}[/]"
            f" at {fmt.clock(last.get('updated_at'))}{file} · {len(uploads)} in all")


def reservations_line(st: Station, now: float) -> str:
    held = st.reservations_at(now)
    if not held:
        return "Reservation: none"
    parts = [f"{r.place(st.ocpp_version)} for {escape(r.id_token)} until {fmt.clock(r.expires_at)}" for r in held]
    return "Reservation: [b magenta]" + "; ".join(parts) + "[/]"


class LifecyclePane(Vertical):
    """The "Firmware & logs" tab: every update and every upload, newest first."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.updates: list[dict[str, Any]] | None = None  # None: not read yet, or not on this server
        self.uploads: list[dict[str, Any]] | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="fw-updates", cursor_type="none")
        yield DataTable(id="log-uploads", cursor_type="none")

    def on_mount(self) -> None:
        fw = self.query_one("#fw-updates", DataTable)
        for label, width in (("#", 3), ("Firmware", 18), ("Status", 16), ("Changed", 8), ("Detail", 20)):
            fw.add_column(label, width=width)
        logs = self.query_one("#log-uploads", DataTable)
        for label, width in (("#", 3), ("Log", 11), ("Status", 13), ("Changed", 8), ("Size", 8), ("File", 20)):
            logs.add_column(label, width=width)
        fw.border_title, logs.border_title = "Firmware updates", "Log uploads"

    async def load(self, client: Any, station_id: str) -> None:
        """Both lists from the server (an older one without them: left empty)."""
        if client is None:
            return
        self.updates = await optional(client, "firmware/status", station_id=station_id)
        self.uploads = await optional(client, "logs/list", station_id=station_id)
        self._show()

    def _show(self) -> None:
        fw = self.query_one("#fw-updates", DataTable)
        fw.clear()
        for u in newest(self.updates):
            status = u.get("status") or "?"
            fw.add_row(str(u.get("id", "")), u.get("firmware") or "", Text(status, style=status_style(status)),
                       fmt.clock(u.get("updated_at")), u.get("detail") or "")
        logs = self.query_one("#log-uploads", DataTable)
        logs.clear()
        for u in newest(self.uploads):
            status = u.get("status") or "?"
            logs.add_row(str(u.get("id", "")), u.get("log_type") or "", Text(status, style=status_style(status)),
                         fmt.clock(u.get("updated_at")), fmt.size(u.get("size")), u.get("filename") or "–")
