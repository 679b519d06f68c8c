"""Cards: what an operator types, the book's answers from memory, CSV, list messages."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from zaspot.cards import csvio
from zaspot.cards.book import CardBook, Verdict
from zaspot.cards.locallist import _entry, plan
from zaspot.cards.model import CardError, build, parse_expiry, parse_status, readable_expiry
from zaspot.core.bus import EventBus
from zaspot.ocpp import cards_v16, cards_v201, schemas
from zaspot.store import Store


@pytest.fixture
async def ctx(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    yield SimpleNamespace(store=store, bus=EventBus())
    await store.close()


async def _book(ctx, mode="open") -> CardBook:
    book = CardBook(ctx, mode)
    await book.load()
    return book


def test_what_an_operator_types_for_a_card():
    assert [parse_status(s) for s in ("accepted", "BLOCKED", " Expired ")] == ["Accepted", "Blocked", "Expired"]
    with pytest.raises(CardError, match="accepted, blocked or expired"):
        parse_status("invalid")
    assert parse_expiry("2027-01-31") == 1801353600.0  # midnight UTC: when it expires
    assert parse_expiry("2027-01-31T12:00:00Z") == parse_expiry("2027-01-31T13:00:00+01:00") == 1801396800.0
    assert parse_expiry("") is None and readable_expiry(1801353600.0) == "2027-01-31"
    assert readable_expiry(1801396800.0) == "2027-01-31T12:00:00Z"
    with pytest.raises(CardError, match="expiry"):
        parse_expiry("next week")
    card = build({"id_token": " 04A1 ", "group": "FLEET", "driver": "Eva Novak"})
    assert (card.id_token, card.status, card.group, card.driver) == ("04A1", "Accepted", "FLEET", "Eva Novak")
    assert build({"id_token": "04A1", "status": "blocked"}, card).group == "FLEET"  # what is not given stays
    for bad, message in (({"id_token": ""}, "needs an id_token"), ({"id_token": "A" * 37}, "longer than 36"),
                         ({"id_token": "A,B"}, "comma"), ({"id_token": "A", "group": "G" * 21}, "longer than 20")):
        with pytest.raises(CardError, match=message):
            build(bad)


async def test_the_book_answers_from_memory_in_both_modes(ctx):
    book = await _book(ctx)
    await book.put({"id_token": "GOOD", "group": "FLEET", "expiry": time.time() + 3600})
    await book.put({"id_token": "STOLEN", "status": "Blocked"})
    await book.put({"id_token": "OLD", "expiry": time.time() - 10})
    good = book.authorize("CP-1", "good")  # id tokens are case-insensitive
    assert (good.status, good.group, good.known) == ("Accepted", "FLEET", True)
    assert book.authorize("CP-1", "STOLEN").status == "Blocked"
    assert book.authorize("CP-1", "OLD").status == "Expired"
    assert book.authorize("CP-1", "NEW") == Verdict("Accepted")  # open: accepted, and noted
    await book.flush()
    noted = [(e["station_id"], e["data"]["id_token"], e["data"]["status"])
             for e in await ctx.store.events(None, "authorization", 10)]
    assert sorted(noted) == [("CP-1", "NEW", "Accepted"), ("CP-1", "OLD", "Expired"), ("CP-1", "STOLEN", "Blocked")]
    book.authorize("CP-1", "NEW")  # the same again within ten minutes: no second event
    await book.flush()
    assert len(await ctx.store.events(None, "authorization", 10)) == 3

    strict = await _book(ctx, "list")  # loaded from the table: the same cards
    assert strict.authorize("CP-2", "NEW").status == "Unknown"
    assert strict.authorize("CP-2", "GOOD").status == "Accepted" and strict.version == 3


async def test_every_change_takes_the_next_version_and_removals_are_kept(ctx):
    book = await _book(ctx)
    await book.put({"id_token": "A"})
    await book.put({"id_token": "B"})
    await book.set_status("A", "Blocked")
    await book.remove("B")
    assert book.version == 4
    assert [(v, i, c.status if c else None) for v, i, c in book.changes_since(1)] == [
        (3, "A", "Blocked"), (4, "B", None)]
    assert await book.put_many([{"id_token": "C"}, {"id_token": "a", "note": "first card"}]) == (1, 1)
    again = await _book(ctx)  # what a restart finds
    assert again.version == 6 and again.removals == {"B": 4}
    assert again.find("A").note == "first card" and again.find("A").list_version == 6
    events = await ctx.store.events(None, "card_changed", 10)
    assert [e["data"]["change"] for e in reversed(events)] == ["added", "added", "blocked", "removed", "added",
                                                                 "updated"]


def test_csv_round_trip_and_every_bad_line():
    text = "id_token,status,expiry,group,driver,note\nA1,accepted,2027-01-31,FLEET,Eva Novak,\nB2,Blocked,,,,\"lost, reported\"\n"
    rows = csvio.parse(text)
    cards = [build(r) for r in rows]
    assert csvio.export(cards) == ("id_token,status,expiry,group,driver,note\n"
                                   "A1,Accepted,2027-01-31T00:00:00Z,FLEET,Eva Novak,\n"
                                   "B2,Blocked,,,,\"lost, reported\"\n")
    with pytest.raises(csvio.CsvError) as bad:
        csvio.parse("id_token,status\nA1,accepted\nB2,maybe\n\nA1,blocked\n,accepted\n")
    assert bad.value.errors == [(3, "status must be accepted, blocked or expired, not 'maybe'"),
                                (5, "card A1 is on line 2 already"), (6, "a card needs an id_token")]
    with pytest.raises(csvio.CsvError, match="line 1: the header"):
        csvio.parse("card,state\nA1,accepted\n")


def test_a_big_list_goes_in_steps_each_a_true_version():
    changes = [(v, f"C{v}", None) for v in (3, 4, 5, 7, 9)]
    assert [(version, [c[0] for c in chunk]) for version, chunk in plan(changes, 10, 2)] == [
        (4, [3, 4]), (7, [5, 7]), (10, [9])]
    assert plan([], 4, 2) == [(4, [])]  # nothing to send: one message still says the version
    same = [(0, "OLD1", None), (0, "OLD2", None), (0, "OLD3", None), (2, "NEW", None)]
    assert [len(chunk) for _, chunk in plan(same, 2, 2)] == [3, 1]  # one version is never split


async def test_list_messages_and_answers_are_schema_valid_in_both_versions(ctx):
    book = await _book(ctx)
    await book.put({"id_token": "A1", "group": "FLEET", "expiry": "2027-01-31"})
    await book.put({"id_token": "B2", "status": "blocked"})
    await book.put({"id_token": "L" * 30})  # too long for 1.6
    await book.remove("B2")
    entries = [_entry(c) for c in book.changes_since(0)]
    action, p16 = cards_v16.send_local_list(4, "Differential", entries)
    schemas.validate("1.6", action, p16)
    assert p16["localAuthorizationList"] == [
        {"idTag": "A1", "idTagInfo": {"status": "Accepted", "expiryDate": "2027-01-31T00:00:00Z", "parentIdTag": "FLEET"}},
        {"idTag": "B2"}]  # removed: no idTagInfo
    action, p201 = cards_v201.send_local_list(4, "Differential", entries)
    schemas.validate("2.0.1", action, p201)
    assert p201["localAuthorizationList"][0]["idTokenInfo"] == {
        "status": "Accepted", "cacheExpiryDateTime": "2027-01-31T00:00:00Z",
        "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
    assert len(p201["localAuthorizationList"]) == 3
    for version, (action, payload) in (("1.6", cards_v16.send_local_list(0, "Full", [])),
                                       ("2.0.1", cards_v201.send_local_list(0, "Full", []))):
        schemas.validate(version, action, payload)
        assert "localAuthorizationList" not in payload  # an empty Full list clears the station's
    unknown = Verdict("Unknown")
    schemas.validate("1.6", "Authorize", {"idTagInfo": cards_v16.id_tag_info(unknown)}, response=True)
    schemas.validate("2.0.1", "Authorize", {"idTokenInfo": cards_v201.id_token_info(unknown)}, response=True)
    assert cards_v16.id_tag_info(unknown) == {"status": "Invalid"}
    assert cards_v201.id_token_info(unknown) == {"status": "Unknown"}
