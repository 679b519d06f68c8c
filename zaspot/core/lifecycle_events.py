"""Normalized events of a station's life: reservations, firmware updates, log uploads,
refused connections, stale transactions (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event

# reservations and stale transactions


@dataclass(frozen=True, slots=True)
class ReservationChanged(Event):
    """A reservation was made, refused, used, cancelled or expired (zaspot.lifecycle.reservations)."""

    type: ClassVar[str] = "reservation_changed"
    reservation_id: int
    evse_id: int | None  # None: any EVSE of the station
    connector_id: int | None
    id_token: str
    status: str  # active | used | cancelled | expired | rejected
    expires_at: float
    transaction_id: str | None = None  # the transaction that used it
    detail: str | None = None  # the station's answer or why it ended, e.g. "Occupied", "Removed"


@dataclass(frozen=True, slots=True)
class TransactionStale(Event):
    """A transaction closed by us, not the station: it booted again without stopping it, or
    the transaction was silent too long. Its end is its last meter reading."""

    type: ClassVar[str] = "transaction_stale"
    transaction_id: str
    evse_id: int
    connector_id: int
    reason: str  # "Stale: station rebooted", "Stale: silent for 24 h"
    meter_stop_wh: float | None


# firmware and logs


@dataclass(frozen=True, slots=True)
class FirmwareStatus(Event):
    """A firmware update changed: sent, the station's FirmwareStatusNotification (Downloading,
    Installed, DownloadFailed, …), rejected, skipped or timed_out (zaspot.lifecycle.firmware)."""

    type: ClassVar[str] = "firmware_status"
    update_id: int
    rollout_id: int | None
    firmware: str
    status: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class RolloutChanged(Event):
    """A firmware rollout began (running), finished (done) or stopped on its failures (station_id "")."""

    type: ClassVar[str] = "rollout_changed"
    rollout_id: int
    state: str  # running | done | stopped
    firmware: str = ""


@dataclass(frozen=True, slots=True)
class LogStatus(Event):
    """A log request changed: requested, the station's answer, its Diagnostics- or
    LogStatusNotification, or the file arriving (Uploaded) (zaspot.lifecycle.logs)."""

    type: ClassVar[str] = "log_status"
    upload_id: int
    status: str
    filename: str | None = None
    log_type: str = "diagnostics"
    size: int | None = None
    detail: str | None = None
