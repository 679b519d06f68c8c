"""What the WebSocket layer's tests share (test_link.py, test_handshake.py): a
real listening socket running zaspot/ocpp/handshake.py with a small decide, a raw client for
what websockets will not send, (the `run` fixture, in conftest.py, runs each test under asyncio's loop and uvloop's)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import ssl
import struct
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response

from tests.helpers import until
from zaspot.ocpp.handshake import FrameSettings, Handshake
from zaspot.ocpp.keepalive import Keepalive
from zaspot.ocpp.link import Link


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
