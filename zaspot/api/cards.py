"""Operator API: cards/*: the id tokens, the authorization mode, stations' local lists,
and command/clear_cache.

Every card change goes through the server's card book (zaspot.cards.book), its one
writer; `zaspot cards …` is a client of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zaspot.api.registry import ApiError, handler
from zaspot.cards import csvio
from zaspot.cards.model import CardError, parse_status

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection

_CARD_FIELDS = ("id_token", "status", "expiry", "group", "driver", "note")


def _cards(conn: ApiConnection) -> Any:
    cards = conn.ctx.cards
    if cards is None:
        raise ApiError("not_available", "cards are not running")
    return cards


def _source(conn: ApiConnection) -> str:
    return f"operator:{conn.user}"


def _id(msg: dict[str, Any]) -> str:
    value = msg.get("id_token")
    if not isinstance(value, str) or not value.strip():
        raise ApiError("invalid_format", "missing 'id_token'")
    return value.strip()


def _known(conn: ApiConnection, id_token: str) -> Any:
    card = _cards(conn).book.find(id_token)
    if card is None:
        raise ApiError("not_found", f"no card {id_token!r}")
    return card


@handler("cards/mode")
async def cards_mode(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    cards = _cards(conn)
    return {"mode": cards.mode, "local_lists": cards.lists.automatic, "cards": len(cards.book.cards),
            "version": cards.book.version}


@handler("cards/list")
async def cards_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    status = msg.get("status")
    if status is not None:
        try:
            status = parse_status(status)
        except CardError as exc:
            raise ApiError("invalid_format", str(exc)) from None
    search = msg.get("search")
    if search is not None and not isinstance(search, str):
        raise ApiError("invalid_format", "'search' must be text")
    return [card.to_dict() for card in _cards(conn).book.list(status, search)]


@handler("cards/get")
async def cards_get(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return _known(conn, _id(msg)).to_dict()


@handler("cards/add")
async def cards_add(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Add a card, or change the fields given of a known one."""
    unknown = set(msg) - set(_CARD_FIELDS) - {"id", "type"}
    if unknown:
        raise ApiError("invalid_format", f"unknown field(s) {', '.join(sorted(unknown))}; "
                                         f"a card has {', '.join(_CARD_FIELDS)}")
    fields = {k: msg[k] for k in _CARD_FIELDS if k in msg}
    try:
        card, added = await _cards(conn).book.put(fields, _source(conn))
    except CardError as exc:
        raise ApiError("invalid_format", str(exc)) from None
    return {**card.to_dict(), "added": added}


async def _set_status(conn: ApiConnection, msg: dict[str, Any], status: str) -> Any:
    card = _known(conn, _id(msg))
    return (await _cards(conn).book.set_status(card.id_token, status, _source(conn))).to_dict()


@handler("cards/block")
async def cards_block(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _set_status(conn, msg, "Blocked")


@handler("cards/unblock")
async def cards_unblock(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await _set_status(conn, msg, "Accepted")


@handler("cards/remove")
async def cards_remove(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    card = _known(conn, _id(msg))
    return {"removed": await _cards(conn).book.remove(card.id_token, _source(conn))}


@handler("cards/import")
async def cards_import(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """A CSV text (csvio.COLUMNS): all of it, or nothing and every bad line."""
    text = msg.get("csv")
    if not isinstance(text, str):
        raise ApiError("invalid_format", "missing 'csv' (the file's text)")
    try:
        rows = csvio.parse(text)
    except csvio.CsvError as exc:
        errors = [{"line": line, "message": message} for line, message in exc.errors]
        raise ApiError("invalid_format", str(exc), {"errors": errors}) from None
    try:
        added, updated = await _cards(conn).book.put_many(rows, _source(conn))
    except CardError as exc:  # parse checked every row; a race with another change at most
        raise ApiError("invalid_format", str(exc)) from None
    return {"added": added, "updated": updated}


@handler("cards/export")
async def cards_export(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    cards = _cards(conn).book.list()
    return {"csv": csvio.export(cards), "cards": len(cards)}


@handler("cards/lists")
async def cards_lists(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Each station's local list: the version it holds, whether it has one, when and how it went."""
    return _cards(conn).lists.rows()


@handler("cards/sync")
async def cards_sync(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Bring one station's local list (or every connected station's) to the current
    version now; what was sent to each."""
    lists = _cards(conn).lists
    station_id = msg.get("station_id")
    if station_id is not None:
        if not isinstance(station_id, str):
            raise ApiError("invalid_format", "'station_id' must be text")
        if station_id not in conn.ctx.sessions:
            raise ApiError("not_connected", f"station {station_id} is not connected")
        return await lists.sync_many([station_id])
    return await lists.sync_many(sorted(conn.ctx.sessions))


@handler("command/clear_cache")
async def command_clear_cache(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """ClearCache: the station forgets the cards it cached from our answers."""
    station_id = msg.get("station_id")
    if not isinstance(station_id, str) or not station_id:
        raise ApiError("invalid_format", "missing 'station_id'")
    outcome = await conn.commands.run(station_id, "clear_cache", {}, _source(conn))
    if not outcome.ok:
        raise ApiError(outcome.reason or "rejected", outcome.error or f"station answered {outcome.status}",
                       outcome.to_dict())
    return outcome.to_dict()

