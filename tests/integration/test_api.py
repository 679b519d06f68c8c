"""The operator API on a real `zaspot run`: auth, every command, live subscriptions,
history, the shell commands on top of it, and /metrics read by Prometheus' parser."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import ROOT, ZaspotProcess
from zaspot.api.client import ApiError, AuthError, ZaspotClient
from zaspot.sim import SimStation


def zaspot_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zaspot", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.fixture
async def fleet(zaspot_server):
    url = f"{zaspot_server.url}/ocpp"
    stations = [SimStation("API-16", url, "1.6", "ac", seed=1, speed=20),
                SimStation("API-201", url, "2.0.1", "dc", modules=2, seed=2, speed=20)]
    for st in stations:
        await st.start()
    for st in stations:
        await st.wait_booted()
    yield stations
    for st in stations:
        await st.stop()


def api_url(server: ZaspotProcess) -> str:
    return f"{server.url}/api/websocket"


async def test_loopback_needs_no_token_until_one_exists(zaspot_server):
    async with ZaspotClient(api_url(zaspot_server)) as client:
        assert await client.command("ping") == "pong"
    created = zaspot_cli("token", "create", "ops", "--db", str(zaspot_server.db))
    assert created.returncode == 0
    token = created.stdout.strip()
    with pytest.raises(AuthError, match="access token is required"):
        await ZaspotClient(api_url(zaspot_server)).connect()
    with pytest.raises(AuthError, match="invalid or revoked"):
        await ZaspotClient(api_url(zaspot_server), "not-the-token").connect()
    async with ZaspotClient(api_url(zaspot_server), token) as client:
        assert await client.command("ping") == "pong"
    assert zaspot_cli("token", "revoke", "ops", "--db", str(zaspot_server.db)).returncode == 0
    with pytest.raises(AuthError, match="invalid or revoked"):
        await ZaspotClient(api_url(zaspot_server), token).connect()
    listed = zaspot_cli("token", "list", "--db", str(zaspot_server.db)).stdout
    assert "ops\trevoked" in listed


async def test_without_tokens_only_loopback_clients_get_in(tmp_path):
    """The non-loopback branch, driven through a real store with a remote address we can't dial here."""
    from zaspot.api.websocket import ApiConnection
    from zaspot.app import App
    from zaspot.config import Config

    app = App(Config(host="127.0.0.1", port=0, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules")))
    await app.start()
    sent = []

    class FarAwayClient:
        remote_address = ("203.0.113.9", 40000)

        async def send(self, data, text=None):
            sent.append(orjson.loads(data))

        async def recv(self):
            return orjson.dumps({"type": "auth"}).decode()

        async def close(self, code=1000, reason=""):
            sent.append({"closed": code})

    try:
        await ApiConnection(FarAwayClient(), app.ctx, app.commands).run()
    finally:
        await app.stop()
    assert sent[1]["type"] == "auth_invalid" and "only local" in sent[1]["message"]
    assert sent[2] == {"closed": 1008}


async def test_fleet_station_and_history_commands(zaspot_server, fleet):
    await fleet[0].start_transaction(1)
    await fleet[0].send_meter_values(1)
    await fleet[0].stop_transaction(1)
    await asyncio.sleep(1.2)  # the frame log is flushed once a second
    async with ZaspotClient(api_url(zaspot_server)) as client:
        stations = {s["id"]: s for s in await client.command("fleet/list")}
        assert set(stations) == {"API-16", "API-201"}
        assert stations["API-201"]["connected"] and stations["API-201"]["ocpp_version"] == "2.0.1"
        station = await client.command("station/get", station_id="API-16")
        assert station["model"] == "SimAC16" and len(station["connectors"]) >= 2
        assert station["state"]["online"] is True
        tx = await client.command("history/transactions", station_id="API-16")
        assert tx[0]["state"] == "ended"
        samples = await client.command("history/meter_samples", station_id="API-16")
        assert any(s["measurand"] == "Energy.Active.Import.Register" for s in samples)
        frames = await client.command("history/frames", station_id="API-16", limit=500)
        actions = [json.loads(f["frame"])[2] for f in frames if f["direction"] == "in" and f["frame"].startswith("[2")]
        assert {"BootNotification", "StartTransaction", "StopTransaction"} <= set(actions)
        assert any(f["direction"] == "out" for f in frames)
        assert isinstance(await client.command("history/events", station_id="API-201"), list)
        assert await client.command("history/alarms", station_id="API-16", open_only=True) == []
        # A plugin's API command (the built-in notify plugin) is reachable the same way.
        assert (await client.command("notify", message="from the API test"))["status"] == "queued"
        with pytest.raises(ApiError) as missing:
            await client.command("station/get", station_id="NOPE")
        assert missing.value.code == "not_found"
        with pytest.raises(ApiError) as unknown:
            await client.command("launch/rocket")
        assert unknown.value.code == "unknown_command"
        with pytest.raises(ApiError) as bad:
            await client.command("command/reset", station_id="API-16", kind="soft", colour="red")
        assert bad.value.code == "invalid_format"


@pytest.mark.parametrize(
    ("command", "args", "action"),
    [
        ("reset", {"kind": "soft"}, "Reset"),
        ("set_power_limit", {"kw": 11, "evse_id": 1}, "SetChargingProfile"),
        ("clear_power_limit", {"evse_id": 1}, "ClearChargingProfile"),
        ("remote_start", {"id_token": "DRIVER1", "evse_id": 2}, None),
        ("unlock_connector", {"connector_id": 1, "evse_id": 1}, "UnlockConnector"),
        ("change_availability", {"operative": False, "evse_id": 2}, "ChangeAvailability"),
        ("trigger_message", {"message": "StatusNotification"}, "TriggerMessage"),
        ("get_variables", {"keys": None}, None),
        ("set_variables", {"values": None}, None),
        ("data_transfer", {"vendor_id": "com.example", "data": "hello"}, "DataTransfer"),
    ],
)
@pytest.mark.parametrize("index", [0, 1], ids=["1.6", "2.0.1"])
async def test_every_station_command_reaches_the_station(zaspot_server, fleet, command, args, action, index):
    st = fleet[index]
    if command == "remote_start":
        action = "RemoteStartTransaction" if st.protocol == "1.6" else "RequestStartTransaction"
    if command == "get_variables":
        args = {"keys": ["HeartbeatInterval"] if st.protocol == "1.6" else ["OCPPCommCtrlr.HeartbeatInterval"]}
        action = "GetConfiguration" if st.protocol == "1.6" else "GetVariables"
    if command == "set_variables":
        args = {"values": {"MeterValueSampleInterval": 30} if st.protocol == "1.6"
                else {"SampledDataCtrlr.TxUpdatedInterval": 30}}
        action = "ChangeConfiguration" if st.protocol == "1.6" else "SetVariables"
    async with ZaspotClient(api_url(zaspot_server)) as client:
        try:
            result = await client.command(f"command/{command}", station_id=st.station_id, **args)
            assert result["ok"]
        except ApiError as exc:  # the station may say no (e.g. unknown vendor): still an answer
            assert exc.code in ("rejected", "call_error") and exc.result is not None, exc
    await st.wait_for_call(action, timeout=5)


async def test_subscription_receives_live_events_and_unsubscribe_stops_them(zaspot_server, fleet):
    async with ZaspotClient(api_url(zaspot_server)) as client:
        events = await client.subscribe("status_changed", station_id="API-16")
        await fleet[0].proto.report_problem(1, "GroundFailure", True)
        event = await asyncio.wait_for(anext(events), 10)
        assert event["station_id"] == "API-16" and event["status"] == "Faulted"
        assert event["error_code"] == "GroundFailure"
        # With an alarm open, the fleet still comes through (alarm ids are integer keys).
        for _ in range(50):
            stations = {st["id"]: st for st in await client.command("fleet/list")}
            if stations["API-16"]["state"]["open_alarm_count"]:
                break
            await asyncio.sleep(0.1)
        assert stations["API-16"]["state"]["open_alarm_count"] >= 1
        with pytest.raises(ApiError) as bad:
            await client.subscribe("no_such_event")
        assert bad.value.code == "invalid_format"


def test_shell_commands_call_and_events(zaspot_server):
    async def boot_one():
        st = SimStation("SHELL-1", f"{zaspot_server.url}/ocpp", "1.6", "ac", seed=3, speed=20)
        await st.start()
        await st.wait_booted()
        return st

    loop = asyncio.new_event_loop()
    st = loop.run_until_complete(boot_one())
    url = api_url(zaspot_server)
    try:
        events = subprocess.Popen([sys.executable, "-m", "zaspot", "events", "--url", url, "--type", "command_result",
                                   "--count", "1"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        loop.run_until_complete(asyncio.sleep(1.0))  # let it subscribe
        call = loop.run_in_executor(None, lambda: zaspot_cli("call", "SHELL-1", "reset", "kind=hard", "--url", url))
        result = loop.run_until_complete(call)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["status"] == "Accepted"
        line = events.communicate(timeout=20)[0].strip()
        assert json.loads(line)["command"] == "reset"
        offline = zaspot_cli("call", "NOBODY", "reset", "--url", url)
        assert offline.returncode == 1 and offline.stderr.startswith("zaspot: not_connected:")
        unreachable = zaspot_cli("api", "ping", "--url", "ws://127.0.0.1:9/api/websocket")
        assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr
    finally:
        loop.run_until_complete(st.stop())
        loop.close()


async def test_metrics_parse_with_prometheus_parser(zaspot_server, fleet):
    status, body = zaspot_server.get("/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["zaspot_stations_connected"].samples[0].value == 2
    boots = [s for s in families["zaspot_messages_in"].samples
             if s.labels.get("action") == "BootNotification"]
    assert {s.labels["version"] for s in boots} == {"1.6", "2.0.1"}
    latency = families["zaspot_call_duration_seconds"]
    assert latency.type == "histogram"
    counts = [s for s in latency.samples if s.name.endswith("_count") and s.labels["action"] == "BootNotification"]
    assert sum(s.value for s in counts) == 2
    assert families["zaspot_bus_dropped"].samples[0].value == 0
