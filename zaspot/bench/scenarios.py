"""Every `zaspot bench` scenario behind one function, for the CLI, scripts and tests:

    figures = run_scenario("scale", stations=200, interval=5)   # a dict, as --json prints
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .reaction import reaction
from .report_scenario import report
from .run import bench
from .scale import scale, storm
from .storage import storage

SCENARIOS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "throughput": bench, "scale": scale, "storm": storm, "reaction": reaction, "storage": storage, "report": report}


async def scenario(name: str, **kw: Any) -> dict:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    return await SCENARIOS[name](**kw)


def run_scenario(name: str, **kw: Any) -> dict:
    """Blocking: run one scenario in a fresh event loop and return its figures."""
    return asyncio.run(scenario(name, **kw))


def failures(figures: dict) -> list[str]:
    """What failed in a run (a target that did not start, a scenario that broke)."""
    results = figures.get("results") or {"zaspot": figures.get("result", {})}
    return [f"{t}: {r['failed']}" for t, r in results.items() if isinstance(r, dict) and "failed" in r]
