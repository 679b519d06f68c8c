"""Floor central system: zaspot's own stack (uvloop, picows, orjson) with nothing on it.

Every CALL gets its answer straight from picows's frame callback: BootNotification
"Accepted", Heartbeat the time, anything else {}. No validation, no storage, no session:
its CPU per message is what the WebSocket layer and one Python callback cost on this
machine, the part of zaspot's figure that no change to zaspot's own code can remove.

    python -m zaspot.bench.floor --port 9200     # prints "ready" when listening
"""
from __future__ import annotations

import argparse

import orjson
import uvloop
from picows import (
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from zaspot.ocpp.clock import now_iso

_BOOT = {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 300}
_SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")


class _Station(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.TEXT:
            msg = orjson.loads(frame.get_payload_as_bytes())
            if msg[0] == 2:
                action = msg[2]
                answer = _BOOT if action == "BootNotification" else (
                    {"currentTime": now_iso()} if action == "Heartbeat" else {})
                transport.send(WSMsgType.TEXT, orjson.dumps([3, msg[1], answer]))
        elif frame.msg_type is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


def _accept(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
    offered = [p.strip() for p in (request.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
    chosen = next((p for p in _SUBPROTOCOLS if p in offered), "ocpp1.6")
    response = WSUpgradeResponse.create_101_response(extra_headers={"Sec-WebSocket-Protocol": chosen})
    return WSUpgradeResponseWithListener(response, _Station())


async def serve_forever(host: str, port: int) -> None:
    server = await ws_create_server(_accept, host, port)
    print(f"ready floor ws://{host}:{port}/ocpp", flush=True)
    await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zaspot.bench.floor")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9200)
    args = ap.parse_args(argv)
    try:
        uvloop.run(serve_forever(args.host, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
