"""Thousands of stations from several load processes.

One Python process is not enough to drive 15,000 WebSockets on a 2-core box, and no
process may pass the open-file limit: each load process (`python -m zaspot.bench.fleet`)
owns a slice of the stations and is driven step by step with JSON lines on its stdin and
stdout, so the parent can measure the server between steps (its memory once everyone is
connected). Plain subprocesses rather than multiprocessing: nothing re-imports the
caller's __main__, and a load process whose parent dies sees EOF and exits.

    async with Fleet(url, stations=15000) as fleet:
        c = await fleet.connect(concurrency=100)      # connect + boot every station
        t = await fleet.traffic(interval=60, duration=60)

`connect(concurrency=0)` is the connect storm: every station at once.
"""
from __future__ import annotations

import asyncio
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass

import orjson

from .idle import IdleStation, open_with_retry, run_schedule, schedule
from .servers import REPO_ROOT, die_with_parent, raise_nofile

PER_PROCESS = 4000  # connections per load process: well under the 20,000 fd limit


@dataclass
class Slice:
    url: str
    prefix: str
    first: int
    count: int
    protocol: str  # "1.6", "2.0.1" or "mixed"
    seed: int

    def stations(self) -> list[IdleStation]:
        out = []
        for i in range(self.first, self.first + self.count):
            version = self.protocol if self.protocol != "mixed" else ("1.6", "2.0.1")[i % 2]
            out.append(IdleStation(self.url, f"{self.prefix}{i + 1:05d}", version))
        return out


def main() -> None:
    """A load process: its slice as JSON in argv, then one command per stdin line, one
    report per stdout line."""
    raise_nofile()
    asyncio.run(_serve(Slice(**orjson.loads(sys.argv[1]))))


async def _serve(part: Slice) -> None:
    stations = part.stations()
    live: list[IdleStation] = []
    loop = asyncio.get_running_loop()
    out = sys.stdout.buffer
    out.write(b'{"ready":true}\n')
    out.flush()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.buffer.readline):
            cmd, args = orjson.loads(line)
            if cmd == "connect":
                report, live = await _connect(stations, **args)
            elif cmd == "traffic":
                report = await _traffic(live, part.seed, **args)
            else:
                break
            out.write(orjson.dumps(report) + b"\n")
            out.flush()
    finally:
        await asyncio.gather(*(s.close() for s in stations), return_exceptions=True)


async def _connect(stations, concurrency: int, deadline_s: float, start: float) -> tuple[dict, list]:
    sem = asyncio.Semaphore(concurrency) if concurrency > 0 else None
    deadline = start + deadline_s
    delay = start - time.monotonic()  # a common start for every process (monotonic is system-wide)
    if delay > 0:
        await asyncio.sleep(delay)

    async def one(st: IdleStation):
        if sem is None:
            return await _timed_open(st, deadline)
        async with sem:
            return await _timed_open(st, deadline)

    results = await asyncio.gather(*(one(s) for s in stations))
    ok = [r for r in results if r[0] is not None]
    live = [s for s, r in zip(stations, results) if r[0] is not None]
    errors = sorted({r[2] for r in results if r[2]})
    return {"connected": len(ok), "failed": len(results) - len(ok), "retries": sum(r[1] for r in results),
            "booted_at": [r[0] for r in ok], "error_kinds": errors[:5]}, live


async def _timed_open(st: IdleStation, deadline: float) -> tuple[float | None, int, str]:
    """(monotonic time the boot was accepted or None, retries, error kind)."""
    try:
        retries = await open_with_retry(st, deadline, open_timeout=60.0)
        return time.monotonic(), retries, ""
    except Exception as exc:
        return None, 0, f"{type(exc).__name__}: {str(exc)[:80]}"


async def _traffic(live: list[IdleStation], seed: int, interval: float, duration: float, start: float) -> dict:
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = await asyncio.gather(*(run_schedule(s, schedule(rng, start, interval, duration), latencies)
                                    for s in live))
    return {"latencies": latencies, "errors": sum(errors), "messages": len(latencies)}


class Fleet:
    """The parent side: starts the load processes, steps them, merges their reports."""

    def __init__(self, url: str, stations: int, protocol: str = "1.6", prefix: str = "IDLE",
                 procs: int = 0, step_timeout: float = 600.0):
        procs = procs or max(1, math.ceil(stations / PER_PROCESS))
        size = math.ceil(stations / procs)
        self.parts = [Slice(url, prefix, i * size, min(size, stations - i * size), protocol, i)
                      for i in range(procs) if i * size < stations]
        self.step_timeout = step_timeout
        self._procs: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> Fleet:
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        try:
            for part in self.parts:
                self._procs.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "zaspot.bench.fleet", orjson.dumps(asdict(part)).decode(),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
                    preexec_fn=die_with_parent,
                    limit=1 << 26))  # a report carries every latency of the slice on one line
            await asyncio.gather(*(self._recv(p) for p in self._procs))
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _step(self, cmd: str, args: dict) -> list[dict]:
        for p in self._procs:
            assert p.stdin is not None  # started with stdin=PIPE
            p.stdin.write(orjson.dumps([cmd, args]) + b"\n")
        return await asyncio.gather(*(self._recv(p) for p in self._procs))

    async def _recv(self, proc) -> dict:
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), self.step_timeout)
        except TimeoutError:
            raise TimeoutError(f"a load process did not report within {self.step_timeout}s") from None
        if not line:
            raise RuntimeError(f"a load process exited ({await proc.wait()}) before reporting")
        return orjson.loads(line)

    async def connect(self, concurrency: int = 100, deadline_s: float = 300.0, lead: float = 0.3) -> dict:
        """Connect and boot every station; times are from a common start `lead` s ahead,
        so every process starts together."""
        start = time.monotonic() + lead
        reports = await self._step("connect", {"concurrency": concurrency, "deadline_s": deadline_s,
                                               "start": start})
        booted = sorted(t - start for r in reports for t in r["booted_at"])
        return {"connected": len(booted), "failed": sum(r["failed"] for r in reports),
                "retries": sum(r["retries"] for r in reports), "booted_s": booted,
                "error_kinds": sorted({e for r in reports for e in r["error_kinds"]})[:5]}

    async def traffic(self, interval: float, duration: float, lead: float = 0.5) -> dict:
        start = time.monotonic() + lead
        reports = await self._step("traffic", {"interval": interval, "duration": duration, "start": start})
        return {"latencies": [x for r in reports for x in r["latencies"]],
                "errors": sum(r["errors"] for r in reports), "messages": sum(r["messages"] for r in reports)}

    async def close(self) -> None:
        """Each load process closes its connections and exits on EOF; kill any that won't."""
        for p in self._procs:
            if p.stdin and not p.stdin.is_closing():
                p.stdin.close()
        for p in self._procs:
            try:
                await asyncio.wait_for(p.wait(), 30)
            except TimeoutError:
                p.kill()
                await p.wait()
        self._procs = []


if __name__ == "__main__":
    main()
