"""The plugin contract and the API object each plugin's `setup()` receives.

A plugin is a module (a file in `plugins/`, a module named in `plugins.load`, or an
installed package's `zaspot.plugins` entry point) with:

    NAME = "peak_shaver"                 # optional; defaults to the module's name
    CONFIG = PeakShaverConfig            # optional dataclass for `plugins.config.<NAME>`
    async def setup(api: PluginContext, config) -> teardown | None

`config` is the plugin's section decoded into CONFIG (errors as `zaspot.yaml:line:
message`), or None without a CONFIG. The teardown (sync or async) runs on stop.
Whatever a plugin registers, listens to or starts through `api` is undone for it on
teardown and when its setup fails, so a plugin only cleans up what it made itself.
Built-in features are plugins too (zaspot/notify/builtin.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from zaspot.core import registry as reg
from zaspot.core.bus import EventBus, Listener
from zaspot.core.registry import Registered, Registry

if TYPE_CHECKING:
    from zaspot.config import Config
    from zaspot.core.state import FleetState
    from zaspot.ocpp.commands import Commands
    from zaspot.ocpp.context import ServerContext
    from zaspot.store import Store

Teardown = Callable[[], Awaitable[None] | None]


class PluginError(Exception):
    """A plugin cannot load; the message is shown as-is in `zaspot plugins` and the log."""


class PluginContext:
    """What a plugin sees of zaspot. One per plugin, so the plugin's name goes with
    everything it does (registrations, listeners, tasks, warnings)."""

    def __init__(self, name: str, ctx: ServerContext, commands: Commands) -> None:
        self.name = name
        self.config: Config = ctx.config
        self.bus: EventBus = ctx.bus
        self.fleet: FleetState = ctx.fleet
        self.store: Store = ctx.store
        self.commands = commands
        self.registry: Registry = ctx.registry
        self.logger = logging.getLogger(f"zaspot.plugin.{name}")
        self.registered: list[Registered] = []
        self.warnings: list[str] = []
        self._unsubscribes: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._after_setup: list[Callable[[], Awaitable[None]]] = []

    # --- registering ---------------------------------------------------------

    def register_notifier(self, platform: str, factory: Callable[[Any], Any], config_type: type | None = None) -> None:
        """`notify: - platform: <platform>` builds `factory(config)` -> a Notifier
        (zaspot.notify.base); config is the entry decoded into `config_type`."""
        self._add(reg.NOTIFIER, platform, factory, config_type)

    def register_strategy(self, name: str, cls: type, config_type: type | None = None) -> None:
        """An EMS strategy class, chosen by name in the EMS config."""
        self._add(reg.STRATEGY, name, cls, config_type)

    def register_sensor(self, kind: str, name: str, factory: Callable[[Any], Any],
                        config_type: type | None = None) -> None:
        """A site meter, PV inverter or battery source: kind is one of site_meter, pv, battery."""
        if kind not in reg.SENSOR_KINDS:
            raise PluginError(f"sensor kind must be one of {', '.join(reg.SENSOR_KINDS)}, got {kind!r}")
        self._add(f"sensor.{kind}", name, factory, config_type)

    def register_price_source(self, name: str, factory: Callable[[Any], Any], config_type: type | None = None) -> None:
        self._add(reg.PRICE_SOURCE, name, factory, config_type)

    def register_trigger(self, platform: str, module: Any) -> None:
        """A rule trigger `platform:`: an object with a CONFIG dataclass and
        `attach(...) -> detach` (the rules engine defines the call)."""
        if not callable(getattr(module, "attach", None)):
            raise PluginError(f"trigger '{platform}' has no attach() function")
        self._add(reg.TRIGGER, platform, module, getattr(module, "CONFIG", None))

    def register_action(self, service: str, fn: Callable[[Mapping[str, Any]], Awaitable[Any]]) -> None:
        """A rule action `service: <service>`; `await fn(data)`."""
        self._add(reg.ACTION, service, fn)

    def register_api_command(self, type_: str, fn: Callable[[Mapping[str, Any]], Awaitable[Any]]) -> None:
        """An operator API command `{"type": <type_>, ...}`; `await fn(message)` is the result."""
        self._add(reg.API_COMMAND, type_, fn)

    def _add(self, kind: str, name: str, obj: Any, config_type: type | None = None) -> None:
        try:
            self.registered.append(self.registry.add(kind, name, obj, self.name, config_type))
        except reg.RegistryError as exc:
            raise PluginError(str(exc)) from None

    # --- using zaspot --------------------------------------------------------

    def listen(self, event_type: str, callback: Listener) -> Callable[[], None]:
        """Bus events of one type ("*" for all); returns the unsubscribe function."""
        unsubscribe = self.bus.listen(event_type, callback, name=f"{self.name}:{_callable_name(callback)}")
        self._unsubscribes.append(unsubscribe)
        return unsubscribe

    async def notify(
        self, message: str, title: str | None = None, target: str | list[str] | None = None,
        data: Mapping[str, Any] | None = None, key: str | None = None,
    ) -> None:
        """Send through the configured notifiers. Returns once queued, never waits on
        delivery. `key` groups messages for rate limiting (default: the message)."""
        action = self.registry.get(reg.ACTION, "notify")
        if action is None:
            self.logger.warning("no notify service is loaded; dropped: %s", message)
            return
        args = {"message": message, "title": title, "target": target, "data": data, "key": key}
        await action.obj({k: v for k, v in args.items() if v is not None})

    def create_task(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """A background task that is kept, its errors logged, and cancelled on teardown."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.name}:{name or 'task'}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def after_setup(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run `await fn()` once every plugin is set up (to use what others registered)."""
        self._after_setup.append(fn)

    def warn(self, message: str) -> None:
        """A problem that does not stop the plugin (a bad notify entry); shown in `zaspot plugins`."""
        self.warnings.append(message)
        self.logger.warning("%s", message)

    # --- for the loader ------------------------------------------------------

    async def run_after_setup(self) -> None:
        for fn in self._after_setup:
            await fn()

    async def close(self) -> None:
        """Undo everything made through this context (newest first)."""
        for unsubscribe in reversed(self._unsubscribes):
            unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for item in reversed(self.registered):
            self.registry.remove(item)
        self._unsubscribes.clear()

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.logger.error("task %s failed", task.get_name(), exc_info=task.exception())


async def call_teardown(teardown: Teardown) -> None:
    result = teardown()
    if inspect.isawaitable(result):
        await result


def _callable_name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__
