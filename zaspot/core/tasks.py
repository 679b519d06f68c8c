"""Background tasks a component owns.

`TaskSet`: each one kept until it ends (asyncio holds tasks only weakly), its failure
logged with its name, and all of them ended or waited for when the component stops.
`Every`: one job run at an interval while started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

_LOGGER = logging.getLogger(__name__)


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("%s failed", task.get_name(), exc_info=task.exception())

    async def cancel(self) -> None:
        """End them all now (what they were doing is not needed any more)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """Let them finish (writes on their way), for at most `timeout` seconds."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)


class Every:
    """`job()` every `seconds()` seconds while started: housekeeping such as meter filing,
    retention, checkpoints, frame chunks, the hourly temperature fold and the rules
    folder's watch. The interval is asked
    for before each wait, so a changed config or a test's longer one counts from the
    next wait. A run that raises is logged with `failed` on the owner's `logger` and the
    next one is tried: a busy or full disk must not stop the job for good."""

    def __init__(self, name: str, seconds: Callable[[], float], job: Callable[[], Awaitable[Any]],
                 logger: logging.Logger, failed: str, first_at_start: bool = False) -> None:
        self.name, self.seconds, self.job = name, seconds, job
        self.logger, self.failed, self.first_at_start = logger, failed, first_at_start
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the wait or the run in progress (a run's transactions are whole or not at all)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        if not self.first_at_start:
            await asyncio.sleep(self.seconds())
        while True:
            try:
                await self.job()
            except Exception:
                self.logger.exception(self.failed)
            await asyncio.sleep(self.seconds())
