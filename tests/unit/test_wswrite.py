"""Frames written without websockets' send(): same frames, same order, and send()'s
own path whenever it would have to wait or the connection is gone."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from zaspot.ocpp.wswrite import write_text_now


@pytest.fixture
async def echo():
    """A server that answers every text frame through write_text_now; records how each went."""
    taken: list[bool] = []
    closed = asyncio.Event()
    conns = []

    async def handler(ws):
        conns.append(ws)
        try:
            async for message in ws:
                data = f"echo {message}".encode()
                fast = write_text_now(ws, data)
                taken.append(fast)
                if not fast:
                    await ws.send(data, text=True)
        finally:
            closed.set()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}", taken, conns, closed


async def test_frames_arrive_whole_and_in_order(echo):
    url, taken, _, _ = echo
    async with connect(url) as client:
        for i in range(200):
            await client.send(f"m{i} ünïcode")
        answers = [await client.recv() for _ in range(200)]
    assert answers == [f"echo m{i} ünïcode" for i in range(200)]
    assert all(isinstance(a, str) for a in answers)  # text frames
    assert taken == [True] * 200  # the installed websockets has what the fast path reads


async def test_a_paused_or_closed_connection_goes_through_send(echo):
    url, _, conns, closed = echo
    async with connect(url) as client:
        await client.send("hello")
        assert await client.recv() == "echo hello"
        ws = conns[0]
        ws.paused = True  # flow control: the peer is not reading
        assert write_text_now(ws, b"x") is False
        ws.paused = False
    await closed.wait()
    assert write_text_now(ws, b"late") is False
    with pytest.raises(ConnectionClosed):
        await ws.send(b"late", text=True)


async def test_another_kind_of_connection_goes_through_send():
    class Other:
        protocol = None

    assert write_text_now(Other(), b"x") is False
