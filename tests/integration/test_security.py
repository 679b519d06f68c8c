"""OCPP security profiles on a real `zaspot run`: Basic auth (1), TLS (2), mutual TLS (3),
refused attempts counted and kept as connection_refused events, a station that keeps
failing is refused for a while (and its neighbours behind the same address are not), and
a password can be cleared."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import ssl
import subprocess
import sys
import time

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.certs import make_ca, make_cert
from tests.helpers import ROOT, OcppClient, ZaspotProcess
from zaspot.api.client import ZaspotClient


def set_password(db, station_id: str, password: str) -> None:
    subprocess.run([sys.executable, "-m", "zaspot", "station", "password", station_id, "--db", str(db),
                    "--password", password], check=True, cwd=ROOT)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def connect(url: str, headers=None, ssl_context=None):
    return await websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=headers, ssl=ssl_context)


async def test_basic_auth_accepts_the_right_password_and_refuses_others(tmp_path):
    db = tmp_path / "zaspot.db"
    config = tmp_path / "zaspot.yaml"
    config.write_text("ocpp:\n  security_profile: 1\n  auth_failures_before_backoff: 3\n")
    server = ZaspotProcess(db, config=config)
    set_password(db, "SECURE-1", "correct horse")
    server.start()
    try:
        url = f"{server.url}/ocpp/SECURE-1"
        ws = await connect(url, basic("SECURE-1", "correct horse"))
        assert (await OcppClient(ws).boot())[2]["status"] == "Accepted"
        await ws.close()
        for headers, reason in [(None, b"must authenticate"), (basic("SECURE-1", "wrong"), b"wrong password"),
                                (basic("OTHER", "correct horse"), b"username must be the station id")]:
            with pytest.raises(InvalidStatus) as refused:
                await connect(url, headers)
            assert refused.value.response.status_code == 401 and reason in refused.value.response.body
        # Three failures from this address: now even the right password waits.
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, basic("SECURE-1", "correct horse"))
        assert refused.value.response.status_code == 429
        assert int(refused.value.response.headers["Retry-After"]) > 0
    finally:
        server.stop()
    con = sqlite3.connect(db)
    refused = [json.loads(row[0]) for row in con.execute(
        "SELECT data FROM events WHERE type = 'connection_refused' AND station_id = 'SECURE-1' ORDER BY id")]
    assert [e["reason"] for e in refused] == ["no_credentials", "wrong_password", "bad_username", "backoff"]
    assert all(e["remote"] == "127.0.0.1" for e in refused)
    stored = con.execute("SELECT password_hash FROM station_credentials").fetchone()[0]
    assert stored.startswith("scrypt$") and "correct horse" not in stored


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "zaspot-test-ca")
    stranger_ca = make_ca(folder, "stranger-ca")
    return {
        "ca": ca,
        "server": make_cert(folder, "server", "localhost", ca, server=True),
        "good": make_cert(folder, "good", "MTLS-1", ca),
        "wrong_cn": make_cert(folder, "wrong", "SOMEONE-ELSE", ca),
        "stranger": make_cert(folder, "stranger", "MTLS-1", stranger_ca),
        "folder": folder,
    }


def client_context(pki, cert=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"][0]))
    if cert:
        context.load_cert_chain(str(pki[cert][0]), str(pki[cert][1]))
    return context


async def test_tls_and_mutual_tls(tmp_path, pki):
    config = tmp_path / "zaspot.yaml"
    config.write_text(
        f"tls:\n  cert: {pki['server'][0]}\n  key: {pki['server'][1]}\n  client_ca: {pki['ca'][0]}\n"
        "stations:\n  - id: MTLS-1\n    security_profile: 3\n  - id: TLS-2\n    security_profile: 2\n"
    )
    db = tmp_path / "zaspot.db"
    set_password(db, "TLS-2", "profile-two-pw")
    server = ZaspotProcess(db, config=config, tls=True).start()
    wss = f"wss://127.0.0.1:{server.port}/ocpp"
    try:
        # Profile 2: TLS + Basic auth.
        ws = await connect(f"{wss}/TLS-2", basic("TLS-2", "profile-two-pw"), client_context(pki))
        assert (await OcppClient(ws).boot())[2]["status"] == "Accepted"
        await ws.close()
        # Profile 3: the right client certificate gets in.
        ws = await connect(f"{wss}/MTLS-1", ssl_context=client_context(pki, "good"))
        assert (await OcppClient(ws).boot())[2]["status"] == "Accepted"
        await ws.close()
        # No certificate, or one for another station: 403.
        for cert in (None, "wrong_cn"):
            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{wss}/MTLS-1", ssl_context=client_context(pki, cert))
            assert refused.value.response.status_code == 403
        # A certificate from a CA we don't trust never completes the TLS handshake.
        with pytest.raises((ssl.SSLError, ConnectionError, OSError, websockets.exceptions.InvalidMessage)):
            await connect(f"{wss}/MTLS-1", ssl_context=client_context(pki, "stranger"))
    finally:
        server.stop()


def test_profile_2_without_tls_is_a_clear_config_error(tmp_path):
    config = tmp_path / "zaspot.yaml"
    config.write_text("ocpp:\n  security_profile: 2\n")
    result = subprocess.run([sys.executable, "-m", "zaspot", "run", "-c", str(config), "--port", "0",
                             "--db", str(tmp_path / "z.db")], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2
    assert "security profile 2 or 3 needs a `tls:` section" in result.stderr
    assert "Traceback" not in result.stderr


async def connects(url: str, headers=None) -> bool:
    try:
        ws = await connect(url, headers)
    except InvalidStatus:
        return False
    await ws.close()
    return True


async def test_a_cleared_password_lets_the_station_in_without_one(tmp_path):
    db = tmp_path / "zaspot.db"
    config = tmp_path / "zaspot.yaml"
    config.write_text("ocpp:\n  auth_failures_before_backoff: 1000\n"
                      "stations:\n  - id: BASIC-1\n    security_profile: 1\n")
    set_password(db, "OPEN-1", "was needed")
    set_password(db, "BASIC-1", "profile-one-pw")
    server = ZaspotProcess(db, config=config).start()
    try:
        assert not await connects(f"{server.url}/ocpp/OPEN-1")  # a password set: it is needed
        assert await connects(f"{server.url}/ocpp/BASIC-1", basic("BASIC-1", "profile-one-pw"))
        for station in ("OPEN-1", "BASIC-1"):
            cleared = subprocess.run([sys.executable, "-m", "zaspot", "station", "password", station, "--clear",
                                      "--db", str(db)], capture_output=True, text=True, cwd=ROOT)
            assert cleared.returncode == 0 and f"{station}: password removed" in cleared.stdout
        again = subprocess.run([sys.executable, "-m", "zaspot", "station", "password", "OPEN-1", "--clear",
                                "--db", str(db)], capture_output=True, text=True, cwd=ROOT)
        assert again.returncode == 1 and "OPEN-1 has no password" in again.stderr
        deadline = time.monotonic() + 15  # the running server rereads passwords every 5 s
        while not await connects(f"{server.url}/ocpp/OPEN-1"):
            assert time.monotonic() < deadline, "OPEN-1 still needs its cleared password"
            await asyncio.sleep(0.2)
        # Its security profile asks for Basic auth: without a password BASIC-1 cannot get in,
        # the old one included (the verified-password cache forgot it).
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{server.url}/ocpp/BASIC-1", basic("BASIC-1", "profile-one-pw"))
        assert refused.value.response.status_code == 401 and b"no password is set" in refused.value.response.body
    finally:
        server.stop()


async def test_backoff_is_per_station_behind_one_address_and_refusals_are_counted_and_kept(tmp_path):
    db = tmp_path / "zaspot.db"
    config = tmp_path / "zaspot.yaml"
    config.write_text("ocpp:\n  security_profile: 1\n  auth_failures_before_backoff: 3\n")
    set_password(db, "NAT-GOOD", "good-password")
    set_password(db, "NAT-BAD", "bad-station-pw")
    server = ZaspotProcess(db, config=config).start()
    try:
        statuses = []
        for _ in range(4):  # three wrong passwords, then it waits
            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{server.url}/ocpp/NAT-BAD", basic("NAT-BAD", "old-password"))
            statuses.append(refused.value.response.status_code)
        assert statuses == [401, 401, 401, 429]
        # The station next to it, behind the same address, still gets in.
        ws = await connect(f"{server.url}/ocpp/NAT-GOOD", basic("NAT-GOOD", "good-password"))
        assert (await OcppClient(ws).boot())[2]["status"] == "Accepted"
        await ws.close()
        # One address trying many ids: refused as a whole after 10 x 3 failures (NAT-BAD's 3 count).
        tried = 0
        while True:
            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{server.url}/ocpp/SCAN-{tried}")
            if refused.value.response.status_code == 429:
                break
            tried += 1
            assert tried < 40
        assert tried == 27
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{server.url}/ocpp/NAT-GOOD", basic("NAT-GOOD", "good-password"))
        assert refused.value.response.status_code == 429 and b"this address" in refused.value.response.body
        for path, offered in (("/ocpp/bad%20id", ["ocpp1.6"]), ("/ocpp/NAT-GOOD", ["mqtt"])):
            with pytest.raises(InvalidStatus):
                await websockets.connect(f"{server.url}{path}", subprotocols=offered)
        metrics = dict(line.rsplit(" ", 1) for line in server.get("/metrics")[1].decode().splitlines()
                       if line.startswith("zaspot_handshakes_refused_total{"))
        count = {key.split('"')[1]: int(float(value)) for key, value in metrics.items()}
        assert (count["wrong_password"], count["no_credentials"], count["backoff"]) == (3, 27, 3)
        assert (count["bad_station_id"], count["no_subprotocol"], count["bad_certificate"]) == (1, 1, 0)
        async with ZaspotClient(f"{server.url}/api/websocket") as client:
            bad = await client.command("history/events", event_type="connection_refused", station_id="NAT-BAD")
            good = await client.command("history/events", event_type="connection_refused", station_id="NAT-GOOD")
            every = await client.command("history/events", event_type="connection_refused", limit=1000)
    finally:
        server.stop()
    assert [e["data"]["reason"] for e in reversed(bad)] == ["wrong_password"] * 3 + ["backoff"]
    assert all(e["data"]["remote"] == "127.0.0.1" for e in bad)
    assert [e["data"]["reason"] for e in reversed(good)] == ["backoff", "no_subprotocol"]
    assert len(every) == sum(count.values())
    log = server.log.read_text()
    assert "NAT-BAD refused: wrong password (127.0.0.1)" in log
    assert "NAT-GOOD refused: too many failed attempts for this address" in log
