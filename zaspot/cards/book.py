"""The card book: every card in memory, the one writer of the cards in the store.

Authorization is on the hot path (every Authorize and transaction start): it is answered
from memory, with no database read. Every change goes through the book (the API calls it,
the CLI calls the API), which commits the rows and a `card_changed` event per card in one
unit of work and only then changes what it holds, so memory and table never disagree.
Each card change takes the next local-list version (a global counter), which the
local-list sync (zaspot.cards.locallist) sends stations as differentials.

Cards that are not a known Accepted one (an unknown card, in either mode, a blocked or an
expired one) are logged with the station, and kept as `authorization` events: once per
station, card and answer every ten minutes, written in the background in batches, so a
station retrying a refused card costs no write per message.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zaspot.cards.model import Card, CardError, build, check_id
from zaspot.core.card_events import Authorization, CardChanged
from zaspot.store import cards as card_rows
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger(__name__)
NOTE_EVERY = 600.0  # s: one log line and event per station, card and answer
_FLUSH_AFTER = 0.2  # s: authorization events are written in batches


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a station is told of a card, version-neutral (the wire modules translate it)."""

    status: str  # Accepted | Blocked | Expired | Unknown (1.6 says Invalid)
    expiry: float | None = None
    group: str | None = None
    known: bool = False


def _row(card: Card) -> tuple:
    return (card.id_token, card.status, card.expiry, card.group, card.driver, card.note, card.updated_at,
            card.list_version)


class CardBook:
    def __init__(self, ctx: Any, mode: str = "open") -> None:
        self.ctx = ctx
        self.mode = mode
        self.cards: dict[str, Card] = {}
        self.removals: dict[str, int] = {}  # removed id -> the version of its removal
        self.version = 0  # the local-list version: goes up by one with each card change
        self._folded: dict[str, str] = {}  # id tokens are case-insensitive (2.0.1 says so)
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._noted: dict[tuple[str, str, str], float] = {}
        self._pending: list[Authorization] = []
        self._flusher: asyncio.Task[None] | None = None

    async def load(self) -> None:
        store = self.ctx.store
        for r in await store.cards():
            self._hold(Card(r["id_token"], r["status"], r["expiry"], r["group_id"], r["driver"], r["note"],
                            r["updated_at"] or 0.0, r["list_version"] or 0))
        self.removals = {r["id_token"]: r["list_version"] for r in await store.card_removals()}
        versions = [c.list_version for c in self.cards.values()] + list(self.removals.values())
        self.version = max(versions, default=0)

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after every committed change; returns the way to stop."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    # --- reading ---------------------------------------------------------------

    def find(self, id_token: str) -> Card | None:
        card = self.cards.get(id_token)
        if card is None:
            known = self._folded.get(id_token.casefold())
            card = self.cards.get(known) if known else None
        return card

    def list(self, status: str | None = None, search: str | None = None) -> list[Card]:
        now = time.time()
        needle = (search or "").casefold()
        out = []
        for card in sorted(self.cards.values(), key=lambda c: c.id_token):
            if status and card.effective_status(now) != status:
                continue
            if needle and not any(needle in (v or "").casefold() for v in (card.id_token, card.group, card.driver,
                                                                            card.note)):
                continue
            out.append(card)
        return out

    def changes_since(self, version: int) -> builtins.list[tuple[int, str, Card | None]]:
        """(version, id, card or None when removed) of every change after `version`, oldest first."""
        out: list[tuple[int, str, Card | None]] = [(c.list_version, c.id_token, c) for c in self.cards.values()
                                                   if c.list_version > version]
        out += [(v, i, None) for i, v in self.removals.items() if v > version]
        return sorted(out, key=lambda change: change[0])

    # --- authorization (the hot path) ------------------------------------------------

    def authorize(self, station_id: str, id_token: str) -> Verdict:
        card = self.find(id_token)
        if card is None:
            verdict = Verdict("Accepted" if self.mode == "open" else "Unknown")
        else:
            verdict = Verdict(card.effective_status(), card.expiry, card.group, known=True)
            if verdict.status == "Accepted":
                return verdict
        self._note(station_id, id_token, verdict)
        return verdict

    def _note(self, station_id: str, id_token: str, verdict: Verdict) -> None:
        key, now = (station_id, id_token, verdict.status), time.time()
        if now - self._noted.get(key, 0.0) < NOTE_EVERY:
            return
        if len(self._noted) > 10_000:  # a flood of made-up cards: forget the old ones (all, if none is old)
            self._noted = {k: t for k, t in self._noted.items() if now - t < NOTE_EVERY}
            if len(self._noted) > 10_000:
                self._noted.clear()
        self._noted[key] = now
        if not verdict.known:
            answer = "accepted" if verdict.status == "Accepted" else "refused"
            _LOGGER.info("%s: unknown card %s %s (authorization: %s)", station_id, id_token, answer, self.mode)
        else:
            _LOGGER.info("%s: card %s refused: %s", station_id, id_token, verdict.status)
        self._pending.append(Authorization(station_id, id_token, verdict.status, self.mode, verdict.known))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later(), name="cards:authorizations")

    async def _flush_later(self) -> None:
        await asyncio.sleep(_FLUSH_AFTER)
        await self.flush()

    async def flush(self) -> None:
        """Write the authorization events noted so far (one unit)."""
        events, self._pending = self._pending, []
        if not events:
            return
        unit = Unit()
        for event in events:
            unit.emit(event)
        try:
            await publish(self.ctx.store, self.ctx.bus, unit)
        except Exception:  # the store is failing: the log lines were written, keep serving
            _LOGGER.exception("authorization events could not be stored")

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.flush()

    # --- changes (the one writer) --------------------------------------------------------

    async def put(self, fields: dict[str, Any], source: str = "") -> tuple[Card, bool]:
        """Add a card or change the fields given; returns (card, added)."""
        async with self._lock:
            old = self.find(check_id(fields.get("id_token")))
            if old is not None:
                fields = {**fields, "id_token": old.id_token}
            card = build(fields, old)
            [saved] = await self._commit([(card, "added" if old is None else "updated")], source)
        return saved, old is None

    async def set_status(self, id_token: str, status: str, source: str = "") -> Card:
        async with self._lock:
            old = self._known(id_token)
            change = {"Blocked": "blocked", "Accepted": "unblocked"}.get(status, "updated")
            [saved] = await self._commit([(old.changed(status=status), change)], source)
        return saved

    async def remove(self, id_token: str, source: str = "") -> str:
        async with self._lock:
            old = self._known(id_token)
            version, now = self.version + 1, time.time()
            unit = Unit()
            unit.do(card_rows.remove_card, old.id_token, version, now)
            unit.emit(CardChanged("", old.id_token, None, "removed", version, source=source, time=now))
            await publish(self.ctx.store, self.ctx.bus, unit)
            self._drop(old.id_token)
            self.removals[old.id_token] = self.version = version
        self._changed()
        return old.id_token

    async def put_many(self, rows: Iterable[dict[str, Any]], source: str = "") -> tuple[int, int]:
        """Many cards in one unit (an import): all or none. Returns (added, updated)."""
        async with self._lock:
            changes: dict[str, tuple[Card, str]] = {}
            for fields in rows:
                old = self.find(check_id(fields.get("id_token")))
                key = old.id_token if old else fields["id_token"].strip()
                if key in changes:  # the same card twice in one import: the later row wins
                    old = changes[key][0]
                fields = {**fields, "id_token": key}
                added = old is None or (key in changes and changes[key][1] == "added")
                changes[key] = (build(fields, old), "added" if added else "updated")
            saved = await self._commit(list(changes.values()), source)
        new = sum(1 for _, change in changes.values() if change == "added")
        return new, len(saved) - new

    def _known(self, id_token: str) -> Card:
        card = self.find(id_token)
        if card is None:
            raise KeyError(id_token)
        return card

    async def _commit(self, changes: builtins.list[tuple[Card, str]], source: str) -> builtins.list[Card]:
        """Store the cards (each with the next version) and their events; then hold them."""
        if not changes:
            return []
        now, version = time.time(), self.version
        unit, saved = Unit(), []
        for card, change in changes:
            version += 1
            card = card.changed(updated_at=now, list_version=version)
            unit.do(card_rows.save_card, _row(card))
            unit.emit(CardChanged("", card.id_token, card.status, change, version, card.expiry, card.group,
                                  card.driver, source, time=now))
            saved.append(card)
        await publish(self.ctx.store, self.ctx.bus, unit)
        for card in saved:
            self._hold(card)
            self.removals.pop(card.id_token, None)
        self.version = version
        self._changed()
        return saved

    def _hold(self, card: Card) -> None:
        self.cards[card.id_token] = card
        self._folded[card.id_token.casefold()] = card.id_token

    def _drop(self, id_token: str) -> None:
        self.cards.pop(id_token, None)
        self._folded.pop(id_token.casefold(), None)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not undo a committed change
                _LOGGER.exception("card change listener failed")


__all__ = ["CardBook", "CardError", "Verdict"]
