"""Load every discovered plugin, keep a record of each, tear them down on stop.

A plugin that fails (import error, bad config section, setup raising or hanging) is
recorded with its error, logged, and everything it had registered is undone; the
others and the server carry on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zaspot.config import ConfigError, RawSection, decode
from zaspot.core.plugin_discovery import Candidate, discover
from zaspot.core.plugins import PluginContext, PluginError, Teardown, call_teardown

if TYPE_CHECKING:
    from zaspot.core.registry import Registered
    from zaspot.ocpp.commands import Commands
    from zaspot.ocpp.context import ServerContext

_LOGGER = logging.getLogger("zaspot.plugins")
# A setup that hangs (a dead device on the network) must not keep the server from starting.
SETUP_TIMEOUT = 30.0

LOADED, FAILED, AVAILABLE = "loaded", "failed", "available"


@dataclass
class PluginInfo:
    name: str
    source: str
    origin: str
    status: str = AVAILABLE
    error: str | None = None
    registered: list[Registered] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Loaded:
    info: PluginInfo
    api: PluginContext
    teardown: Teardown | None


class PluginLoader:
    def __init__(self, ctx: ServerContext, commands: Commands) -> None:
        self.ctx = ctx
        self.commands = commands
        self.plugins: list[PluginInfo] = []
        self.problems: list[str] = []  # config sections no plugin claimed
        self._loaded: list[_Loaded] = []

    async def load_all(self) -> list[PluginInfo]:
        for candidate in discover(self.ctx.config):
            info = PluginInfo(candidate.name, candidate.source, candidate.origin)
            self.plugins.append(info)
            if candidate.load is not None:
                await self._load(candidate, info)
        for loaded in list(self._loaded):
            try:
                await loaded.api.run_after_setup()
            except Exception as exc:  # noqa: BLE001  (reported by _fail: the plugins list and the log)
                self._loaded.remove(loaded)
                await self._undo(loaded)
                self._fail(loaded.info, exc)
        self._check_sections()
        return self.plugins

    async def unload_all(self) -> None:
        while self._loaded:
            await self._undo(self._loaded.pop())

    async def _load(self, candidate: Candidate, info: PluginInfo) -> None:
        api: PluginContext | None = None
        try:
            module = candidate.load()  # type: ignore[misc]
            info.name = str(getattr(module, "NAME", info.name))
            setup = self._setup_of(module, info.name)
            config = self._config_for(info.name, getattr(module, "CONFIG", None))
            api = PluginContext(info.name, self.ctx, self.commands)
            info.registered, info.warnings = api.registered, api.warnings
            async with asyncio.timeout(SETUP_TIMEOUT):
                teardown = await setup(api, config)
        except Exception as exc:  # noqa: BLE001  (a broken plugin is reported by _fail, never fatal)
            if api is not None:
                await api.close()
            self._fail(info, exc)
            return
        info.status = LOADED
        self._loaded.append(_Loaded(info, api, teardown))
        made = ", ".join(f"{r.kind} {r.name}" for r in api.registered) or "nothing registered"
        _LOGGER.info("plugin %s (%s, %s) loaded: %s", info.name, info.source, info.origin, made)

    def _setup_of(self, module: Any, name: str) -> Any:
        if any(p.name == name and p.status == LOADED for p in self.plugins):
            raise PluginError(f"a plugin named '{name}' is already loaded")
        setup = getattr(module, "setup", None)
        if not inspect.iscoroutinefunction(setup):
            raise PluginError("no `async def setup(api, config)` in the module")
        return setup

    def _config_for(self, name: str, config_type: type | None) -> Any:
        cfg = self.ctx.config
        where = f"plugins.config.{name}"
        raw = cfg.plugins.config.get(name) or RawSection(cfg.source, None, where)
        if config_type is not None:
            return decode(config_type, raw)
        if raw.node is not None and raw.node.tag != "tag:yaml.org,2002:null":
            raise PluginError(f"{raw.location()}: {where}: this plugin takes no settings")
        return None

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.status, info.error = FAILED, describe(exc)
        expected = isinstance(exc, (PluginError, ConfigError, TimeoutError))
        _LOGGER.error("plugin %s (%s, %s) failed to load: %s", info.name, info.source, info.origin, info.error,
                      exc_info=None if expected else exc)

    async def _undo(self, loaded: _Loaded) -> None:
        try:
            if loaded.teardown is not None:
                async with asyncio.timeout(SETUP_TIMEOUT):
                    await call_teardown(loaded.teardown)
        except Exception:
            _LOGGER.exception("plugin %s: teardown failed", loaded.info.name)
        await loaded.api.close()

    def _check_sections(self) -> None:
        names = {p.name for p in self.plugins}
        for name, raw in self.ctx.config.plugins.config.items():
            if name not in names:
                self.problems.append(f"{raw.location()}: plugins.config.{name}: no plugin named '{name}' was found")
                _LOGGER.warning("%s", self.problems[-1])


def describe(exc: BaseException) -> str:
    """One line for a user: our own errors as they are, others with where they happened."""
    if isinstance(exc, (PluginError, ConfigError)):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"setup did not finish within {SETUP_TIMEOUT:g} s"
    if isinstance(exc, SyntaxError):
        return f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen")]
    where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {exc}"
