from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.helpers import ZaspotProcess
from zaspot.app import App
from zaspot.config import Config
from zaspot.core.events import Event


@pytest.fixture
def zaspot_server(tmp_path: Path) -> Iterator[ZaspotProcess]:
    """A real `zaspot run` subprocess with a temp database."""
    server = ZaspotProcess(tmp_path / "zaspot.db").start()
    yield server
    server.stop()


class Recorder:
    """Collects bus events (in-process app) so tests can assert on them."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """An in-process central system on a free port (for bus-level assertions)."""
    # rules from an empty folder: the shipped ./rules would act on every test's stations
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "zaspot.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    application = App(config)
    await application.start()
    recorder = Recorder()
    application.ctx.bus.listen("*", recorder, name="test-recorder")
    application.recorder = recorder  # type: ignore[attr-defined]
    application.url = f"ws://127.0.0.1:{application.server.port}"  # type: ignore[attr-defined]
    yield application
    await application.stop()
