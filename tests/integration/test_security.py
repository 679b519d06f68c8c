"""OCPP security profiles on a real `zaspot run`: Basic auth (1), TLS (2), mutual TLS (3),
rejected attempts recorded, and an address that keeps failing is refused for a while."""

from __future__ import annotations

import base64
import sqlite3
import ssl
import subprocess
import sys

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.certs import make_ca, make_cert
from tests.helpers import ROOT, OcppClient, ZaspotProcess


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
    rejected = con.execute("SELECT data FROM events WHERE type='device_event' AND data LIKE '%ConnectionRejected%'").fetchall()
    assert len(rejected) == 3 and all("127.0.0.1" in row[0] for row in rejected)
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
