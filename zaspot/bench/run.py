"""Benchmark runner: start each central system as a subprocess on a free port, drive
the same load against it from this process, stop it, and compare.

    figures = run_bench(stations=50, duration=10, protocol="1.6", targets=["baseline", "echo"])
    print(format_table(figures))
"""
from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from pathlib import Path

import zaspot

from .load import run_load

TARGETS = ("zaspot", "baseline", "echo")
_REPO_ROOT = Path(zaspot.__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cmd(target: str, port: int, workdir: str) -> list[str]:
    if target == "zaspot":
        return [sys.executable, "-m", "zaspot", "run", "--host", "127.0.0.1", "--port", str(port),
                "--db", os.path.join(workdir, "bench.db")]
    if target in ("baseline", "echo"):
        return [sys.executable, "-m", f"zaspot.bench.{target}", "--host", "127.0.0.1", "--port", str(port)]
    raise ValueError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")


class ServerProcess:
    """A central system under test, run in its own process so it has its own core."""

    def __init__(self, target: str, workdir: str):
        self.target, self.workdir = target, workdir
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{target}.log")
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, ready_timeout: float = 30.0) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *server_cmd(self.target, self.port, self.workdir), stdout=log,
                stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
                cwd=self.workdir, env=env)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        while loop.time() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.target} exited ({self.proc.returncode}): {self.log_tail()}")
            if await _port_open(self.port):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.target} did not listen within {ready_timeout}s: {self.log_tail()}")

    def log_tail(self, n: int = 600) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-n:].strip()
        except OSError:
            return ""

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def bench_target(target: str, stations: int, duration: float, protocol: str, workdir: str) -> dict:
    server = ServerProcess(target, workdir)
    try:
        await server.start()
        result = await run_load(f"ws://127.0.0.1:{server.port}/ocpp", stations, duration, protocol)
        return result.figures()
    except Exception as exc:
        return {"failed": str(exc)[:400]}
    finally:
        await server.stop()


async def bench(stations: int = 20, duration: float = 5.0, protocol: str = "1.6",
                targets: list[str] | tuple[str, ...] = TARGETS) -> dict:
    """Run the same load against each target in turn; returns figures and ratios."""
    out: dict = {"stations": stations, "duration": duration, "protocol": protocol, "results": {}}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-") as workdir:
        for target in targets:
            out["results"][target] = await bench_target(target, stations, duration, protocol, workdir)
    out["ratios"] = _ratios(out["results"])
    return out


def run_bench(**kw) -> dict:
    """Blocking wrapper of bench() for scripts and tests outside an event loop."""
    return asyncio.run(bench(**kw))


def _ratios(results: dict) -> dict:
    z = results.get("zaspot", {}).get("msgs_per_s")
    ratios = {}
    for other in ("baseline", "echo"):
        o = results.get(other, {}).get("msgs_per_s")
        if z is not None and o:
            ratios[f"zaspot/{other}"] = round(z / o, 2)
    return ratios


def format_table(figures: dict) -> str:
    head = f"{'target':<10} {'msgs/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"
    lines = [f"{figures['stations']} stations, {figures['duration']}s, OCPP {figures['protocol']}",
             head, "-" * len(head)]
    for target, r in figures["results"].items():
        if "failed" in r:
            last = (r["failed"].strip().splitlines() or [""])[-1]
            lines.append(f"{target:<10} failed: {last[:200]}")
            continue
        lines.append(f"{target:<10} {r['msgs_per_s']:>10.1f} {r['p50_ms']:>9.2f} "
                     f"{r['p99_ms']:>9.2f} {r['errors']:>7d}")
    for name, value in figures.get("ratios", {}).items():
        lines.append(f"{name} msgs/s ratio: {value:.2f}x")
    return "\n".join(lines)
