"""Who may connect as a station: OCPP security profiles 1-3, checked at the handshake.

- Profile 1: HTTP Basic auth, username = station id, password checked against
  the station's stored scrypt hash. Profile 2: the same over TLS.
- Profile 3: TLS with a client certificate signed by `tls.client_ca` whose
  subject CN is the station id.
- A station with a stored password always needs it, whatever its profile;
  `zaspot station password ID --clear` removes it.
- Backoff is kept per address AND station id: a station that keeps failing is refused
  for a while (doubling each time) and the stations behind the same NAT address are not.
  An address failing ADDRESS_FACTOR times as often (one address trying many ids) is
  refused as a whole.
- Every refusal (these and the server's own: bad path, no subprotocol, too many per
  address) is counted in /metrics by reason, logged with the station id and address,
  and kept as a `connection_refused` event (Refusals).
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
from zaspot.core.connection_events import ConnectionRefused
from zaspot.core.logformat import about
from zaspot.store.publish import publish_event

if TYPE_CHECKING:
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger(__name__)

REFRESH_EVERY = 5.0
BACKOFF_START = 10.0
BACKOFF_MAX = 900.0
FAILURE_WINDOW = 60.0
ADDRESS_FACTOR = 10  # an address may fail this many times the per-station limit before it is refused whole
KEEP_FAILURES = 10_000  # addresses (and address + id pairs) remembered at most
# Refusals logged and stored at most this fast (a flood is only counted, then summarized).
REFUSALS_PER_SECOND = 10.0
REFUSALS_BURST = 100.0


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


def _count_failure(table: dict[Any, _Failures], key: Any, limit: int, now: float) -> None:
    """One more failure for `key`: at `limit` within FAILURE_WINDOW it is blocked, for twice
    as long as the last time (back to BACKOFF_START once it has been quiet for BACKOFF_MAX)."""
    entry = table.get(key)
    if entry is None:
        entry = table[key] = _Failures(first=now)
    if now - entry.first > FAILURE_WINDOW:
        entry.count, entry.first = 0, now
        if now - entry.blocked_until > BACKOFF_MAX:
            entry.backoff = BACKOFF_START
    entry.count += 1
    if entry.count >= limit:
        entry.blocked_until = now + entry.backoff
        entry.backoff = min(entry.backoff * 2, BACKOFF_MAX)
        entry.count = 0
    if len(table) > KEEP_FAILURES:  # bounded: forget the oldest
        for old in list(table)[:1000]:
            del table[old]


def _refuse(status: http.HTTPStatus, text: str, extra: list[tuple[str, str]] | None = None) -> Response:
    body = (text + "\n").encode()
    headers = Headers([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                       *(extra or [])])
    return Response(status.value, status.phrase, headers, body)


class Refusals:
    """Every refused station handshake: counted in /metrics by reason, logged as
    "CP-1 refused: wrong password (10.0.0.5)" and kept as a ConnectionRefused event. The
    line and the event at most REFUSALS_PER_SECOND (a flood is counted all the same, and
    the next line says how many went unlogged)."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._tokens = REFUSALS_BURST
        self._filled_at = time.monotonic()
        self.unlogged = 0

    def _admit(self) -> bool:
        now = time.monotonic()
        self._tokens = min(REFUSALS_BURST, self._tokens + (now - self._filled_at) * REFUSALS_PER_SECOND)
        self._filled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def refuse(self, station_id: str, remote: str, reason: str, detail: str, status: http.HTTPStatus,
                     headers: list[tuple[str, str]] | None = None, body: str | None = None) -> Response:
        """The response that refuses the handshake (`body` is what the station reads: `detail`
        by default), once the refusal is counted, logged and stored."""
        self.ctx.metrics.handshakes_refused[reason] += 1
        if self._admit():
            more, self.unlogged = (f"; {self.unlogged} more refused, not logged" if self.unlogged else ""), 0
            _LOGGER.warning("%s refused: %s (%s)%s", station_id or "?", detail, remote, more,
                            extra=about(station_id, None, remote))
            try:
                await publish_event(self.ctx.store, self.ctx.bus, ConnectionRefused(station_id, remote, reason, detail))
            except Exception:  # the station is refused all the same
                _LOGGER.exception("%s: could not store a refused connection", station_id or "?")
        else:
            self.unlogged += 1
        return _refuse(status, body or detail, headers)


class StationAuth:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.refusals = Refusals(ctx)
        # Station passwords, read once and refreshed in the background: no database read
        # per handshake (a reconnect storm is thousands at once). `zaspot station password`
        # writes the database; the change counts here within REFRESH_EVERY seconds.
        self._passwords: dict[str, str] = {}
        self._refresher: asyncio.Task[None] | None = None
        self._failures: dict[tuple[str, str], _Failures] = {}  # (address, station id)
        self._address_failures: dict[str, _Failures] = {}
        # station id -> (stored hash, sha256 of the password last verified): reconnects skip scrypt.
        self._verified: dict[str, tuple[str, bytes]] = {}

    async def start(self) -> None:
        await self.reload()
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop(), name="station-passwords")

    async def stop(self) -> None:
        if self._refresher:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    async def reload(self) -> None:
        """Read the passwords again; a verified password whose hash changed or went is forgotten."""
        self._passwords = passwords = await self.ctx.store.station_password_hashes()
        self._verified = {sid: seen for sid, seen in self._verified.items() if passwords.get(sid) == seen[0]}

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                await self.reload()
            except Exception:  # keep the last known passwords; never open the door on an error
                _LOGGER.exception("could not refresh station passwords")

    def profile(self, station_id: str) -> int:
        for station in self.ctx.config.stations:
            if station.id == station_id and station.security_profile is not None:
                return station.security_profile
        return self.ctx.config.ocpp.security_profile

    async def check(self, connection: Any, request: Request, station_id: str) -> Response | None:
        """None to let the station in, or the HTTP response that refuses it."""
        remote = connection.remote_address[0] if connection.remote_address else "?"
        blocked, whole_address = self._blocked_for(remote, station_id)
        if blocked:
            whom = "this address" if whole_address else f"{station_id} from this address"
            return await self.refusals.refuse(
                station_id, remote, "backoff",
                f"too many failed attempts for {whom}; try again in {int(blocked) + 1} s",
                http.HTTPStatus.TOO_MANY_REQUESTS, [("Retry-After", str(int(blocked) + 1))])
        profile = self.profile(station_id)
        stored = self._passwords.get(station_id)
        if profile == 3:
            problem = self._client_cert_problem(connection, station_id)
        elif profile in (1, 2) or stored:
            problem = await self._basic_auth_problem(request, station_id, stored)
        else:
            problem = None
        if problem is None:
            self._failures.pop((remote, station_id), None)
            return None
        now, limit = time.monotonic(), self.ctx.config.ocpp.auth_failures_before_backoff
        _count_failure(self._failures, (remote, station_id), limit, now)
        _count_failure(self._address_failures, remote, limit * ADDRESS_FACTOR, now)
        reason, detail = problem
        if profile == 3:
            return await self.refusals.refuse(station_id, remote, reason, detail, http.HTTPStatus.FORBIDDEN)
        return await self.refusals.refuse(station_id, remote, reason, detail, http.HTTPStatus.UNAUTHORIZED,
                                          [("WWW-Authenticate", 'Basic realm="zaspot"')])

    async def _basic_auth_problem(self, request: Request, station_id: str,
                                  stored: str | None) -> tuple[str, str] | None:
        """None, or (reason, what the station is told)."""
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return "no_credentials", "this station must authenticate (HTTP Basic auth)"
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "malformed_credentials", "malformed Basic auth header"
        if user != station_id:
            return "bad_username", "Basic auth username must be the station id"
        if stored is None:
            return "no_password", "no password is set for this station (zaspot station password ID)"
        digest = hashlib.sha256(password.encode()).digest()
        if self._verified.get(station_id) == (stored, digest):
            return None
        if not await asyncio.to_thread(password_ok, password, stored):  # scrypt: ~50 ms of CPU
            return "wrong_password", "wrong password"
        self._verified[station_id] = (stored, digest)
        return None

    def _client_cert_problem(self, connection: Any, station_id: str) -> tuple[str, str] | None:
        cert = connection.transport.get_extra_info("peercert") if connection.transport else None
        if not cert:
            return "no_certificate", "this station must present a client certificate (security profile 3)"
        subject = dict(item for rdn in cert.get("subject", ()) for item in rdn)
        if subject.get("commonName") != station_id:
            return "bad_certificate", f"client certificate is for {subject.get('commonName')!r}, not {station_id!r}"
        return None

    def _blocked_for(self, remote: str, station_id: str) -> tuple[float, bool]:
        """(seconds still to wait, whether the whole address waits)."""
        now = time.monotonic()
        pair, address = self._failures.get((remote, station_id)), self._address_failures.get(remote)
        own = pair.blocked_until - now if pair else 0.0
        whole = address.blocked_until - now if address else 0.0
        return max(0.0, own, whole), whole > own
