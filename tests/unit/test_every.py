"""core.tasks.Every: the housekeeping loop the store and the frame log share."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.helpers import until
from zaspot.core.tasks import Every

LOGGER = logging.getLogger("zaspot.test.every")


async def test_a_failing_run_is_logged_and_the_next_one_still_comes(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OSError("disk full")

    every = Every("test-every", lambda: 0.01, job, LOGGER, "the test job failed")
    with caplog.at_level(logging.ERROR, logger=LOGGER.name):
        every.start()
        await until(lambda: len(runs) >= 3, what="runs after a failed one")
        await every.stop()
    failed = [r for r in caplog.records if r.getMessage() == "the test job failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None and "disk full" in str(failed[0].exc_info[1])


async def test_first_at_start_runs_before_the_first_wait_and_stop_ends_the_loop() -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    every = Every("test-every", lambda: 3600.0, job, LOGGER, "failed", first_at_start=True)
    every.start()
    await until(lambda: runs == 1, what="the run at start")
    await every.stop()
    await every.stop()  # twice: nothing left to stop
    assert runs == 1


async def test_a_longer_interval_counts_from_the_next_wait() -> None:
    interval, runs = 0.01, 0

    async def job() -> None:
        nonlocal runs, interval
        runs += 1
        interval = 3600.0  # as a test or a reloaded config would set it

    every = Every("test-every", lambda: interval, job, LOGGER, "failed")
    every.start()
    await until(lambda: runs == 1, what="the first run")
    for _ in range(20):  # many loop turns: a second run would have come after 0.01 s
        await asyncio.sleep(0.005)
    await every.stop()
    assert runs == 1
