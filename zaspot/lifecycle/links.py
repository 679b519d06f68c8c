"""The URLs zaspot hands out on its file endpoint, and the errors of its transfers.

A station is told a URL on the address it connected to (its WebSocket's own end), so it
is reachable from where the station is; an operator's one-time link (upload a firmware
file, fetch a log) is on the address the API client connected to. `files.public_url`
replaces both when zaspot sits behind NAT or a proxy.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

TICKET_TTL = 900.0  # s an operator's one-time link stays valid
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TransferError(Exception):
    """A request an operator made that cannot be done; `code` as the API's error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def new_token() -> str:
    return secrets.token_urlsafe(18)


def station_url(ctx: Any, station_id: str, path: str) -> str | None:
    """`path` on the file endpoint as the station reaches it; None when it is not connected."""
    session = ctx.sessions.get(station_id)
    if session is None:
        return None
    return ctx.files.url(getattr(session.ws, "local_address", None), path)


def operator_url(ctx: Any, ws: Any, path: str) -> str:
    return ctx.files.url(getattr(ws, "local_address", None), path)


def safe_name(name: str | None, default: str) -> str:
    """A file name from a station or a URL, made harmless: its last component, no leading dot."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).lstrip("._")[:120]
    return name or default


@dataclass(slots=True)
class _Ticket:
    kind: str
    data: Any
    expires: float


class Tickets:
    """One-time tokens of operators' links, kept in memory (a restart voids them: ask again)."""

    def __init__(self) -> None:
        self._tickets: dict[str, _Ticket] = {}

    def issue(self, kind: str, data: Any, ttl: float = TICKET_TTL) -> tuple[str, float]:
        now = time.time()
        self._tickets = {k: t for k, t in self._tickets.items() if t.expires > now}
        token = new_token()
        self._tickets[token] = _Ticket(kind, data, now + ttl)
        return token, now + ttl

    def get(self, kind: str, token: str, *, use: bool = False) -> Any:
        """The ticket's data, or None when unknown, expired or of another kind; `use` spends it."""
        ticket = self._tickets.get(token)
        if ticket is None or ticket.kind != kind or ticket.expires <= time.time():
            return None
        if use:
            del self._tickets[token]
        return ticket.data
