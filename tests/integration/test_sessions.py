"""What sessions cost, end to end: a real zaspot with `pricing:` (the file price source,
15-minute prices around now), simulated 1.6 and 2.0.1 stations that charge, and what an
operator sees: `history/sessions` while they run and after, `zaspot sessions --csv` for a
billing system, `sessions/receipt` and `zaspot sessions receipt` with each period; the
stored cost recomputes to the same digits from the stored samples and prices; a restart
takes a running session up again with the tariff it started with."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.pricing.cdr import CSV_FIELDS
from zaspot.pricing.cost import recompute
from zaspot.sim import SimStation

pytestmark = pytest.mark.timeout(90)

START = int(time.time()) // 900 * 900 - 3600  # the quarter hours of the price file: an hour ago on


def spot_of(start: float) -> float:
    """The file's price of the quarter hour starting at `start`: 2.00, 2.50, 3.00, 3.50, 2.00, …"""
    return 2.0 + 0.5 * (int(start - START) // 900 % 4)


def _config(tmp_path: Path, port: int, standard_markup: float = 2.0) -> Path:
    (tmp_path / "prices.csv").write_text("start,end,price\n" + "".join(
        f"{t},{t + 900},{spot_of(t)}\n" for t in range(START, START + 16 * 900, 900)))
    (tmp_path / "rules").mkdir(exist_ok=True)
    config = tmp_path / "zaspot.yaml"
    config.write_text(f"""
host: 127.0.0.1
port: {port}
db: {tmp_path / 'z.db'}
rules: {tmp_path / 'rules'}
ocpp: {{ping_interval: 0}}
stations:
  - {{id: S-201, site: depot}}
pricing:
  source: {{platform: file, path: {tmp_path / 'prices.csv'}}}
  currency: CZK
  fallback_price: 4.5
  default_tariff: standard
  tariffs:
    - {{name: fleet, markup: 1.0, vat: 0.21, session_fee: 10, card_groups: [FLEET]}}
    - {{name: depot, factor: 1.2, markup: 0.5, vat: 0.21, stations: [depot]}}
    - {{name: standard, markup: {standard_markup}, min: 3.0, vat: 0.21}}
""")
    return config


def _station(url: str, sid: str, protocol: str) -> SimStation:
    # 30 simulated seconds of charging per real second, a meter sample every real second
    return SimStation(sid, f"{url}/ocpp", protocol=protocol, speed=30.0, meter_interval=30.0,
                      heartbeat_interval=1000.0, reconnect_delay=1.0, validate=True, seed=5)


async def _until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _zaspot(url: str, *args: str) -> tuple[int, str, str]:
    """`python -m zaspot ARGS --url URL` as an operator runs it (without blocking our server's loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", *args, "--url", f"{url}/api/websocket",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT), TZ="Europe/Prague"))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out.decode(), err.decode()


async def _sessions(api: ZaspotClient, **filters) -> dict[str, dict]:
    return {r["station_id"]: r for r in await api.command("history/sessions", **filters)}


async def _check_stored(app: App, station_id: str, tx: str, receipt: dict) -> None:
    """The stored cost is what its readings, its periods' prices and its tariff give, to the
    last digit; its readings are the transaction's samples as meter_samples has them."""
    saved = await app.ctx.store.stored_cost(station_id, tx)
    again = recompute(saved)
    assert (again.energy_wh, again.excl_vat, again.incl_vat, again.periods) == (
        saved["energy_wh"], saved["excl_vat"], saved["incl_vat"], saved["periods"])
    inputs = await app.ctx.store.session_inputs(station_id, tx)
    assert [list(r) for r in inputs["readings"]] == saved["readings"]
    assert saved["periods"] == receipt["periods"]
    for p in saved["periods"]:  # each period's spot price is the file's for that quarter hour
        assert p["spot"] == spot_of(p["start"]) and p["end"] - p["start"] == 900 and not p["fallback"]


async def test_sessions_are_priced_listed_and_given_receipts(tmp_path: Path):
    port = free_port()
    app = App(load(_config(tmp_path, port)))
    await app.start()
    url = f"ws://127.0.0.1:{port}"
    s16, s201 = _station(url, "S-16", "1.6"), _station(url, "S-201", "2.0.1")
    try:
        async with ZaspotClient(f"{url}/api/websocket") as api:
            await api.command("cards/add", id_token="FLEET-1", group="FLEET")
            for st in (s16, s201):
                await st.start()
                await st.wait_booted()
            tx16 = str(await s16.start_transaction(1, "FLEET-1"))
            tx201 = await s201.start_transaction(1, "GUEST-1")

            # While they charge: listed as active, with the cost so far
            running = await _until(lambda: _all_charging(api))
            assert {r["tariff"] for r in running.values()} == {"fleet", "depot"}
            for st in (s16, s201):
                await st.stop_transaction(1)
            ended = await _until(lambda: _all_final(api))
            receipts = {sid: await api.command("sessions/receipt", transaction_id=tx)
                        for sid, tx in (("S-16", tx16), ("S-201", tx201))}
            code, csv_text, err = await _zaspot(url, "sessions", "--csv")
            assert code == 0, err
            table = await _zaspot(url, "sessions", "--station", "S-16")
            printed = await _zaspot(url, "sessions", "receipt", tx16)
            missing = await _zaspot(url, "sessions", "receipt", "no-such-tx")
            for sid, tx in (("S-16", tx16), ("S-201", tx201)):
                await _check_stored(app, sid, tx, receipts[sid])
            costs = [e["data"] for e in await api.command("history/events", event_type="session_cost", limit=1000)]
    finally:
        for st in (s16, s201):
            await st.stop()
        await app.stop()
    assert s16.errors == s201.errors == []
    # session_cost in the event log: at the start, while charging (at most every 60 s), and final at the end
    for r in (receipts["S-16"], receipts["S-201"]):
        mine = [e for e in reversed(costs) if e["station_id"] == r["station_id"]]
        assert mine[0]["final"] is False and mine[-1]["final"] is True and len(mine) <= 3
        assert (mine[-1]["transaction_id"], mine[-1]["cost"]) == (r["id"], r["total_cost"]["incl_vat"])

    # The card's group chose the 1.6 session's tariff, the station's site the 2.0.1 one's.
    r16, r201 = receipts["S-16"], receipts["S-201"]
    assert (r16["tariff"], r201["tariff"]) == ("fleet", "depot") and r16["id"] == tx16 and r201["id"] == tx201
    for r in (r16, r201):
        assert r["state"] == "ended" and r["final"] and r["currency"] == "CZK" and r["periods"]
        assert r["total_energy"] > 0 and r["total_cost"] == ended[r["station_id"]]["total_cost"]
        assert sum(p["energy_wh"] for p in r["periods"]) == pytest.approx(r["total_energy"] * 1000, abs=0.5)  # kWh to 3 decimals
    # Each period's price is the tariff's: fleet (spot + 1) * 1.21, depot (spot * 1.2 + 0.5) * 1.21
    assert all(p["price"] == round((p["spot"] + 1.0) * 1.21, 6) for p in r16["periods"])
    assert all(p["price"] == round((p["spot"] * 1.2 + 0.5) * 1.21, 6) for p in r201["periods"])
    # The total is the periods' costs and the fleet tariff's session fee (10 + 21 % VAT)
    assert (r16["session_fee_excl_vat"], r16["session_fee"], r201["session_fee"]) == (10, 12.1, 0)
    assert r16["total_cost"]["incl_vat"] == pytest.approx(sum(p["cost"] for p in r16["periods"]) + 12.10, abs=0.011)
    assert r201["total_cost"]["incl_vat"] == pytest.approx(sum(p["cost"] for p in r201["periods"]), abs=0.011)
    assert r201["total_cost"]["incl_vat"] == pytest.approx(r201["total_cost"]["excl_vat"] * 1.21, abs=0.011)

    # `zaspot sessions --csv`: both sessions, with OCPI's names and the same costs
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert tuple(rows[0]) == CSV_FIELDS
    by_station = {row["station_id"]: row for row in rows}
    for r in (r16, r201):
        row = by_station[r["station_id"]]
        assert (row["id"], row["tariff"], row["currency"], row["state"]) == (r["id"], r["tariff"], "CZK", "ended")
        assert float(row["total_cost_incl_vat"]) == r["total_cost"]["incl_vat"]
        assert float(row["total_energy"]) == r["total_energy"]
        assert row["start_date_time"].endswith("Z") and row["end_date_time"].endswith("Z")

    # The table and the printed receipt
    assert table[0] == 0 and table[1].splitlines()[0].split() == [
        "TX", "STATION", "EVSE", "CARD", "STARTED", "DURATION", "KWH", "COST", "TARIFF", "STATE"]
    assert [line.split()[0] for line in table[1].splitlines()[1:]] == [tx16]
    assert f"{r16['total_cost']['incl_vat']:.2f} CZK" in table[1] and "fleet" in table[1]
    code, text, _ = printed
    assert code == 0 and text.startswith(f"Transaction {tx16} at S-16, EVSE 1, card FLEET-1 (ended)\n")
    sums = {line.rsplit("  ", 1)[0].strip(): line.split()[-1] if not line.endswith("CZK") else line.split()[-2]
            for line in text.splitlines()[-5:]}
    assert sums == {"Energy": f"{sum(p['cost'] for p in r16['periods']):.2f}", "Session fee": "12.10",
                    "Total": f"{r16['total_cost']['incl_vat']:.2f}",
                    "of which VAT 21 %": f"{r16['total_cost']['incl_vat'] - r16['total_cost']['excl_vat']:.2f}",
                    "before VAT": f"{r16['total_cost']['excl_vat']:.2f}"}
    period_lines = [line for line in text.splitlines() if line[:4].isdigit()]
    assert len(period_lines) == len(r16["periods"])
    assert missing[0] == 1 and missing[2].strip() == "zaspot: not_found: no transaction no-such-tx"


async def _all_charging(api: ZaspotClient) -> dict[str, dict] | None:
    rows = await _sessions(api)
    ok = len(rows) == 2 and all(r["state"] == "active" and (r["total_energy"] or 0) > 0
                                and r["total_cost"]["incl_vat"] > 0 for r in rows.values())
    return rows if ok else None


async def _all_final(api: ZaspotClient) -> dict[str, dict] | None:
    rows = await _sessions(api)
    return rows if len(rows) == 2 and all(r["final"] and r["state"] == "ended" for r in rows.values()) else None


async def test_a_restart_takes_a_running_session_up_with_its_tariff(tmp_path: Path):
    port = free_port()
    app = App(load(_config(tmp_path, port)))
    await app.start()
    url = f"ws://127.0.0.1:{port}"
    st = _station(url, "S-16", "1.6")
    try:
        await st.start()
        await st.wait_booted()
        tx = str(await st.start_transaction(1, "GUEST-1"))
        charged = await _until(lambda: (c := app.ctx.pricing.cost_of("S-16", tx)) and c.energy_wh > 0 and c)
        await app.stop()  # a running session's cost so far is stored when zaspot stops
        stored = (await _stored(tmp_path, tx))["energy_wh"]
        assert stored >= charged.energy_wh
        # The tariff changes while zaspot is away: the running session keeps the one it started with.
        app = App(load(_config(tmp_path, port, standard_markup=5.0)))
        await app.start()
        assert app.ctx.pricing.cost_of("S-16", tx) is not None  # taken up from the store at start
        await _until(lambda: (cost := app.ctx.pricing.cost_of("S-16", tx)) and cost.energy_wh > stored)
        await st.stop_transaction(1)
        async with ZaspotClient(f"{url}/api/websocket") as api:
            receipt = await _until(lambda: _final_receipt(api, tx))
        tx_row = await app.ctx.store.transaction("S-16", tx)
        await _check_stored(app, "S-16", tx, receipt)
        fresh = app.ctx.pricing.tariff_for("S-16", "GUEST-1")
    finally:
        await st.stop()
        await app.stop()
    assert fresh.name == "standard" and fresh.markup == 5.0
    assert receipt["tariff"] == "standard" and "spot x 1 + 2 " in receipt["tariff_text"]
    assert all(p["price"] == round(max(p["spot"] + 2.0, 3.0) * 1.21, 6) for p in receipt["periods"])
    # All of its energy, before and after the restart (the 1.6 meterStart/meterStop are whole Wh, the samples not)
    assert receipt["total_energy"] == pytest.approx((tx_row["meter_stop_wh"] - tx_row["meter_start_wh"]) / 1000,
                                                    abs=0.0015)


async def _stored(tmp_path: Path, tx: str) -> dict:
    from zaspot.store import Store

    async with await Store.open(tmp_path / "z.db") as store:
        return await store.stored_cost("S-16", tx)


async def _final_receipt(api: ZaspotClient, tx: str) -> dict | None:
    receipt = await api.command("sessions/receipt", transaction_id=tx)
    return receipt if receipt["final"] and receipt["state"] == "ended" else None
