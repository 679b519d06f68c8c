"""Wire fleet health into a running central system: `teardown = await setup(ctx, commands)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zaspot.health.service import HealthService


async def setup(ctx: Any, commands: Any) -> Callable[[], Any]:
    ctx.health = service = HealthService(ctx)
    await service.start()
    return service.stop
