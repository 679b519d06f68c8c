"""Baseline central system built the textbook way with the `ocpp` library.

It is what zaspot is compared with in `zaspot bench`: same load, same machine, a
plain ocpp.v16/v201 ChargePoint per connection with @on handlers and no storage.

    python -m zaspot.bench.baseline --port 9100     # prints "ready" when listening
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
from datetime import UTC, datetime

from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call_result as r16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call_result as r201
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

_tx_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Baseline16(CP16):
    @on("BootNotification")
    async def on_boot(self, **_):
        return r16.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **_):
        return r16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status(self, **_):
        return r16.StatusNotification()

    @on("MeterValues")
    async def on_meter_values(self, **_):
        return r16.MeterValues()

    @on("Authorize")
    async def on_authorize(self, **_):
        return r16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    async def on_start(self, **_):
        return r16.StartTransaction(transaction_id=next(_tx_ids), id_tag_info={"status": "Accepted"})

    @on("StopTransaction")
    async def on_stop(self, **_):
        return r16.StopTransaction(id_tag_info={"status": "Accepted"})

    @on("DataTransfer")
    async def on_data_transfer(self, **_):
        return r16.DataTransfer(status="Accepted")


class Baseline201(CP201):
    @on("BootNotification")
    async def on_boot(self, **_):
        return r201.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **_):
        return r201.Heartbeat(current_time=_now())

    @on("StatusNotification")
    async def on_status(self, **_):
        return r201.StatusNotification()

    @on("MeterValues")
    async def on_meter_values(self, **_):
        return r201.MeterValues()

    @on("Authorize")
    async def on_authorize(self, **_):
        return r201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(self, **_):
        return r201.TransactionEvent()

    @on("NotifyEvent")
    async def on_notify_event(self, **_):
        return r201.NotifyEvent()

    @on("NotifyReport")
    async def on_notify_report(self, **_):
        return r201.NotifyReport()

    @on("DataTransfer")
    async def on_data_transfer(self, **_):
        return r201.DataTransfer(status="Accepted")


async def _handler(connection) -> None:
    station_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    if connection.subprotocol is None:
        await connection.close(1002, "no supported OCPP subprotocol")
        return
    cls = Baseline16 if connection.subprotocol == "ocpp1.6" else Baseline201
    try:
        await cls(station_id, connection).start()
    except ConnectionClosed:   # a closed socket ends the ChargePoint loop
        pass


def start_server(host: str = "127.0.0.1", port: int = 0):
    """`async with start_server() as server:` runs the baseline in this process (tests)."""
    return serve(_handler, host, port, subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
                 compression=None)


async def serve_forever(host: str, port: int) -> None:
    async with start_server(host, port):
        print(f"ready baseline ws://{host}:{port}/ocpp", flush=True)
        await asyncio.Future()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zaspot.bench.baseline")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(serve_forever(args.host, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
