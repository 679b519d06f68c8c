"""The Python API client (zaspot.api.client) against a real server."""

from __future__ import annotations

import asyncio

from tests.helpers import start_app
from zaspot.api.client import ZaspotClient


async def test_commands_cancelled_as_their_replies_arrive_leave_the_connection_usable(tmp_path):
    app = await start_app(tmp_path)
    try:
        async with ZaspotClient(f"{app.url}/api/websocket") as client:
            for _ in range(10):
                calls = [asyncio.ensure_future(client.command("fleet/list")) for _ in range(50)]
                await asyncio.sleep(0)  # sent; their replies are on the way
                await asyncio.sleep(0.001)
                for call in calls:
                    call.cancel()
                await asyncio.gather(*calls, return_exceptions=True)
            assert client.connected
            assert await client.command("ping") == "pong"
    finally:
        await app.stop()
