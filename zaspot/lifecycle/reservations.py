"""Reservations: ReserveNow / CancelReservation, expiry, use (#17), version-neutral.

`ctx.reservations` makes a reservation (a row first, whose id is the one the station
is told; then ReserveNow through the command layer; the answer makes it active or
rejected), cancels one, lists them, and expires active ones when their time passes:
one timer task sleeps until the soonest expiry. Expiry times are in the store, so a
restart sweeps what ran out while it was down and sets the timer for the rest. A
reservation's use (a transaction that names it) and a 2.0.1 station's
ReservationStatusUpdate are stored by the sessions (zaspot.store.reservations);
the timer follows them through `reservation_changed` events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from zaspot.core.lifecycle_events import ReservationChanged
from zaspot.store import reservations as steps
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)

DEFAULT_MINUTES = 15.0
MAX_MINUTES = 7 * 24 * 60.0
_MAX_SLEEP = 60.0  # the timer looks again at least this often (a clock that jumped)


class ReservationError(Exception):
    """A reservation could not be made or cancelled; `code` as the operator API names it."""

    def __init__(self, code: str, message: str, reservation: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reservation = code, message, reservation


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A reservation as the API gives it."""
    out = dict(row)
    out["transaction_id"] = out.pop("tx_key")
    return out


def _failure(outcome: Any) -> ReservationError:
    if outcome.reason is None:  # the station answered, and said no
        return ReservationError("rejected", f"station answered {outcome.status}")
    code = "invalid_format" if outcome.reason in ("unsupported", "invalid_request") else outcome.reason
    return ReservationError(code, outcome.error or outcome.reason)


def _address(version: str, evse_id: int | None, connector_id: int | None) -> tuple[int | None, int | None]:
    """(evse_id, connector_id) as the reservation holds them; None: any."""
    if version == "1.6":  # connector N is EVSE N, connector N; none (or 0): any connector
        n = connector_id or evse_id or None
        return n, n
    if connector_id and not evse_id:
        raise ReservationError("invalid_format", "2.0.1 reserves an EVSE, not a connector: give the EVSE (evse_id)")
    return evse_id or None, None  # the whole EVSE (none: any)


class Reservations:
    def __init__(self, ctx: Any, commands: Any) -> None:
        self.ctx, self.commands = ctx, commands
        self._deadlines: dict[int, float] = {}  # active reservation id -> expires_at
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Any = None

    async def start(self) -> None:
        self._unlisten = self.ctx.bus.listen(ReservationChanged.type, self._follow, name="reservations",
                                             inline=True)
        unit = Unit()
        unit.do(steps.abandoned, time.time())  # asked when the server stopped: the answer is lost
        await publish(self.ctx.store, self.ctx.bus, unit)
        for row in await self.ctx.store.active_reservations():
            self._deadlines[row["id"]] = row["expires_at"]
        await self._expire_due()  # what ran out while the server was down
        self._task = asyncio.get_running_loop().create_task(self._timer(), name="reservations-timer")

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # --- what the API calls ------------------------------------------------------------

    async def make(self, station_id: str, id_token: str, *, evse_id: int | None = None,
                   connector_id: int | None = None, minutes: float = DEFAULT_MINUTES, source: str = "operator",
                   token_type: str | None = None) -> dict[str, Any]:
        """Reserve an EVSE or connector (or any, when neither is given) for a card; the
        reservation, or ReservationError (`rejected` with what the station said)."""
        if not id_token:
            raise ReservationError("invalid_format", "a reservation needs a card (id_token)")
        if not 0 < minutes <= MAX_MINUTES:
            raise ReservationError("invalid_format", f"minutes must be above 0 and at most {MAX_MINUTES:g}")
        version = self.commands.version_of(station_id)
        if version is None:
            raise ReservationError("not_connected", f"station {station_id} is not connected")
        evse_id, connector_id = _address(version, evse_id, connector_id)
        now = time.time()
        expires_at = now + minutes * 60.0
        refused, group = self._card(id_token)
        if refused:
            raise ReservationError("rejected", refused)
        store = self.ctx.store
        reservation_id = await store.reservation_new(station_id, evse_id, connector_id, id_token, group, expires_at,
                                                     source, now)
        outcome = await self.commands.run(station_id, "reserve_now", {
            "reservation_id": reservation_id, "id_token": id_token, "expires_at": expires_at, "evse_id": evse_id,
            "connector_id": connector_id, "group_id": group, "token_type": token_type,
        }, source)
        unit = Unit()
        unit.do(steps.answered, reservation_id, outcome.ok, outcome.status, outcome.error, time.time())
        [row] = await publish(store, self.ctx.bus, unit)
        if not outcome.ok:
            error = _failure(outcome)
            error.reservation = public(row)
            raise error
        return public(row)

    async def cancel(self, reservation_id: int, *, source: str = "operator") -> dict[str, Any]:
        """Cancel an active reservation at its station. A station that holds it no longer
        (it answers Rejected: unknown) has nothing left to cancel: cancelled here too."""
        row = await self.ctx.store.reservation(reservation_id)
        if row is None:
            raise ReservationError("not_found", f"no reservation {reservation_id}")
        if row["status"] != steps.ACTIVE:
            raise ReservationError("not_found", f"no active reservation {reservation_id} (it is {row['status']})")
        outcome = await self.commands.run(row["station_id"], "cancel_reservation",
                                          {"reservation_id": reservation_id}, source)
        if not outcome.ok and outcome.status != "Rejected":
            raise _failure(outcome)
        detail = f"cancelled by {source}" if outcome.ok else "the station held it no longer (it answered Rejected)"
        unit = Unit()
        unit.do(steps.cancelled, reservation_id, detail, time.time())
        [row] = await publish(self.ctx.store, self.ctx.bus, unit)
        return public(row)

    async def list(self, station_id: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
        return [public(r) for r in await self.ctx.store.reservations(station_id, active_only)]

    # --- expiry -------------------------------------------------------------------------

    def _follow(self, event: ReservationChanged) -> None:
        """Keep the timer's deadlines: active ones only (inline: a dict write)."""
        if event.status == steps.ACTIVE:
            self._deadlines[event.reservation_id] = event.expires_at
            self._wake.set()
        else:
            self._deadlines.pop(event.reservation_id, None)

    async def _timer(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._expire_due()
            except Exception:  # the store failed: try again at the next look
                _LOGGER.exception("reservations: expiring failed")
            soonest = min(self._deadlines.values(), default=time.time() + _MAX_SLEEP)
            try:
                await asyncio.wait_for(self._wake.wait(), min(max(soonest - time.time(), 0.01), _MAX_SLEEP))
            except TimeoutError:
                pass

    async def _expire_due(self) -> None:
        now = time.time()
        due = sorted(i for i, at in self._deadlines.items() if at <= now)
        if not due:
            return
        unit = Unit()
        unit.do(steps.expire, due, now)
        await publish(self.ctx.store, self.ctx.bus, unit)
        for reservation_id in due:  # used or cancelled meanwhile: no longer the timer's either
            self._deadlines.pop(reservation_id, None)

    def _card(self, id_token: str) -> tuple[str | None, str | None]:
        """(why the card may not charge, or None; its group: 1.6 parentIdTag, 2.0.1
        groupIdToken), as zaspot.cards knows it (nothing when it does not run)."""
        cards = self.ctx.cards
        find = getattr(getattr(cards, "book", None), "find", None)
        if find is None:
            return None, None
        card = find(id_token)
        if card is None:
            unknown = getattr(cards, "mode", "open") == "list"
            return (f"card {id_token} is unknown (authorization: list)" if unknown else None), None
        status = card.effective_status()
        return (None if status == "Accepted" else f"card {id_token} is {status}"), card.group


async def setup(ctx: Any, commands: Any) -> Any:
    """Start this feature on the running app; returns its teardown."""
    ctx.reservations = Reservations(ctx, commands)
    await ctx.reservations.start()
    return ctx.reservations.stop
