"""The TUI's link: a read cancelled half-way (a screen closed, a newer read started) must
not cost it the connection to zaspot."""

from __future__ import annotations

import asyncio

from tests.helpers import start_app
from zaspot.api.client import ZaspotClient
from zaspot.tui.feed import Feed


async def test_cancelled_reads_leave_the_connection_up(tmp_path):
    server = await start_app(tmp_path)
    client = await ZaspotClient(server.url + "/api/websocket").connect()
    feed = Feed(lambda: client, lambda s: None, lambda s: None, lambda e: None)
    feed.client = client
    try:
        # ZaspotClient's reader died on the answer to a command cancelled a moment before
        # (it set a result on a cancelled future): reads in flight, cancelled as answers arrive.
        for round_ in range(60):
            reads = [asyncio.create_task(feed.command("ping")) for _ in range(50)]
            for _ in range(round_ % 10):
                await asyncio.sleep(0)
            for read in reads:
                read.cancel()
            await asyncio.gather(*reads, return_exceptions=True)
            assert client.connected, f"connection lost in round {round_}"
        assert await feed.command("ping") == "pong"
    finally:
        await client.close()
        await server.stop()
