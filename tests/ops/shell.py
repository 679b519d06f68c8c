"""Running `python -m zaspot ...` as a user would, from a given folder."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def env(**extra: str) -> dict[str, str]:
    """The environment of a shell with no ZASPOT_URL of its own (each test says where to go)."""
    out = {k: v for k, v in os.environ.items() if k not in ("ZASPOT_URL", "ZASPOT_TOKEN")}
    return {**out, "PYTHONPATH": str(ROOT), **extra}


def zaspot(*args: str, cwd: Path, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zaspot", *args], cwd=cwd, env=env(**extra),
                          capture_output=True, text=True, timeout=timeout, check=False)


async def zaspot_async(*args: str, cwd: Path, **extra: str) -> tuple[int, str, str]:
    """The same without blocking the loop: the test's stations keep talking meanwhile."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "zaspot", *args, cwd=cwd, env=env(**extra),
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
