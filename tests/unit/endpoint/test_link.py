"""The station endpoint's connections: zaspot/ocpp/link.py serving a WebSocket on picows
after zaspot/ocpp/handshake.py (messages, pings and pongs, closing). Real sockets, real
websockets clients and a hand-written one, under both loops (conftest.py, kit.py)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import until
from tests.unit.endpoint.kit import Endpoint, RawClient, closed_with, echo, parked
from zaspot.ocpp.link import Link

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
