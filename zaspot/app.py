"""The running central system: config + store + bus + fleet state + OCPP server."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

import zaspot.api.catalog  # noqa: F401  (registers every API type)
from zaspot.api.http import ROUTES
from zaspot.api.websocket import ApiConnection
from zaspot.cards.setup import setup as setup_cards
from zaspot.config import Config
from zaspot.core.bus import EventBus
from zaspot.core.metrics import Metrics
from zaspot.core.plugin_loader import PluginLoader
from zaspot.core.plugins import call_teardown
from zaspot.core.state import FleetState
from zaspot.diagnostics.setup import setup as setup_diagnostics
from zaspot.ems.setup import setup as setup_ems
from zaspot.health.setup import setup as setup_health
from zaspot.lifecycle import reservations, stale, transfers
from zaspot.limits import LimitOwner
from zaspot.ocpp.commands import Commands
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.framelog import FrameLog
from zaspot.ocpp.liveness import Liveness
from zaspot.ocpp.server import OcppServer
from zaspot.ops.database import check_database, is_memory
from zaspot.pricing.setup import setup as setup_pricing
from zaspot.rules import Rules
from zaspot.rules import start as start_rules
from zaspot.store import Store
from zaspot.store.fleet import away_at_start
from zaspot.store.publish import publish
from zaspot.store.retention import Retention
from zaspot.store.unit import Unit

_LOGGER = logging.getLogger("zaspot")


class App:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.ctx: ServerContext | None = None
        self.server: OcppServer | None = None
        self.commands: Commands | None = None
        self.plugins: PluginLoader | None = None
        self.rules: Rules | None = None  # once started
        self._teardown: list = []
        self._store: Store | None = None
        self._retention: Retention | None = None

    async def start(self) -> None:
        """Start everything; if any part fails, stop what did start (no thread keeps us alive)."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        cfg = self.config
        # A folder, an unwritable file or a newer zaspot's schema: one clear line (ops/database.py), no traceback.
        db = cfg.db if is_memory(cfg.db) else check_database(cfg.db)
        self._store = store = await Store.open(db)
        # The config's station names, sites and notes win over what station/update set.
        await store.name_stations([(s.id, s.name, s.site, s.notes) for s in cfg.stations])
        bus = EventBus()
        fleet = FleetState()
        fleet.load(await store.fleet_snapshot())  # a projection of the store: as it last was
        self._teardown.append(fleet.attach(bus))
        self.ctx = ServerContext(cfg, store, bus, fleet, log_start=await store.log_end())
        self._teardown.extend(_publish_store_stats(self.ctx.metrics, store))
        self.ctx.liveness = Liveness(self.ctx)
        self.ctx.liveness.start()
        if cfg.ocpp.frame_log > 0:
            sessions = self.ctx.sessions
            self.ctx.frame_log = FrameLog(store, cfg.ocpp.frame_log, lambda: len(sessions))
            self.ctx.frame_log.start()
        self.commands = Commands(self.ctx)
        self.ctx.limits = LimitOwner(self.ctx, self.commands)
        self.ctx.limits.start()
        self._retention = Retention(store, cfg.retention)
        self._retention.start()
        self._teardown.append(await setup_diagnostics(self.ctx, self.commands))
        self._teardown.append(await setup_health(self.ctx, self.commands))  # uptime, faults, temperature trends
        # Who may charge and a station's life; each returns its teardown (or None).
        for setup in (setup_cards, reservations.setup, stale.setup, transfers.setup):
            teardown = await setup(self.ctx, self.commands)
            if teardown is not None:
                self._teardown.append(teardown)
        self.plugins = PluginLoader(self.ctx, self.commands)
        await self.plugins.load_all()  # a broken plugin is logged, never fatal
        pricing = await setup_pricing(self.ctx, self.commands)  # before the EMS: it plans on the prices
        if pricing is not None:
            self._teardown.append(pricing)
        if cfg.ems is not None:  # after the plugins: a strategy or sensor may come from one
            self._teardown.append(await setup_ems(self.ctx, self.commands))
        self.rules = await start_rules(self.ctx, self.commands)  # after plugins: their triggers and services
        await _away_at_start(self.ctx)  # after the consumers: they hear it live
        self.server = OcppServer(self.ctx)
        self.server.http_routes.update(ROUTES)
        self.server.api_handler = self._serve_api
        await self.server.start(cfg.host, cfg.port)
        scheme = "wss" if self.server.tls else "ws"
        _LOGGER.info("zaspot listening on %s://%s:%d/ocpp/<station_id> (operator API on /api/websocket, "
                     "database %s, %d station%s known)", scheme, cfg.host, self.server.port, cfg.db,
                     len(self.ctx.fleet.stations), "" if len(self.ctx.fleet.stations) == 1 else "s")

    async def _serve_api(self, ws: Any) -> None:
        assert self.ctx is not None and self.commands is not None
        await ApiConnection(ws, self.ctx, self.commands).run()

    async def stop(self) -> None:
        if self.server:
            await self.server.stop()
        if self.rules:
            await self.rules.stop()
        if self.ctx and self.ctx.limits:
            await self.ctx.limits.stop()
        if self.plugins:
            await self.plugins.unload_all()
        for undo in reversed(self._teardown):
            await call_teardown(undo)  # plain or async
        if self._retention:
            await self._retention.stop()
        if self.ctx:
            if self.ctx.frame_log:
                await self.ctx.frame_log.stop()
            if self.ctx.liveness:
                await self.ctx.liveness.stop()
            await self.ctx.bus.close()
        if self._store:
            await self._store.close()  # idempotent; also when start failed before the context


async def _away_at_start(ctx: ServerContext) -> None:
    """No station is connected before the server listens: every known one is offline
    (committed and fired, so an `offline for 5m` rule holds for a station that stays away)."""
    unit = Unit()
    unit.do(away_at_start, time.time())
    await publish(ctx.store, ctx.bus, unit)


def tune_gc() -> None:
    """Fewer, cheaper collections for a server holding thousands of live sessions.

    Everything built at startup (schemas, rules, plugins) is frozen out of the
    collector's view, and the young generation may grow larger before a pass:
    with 15,000 stations a full pass otherwise stalls the loop for hundreds of ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def run(config: Config) -> None:
    """Run until SIGINT / SIGTERM, then shut down cleanly (pending writes flushed)."""
    app = App(config)
    await app.start()
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        _LOGGER.info("shutting down")
        await app.stop()


def _publish_store_stats(metrics: Metrics, store: Store) -> list[Callable[[], None]]:
    stats = store.stats
    return [
        metrics.publish("zaspot_store_writes_total", "Writes the store resolved (each committed or failed).",
                        lambda: stats.ops, "counter"),
        metrics.publish("zaspot_store_write_errors_total", "Writes that failed (the station got an error).",
                        lambda: stats.failed, "counter"),
        metrics.publish("zaspot_store_commits_total", "Transactions committed (group commit: fewer than writes).",
                        lambda: stats.commits, "counter"),
        metrics.publish("zaspot_store_batches_on_loop_total",
                        "Batches small and quick enough to commit on the event loop, not the writer thread.",
                        lambda: stats.on_loop, "counter"),
    ]
