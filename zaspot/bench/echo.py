"""Echo central system: the floor of the benchmark.

Bare websockets + json: every CALL gets [3, id, {}] with no validation and no logic
(a BootNotification gets "Accepted", so stations that wait for it can go on), so its
figures show what the socket layer alone costs on this machine.

    python -m zaspot.bench.echo --port 9200     # prints "ready" when listening
"""
from __future__ import annotations

import argparse
import asyncio
import json

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

_BOOT = {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300}


async def _handler(connection) -> None:
    try:
        async for raw in connection:
            msg = json.loads(raw)
            if msg[0] == 2:
                await connection.send(json.dumps([3, msg[1], _BOOT if msg[2] == "BootNotification" else {}]))
    except ConnectionClosed:
        pass


async def serve_forever(host: str, port: int) -> None:
    async with serve(_handler, host, port, subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
                     compression=None):
        print(f"ready echo ws://{host}:{port}/ocpp", flush=True)
        await asyncio.Future()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zaspot.bench.echo")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9200)
    args = ap.parse_args(argv)
    try:
        asyncio.run(serve_forever(args.host, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
