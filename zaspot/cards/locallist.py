"""Stations' local authorization lists, kept in step with the card book.

The list version is the card book's global counter (one more per card change). For each
station we keep the version it was last seen to hold (`local_lists`), and whether it has
a local list at all. A station is synced in a task of its own, never inside a handler:

- when cards change: the changes since its version as a Differential (a Full list when
  its version is unknown, or when it answers VersionMismatch);
- after it connects (a station accepted before, resuming without a boot) and after an
  accepted boot: GetLocalListVersion first, and a Full list only when it differs from
  what we know it holds (a Differential when it still holds the version we sent).

A station without the feature (SendLocalList NotSupported, a CALLERROR NotSupported or
NotImplemented, a 1.6 listVersion of -1) is marked unsupported and left alone until it
boots again. A failure (Failed, a timeout) is tried again later, 30 s, 60 s, … up to
30 minutes. At most CONCURRENCY stations are synced at once.

While there has never been a card at all, no station is asked anything.

A message carries at most ENTRIES_PER_MESSAGE cards. A bigger list goes as several, in
version order: the first a Full list declaring the highest version among its cards, each
next a Differential with the next cards and a higher version, the last declaring the
current version. Each step is a true list version, so a station cut off halfway holds a
version whose changes it has, and the next sync continues from there.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from zaspot.cards.book import CardBook
from zaspot.core import events as ev
from zaspot.core.card_events import LocalListSynced
from zaspot.ocpp import cards_v16, cards_v201
from zaspot.store import cards as card_rows
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)
ENTRIES_PER_MESSAGE = 250
CONCURRENCY = 8
RETRY_FIRST, RETRY_MAX = 30.0, 1800.0  # s
SOURCE = "cards:local_list"
_WIRE = {"1.6": cards_v16, "2.0.1": cards_v201}
_UNSUPPORTED_ERROR = re.compile(r"CALLERROR (NotSupported|NotImplemented)\b")
Change = tuple[int, str, Any]  # (version, id token, card or None when removed)


@dataclass
class ListState:
    station_id: str
    version: int | None = None  # what it holds, as far as we know (None: unknown)
    supported: bool | None = None  # None: not asked yet
    synced_at: float | None = None
    error: str | None = None
    failures: int = 0

    def to_dict(self, current: int) -> dict[str, Any]:
        return {"station_id": self.station_id, "version": self.version, "supported": self.supported,
                "synced_at": self.synced_at, "error": self.error, "in_step": self.version == current}


def plan(changes: list[Change], target: int, size: int) -> list[tuple[int, list[Change]]]:
    """Messages of at most `size` changes (one version is never split), each with the version
    it brings the station to; the last brings it to `target`. No change: one empty message."""
    chunks: list[list[Change]] = [[]]
    for change in changes:
        current = chunks[-1]
        if len(current) >= size and change[0] != current[-1][0]:
            chunks.append(current := [])
        current.append(change)
    versions = [chunk[-1][0] if chunk else target for chunk in chunks]
    versions[-1] = target
    return list(zip(versions, chunks))


def _entry(change: Change) -> tuple[str, dict[str, Any] | None]:
    _, id_token, card = change
    if card is None:
        return id_token, None
    return id_token, {"status": card.effective_status(), "expiry": card.expiry, "group": card.group}


def _unsupported(outcome: Any) -> bool:
    if outcome.status == "NotSupported":
        return True
    return outcome.reason == "call_error" and bool(_UNSUPPORTED_ERROR.search(outcome.error or ""))


class LocalLists:
    def __init__(self, ctx: Any, commands: Any, book: CardBook, *, automatic: bool = True) -> None:
        self.ctx, self.commands, self.book = ctx, commands, book
        self.automatic = automatic
        self.states: dict[str, ListState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._wanted: dict[str, bool] = {}  # station -> ask its version first
        self._running: dict[str, asyncio.Task[None]] = {}
        self._retries: dict[str, asyncio.TimerHandle] = {}
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._undo: list[Any] = []

    async def load(self) -> None:
        for row in await self.ctx.store.local_lists():
            self.states[row["station_id"]] = ListState(row["station_id"], row["version"], row["supported"],
                                                       row["synced_at"], row["error"])

    def start(self) -> None:
        if not self.automatic:
            return
        types = (ev.StationConnected.type, ev.StationBooted.type)
        self._undo.append(self.ctx.bus.listen(types, self._on_station, name="cards:local_lists"))
        self._undo.append(self.book.on_change(self._on_cards))

    async def stop(self) -> None:
        undo, self._undo = self._undo, []
        for stop in undo:
            stop()
        for handle in self._retries.values():
            handle.cancel()
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def rows(self) -> list[dict[str, Any]]:
        ids = set(self.states) | {sid for sid in self.ctx.sessions if self._accepted(sid)}
        return [self._state(sid).to_dict(self.book.version) for sid in sorted(ids)]

    # --- what starts a sync ----------------------------------------------------------

    def _on_station(self, event: ev.Event) -> None:
        sid = event.station_id
        if isinstance(event, ev.StationBooted):
            if event.registration == "Accepted":
                self.request(sid, ask=True)  # a boot may have cleared its list, or brought the feature
        elif self._accepted(sid) and self._state(sid).supported is not False:
            self.request(sid, ask=True)

    def _on_cards(self) -> None:
        for sid in list(self.ctx.sessions):
            if self._accepted(sid) and self._state(sid).supported is not False:
                self.request(sid)

    def _accepted(self, station_id: str) -> bool:
        session = self.ctx.sessions.get(station_id)
        if session is None:
            return False
        state = self.ctx.fleet.stations.get(station_id)
        return session.accepted or (state is not None and state.registration == "Accepted")

    def request(self, station_id: str, ask: bool = False) -> None:
        """Sync the station soon (its task; several requests while one runs make one more).
        While there has never been a card, stations are left alone: nothing to tell them."""
        state = self.states.get(station_id)
        if self.book.version == 0 and (state is None or not state.version):
            return
        self._wanted[station_id] = self._wanted.get(station_id, False) or ask
        if station_id not in self._running:
            task = asyncio.get_running_loop().create_task(self._work(station_id), name=f"cards:sync:{station_id}")
            self._running[station_id] = task

    async def _work(self, station_id: str) -> None:
        try:
            while station_id in self._wanted:
                ask = self._wanted.pop(station_id)
                async with self._slots:
                    try:
                        await self.sync(station_id, ask)
                    except Exception:
                        _LOGGER.exception("%s: local list sync failed", station_id)
        finally:
            self._running.pop(station_id, None)

    # --- one station -------------------------------------------------------------------

    async def sync(self, station_id: str, ask: bool = True) -> dict[str, Any]:
        """Bring the station's list to the current version; returns what was done."""
        lock = self._locks.setdefault(station_id, asyncio.Lock())
        async with lock:
            return await self._sync(station_id, ask)

    async def sync_many(self, station_ids: list[str]) -> list[dict[str, Any]]:
        """`sync` for each, CONCURRENCY at a time (what `zaspot cards sync` asks)."""
        async def one(station_id: str) -> dict[str, Any]:
            async with self._slots:
                return await self.sync(station_id)

        return list(await asyncio.gather(*(one(sid) for sid in station_ids)))

    async def _sync(self, station_id: str, ask: bool) -> dict[str, Any]:
        state = self._state(station_id)
        report: dict[str, Any] = {"station_id": station_id, "sent": [], "error": None}
        version = self.commands.version_of(station_id)
        if version is None:
            return {**report, "status": "not_connected", "version": state.version}
        if ask or state.version is None:
            held = await self._ask(station_id, version, state, report)
            if held is None:
                return report
            if held != state.version:
                state.version = 0 if held == 0 == self.book.version else None  # else: a Full list replaces it
        target = self.book.version
        if state.version == target:
            await self._save(state, None, ok=True)
            return {**report, "status": "in_step", "version": target}
        if state.version:  # it holds a version we sent: the changes since
            outcome = await self._send(station_id, state, "Differential",
                                       self.book.changes_since(state.version), report)
            if outcome is not None and outcome.status == "VersionMismatch":
                state.version = None
                outcome = await self._send(station_id, state, "Full", self._everything(), report)
        else:
            outcome = await self._send(station_id, state, "Full", self._everything(), report)
        if outcome is None or not outcome.ok:
            return report
        return {**report, "status": "sent", "version": state.version}

    def _everything(self) -> list[Change]:
        return sorted(((c.list_version, c.id_token, c) for c in self.book.cards.values()), key=lambda ch: ch[0])

    async def _ask(self, station_id: str, version: str, state: ListState, report: dict[str, Any]) -> int | None:
        """The version the station holds; None once it said it has no list, or failed."""
        outcome = await self.commands.run(station_id, "get_local_list_version", {}, SOURCE)
        held = _WIRE[version].local_list_version(outcome.result) if outcome.ok else None
        if outcome.ok and held is not None:
            state.supported = True
            return held
        if outcome.ok or _unsupported(outcome):
            await self._mark_unsupported(state, None, report)
        else:
            await self._failed(state, None, outcome, report)
        return None

    async def _send(self, station_id: str, state: ListState, update_type: str, changes: list[Change],
                    report: dict[str, Any]) -> Any:
        """Send the changes in as many messages as it takes; the last outcome (None: nothing left to send)."""
        outcome = None
        for number, (version, chunk) in enumerate(plan(changes, self.book.version, ENTRIES_PER_MESSAGE)):
            kind = update_type if number == 0 else "Differential"
            args = {"version": version, "update_type": kind, "entries": [_entry(c) for c in chunk]}
            outcome = await self.commands.run(station_id, "send_local_list", args, SOURCE)
            sent = {"update_type": kind, "version": version, "entries": len(chunk),
                    "status": outcome.status or outcome.reason}
            report["sent"].append(sent)
            if outcome.ok:
                state.version, state.supported = version, True
                await self._save(state, LocalListSynced(station_id, version, kind, outcome.status, len(chunk)),
                                 ok=True)
                continue
            if _unsupported(outcome):
                await self._mark_unsupported(state, kind, report)
            elif outcome.status == "VersionMismatch" and kind == "Differential" and number == 0:
                pass  # the caller sends the whole list instead
            else:
                await self._failed(state, kind, outcome, report)
            return outcome
        return outcome

    # --- outcomes ------------------------------------------------------------------------

    async def _mark_unsupported(self, state: ListState, update_type: str | None, report: dict[str, Any]) -> None:
        state.supported, state.version = False, None
        report.update(status="unsupported", version=None, error="the station has no local authorization list")
        _LOGGER.info("%s: no local authorization list (left alone until it boots again)", state.station_id)
        event = LocalListSynced(state.station_id, None, update_type, "NotSupported", error=report["error"])
        await self._save(state, event, ok=False, error=report["error"])

    async def _failed(self, state: ListState, update_type: str | None, outcome: Any, report: dict[str, Any]) -> None:
        error = outcome.error or f"station answered {outcome.status}"
        report.update(status="failed", version=state.version, error=error)
        state.failures += 1
        delay = min(RETRY_FIRST * 2 ** (state.failures - 1), RETRY_MAX)
        _LOGGER.warning("%s: local list not taken (%s); trying again in %.0f s", state.station_id, error, delay)
        old = self._retries.pop(state.station_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._retries[state.station_id] = loop.call_later(delay, self.request, state.station_id, True)
        event = LocalListSynced(state.station_id, state.version, update_type,
                                outcome.status or outcome.reason or "error", error=error)
        await self._save(state, event, ok=False, error=error)

    async def _save(self, state: ListState, event: LocalListSynced | None, *, ok: bool,
                    error: str | None = None) -> None:
        if ok:
            state.failures, state.error, state.synced_at = 0, None, time.time()
            retry = self._retries.pop(state.station_id, None)
            if retry is not None:
                retry.cancel()
        else:
            state.error = error
        unit = Unit()
        unit.do(card_rows.save_local_list, state.station_id, state.version, state.supported, state.synced_at,
                state.error)
        if event is not None:
            unit.emit(event)
        await publish(self.ctx.store, self.ctx.bus, unit)

    def _state(self, station_id: str) -> ListState:
        state = self.states.get(station_id)
        if state is None:
            state = self.states[station_id] = ListState(station_id)
        return state
