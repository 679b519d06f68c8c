"""Cards: id tokens, the authorization mode, local-list sync (#17).

`ctx.cards` is the Cards service: the card book (every card in memory, the one writer of
the cards table) and the stations' local lists.
"""

from __future__ import annotations

import logging
from typing import Any

from zaspot.cards.book import CardBook, Verdict
from zaspot.cards.locallist import LocalLists

_LOGGER = logging.getLogger("zaspot.cards")

_MODE_LINES = {
    "open": "authorization: open — unknown cards are accepted and logged; set authorization.mode: list "
            "to allow only known cards",
    "list": "authorization: list — only known Accepted cards may charge (cards known: %d)",
}


class Cards:
    """What the sessions and the API use: `authorize`, the book, the local lists."""

    def __init__(self, ctx: Any, commands: Any) -> None:
        cfg = ctx.config.authorization
        self.mode: str = cfg.mode
        self.book = CardBook(ctx, cfg.mode)
        self.lists = LocalLists(ctx, commands, self.book, automatic=cfg.local_lists)

    def authorize(self, station_id: str, id_token: str) -> Verdict:
        return self.book.authorize(station_id, id_token)

    async def start(self) -> None:
        await self.book.load()
        await self.lists.load()
        self.lists.start()
        line = _MODE_LINES[self.mode]
        _LOGGER.info(line % len(self.book.cards) if "%d" in line else line)
        if not self.lists.automatic:
            _LOGGER.info("authorization: local lists are not synced (authorization.local_lists: false)")

    async def stop(self) -> None:
        await self.lists.stop()
        await self.book.close()


async def setup(ctx: Any, commands: Any) -> Any:
    """Start this feature on the running app; returns its teardown."""
    cards = Cards(ctx, commands)
    await cards.start()
    ctx.cards = cards
    return cards.stop
