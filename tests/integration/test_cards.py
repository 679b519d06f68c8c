"""Who may charge, end to end with simulated stations of both versions: a blocked card is
refused at Authorize and at the start with its expiry and group in the answer; the
authorization mode decides for unknown cards (open: accepted and logged; list: refused)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import ZaspotProcess
from zaspot.api.client import ZaspotClient
from zaspot.sim.meter import now_iso
from zaspot.sim.station import SimStation


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def station(url: str, station_id: str, version: str, **options: Any) -> SimStation:
    st = SimStation(station_id, f"{url}/ocpp", version, validate=True, meter_interval=3600, seed=7, **options)
    await st.start()
    await st.wait_booted()
    return st


async def _count(rows: Any, n: int) -> bool:
    return len(await rows) >= n


def _token(id_token: str) -> dict[str, str]:
    return {"idToken": id_token, "type": "ISO14443"}


async def _authorize(st: SimStation, id_token: str) -> dict[str, Any]:
    if st.protocol == "1.6":
        return (await st.call("Authorize", {"idTag": id_token}))["idTagInfo"]
    return (await st.call("Authorize", {"idToken": _token(id_token)}))["idTokenInfo"]


async def _start(st: SimStation, id_token: str) -> dict[str, Any]:
    """The answer to a 1.6 StartTransaction / 2.0.1 TransactionEvent Started."""
    if st.protocol == "1.6":
        answer = await st.call("StartTransaction", {"connectorId": 2, "idTag": id_token, "meterStart": 0,
                                                    "timestamp": now_iso()})
        return answer["idTagInfo"]
    answer = await st.call("TransactionEvent", {
        "eventType": "Started", "timestamp": now_iso(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": f"tx-{id_token}"}, "evse": {"id": 2, "connectorId": 1},
        "idToken": _token(id_token)})
    return answer["idTokenInfo"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_blocked_card_is_refused_at_authorize_and_at_start_with_its_expiry_and_group(app, version):
    async with ZaspotClient(f"{app.url}/api/websocket") as api:
        await api.command("cards/add", id_token="04A1B2C3", group="FLEET", expiry="2030-06-30", driver="Eva Novak")
        blocked = await api.command("cards/block", id_token="04a1b2c3")  # id tokens are case-insensitive
        assert (blocked["id_token"], blocked["status"]) == ("04A1B2C3", "Blocked")
        st = await station(app.url, f"CARDS-{version}", version)
        try:
            if version == "1.6":
                said = {"status": "Blocked", "expiryDate": "2030-06-30T00:00:00Z", "parentIdTag": "FLEET"}
            else:
                said = {"status": "Blocked", "cacheExpiryDateTime": "2030-06-30T00:00:00Z",
                        "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
            assert await _authorize(st, "04A1B2C3") == said
            assert await _start(st, "04A1B2C3") == said
            assert await st.start_transaction(1, "04A1B2C3") is None  # the station does not charge

            await api.command("cards/unblock", id_token="04A1B2C3")
            assert (await _authorize(st, "04A1B2C3"))["status"] == "Accepted"
            assert await st.start_transaction(1, "04A1B2C3") is not None
            history = await until(lambda: api.command("history/events", station_id=st.station_id,
                                                      event_type="authorization"))
            assert [(e["data"]["id_token"], e["data"]["status"]) for e in history] == [("04A1B2C3", "Blocked")]
        finally:
            await st.stop()


@pytest.mark.parametrize("mode", ["open", "list"])
async def test_the_mode_decides_for_unknown_cards_and_says_so(tmp_path, mode):
    config = tmp_path / "zaspot.yaml"
    config.write_text(f"rules: {tmp_path / 'rules'}\nauthorization:\n  mode: {mode}\n")
    server = ZaspotProcess(tmp_path / "zaspot.db", config=config).start()
    stations: list[SimStation] = []
    try:
        async with ZaspotClient(f"{server.url}/api/websocket") as api:
            assert (await api.command("cards/mode"))["mode"] == mode
            await api.command("cards/add", id_token="KNOWN-1")
            stations = [await station(server.url, "OLD", "1.6"), await station(server.url, "NEW", "2.0.1")]
            old, new = stations
            for st in stations:
                assert (await _authorize(st, "KNOWN-1"))["status"] == "Accepted"
            if mode == "open":
                assert await _authorize(old, "STRANGER") == await _authorize(new, "STRANGER") == {"status": "Accepted"}
                assert await old.start_transaction(1, "STRANGER", authorize=False) is not None
                assert await new.start_transaction(1, "STRANGER", authorize=False) is not None
            else:
                assert await _authorize(old, "STRANGER") == {"status": "Invalid"}
                assert await _authorize(new, "STRANGER") == {"status": "Unknown"}
                assert await old.start_transaction(1, "STRANGER", authorize=False) is None
                assert await new.start_transaction(1, "STRANGER", authorize=False) is None

            async def noted() -> list[tuple[str, str, str]]:
                events = await api.command("history/events", event_type="authorization")
                return sorted((e["station_id"], e["data"]["status"], e["data"]["mode"]) for e in events)

            answer = "Accepted" if mode == "open" else "Unknown"
            await until(lambda: _count(noted(), 2))
            assert await noted() == [("NEW", answer, mode), ("OLD", answer, mode)]  # once each, not per message
        verb = "accepted" if mode == "open" else "refused"
        await until(lambda: f"NEW: unknown card STRANGER {verb} (authorization: {mode})" in server.log.read_text())
        log = server.log.read_text()
        assert f"OLD: unknown card STRANGER {verb} (authorization: {mode})" in log
        first = {"open": "authorization: open — unknown cards are accepted and logged; set authorization.mode: list",
                 "list": "authorization: list — only known Accepted cards may charge (cards known: 0)"}[mode]
        assert first in log and "KNOWN-1" not in log  # a known card is not worth a line
    finally:
        for st in stations:
            await st.stop()
        server.stop()
