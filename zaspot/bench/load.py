"""Load generator: N stations boot, then each alternates MeterValues (three sampled
values) and Heartbeat for D seconds, one CALL at a time, timing every answer (or
sends only one of the two: MIXES).

Kept lean on purpose (raw websockets, orjson, pre-built payloads, no compression):
on a 2-core box the generator must not be what limits the figures.

Its first run in a process used to be its slowest: asyncio's socket transport reads
into a new 256 KiB buffer per recv, above glibc's starting mmap threshold, so each
read mapped fresh pages (about 300,000 page faults in a 10 s, 50-station run) until
glibc raised the threshold, late in that run. Whichever target came first answered
about a quarter fewer messages. `steady_memory` fixes glibc's thresholds up front.
"""
from __future__ import annotations

import asyncio
import ctypes
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBPROTOCOL = {"1.6": Subprotocol("ocpp1.6"), "2.0.1": Subprotocol("ocpp2.0.1")}
# What a station sends in turn: a MeterValues is the message a central system stores, a
# Heartbeat one it only answers, so the one-kind loads show what each costs.
MIXES = {"alternate": (0, 1), "metervalues": (0, 0), "heartbeat": (1, 1)}


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def steady_memory() -> None:
    """Serve the transport's 256 KiB read buffers from the heap and keep the heap's
    top, so the generator costs the same per message in its first run as in later
    ones (see the module's docstring). glibc only; elsewhere it does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        pass


def _ts() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def boot_payload(version: str, sid: str) -> dict:
    if version == "1.6":
        return {"chargePointVendor": "ZaspotBench", "chargePointModel": "Load16",
                "chargePointSerialNumber": sid}
    return {"reason": "PowerUp", "chargingStation": {"vendorName": "ZaspotBench",
                                                     "model": "Load201", "serialNumber": sid}}


def meter_payload(version: str, energy_wh: float = 12345.0, power_w: float = 7200.0,
                  current_a: float = 32.0) -> dict:
    """One meter value with three sampled values (energy, power, current; no phase),
    valid for the version's schema."""
    ts = _ts()
    if version == "1.6":
        return {"connectorId": 1, "meterValue": [{"timestamp": ts, "sampledValue": [
            {"value": f"{energy_wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": f"{power_w:.1f}", "measurand": "Power.Active.Import", "unit": "W"},
            {"value": f"{current_a:.1f}", "measurand": "Current.Import", "unit": "A"}]}]}
    return {"evseId": 1, "meterValue": [{"timestamp": ts, "sampledValue": [
        {"value": energy_wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
        {"value": power_w, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
        {"value": current_a, "measurand": "Current.Import", "unitOfMeasure": {"unit": "A"}}]}]}


@dataclass
class LoadResult:
    stations: int
    duration: float
    connected: int = 0
    messages: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    server_cpu_s: float | None = None  # the server process's CPU seconds over the timed phase, when measured

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000.0

    def merged(self, other: LoadResult) -> LoadResult:
        """This run and another of the same load, pooled (rounds of one bench)."""
        return LoadResult(stations=self.stations, duration=self.duration + other.duration,
                          connected=min(self.connected, other.connected),
                          messages=self.messages + other.messages, errors=self.errors + other.errors,
                          latencies=self.latencies + other.latencies,
                          server_cpu_s=None if self.server_cpu_s is None or other.server_cpu_s is None
                          else self.server_cpu_s + other.server_cpu_s)

    def figures(self) -> dict:
        return {"msgs_per_s": round(self.messages / self.duration, 1) if self.duration else 0.0,
                "p50_ms": round(self.percentile_ms(0.50), 3), "p99_ms": round(self.percentile_ms(0.99), 3),
                "errors": self.errors, "messages": self.messages, "connected": self.connected,
                "stations": self.stations,
                **({"cpu_us_per_msg": round(self.server_cpu_s / self.messages * 1e6, 1)}
                   if self.server_cpu_s is not None and self.messages else {})}


class _Station:
    def __init__(self, url: str, sid: str, version: str, timeout: float, mix: str = "alternate"):
        self.url, self.sid, self.version, self.timeout = url.rstrip("/") + "/" + sid, sid, version, timeout
        self.ws: ClientConnection | None = None
        self.n = 0
        self.latencies: list[float] = []
        self.ok = 0
        self.errors = 0
        # Pre-serialized payloads: only the message id changes per frame.
        kinds = (b"MeterValues", orjson.dumps(meter_payload(version))), (b"Heartbeat", b"{}")
        self.frames = tuple(kinds[k] for k in MIXES[mix])

    async def open(self) -> None:
        self.ws = await connect(self.url, subprotocols=[SUBPROTOCOL[self.version]], compression=None,
                                ping_interval=None, open_timeout=self.timeout, close_timeout=2,
                                max_queue=None)
        if await self._call(b"BootNotification", orjson.dumps(boot_payload(self.version, self.sid))) is None:
            raise RuntimeError(f"{self.sid}: boot failed")

    async def _call(self, action: bytes, payload: bytes):
        """One CALL; returns the answer frame (list) or None on CALLERROR/timeout."""
        self.n += 1
        smid = str(self.n)
        ws = self.ws
        assert ws is not None, f"{self.sid}: not open"
        await ws.send(b'[2,"%s","%s",%s]' % (smid.encode(), action, payload), text=True)
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    msg = orjson.loads(await ws.recv(decode=False))
                    if msg[0] == 2:      # the server's own CALL: refuse politely, keep going
                        await ws.send(orjson.dumps([4, msg[1], "NotImplemented", "bench station", {}]),
                                      text=True)
                    elif msg[1] == smid:
                        return msg if msg[0] == 3 else None
        except TimeoutError:
            return None

    async def loop(self, end: float) -> None:
        perf = time.perf_counter
        i = 0
        while perf() < end:
            action, payload = self.frames[i & 1]
            i += 1
            t0 = perf()
            try:
                res = await self._call(action, payload)
            except Exception:
                self.errors += 1
                return               # connection lost: this station is done
            if res is None:
                self.errors += 1
            else:
                self.ok += 1
                self.latencies.append(perf() - t0)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def run_load(url: str, stations: int = 20, duration: float = 5.0, protocol: str = "1.6",
                   timeout: float = 10.0, connect_concurrency: int = 50, prefix: str = "LOAD",
                   mix: str = "alternate", cpu: Callable[[], float | None] | None = None) -> LoadResult:
    """Connect and boot all stations, then run the timed phase for all at once; `cpu`
    reads the server's CPU seconds, before and after the timed phase."""
    steady_memory()
    versions = [protocol if protocol != "mixed" else ("1.6", "2.0.1")[i % 2] for i in range(stations)]
    sims = [_Station(url, f"{prefix}{i + 1:04d}", v, timeout, mix) for i, v in enumerate(versions)]
    result = LoadResult(stations=stations, duration=duration)
    sem = asyncio.Semaphore(connect_concurrency)

    async def open_one(s: _Station) -> bool:
        async with sem:
            try:
                await s.open()
                return True
            except Exception:
                return False

    up = await asyncio.gather(*(open_one(s) for s in sims))
    live = [s for s, ok in zip(sims, up) if ok]
    result.connected = len(live)
    result.errors += stations - len(live)
    cpu_before = cpu() if cpu is not None else None
    end = time.perf_counter() + duration
    try:
        await asyncio.gather(*(s.loop(end) for s in live))
        cpu_after = cpu() if cpu is not None else None
    finally:
        await asyncio.gather(*(s.close() for s in sims), return_exceptions=True)
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu_s = cpu_after - cpu_before
    for s in live:
        result.messages += s.ok
        result.errors += s.errors
        result.latencies.extend(s.latencies)
    return result
