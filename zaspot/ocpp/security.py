"""Who may connect as a station: OCPP security profiles 1-3, checked at the handshake.

- Profile 1: HTTP Basic auth, username = station id, password checked against
  the station's stored scrypt hash. Profile 2: the same over TLS.
- Profile 3: TLS with a client certificate signed by `tls.client_ca` whose
  subject CN is the station id.
- A station with a stored password always needs it, whatever its profile.
- Failed attempts are recorded (event with the remote address) and an address
  that keeps failing is refused for a while, doubling each time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http
import logging
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from zaspot.api.auth import password_ok
from zaspot.config import Config, ConfigError
from zaspot.core.events import DeviceEvent

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

REFRESH_EVERY = 5.0
BACKOFF_START = 10.0
BACKOFF_MAX = 900.0
FAILURE_WINDOW = 60.0


def tls_context(config: Config) -> ssl.SSLContext | None:
    """The server's TLS context (wss://), or None when TLS is not configured."""
    tls = config.tls
    if tls is None:
        if config.ocpp.security_profile >= 2 or any((s.security_profile or 0) >= 2 for s in config.stations):
            raise ConfigError(f"{config.source}: security profile 2 or 3 needs a `tls:` section (cert, key)")
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.cert, tls.key)
        if tls.client_ca:
            context.load_verify_locations(tls.client_ca)
            # Optional, not required: API clients and profile-2 stations have no certificate.
            context.verify_mode = ssl.CERT_OPTIONAL
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{config.source}: tls: cannot load certificate or key: {exc}") from None
    return context


@dataclass(slots=True)
class _Failures:
    count: int = 0
    first: float = 0.0
    blocked_until: float = 0.0
    backoff: float = BACKOFF_START


def _refuse(status: http.HTTPStatus, text: str, extra: list[tuple[str, str]] | None = None) -> Response:
    body = (text + "\n").encode()
    headers = Headers([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))] + (extra or []))
    return Response(status.value, status.phrase, headers, body)


class StationAuth:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        # Station passwords, read once and refreshed in the background: no database read
        # per handshake (a reconnect storm is thousands at once). `zaspot station password`
        # writes the database; the change counts here within REFRESH_EVERY seconds.
        self._passwords: dict[str, str] = {}
        self._refresher: asyncio.Task[None] | None = None
        self._failures: dict[str, _Failures] = {}
        # station id -> sha256 of the password last verified: reconnects skip scrypt.
        self._verified: dict[str, tuple[str, bytes]] = {}

    async def start(self) -> None:
        self._passwords = await self.ctx.store.station_password_hashes()
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop(), name="station-passwords")

    async def stop(self) -> None:
        if self._refresher:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                self._passwords = await self.ctx.store.station_password_hashes()
            except Exception:  # keep the last known passwords; never open the door on an error
                logging.getLogger(__name__).exception("could not refresh station passwords")

    def profile(self, station_id: str) -> int:
        for station in self.ctx.config.stations:
            if station.id == station_id and station.security_profile is not None:
                return station.security_profile
        return self.ctx.config.ocpp.security_profile

    async def check(self, connection: Any, request: Request, station_id: str) -> Response | None:
        """None to let the station in, or the HTTP response that refuses it."""
        remote = connection.remote_address[0] if connection.remote_address else "?"
        blocked = self._blocked_for(remote)
        if blocked:
            return _refuse(http.HTTPStatus.TOO_MANY_REQUESTS, "too many failed attempts; try again later",
                           [("Retry-After", str(int(blocked) + 1))])
        profile = self.profile(station_id)
        stored = self._passwords.get(station_id)
        if profile == 3:
            problem = self._client_cert_problem(connection, station_id)
        elif profile in (1, 2) or stored:
            problem = await self._basic_auth_problem(request, station_id, stored)
        else:
            problem = None
        if problem is None:
            self._failures.pop(remote, None)
            return None
        await self._failed(station_id, remote, problem)
        if profile == 3:
            return _refuse(http.HTTPStatus.FORBIDDEN, problem)
        return _refuse(http.HTTPStatus.UNAUTHORIZED, problem, [("WWW-Authenticate", 'Basic realm="zaspot"')])

    async def _basic_auth_problem(self, request: Request, station_id: str, stored: str | None) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return "this station must authenticate (HTTP Basic auth)"
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "malformed Basic auth header"
        if user != station_id:
            return "Basic auth username must be the station id"
        if stored is None:
            return "no password is set for this station (zaspot station password ID)"
        digest = hashlib.sha256(password.encode()).digest()
        if self._verified.get(station_id) == (stored, digest):
            return None
        if not await asyncio.to_thread(password_ok, password, stored):  # scrypt: ~50 ms of CPU
            return "wrong password"
        self._verified[station_id] = (stored, digest)
        return None

    def _client_cert_problem(self, connection: Any, station_id: str) -> str | None:
        cert = connection.transport.get_extra_info("peercert") if connection.transport else None
        if not cert:
            return "this station must present a client certificate (security profile 3)"
        subject = dict(item for rdn in cert.get("subject", ()) for item in rdn)
        if subject.get("commonName") != station_id:
            return f"client certificate is for {subject.get('commonName')!r}, not {station_id!r}"
        return None

    def _blocked_for(self, remote: str) -> float:
        entry = self._failures.get(remote)
        return max(0.0, entry.blocked_until - time.monotonic()) if entry else 0.0

    async def _failed(self, station_id: str, remote: str, reason: str) -> None:
        now = time.monotonic()
        entry = self._failures.setdefault(remote, _Failures(first=now))
        if now - entry.first > FAILURE_WINDOW:
            entry.count, entry.first = 0, now
        entry.count += 1
        if entry.count >= self.ctx.config.ocpp.auth_failures_before_backoff:
            entry.blocked_until = now + entry.backoff
            entry.backoff = min(entry.backoff * 2, BACKOFF_MAX)
            entry.count = 0
        if len(self._failures) > 10_000:  # bounded: forget the oldest addresses
            for key in list(self._failures)[:1000]:
                del self._failures[key]
        self.ctx.metrics.handshakes_refused["auth_failed"] += 1
        event = DeviceEvent(station_id, "ConnectionRejected", {"remote": remote, "reason": reason})
        await self.ctx.store.event(event)
        self.ctx.bus.fire(event)
