"""The central systems under test, each run as a subprocess on a free port.

zaspot runs as a user would run it: `zaspot run -c zaspot.yaml` with the example rules
loaded, persistence and schema validation on. The baseline (plain `ocpp` library), the
Node.js `ocpp-rpc` server (node_rpc.py installs it on first use) and the echo server are
started the same way, so every scenario compares them in one run.

    async with ServerProcess("zaspot", workdir) as server:
        url = server.url          # ws://127.0.0.1:<port>/ocpp
        server.rss_kb()           # resident memory right now
        server.cpu_seconds()      # its CPU time so far
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import re
import resource
import signal
import socket
import sys
from pathlib import Path

import zaspot

from . import node_rpc

TARGETS = ("zaspot", "baseline", "node", "echo", "floor")
REPO_ROOT = Path(zaspot.__file__).resolve().parent.parent
EXAMPLE_RULES = REPO_ROOT / "rules"


def raise_nofile() -> int:
    """Soft open-file limit up to the hard one (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def die_with_parent() -> None:
    """preexec_fn for children: SIGTERM when the bench process dies, even by SIGKILL,
    so a killed run leaves no server or load process behind (Linux prctl)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_zaspot_config(workdir: str, rules: str | Path | None = None, heartbeat_interval: int = 300) -> str:
    """A zaspot.yaml for the run: the database in workdir and the rules folder given
    (default: the repo's example rules, when the repo has them)."""
    if rules is None and EXAMPLE_RULES.is_dir():
        rules = EXAMPLE_RULES
    lines = [f"db: {Path(workdir, 'bench.db')}", "ocpp:", f"  heartbeat_interval: {heartbeat_interval}"]
    if rules is not None:
        lines.insert(1, f"rules: {Path(rules).resolve()}")
    path = os.path.join(workdir, "zaspot.yaml")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def server_cmd(target: str, port: int, workdir: str) -> list[str]:
    if target == "zaspot":
        config = os.path.join(workdir, "zaspot.yaml")
        if not os.path.exists(config):
            write_zaspot_config(workdir)
        return [sys.executable, "-m", "zaspot", "run", "-c", config, "--host", "127.0.0.1",
                "--port", str(port)]
    if target in ("baseline", "echo", "floor"):
        return [sys.executable, "-m", f"zaspot.bench.{target}", "--host", "127.0.0.1", "--port", str(port)]
    if target == "node":
        return node_rpc.server_argv("127.0.0.1", port)   # NodeUnavailable without Node.js
    raise ValueError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")


class ServerProcess:
    """A central system under test, in its own process so it has its own core."""

    command = staticmethod(server_cmd)  # tests swap it for a command that fails

    def __init__(self, target: str, workdir: str):
        self.target, self.workdir = target, workdir
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{target}.log")
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def __aenter__(self) -> ServerProcess:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self, ready_timeout: float = 30.0) -> None:
        raise_nofile()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(self.target, self.port, self.workdir), stdout=log,
                stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
                cwd=self.workdir, env=env, preexec_fn=die_with_parent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        while loop.time() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.target} exited ({self.proc.returncode}): {self.log_tail()}")
            if await _port_open(self.port):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.target} did not listen within {ready_timeout}s: {self.log_tail()}")

    def rss_kb(self) -> int:
        """VmRSS of the server process, in KiB (0 once it is gone)."""
        if self.proc is None:
            return 0
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, AttributeError):
            pass
        return 0

    def cpu_seconds(self) -> float | None:
        """The server process's CPU time so far, user and system (None once it is gone or
        off Linux): on a shared box the steadier figure of what a message costs."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def rules_loaded(self) -> int | None:
        """How many rules zaspot said it started with (None: not said, or not zaspot)."""
        m = re.search(r"rules: (\d+) running", self.log_tail(1 << 20))
        return int(m.group(1)) if m else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

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
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
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


def listen_overflows() -> int:
    """The kernel's count of connections dropped because an accept queue was full
    (TcpExt ListenOverflows, for this network namespace)."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return int(table.get("ListenOverflows", 0))
    return 0
