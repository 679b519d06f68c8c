"""Each test of the WebSocket layer runs under asyncio's loop and uvloop's: production runs
uvloop, whose transports are no asyncio.Transport subclass."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

LOOPS = {"asyncio": None, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=LOOPS)
def run(request) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Runs a test's scenario on one loop, then (the other parameter) on the other."""
    def runner(scenario: Callable[[], Awaitable[Any]]) -> Any:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as loop:
            return loop.run(asyncio.wait_for(scenario(), 60))
    return runner
