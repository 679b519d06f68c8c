"""Proxies from the environment and certificate checks, with a proxy and a TLS server of our
own on 127.0.0.1 (the hosts asked for do not exist: only the proxy can answer for them)."""

from __future__ import annotations

import ssl
from pathlib import Path

import orjson
import pytest

from tests.certs import make_ca, make_cert
from tests.unit.test_http_client import METER, LocalHttp, json_reply, meter
from zaspot.core.http_client import HttpError
from zaspot.notify import Notification
from zaspot.notify.webhook import WebhookConfig, WebhookNotifier

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy or certificate setting of the machine's own leaks into a test."""
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A CA file and a server context whose certificate (for localhost and 127.0.0.1) it signed."""
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "ca")
    cert, key = make_cert(folder, "server", "localhost", ca, server=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return ca[0], context


async def test_http_proxy_from_the_environment_carries_a_sensor_read_and_a_webhook(env: pytest.MonkeyPatch) -> None:
    async with LocalHttp({"http://meter.invalid/rpc/status": json_reply(METER),
                          "http://hooks.invalid/ops": (204, {}, b"")}) as proxy:
        env.setenv("HTTP_PROXY", proxy.url)
        sensor = meter("http://meter.invalid/rpc/status")
        assert await sensor.read() == 2500.0
        notifier = WebhookNotifier(WebhookConfig(url="http://hooks.invalid/ops", retries=0))
        await notifier.send(Notification("CP-1 is offline"))
        await sensor.close()
        await notifier.close()
    assert [(r.method, r.target) for r in proxy.requests] == [("GET", "http://meter.invalid/rpc/status"),
                                                               ("POST", "http://hooks.invalid/ops")]


async def test_https_proxy_tunnels_a_webhook_to_a_server_whose_certificate_is_checked(
        env: pytest.MonkeyPatch, pki: tuple[Path, ssl.SSLContext]) -> None:
    ca_file, server_context = pki
    async with (LocalHttp({"/hooks/ops": (200, {}, b"")}, ssl_context=server_context) as hook,
                LocalHttp(tunnel_port=hook.port) as proxy):
        env.setenv("HTTPS_PROXY", proxy.url)
        env.setenv("SSL_CERT_FILE", str(ca_file))  # the CA the system's store does not have
        # Port 1: nothing listens there; only the proxy's tunnel reaches the hook.
        notifier = WebhookNotifier(WebhookConfig(url="https://localhost:1/hooks/ops", retries=0))
        await notifier.send(Notification("CP-1 connector at 82 °C"))
        await notifier.close()
    assert [(r.method, r.target) for r in proxy.requests] == [("CONNECT", "localhost:1")]
    assert [(r.method, r.target) for r in hook.requests] == [("POST", "/hooks/ops")]
    assert orjson.loads(hook.requests[0].body)["message"] == "CP-1 connector at 82 °C"


async def test_a_certificate_nobody_trusts_is_refused_in_one_line(
        env: pytest.MonkeyPatch, pki: tuple[Path, ssl.SSLContext]) -> None:
    async with LocalHttp({"/status": json_reply(METER)}, ssl_context=pki[1]) as site:
        sensor = meter(f"{site.url}/status")
        with pytest.raises(HttpError) as refused:
            await sensor.read()
        await sensor.close()
    assert str(refused.value).startswith(f"{site.url}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value) and "\n" not in str(refused.value)
    assert site.requests == []  # nothing was sent to a server we could not verify
