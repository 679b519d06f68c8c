"""The simulated stations take prices and costs as real ones do: a 1.6 station with the
OCA cost messages accepts and keeps them (one without answers UnknownVendorId), a 2.0.1
station keeps CostUpdated and what its answers told (one without CostUpdated answers
NotSupported); bad payloads are refused and kept as errors."""
from __future__ import annotations

import json

import pytest

from zaspot.sim import SimStation, pricing
from zaspot.sim.tinycsms import TinyCSMS

pytestmark = pytest.mark.timeout(30)
VENDOR = "org.openchargealliance.costmsg"


def _station(csms, sid, protocol, **kw):
    return SimStation(sid, csms.url, protocol=protocol, speed=100.0, meter_interval=1000.0,
                      heartbeat_interval=1000.0, reconnect_delay=1.0, validate=True, **kw)


def _costmsg(message_id: str, data: dict) -> dict:
    return {"vendorId": VENDOR, "messageId": message_id, "data": json.dumps(data)}


async def test_a_16_station_with_cost_messages_keeps_price_running_and_final_cost():
    async with TinyCSMS() as csms:
        st = _station(csms, "P16", "1.6", features={"cost_messages": True})
        await st.start()
        try:
            await st.wait_booted()
            call = lambda a, p: csms.call("P16", a, p)  # noqa: E731
            assert await call("DataTransfer", _costmsg("SetUserPrice", {"idToken": "CARD1", "priceText": "7.42 CZK/kWh"})) \
                == ("result", {"status": "Accepted"})
            tx = await st.start_transaction(1, "CARD1")
            running = {"transactionId": tx, "timestamp": "2025-12-01T12:00:00Z", "meterValue": 1200, "cost": 1.5,
                       "state": "Charging", "chargingPrice": {"kWhPrice": 7.42}}
            assert (await call("DataTransfer", _costmsg("RunningCost", running)))[1] == {"status": "Accepted"}
            assert (await call("DataTransfer", _costmsg("RunningCost", {**running, "transactionId": tx + 1000})))[1] \
                == {"status": "Rejected"}  # not a transaction it runs
            assert (await call("DataTransfer", _costmsg("Tariff", {})))[1] == {"status": "UnknownMessageId"}
            bad = await call("DataTransfer", _costmsg("RunningCost", {**running, "cost": "1.50"}))
            assert bad[0] == "error" and bad[1]["code"] == "FormationViolation"
            await st.stop_transaction(1)
            final = {"transactionId": tx, "cost": 2.0, "priceText": "2.00 CZK incl. VAT for 0.27 kWh"}
            assert (await call("DataTransfer", _costmsg("FinalCost", final)))[1] == {"status": "Accepted"}
            assert (await call("DataTransfer", {"vendorId": "x"}))[1]["status"] == "Accepted"  # others as before
        finally:
            await st.stop()
    told = pricing.told(st)
    assert told["user_price"] == {"CARD1": "7.42 CZK/kWh"}
    assert told["running_cost"] == {str(tx): [running]}
    assert told["final_cost"] == {str(tx): final}
    assert len(st.errors) == 1 and "cost" in st.errors[0]
    assert csms.invalid == []


async def test_a_16_station_without_them_knows_no_such_vendor():
    async with TinyCSMS() as csms:
        st = _station(csms, "Q16", "1.6")
        await st.start()
        try:
            await st.wait_booted()
            answer = await csms.call("Q16", "DataTransfer", _costmsg("SetUserPrice", {"idToken": "C", "priceText": "x"}))
        finally:
            await st.stop()
    assert answer == ("result", {"status": "UnknownVendorId"})
    assert pricing.told(st)["user_price"] == {}


async def test_a_201_station_keeps_cost_updated_and_one_without_it_says_not_supported():
    async with TinyCSMS() as csms:
        st = _station(csms, "P201", "2.0.1")
        plain = _station(csms, "Q201", "2.0.1", features={"cost_updated": False})
        await st.start()
        await plain.start()
        try:
            await st.wait_booted()
            await plain.wait_booted()
            update = {"totalCost": 3.21, "transactionId": "tx-1"}
            assert await csms.call("P201", "CostUpdated", update) == ("result", {})
            refused = await csms.call("Q201", "CostUpdated", update)
        finally:
            await st.stop()
            await plain.stop()
    assert pricing.told(st)["total_cost"] == {"tx-1": 3.21}
    assert pricing.told(st)["cost_updated"] == [update]
    assert refused[0] == "error" and refused[1]["code"] == "NotSupported"
    assert pricing.told(plain)["cost_updated"] == []


def test_what_201_answers_said_is_kept_and_a_bad_answer_is_an_error():
    st = SimStation("R201", "ws://127.0.0.1:1", protocol="2.0.1", validate=True)
    pricing.heard(st, "Authorize", {"idTokenInfo": {"status": "Accepted", "personalMessage": {
        "format": "UTF8", "content": "7.42 CZK/kWh now"}}})
    pricing.heard(st, "TransactionEvent", {"totalCost": 12.5, "updatedPersonalMessage": {
        "format": "UTF8", "content": "12.50 CZK incl. VAT for 1.68 kWh"}}, "tx-9")
    assert st.errors == []
    told = pricing.told(st)
    assert told["personal_message"] == "7.42 CZK/kWh now"
    assert told["total_cost"] == {"tx-9": 12.5}
    assert told["updated_message"] == {"tx-9": "12.50 CZK incl. VAT for 1.68 kWh"}
    pricing.heard(st, "TransactionEvent", {"totalCost": "12.50"}, "tx-9")
    assert len(st.errors) == 1 and "TransactionEvent answer" in st.errors[0]
