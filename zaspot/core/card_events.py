"""Normalized events of cards and authorization (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event


@dataclass(frozen=True, slots=True)
class CardChanged(Event):
    """A card was added, changed or removed (station_id ""): `change` is added, updated,
    blocked, unblocked or removed; `version` the local-list version the change took."""

    type: ClassVar[str] = "card_changed"
    id_token: str
    status: str | None  # None once removed
    change: str
    version: int = 0
    expiry: float | None = None
    group: str | None = None
    driver: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class LocalListSynced(Event):
    """What a station answered to its local authorization list (or why none was sent):
    `status` is the station's (Accepted, Failed, VersionMismatch, NotSupported) or ours
    (timeout, not_connected, call_error, …)."""

    type: ClassVar[str] = "local_list_synced"
    version: int | None
    update_type: str | None  # Full | Differential | None (only asked GetLocalListVersion)
    status: str
    entries: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Authorization(Event):
    """A card that is not a known Accepted one was presented: an unknown card (accepted in
    open mode, refused in list mode), a blocked or an expired one. Logged once per station,
    card and answer every ten minutes."""

    type: ClassVar[str] = "authorization"
    id_token: str
    status: str  # what the station was told, version-neutral: Accepted, Blocked, Expired, Unknown
    mode: str  # open | list
    known: bool = False
