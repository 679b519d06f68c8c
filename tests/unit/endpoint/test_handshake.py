"""The station endpoint's handshake: zaspot/ocpp/handshake.py reads and decides the request,
then answers it or hands the socket to picows. Real sockets and clients, under both loops
(conftest.py, kit.py)."""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path

import picows
import pytest
from packaging.specifiers import SpecifierSet
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.certs import make_ca, make_cert
from tests.unit.endpoint.kit import Endpoint, RawClient

# --- the handshake -------------------------------------------------------------------------

def test_a_response_decision_is_written_and_the_connection_closed(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            client.writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = await client.read_to_end()  # ends: the server closed the connection
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 404 Not Found\r\n")
            assert b"\r\nServer: zaspot" in head
            assert body == b"nothing here: connect to /echo"

            with pytest.raises(InvalidStatus) as refused:  # a WebSocket client to the same path
                async with connect(f"ws://127.0.0.1:{endpoint.port}/other"):
                    pass
            assert refused.value.response.status_code == 404
            assert refused.value.response.headers["Server"] == "zaspot"
            assert endpoint.links == []

    run(scenario)


def test_a_decide_that_fails_is_answered_500(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"ws://127.0.0.1:{endpoint.port}/boom"):
                    pass
            assert refused.value.response.status_code == 500

    run(scenario)


@pytest.mark.parametrize("request_, status", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414"),
    (b"GET /echo HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", b"431"),
], ids=["a request line too long", "too many headers"])
def test_a_request_over_the_parsers_limits_is_answered(run, request_, status):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            client.writer.write(request_)
            answer = await client.read_to_end()
            assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:80]
            assert endpoint.requests == []

    run(scenario)


def test_an_upgrade_that_picows_refuses_is_answered_400_and_never_started(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            client.writer.write(b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # no Upgrade headers
            answer = await client.read_to_end()
            assert answer.startswith(b"HTTP/1.1 400 "), answer
            assert endpoint.links == []

    run(scenario)


@pytest.mark.parametrize("garbage", [b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", b"HELLO\r\n\r\n"],
                         ids=["a TLS hello", "not a request line"])
def test_garbage_that_is_not_http_is_dropped(run, garbage):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            client.writer.write(garbage)
            assert await client.read_to_end() == b""  # no answer at all: the connection is dropped
            assert endpoint.requests == []

    run(scenario)


def test_a_request_not_finished_within_the_handshake_timeout_is_dropped(run):
    async def scenario() -> None:
        async with Endpoint(handshake_timeout=0.3) as endpoint:
            client = await RawClient.open(endpoint.port)
            client.writer.write(b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
            assert await client.read_to_end() == b""
            assert endpoint.requests == []

    run(scenario)


def test_the_subprotocol_decide_chose_is_in_the_101(run):
    async def scenario() -> None:
        async with Endpoint(subprotocols=("ocpp1.6",)) as endpoint:
            async with connect(endpoint.url, subprotocols=["ocpp2.0.1", "ocpp1.6"]) as ws:
                assert ws.subprotocol == "ocpp1.6"
                assert ws.response.headers["Server"] == "zaspot"
            link = await endpoint.link()
            assert link.subprotocol == "ocpp1.6"

    run(scenario)


def test_a_frame_in_the_same_write_as_the_request_is_not_lost(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            try:
                await client.upgrade(then=RawClient.frame(0x1, b"right away"))
                assert await client.read_frame() == (0x1, b"right away")
            finally:
                client.close()

    run(scenario)


def test_a_request_longer_than_picows_first_read_buffer_upgrades(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            try:
                cookies = [f"X-Station-Detail-{i}: {'v' * 200}" for i in range(40)]  # ~8 KB of headers
                await client.upgrade("/echo", *cookies, then=RawClient.frame(0x1, b"after a long request"))
                assert await client.read_frame() == (0x1, b"after a long request")
                assert endpoint.requests[0].headers["X-Station-Detail-39"] == "v" * 200
            finally:
                client.close()

    run(scenario)


def test_over_tls_the_socket_is_handed_over_the_same_way(run, tmp_path):
    ca = make_ca(tmp_path, "ca")
    cert, key = make_cert(tmp_path, "server", "127.0.0.1", ca, server=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(ca[0]))

    async def scenario() -> None:
        async with Endpoint(tls=server_tls) as endpoint, connect(endpoint.url, ssl=client_tls, max_size=None) as ws:
            for i in range(100):
                await ws.send(f"over tls {i}")
            assert [await ws.recv() for _ in range(100)] == [f"over tls {i}" for i in range(100)]
            big = "b" * 300_000
            await ws.send(big)
            assert await ws.recv() == big

    run(scenario)


def test_the_installed_picows_is_in_the_pinned_range():
    """handshake.py builds picows's protocol with its constructor's positional arguments: a
    picows outside the range the tests ran on may have moved them."""
    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]
    pinned = next(r for r in project["dependencies"] if r.startswith("picows"))
    assert picows.__version__ in SpecifierSet(pinned.removeprefix("picows")), pinned
