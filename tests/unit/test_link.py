"""The station endpoint's WebSocket layer: zaspot/ocpp/handshake.py reads and decides the
request, zaspot/ocpp/link.py serves the connection on picows. A real listening socket,
real websockets clients (and a hand-written one for what those will not send), each test
under asyncio's loop and uvloop's: production runs uvloop, whose transports are no
asyncio.Transport subclass."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import ssl
import struct
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import picows
import pytest
import uvloop
from packaging.specifiers import SpecifierSet
from websockets.asyncio.client import connect
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response

from tests.certs import make_ca, make_cert
from tests.helpers import until
from zaspot.ocpp.handshake import FrameSettings, Handshake
from zaspot.ocpp.keepalive import Keepalive
from zaspot.ocpp.link import Link

LOOPS = {"asyncio": None, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=LOOPS)
def run(request) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Runs a test's scenario on one loop, then (the other parameter) on the other."""
    def runner(scenario: Callable[[], Awaitable[Any]]) -> Any:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as loop:
            return loop.run(asyncio.wait_for(scenario(), 60))
    return runner


async def echo(endpoint: Endpoint, link: Link) -> None:
    """What a session does with each message: answer at once, or wait when the socket is full."""
    async for message in link:
        endpoint.received.append(message)
        if isinstance(message, bytes):
            await link.send(message, text=False)
        elif not link.send_now(message.encode()):
            await link.send(message)


class Endpoint:
    """A listening socket as the server has it: /echo upgrades (and `serve` runs on the Link),
    any other path is answered with a 404; with a ping_interval, ocpp/keepalive.py pings."""

    def __init__(self, serve: Callable[[Endpoint, Link], Awaitable[None]] = echo, *,
                 subprotocols: tuple[str, ...] = (), max_size: int = 1 << 20, ping_interval: float | None = None,
                 ping_timeout: float | None = None, handshake_timeout: float = 10.0,
                 close_timeout: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
        self.serve = serve
        self.tls = tls
        self.subprotocols = subprotocols
        self.max_size = max_size
        self.close_timeout = close_timeout
        self.settings = FrameSettings(max_size, handshake_timeout, logging.getLogger("test.link"))
        self.keepalive = Keepalive(ping_interval, ping_timeout) if ping_interval else None
        self.links: list[Link] = []
        self.received: list[str | bytes] = []
        self.pongs = 0
        self.requests: list[Request] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Endpoint:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: Handshake(self.decide, self.started, self.settings), "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/echo"
        if self.keepalive is not None:
            self.keepalive.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for link in self.links:
            link.abort(1001)
        self.server.close()
        if self.keepalive is not None:
            await self.keepalive.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def decide(self, handshake: Handshake, request: Request) -> Response | Link:
        self.requests.append(request)
        if urlsplit(request.path).path == "/boom":
            raise RuntimeError("a bug in decide")
        if urlsplit(request.path).path != "/echo":
            body = b"nothing here: connect to /echo"
            return Response(404, "Not Found", Headers([("Content-Length", str(len(body)))]), body)
        offered = [name for value in request.headers.get_all("Sec-WebSocket-Protocol")
                   for name in parse_subprotocol(value)]
        chosen = next((name for name in self.subprotocols if name in offered), None)
        return Link(request.path, chosen, handshake.remote_address, self.max_size, self.close_timeout)

    def started(self, link: Link) -> None:
        self.links.append(link)
        link.on_pong = self._ponged
        if self.keepalive is not None:
            self.keepalive.links.add(link)
        task = asyncio.get_running_loop().create_task(self.serve(self, link))
        self._tasks.add(task)

    def _ponged(self) -> None:
        self.pongs += 1

    async def link(self) -> Link:
        """The connection the server has of the one client a test opened."""
        return (await until(lambda: self.links, 10, "the server to have the connection"))[0]


async def parked(endpoint: Endpoint, link: Link) -> None:
    """A session that reads nothing: the test drives the Link itself."""
    await link.wait_closed()


class RawClient:
    """A TCP client that writes the handshake and frames by hand: what a websockets client will
    not do (invalid UTF-8, an empty close frame, not answering pings or a close)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawClient:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    @staticmethod
    def request(path: str = "/echo", *extra: str) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", *extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def upgrade(self, path: str = "/echo", *extra: str, then: bytes = b"") -> bytes:
        """The handshake; `then` goes in the same write as the request (pipelined). The 101's head."""
        self.writer.write(self.request(path, *extra) + then)
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        return head

    @staticmethod
    def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
        mask = os.urandom(4)
        size = len(payload)
        length = bytes([0x80 | size]) if size < 126 else (bytes([0x80 | 126]) + struct.pack("!H", size))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bytes([(0x80 if fin else 0) | opcode]) + length + mask + masked

    def send(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        self.writer.write(self.frame(opcode, payload, fin))

    async def read_frame(self) -> tuple[int, bytes]:
        """The server's next frame (opcode, payload); the server's frames are not masked."""
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(size)

    async def read_close(self) -> tuple[int, str]:
        """Frames until the server's close frame: its code and reason."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    async def read_to_end(self) -> bytes:
        """Everything the server writes until it ends the connection (EOF or a reset)."""
        data = b""
        try:
            while chunk := await self.reader.read(65536):
                data += chunk
        except ConnectionResetError:
            pass
        return data

    def close(self) -> None:
        self.writer.transport.abort()


def closed_with(ended: pytest.ExceptionInfo[ConnectionClosed]) -> tuple[int, str]:
    assert ended.value.rcvd is not None, "the server sent no close frame"
    return ended.value.rcvd.code, ended.value.rcvd.reason


# --- messages ------------------------------------------------------------------------------

def test_text_messages_from_several_clients_are_echoed_whole_and_in_order(run):
    async def client(url: str, n: int) -> list[str | bytes]:
        async with connect(url) as ws:
            for i in range(200):
                await ws.send(f"client {n} message {i} ünïcödé €")
            return [await ws.recv() for _ in range(200)]

    async def scenario() -> None:
        async with Endpoint() as endpoint:
            answers = await asyncio.gather(*(client(endpoint.url, n) for n in range(5)))
        for n, got in enumerate(answers):
            assert got == [f"client {n} message {i} ünïcödé €" for i in range(200)]

    run(scenario)


def test_send_waits_while_a_client_reads_nothing_and_then_everything_arrives_in_order(run):
    big = "x" * 65536

    async def writer(endpoint: Endpoint, link: Link) -> None:
        if await link.recv() != "go":  # the other client: an echo
            link.send_now(b"another station")
            await echo(endpoint, link)
            return
        i = 0
        while link.send_now(f"{i:05d}{big}".encode()):  # until the socket's buffer is full
            i += 1
            assert i < 2000, "the socket's buffer never filled"
        endpoint.refused_at = i  # type: ignore[attr-defined]
        for j in range(i, i + 5):  # the refused one and four more, each waiting for room
            await link.send(f"{j:05d}{big}")
            endpoint.sent.append(j)  # type: ignore[attr-defined]

    async def scenario() -> None:
        async with Endpoint(writer) as endpoint:
            endpoint.sent = []  # type: ignore[attr-defined]
            async with connect(endpoint.url, max_queue=1, max_size=None) as slow, \
                    connect(endpoint.url) as other:
                await slow.send("go")  # then it reads nothing: its queue of one fills, its socket too
                await until(lambda: hasattr(endpoint, "refused_at"), 15, "the server's buffer to fill")
                await other.send("another station")  # the loop goes round for the others meanwhile
                assert await other.recv() == "another station"
                assert endpoint.sent == []  # send() is still waiting for room, not buffering
                numbers = [int((await slow.recv())[:5]) for _ in range(endpoint.refused_at + 5)]
        assert numbers == list(range(endpoint.refused_at + 5))
        assert endpoint.sent == list(range(endpoint.refused_at, endpoint.refused_at + 5))

    run(scenario)


def test_several_writers_waiting_for_room_all_get_through(run):
    big = "y" * 65536

    async def writers(endpoint: Endpoint, link: Link) -> None:
        await link.recv()
        i = 0
        while link.send_now(f"{i:05d}{big}".encode()):
            i += 1
        endpoint.refused_at = i  # type: ignore[attr-defined]

        async def one(start: int) -> None:  # e.g. a session's answer and an operator's command at once
            for j in range(start, start + 3):
                await link.send(f"{j:05d}{big}")

        await asyncio.gather(one(10_000), one(20_000), one(30_000))
        await link.send("done")

    async def scenario() -> None:
        async with Endpoint(writers) as endpoint, connect(endpoint.url, max_queue=1, max_size=None) as slow:
            await slow.send("go")
            await until(lambda: hasattr(endpoint, "refused_at"), 15, "the server's buffer to fill")
            got = []
            while (message := await slow.recv()) != "done":
                got.append(int(message[:5]))
        assert got[:endpoint.refused_at] == list(range(endpoint.refused_at))
        rest = got[endpoint.refused_at:]
        for start in (10_000, 20_000, 30_000):  # each writer's in its order, none lost
            assert [n for n in rest if start <= n < start + 3] == [start, start + 1, start + 2]
        assert len(rest) == 9

    run(scenario)


def test_a_fragmented_message_arrives_as_one(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint, connect(endpoint.url) as ws:
            await ws.send(["Boot", "Notifi", "cation ünï"])
            assert await ws.recv() == "BootNotification ünï"
            await ws.send([b"\xc3", b"\xbc", b"ber"], text=True)  # ü split between two fragments
            assert await ws.recv() == "über"
            await ws.send([b"\x00\x01", b"\xff"])
            assert await ws.recv() == b"\x00\x01\xff"
            assert endpoint.received == ["BootNotification ünï", "über", b"\x00\x01\xff"]

    run(scenario)


def test_a_binary_message_arrives_as_bytes(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint, connect(endpoint.url) as ws:
            await ws.send(b"\x00\xff binary")
            assert await ws.recv() == b"\x00\xff binary"
            assert endpoint.received == [b"\x00\xff binary"]

    run(scenario)


@pytest.mark.parametrize("fragments", [10, 1], ids=["in fragments", "in one frame"])
def test_a_message_over_max_size_closes_with_1009(run, fragments):
    async def scenario() -> None:
        async with Endpoint(max_size=1000) as endpoint, connect(endpoint.url) as ws:
            await ws.send("small")
            assert await ws.recv() == "small"
            part = "z" * (1200 // fragments)
            await ws.send([part] * fragments if fragments > 1 else part)
            with pytest.raises(ConnectionClosed) as ended:
                await ws.recv()
            assert closed_with(ended)[0] == 1009
            assert endpoint.received == ["small"]  # nothing of the big one reached the session

    run(scenario)


@pytest.mark.parametrize("frames", [[b"ok \xff\xfe"], [b"ok ", b"\xc3"]], ids=["one frame", "in fragments"])
def test_invalid_utf8_in_a_text_message_closes_with_1007(run, frames):
    async def scenario() -> None:
        async with Endpoint() as endpoint:
            client = await RawClient.open(endpoint.port)
            try:
                await client.upgrade()
                client.writer.write(b"".join(RawClient.frame(0x1 if i == 0 else 0x0, payload, fin=i == len(frames) - 1)
                                             for i, payload in enumerate(frames))
                                    + RawClient.frame(0x1, b"a good one in the same write"))
                code, _ = await client.read_close()
                assert code == 1007
                link = await endpoint.link()
                await link.wait_closed()
                assert endpoint.received == []  # not the bad one, nor what came after it
            finally:
                client.close()

    run(scenario)


# --- pings and pongs -----------------------------------------------------------------------

def test_a_client_ping_is_answered(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint, connect(endpoint.url, ping_interval=None) as ws:
            await asyncio.wait_for(await ws.ping(b"there?"), 10)

    run(scenario)


def test_an_unsolicited_pong_is_a_sign_of_life(run):
    async def scenario() -> None:
        async with Endpoint() as endpoint, connect(endpoint.url, ping_interval=None) as ws:
            await endpoint.link()
            await ws.pong(b"still here")  # a station's own keepalive
            await until(lambda: endpoint.pongs == 1, 10, "on_pong for an unsolicited pong")

    run(scenario)


def test_a_pong_to_the_keepalive_ping_is_a_sign_of_life(run):
    async def scenario() -> None:
        async with Endpoint(ping_interval=0.2) as endpoint, connect(endpoint.url, ping_interval=None) as ws:
            await until(lambda: endpoint.pongs >= 2, 15, "on_pong for the pongs to the keepalive pings")
            await ws.send("still open")
            assert await ws.recv() == "still open"

    run(scenario)


def test_a_client_that_does_not_answer_the_keepalive_ping_is_closed(run):
    async def scenario() -> None:
        async with Endpoint(ping_interval=0.2, ping_timeout=0.2) as endpoint:
            client = await RawClient.open(endpoint.port)  # it reads, but answers nothing
            try:
                await client.upgrade()
                opcode, _ = await client.read_frame()
                assert opcode == 0x9  # the ping
                assert await client.read_close() == (1011, "keepalive ping timeout")
                assert await client.read_to_end() == b""
                link = await endpoint.link()
                await link.wait_closed()
                assert link.closed and endpoint.pongs == 0
            finally:
                client.close()

    run(scenario)


# --- closing -------------------------------------------------------------------------------

def test_the_peers_close_code_and_reason_are_kept(run):
    async def scenario() -> None:
        async with Endpoint(parked) as endpoint:
            async with connect(endpoint.url) as ws:
                link = await endpoint.link()
                await ws.close(4002, "going for a reboot")
                assert ws.close_code == 4002  # the server answered the close with its code
            await link.wait_closed()
            assert (link.close_code, link.close_reason) == (4002, "going for a reboot")

    run(scenario)


def test_a_close_frame_without_a_code_is_1005(run):
    async def scenario() -> None:
        async with Endpoint(parked) as endpoint:
            client = await RawClient.open(endpoint.port)
            try:
                await client.upgrade()
                link = await endpoint.link()
                client.send(0x8, b"")
                opcode, _ = await client.read_frame()
                assert opcode == 0x8  # answered
                await link.wait_closed()
                assert (link.close_code, link.close_reason) == (1005, "")
            finally:
                client.close()

    run(scenario)


def test_close_gives_the_client_its_code_and_reason(run):
    async def scenario() -> None:
        async with Endpoint(parked, close_timeout=60) as endpoint, connect(endpoint.url) as ws:
            link = await endpoint.link()
            await link.close(4001, "x")  # returns when the client answers, long before close_timeout
            assert link.closed
            with pytest.raises(ConnectionClosed) as ended:
                await ws.recv()
            assert closed_with(ended) == (4001, "x")

    run(scenario)


def test_a_long_close_reason_is_cut_to_what_a_close_frame_holds_and_stays_utf8(run):
    async def scenario() -> None:
        async with Endpoint(parked) as endpoint, connect(endpoint.url) as ws:
            link = await endpoint.link()
            await link.close(4001, "é" * 100)  # 200 bytes; a close frame's reason holds 123
            with pytest.raises(ConnectionClosed) as ended:
                await ws.recv()
            assert closed_with(ended) == (4001, "é" * 61)

    run(scenario)


def test_close_ends_a_connection_whose_peer_never_answers_after_close_timeout(run):
    async def scenario() -> None:
        async with Endpoint(parked, close_timeout=0.2) as endpoint:
            client = await RawClient.open(endpoint.port)
            try:
                await client.upgrade()
                link = await endpoint.link()
                await link.close(1000, "bye")
                assert link.closed
                assert await client.read_close() == (1000, "bye")
            finally:
                client.close()

    run(scenario)


def test_abort_ends_the_connection_at_once_with_the_close_frame(run):
    async def scenario() -> None:
        async with Endpoint(parked) as endpoint:
            client = await RawClient.open(endpoint.port)  # it never answers a close
            try:
                await client.upgrade()
                link = await endpoint.link()
                link.abort(4003, "replaced by a new connection")
                await link.wait_closed()
                assert await client.read_close() == (4003, "replaced by a new connection")
                assert await client.read_to_end() == b""
            finally:
                client.close()

            async with connect(endpoint.url) as ws:  # and what a websockets client makes of it
                await until(lambda: len(endpoint.links) == 2, 10, "the second connection")
                endpoint.links[1].abort(4003, "replaced by a new connection")
                with pytest.raises(ConnectionClosed) as ended:
                    await ws.recv()
                assert closed_with(ended) == (4003, "replaced by a new connection")

    run(scenario)


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
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    pinned = next(r for r in project["dependencies"] if r.startswith("picows"))
    assert picows.__version__ in SpecifierSet(pinned.removeprefix("picows")), pinned
