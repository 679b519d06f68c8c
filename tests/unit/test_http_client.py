"""Outbound HTTP (webhook notifier, http_json sensor, price sources) through httpx, against
a small HTTP/1.1 server of our own on 127.0.0.1: redirects, error bodies, answers that are
not JSON, one connection reused and closed at stop."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from zaspot.core import http_client
from zaspot.core.http_client import HttpError
from zaspot.ems.inputs import Sensors
from zaspot.ems.sensors.http_json import HttpJsonConfig, HttpJsonSensor
from zaspot.notify import Notification
from zaspot.notify.webhook import WebhookConfig, WebhookError, WebhookNotifier
from zaspot.pricing.feed import PriceFeed
from zaspot.pricing.sources.day_ahead import DayAheadConfig, DayAheadPrices


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]


class LocalHttp:
    """HTTP/1.1 with keep-alive on 127.0.0.1: `routes` maps a request target (an absolute URL
    when it serves as a proxy) to a reply or to a function of the request; CONNECT opens a
    tunnel to `tunnel_port`. Records every request and counts connections."""

    def __init__(self, routes: dict[str, Reply | Callable[[Request], Reply]] | None = None,
                 ssl_context: ssl.SSLContext | None = None, tunnel_port: int | None = None) -> None:
        self.routes = routes or {}
        self.ssl, self.tunnel_port = ssl_context, tunnel_port
        self.requests: list[Request] = []
        self.connections = self.open = 0
        self.url = ""

    async def __aenter__(self) -> LocalHttp:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        try:
            while True:
                request = await self._read(reader)
                self.requests.append(request)
                if request.method == "CONNECT":
                    await self._tunnel(reader, writer)
                    return
                status, headers, body = self._reply(request)
                head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Length: {len(body)}",
                        *(f"{k}: {v}" for k, v in headers.items())]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away (or refused our certificate)
        finally:
            self.open -= 1
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Request:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Request(method, target, headers, body)

    def _reply(self, request: Request) -> Reply:
        route = self.routes.get(request.target, (404, {}, b"no such page"))
        return route(request) if callable(route) else route

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.tunnel_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def json_reply(data: Any, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json"}, orjson.dumps(data)


def redirect(to: str, status: int = 302) -> Reply:
    return status, {"Location": to}, b""


METER = {"em": {"total": 2500.0}}
MARKET = {"data": [{"start_timestamp": 1_800_000_000_000, "end_timestamp": 1_800_003_600_000,
                    "marketprice": 95.3, "unit": "Eur/MWh"}]}


def meter(url: str) -> HttpJsonSensor:
    return HttpJsonSensor(HttpJsonConfig(url, power="em.total", timeout=5), "pv")


async def until(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_redirects_are_followed_by_a_price_source_and_a_webhook() -> None:
    async with LocalHttp({"/v0/marketdata": redirect("/v1/marketdata", 301), "/v1/marketdata": json_reply(MARKET),
                          "/hooks/old": redirect("/hooks/new", 307), "/hooks/new": (204, {}, b"")}) as site:
        source = DayAheadPrices(DayAheadConfig(url=f"{site.url}/v0/marketdata"))
        slots = await source.prices()
        notifier = WebhookNotifier(WebhookConfig(url=f"{site.url}/hooks/old", retries=0))
        await notifier.send(Notification("CP-1 is offline", title="Offline"))
        await source.close()
        await notifier.close()
    assert [(s.start, s.price) for s in slots] == [(1_800_000_000, 0.0953)]
    posted = [r for r in site.requests if r.target == "/hooks/new"]
    assert len(posted) == 1 and posted[0].method == "POST"  # a 307 keeps the method and the body
    assert orjson.loads(posted[0].body)["message"] == "CP-1 is offline"


async def test_a_redirect_loop_stops_with_one_line() -> None:
    async with LocalHttp({"/a": redirect("/b"), "/b": redirect("/a")}) as site:
        sensor = meter(f"{site.url}/a")
        with pytest.raises(HttpError, match=r"more than 5 redirects$"):
            await sensor.read()
        await sensor.close()
    assert len(site.requests) == 6  # the first one and five redirects


async def test_a_500_with_a_body_is_reported_with_its_status_and_body() -> None:
    failing = (500, {"Content-Type": "text/plain"}, b"database is locked\n(retry later)\n")
    async with LocalHttp({"/hook": failing, "/status": failing}) as site:
        notifier = WebhookNotifier(WebhookConfig(url=f"{site.url}/hook", retries=1, backoff=0))
        with pytest.raises(WebhookError) as delivered:
            await notifier.send(Notification("hello"))
        sensor = meter(f"{site.url}/status")
        with pytest.raises(HttpError) as read:
            await sensor.read()
        await notifier.close()
        await sensor.close()
    expected = "HTTP 500 Internal Server Error: 'database is locked\\n(retry later)'"
    assert str(delivered.value) == f"{site.url}: not delivered after 2 attempt(s): {expected}"
    assert str(read.value) == f"{site.url}: {expected}"
    assert "\n" not in str(read.value)


async def test_an_answer_that_is_not_json_is_reported_in_one_line() -> None:
    login = (200, {"Content-Type": "text/html; charset=utf-8"}, b"<html>\n<body>Please log in</body>\n</html>\n")
    async with LocalHttp({"/status": login, "/marketdata": login}) as site:
        sensor = meter(f"{site.url}/status")
        with pytest.raises(ValueError) as read:
            await sensor.read()
        source = DayAheadPrices(DayAheadConfig(url=f"{site.url}/marketdata"))
        with pytest.raises(ValueError, match="not JSON"):
            await source.prices()
        await sensor.close()
        await source.close()
    message = str(read.value)
    assert message.startswith(f"{site.url} answered text/html; charset=utf-8, not JSON: '<html>")
    assert "\n" not in message and "Please log in" in message


async def test_one_connection_is_reused_and_let_go_at_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.current_thread()
    built: list[threading.Thread] = []
    real = http_client.ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(http_client.ssl, "create_default_context", counted)
    async with LocalHttp({"/status": json_reply(METER), "/marketdata": json_reply(MARKET)}) as site:
        sensors = Sensors({"pv": meter(f"{site.url}/status")}, stale_after=60)
        for _ in range(3):
            assert (await sensors.read(time.time())).pv_w == 2500.0
        source = DayAheadPrices(DayAheadConfig(url=f"{site.url}/marketdata", refresh=0))
        for _ in range(2):
            await source.prices()
        assert (site.connections, site.open) == (2, 2)  # one each, kept alive between requests
        await sensors.close()  # what the EMS does at stop
        await PriceFeed(SimpleNamespace(), source, name="day_ahead", currency="EUR", fallback_price=None,
                        refresh=60).stop()
        await until(lambda: site.open == 0)
    assert len(site.requests) == 5
    assert len(built) == 2 and loop_thread not in built  # one SSL context per client, off the loop
