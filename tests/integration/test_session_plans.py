"""Departure-aware plans on a real zaspot (`ems: {strategy: spot_price}`, a `file` price
source of 15-minute prices): a simulated 2.0.1 station's NotifyEVChargingNeeds reaches the
plan and survives a restart; `zaspot session plan TX --kwh 30 --by 07:00` and `zaspot
session charge-now TX [--off]` change it from the shell; with tariffs the expected cost is
at the driver price, and new prices move the plan."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, free_port
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.ems.plan import next_at
from zaspot.sim.station import SimStation

Q = 900


def _prices(path: Path, cheap_from: int = 12) -> set[float]:
    """15-minute prices from an hour ago for a day; 1.00 in the 12 quarters from quarter
    `cheap_from` (+2 h), dearer else. Returns the starts of the cheap quarters."""
    first = int(time.time()) // Q * Q - 3600
    cheap = {float(first + (cheap_from + i) * Q) for i in range(12)}
    rows = [f"{first + i * Q},{first + (i + 1) * Q},{1.0 if first + i * Q in cheap else 3.0 + (i % 7) / 4}"
            for i in range(100)]
    path.write_text("start,end,price\n" + "\n".join(rows) + "\n")
    return cheap


async def _start(tmp_path: Path, port: int, tariff: bool = False) -> App:
    """spot_price on two stations; prices from `ems.prices`, or with `tariff` from `pricing:`
    with a standard tariff (spot + 2.00, 21 % VAT)."""
    config = tmp_path / "zaspot.yaml"
    prices = f"{{platform: file, path: {tmp_path / 'prices.csv'}, unit: CZK/kWh}}"
    if not config.exists():
        config.write_text(
            f"host: 127.0.0.1\nport: {port}\ndb: {tmp_path / 'z.db'}\nrules: {tmp_path / 'rules'}\n"
            "ocpp: {ping_interval: 0}\n"
            "ems:\n  strategy: spot_price\n  interval: 0.2\n  lease: 600\n"
            "  site: {main_breaker: 63, stations: [{id: EV-1, evses: 2, max_current: 16},"
            " {id: EV-2, evses: 2, max_current: 16}]}\n"
            + (f"pricing:\n  source: {prices}\n  currency: CZK\n  fallback_price: 4.5\n  tariffs:\n"
               "    - {name: standard, markup: 2.0, vat: 0.21}\n" if tariff else f"  prices: {prices}\n"))
    app = App(load(config))
    await app.start()
    app.url = f"ws://127.0.0.1:{port}"
    return app


async def _plan(app: App, key: str, ready, timeout: float = 15.0) -> dict:
    """The plan of `key` ("EV-2/1") once `ready(plan)` holds."""
    deadline, plan = time.monotonic() + timeout, None
    async with ZaspotClient(f"{app.url}/api/websocket", None) as client:
        while time.monotonic() < deadline:
            plan = (await client.command("ems/plan"))["plans"].get(key)
            if plan is not None and ready(plan):
                return plan
            await asyncio.sleep(0.1)
    raise AssertionError(f"the plan of {key} never got there: {plan}")


async def test_an_evs_charging_needs_reach_the_plan_and_survive_a_restart(tmp_path: Path):
    cheap, port = _prices(tmp_path / "prices.csv"), free_port()
    app = await _start(tmp_path, port)
    st = SimStation("EV-2", f"{app.url}/ocpp", "2.0.1", validate=True, reconnect_delay=0.2, meter_interval=60,
                    features={"charging_needs": {"kwh": 30, "hours": 8}})
    try:
        await st.start()
        await st.wait_booted()
        early = await st.proto.tell_charging_needs(2)  # EVSE 2: no transaction there yet
        told = time.time()
        tx = await st.start_transaction(1)
        plan = await _plan(app, "EV-2/1", lambda p: p["energy_from"] == "ev")
        assert st.feature_state["charging_needs"] == [{"status": "Processing"}, {"status": "Accepted"}]
        assert early == {"status": "Processing"}
        assert plan["transaction_id"] == tx and plan["need_wh"] == 30_000 and plan["departure_from"] == "ev"
        assert abs(plan["departure"] - (told + 8 * 3600)) < 60
        assert plan["mode"] == "plan" and {p["start"] for p in plan["periods"]} <= cheap  # the cheap quarters only
        assert sum(p["energy_wh"] for p in plan["periods"]) == plan["left_wh"]  # all of it before departure
        assert plan["price_basis"] == "spot" and plan["currency"] == "CZK"
        assert plan["expected_cost"] == round(sum(p["energy_wh"] / 1000 * p["price"] for p in plan["periods"]), 2)
        limits = {(lim["station_id"], lim["evse_id"]): lim for lim in app.ctx.ems.state()["limits"]}
        assert limits["EV-2", 1]["amps"] == 0 and "planned from" in limits["EV-2", 1]["reason"]

        nothing = await st.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase"}})
        assert nothing["status"] == "Rejected"  # neither an energy nor a departure: nothing to plan by

        await app.stop()
        app = await _start(tmp_path, port)  # the same database and port: the station comes back
        plan = await _plan(app, "EV-2/1", lambda p: p["energy_from"] == "ev")
        assert plan["need_wh"] == 30_000 and abs(plan["departure"] - (told + 8 * 3600)) < 60
    finally:
        await st.stop()
        await app.stop()


async def _zaspot(app: App, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZASPOT_URL=f"{app.url}/api/websocket")
    env.pop("ZASPOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "zaspot", "session", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_session_plan_and_charge_now_from_the_shell(tmp_path: Path):
    _prices(tmp_path / "prices.csv")
    app = await _start(tmp_path, free_port())
    st = SimStation("EV-1", f"{app.url}/ocpp", "1.6", validate=True, meter_interval=60)
    try:
        await st.start()
        await st.wait_booted()
        tx = await st.start_transaction(1)
        before = await _plan(app, "EV-1/1", lambda p: True)
        assert before["energy_from"] == "default" and before["need_wh"] == 20_000

        code, out, err = await _zaspot(app, "plan", str(tx), "--kwh", "30", "--by", "07:00")
        assert code == 0, err
        by = next_at("07:00", time.time())
        assert out == (f"session {tx} on EV-1 EVSE 1: 30 kWh by {time.strftime('%Y-%m-%d %H:%M', time.localtime(by))}"
                   " (operator:local)\n")
        plan = await _plan(app, "EV-1/1", lambda p: p["need_wh"] == 30_000)
        assert plan["energy_from"] == plan["departure_from"] == "operator:local" and plan["departure"] == by

        code, out, _ = await _zaspot(app, "plan", str(tx))
        assert code == 0 and out.splitlines()[0].startswith(f"session {tx} on EV-1 EVSE 1: 30 kWh (operator:local)")
        assert out.splitlines()[-1].startswith("expected cost ") and out.rstrip().endswith("CZK (spot price)")

        code, out, _ = await _zaspot(app, "charge-now", str(tx))
        assert code == 0 and out.endswith(", charge now (operator:local)\n")
        plan = await _plan(app, "EV-1/1", lambda p: p["mode"] == "charge_now")
        assert plan["need_wh"] == 30_000  # the need stays; only the price no longer matters
        limits = {(lim["station_id"], lim["evse_id"]): lim for lim in app.ctx.ems.state()["limits"]}
        assert (limits["EV-1", 1]["amps"], limits["EV-1", 1]["reason"]) == (16, "charge now (operator)")

        code, out, _ = await _zaspot(app, "charge-now", str(tx), "--off")
        assert code == 0 and "charge now" not in out
        await _plan(app, "EV-1/1", lambda p: p["mode"] != "charge_now")

        code, _, err = await _zaspot(app, "plan", "999999", "--kwh", "10")
        assert (code, err) == (1, "zaspot: not_found: no running session transaction 999999\n")
    finally:
        await st.stop()
        await app.stop()


async def test_the_expected_cost_is_at_the_tariffs_driver_price_and_new_prices_move_the_plan(tmp_path: Path):
    cheap = _prices(tmp_path / "prices.csv")
    app = await _start(tmp_path, free_port(), tariff=True)
    st = SimStation("EV-2", f"{app.url}/ocpp", "2.0.1", validate=True, meter_interval=60,
                    features={"charging_needs": {"kwh": 10, "hours": 8}})
    try:
        await st.start()
        await st.wait_booted()
        await st.start_transaction(1)
        plan = await _plan(app, "EV-2/1", lambda p: p["energy_from"] == "ev")
        assert (plan["price_basis"], plan["tariff"], plan["currency"]) == ("tariff", "standard", "CZK")
        assert plan["periods"] and {p["start"] for p in plan["periods"]} <= cheap
        for p in plan["periods"]:
            assert p["driver_price"] == round((p["price"] + 2.0) * 1.21, 4)  # (1.00 + 2.00) x 1.21 = 3.63
        assert plan["expected_cost"] == round(sum(p["energy_wh"] / 1000 * (p["price"] + 2.0) * 1.21
                                                  for p in plan["periods"]), 2)

        later = _prices(tmp_path / "prices.csv", cheap_from=30)  # new day-ahead prices: cheap from +6.5 h
        assert await app.ctx.prices.refresh() > 0  # prices_fetched
        await _plan(app, "EV-2/1", lambda p: p["periods"] and {q["start"] for q in p["periods"]} <= later)
    finally:
        await st.stop()
        await app.stop()
