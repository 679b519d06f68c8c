"""Frames written without websockets' send(): same frames, same order, send()'s own path
whenever it would have to wait or the connection is gone, and only public parts of
websockets (broadcast(), state, the create_connection extension point)."""

from __future__ import annotations

import asyncio
import logging
import tomllib
from pathlib import Path

import pytest
import uvloop
import websockets
from packaging.specifiers import SpecifierSet
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from zaspot.ocpp import wswrite
from zaspot.ocpp.wswrite import WriteNowConnection, abort_now, write_text_now


@pytest.fixture
async def echo():
    """A server that answers every text frame through write_text_now; records how each went."""
    taken: list[bool] = []
    closed = asyncio.Event()
    conns: list[WriteNowConnection] = []

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

    async with serve(handler, "127.0.0.1", 0, create_connection=WriteNowConnection) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}", taken, conns, closed


def test_the_installed_websockets_is_in_the_pinned_range_and_has_the_fast_path():
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    pinned = next(r for r in project["dependencies"] if r.startswith("websockets"))
    assert websockets.__version__ in SpecifierSet(pinned.removeprefix("websockets")), pinned
    assert wswrite.PROBLEM is None  # so answers are written at once, no warning at start


LOOPS = {"asyncio": None, "uvloop": uvloop.new_event_loop}  # production runs uvloop: its transports differ


async def frames_in_order() -> tuple[list[str], list[bool]]:
    taken: list[bool] = []

    async def handler(ws):
        async for message in ws:
            data = f"echo {message}".encode()
            taken.append(write_text_now(ws, data))
            if not taken[-1]:
                await ws.send(data, text=True)

    async with (serve(handler, "127.0.0.1", 0, create_connection=WriteNowConnection) as server,
                connect(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}") as client):
        for i in range(200):
            await client.send(f"m{i} ünïcode")
        answers = [await client.recv() for _ in range(200)]
    return answers, taken


@pytest.mark.parametrize("loop", LOOPS)
def test_frames_arrive_whole_and_in_order(loop):
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        answers, taken = runner.run(frames_in_order())
    assert answers == [f"echo m{i} ünïcode" for i in range(200)]
    assert all(isinstance(a, str) for a in answers)  # text frames
    assert taken == [True] * 200  # the fast path, not send()


async def a_peer_that_stops_reading() -> tuple[list[bool], list[int]]:
    """A client that reads nothing fills the buffers until the transport pauses; then the
    frames go through send(), and the client reads them all."""
    frame = "x" * 65536
    fast: list[bool] = []
    done = asyncio.Event()

    async def handler(ws):
        for i in range(2000):
            fast.append(write_text_now(ws, f"{i:05d}{frame}".encode()))
            if not fast[-1]:
                break
        sent = len(fast)
        for i in range(sent - 1, sent + 4):  # the one refused at once, and a few more, through send()
            await ws.send(f"{i:05d}{frame}".encode(), text=True)
        done.set()
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, create_connection=WriteNowConnection, max_size=None,
                     compression=None) as server:  # compressed, the frames would fill no buffer
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", max_queue=1, max_size=None) as client:
            while False not in fast:  # the client's queue is full: it reads no more
                assert len(fast) < 2000, "the transport never paused"
                await asyncio.sleep(0.01)
            numbers: list[int] = []
            while not (done.is_set() and len(numbers) == len(fast) + 4):
                numbers.append(int((await asyncio.wait_for(client.recv(), 10))[:5]))
    return fast, numbers


@pytest.mark.parametrize("loop", LOOPS)
def test_a_peer_that_stops_reading_turns_writes_over_to_send_in_order(loop):
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        fast, numbers = runner.run(a_peer_that_stops_reading())
    assert fast[-1] is False and all(fast[:-1])
    assert numbers == list(range(len(fast) + 4))


async def test_a_closed_connection_goes_through_send(echo):
    url, _, conns, closed = echo
    async with connect(url) as client:
        await client.send("hello")
        assert await client.recv() == "echo hello"
    await closed.wait()
    ws = conns[0]
    assert write_text_now(ws, b"late") is False
    with pytest.raises(ConnectionClosed):
        await ws.send(b"late", text=True)


async def test_another_kind_of_connection_goes_through_send():
    taken: list[bool] = []

    async def handler(ws):
        taken.append(write_text_now(ws, b"fast?"))
        await ws.send("slow")

    async with (serve(handler, "127.0.0.1", 0) as server,  # websockets' own ServerConnection
                connect(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}") as client):
        assert await client.recv() == "slow"
    assert taken == [False]


async def test_abort_now_sends_the_close_frame_then_drops_the_socket(echo):
    url, _, conns, _ = echo
    async with connect(url) as client:
        await client.send("hello")
        await client.recv()
        abort_now(conns[0], 4001, "replaced by a new connection")
        with pytest.raises(ConnectionClosed) as ended:
            await asyncio.wait_for(client.recv(), 10)
    assert (ended.value.rcvd.code, ended.value.rcvd.reason) == (4001, "replaced by a new connection")


def test_a_websockets_whose_broadcast_cannot_write_text_turns_the_fast_path_off(monkeypatch):
    def old_broadcast(websockets, message):  # websockets' broadcast() before `text=` existed
        pass

    monkeypatch.setattr(wswrite, "broadcast", old_broadcast)
    assert wswrite._fast_path_problem() == "its broadcast() takes no text, raise_exceptions argument"


async def test_the_fast_path_off_is_a_warning_at_start(tmp_path, monkeypatch, caplog):
    from tests.helpers import start_app

    caplog.set_level(logging.WARNING, logger="zaspot.ocpp.wswrite")
    app = await start_app(tmp_path)
    await app.stop()
    assert not [r for r in caplog.records if r.name == "zaspot.ocpp.wswrite"]  # the installed one is fine

    monkeypatch.setattr(wswrite, "PROBLEM", "its broadcast() takes no text argument")
    app = await start_app(tmp_path)
    await app.stop()
    [warning] = [r for r in caplog.records if r.name == "zaspot.ocpp.wswrite"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (f"websockets {websockets.__version__}: its broadcast() takes no text argument, "
                                    "so every frame goes through send() (slower); install the websockets version "
                                    "pyproject.toml names")
