"""`zaspot plugins`: load every plugin the way `zaspot run` would, against a throwaway
in-memory store, print what happened, and tear them down again."""

from __future__ import annotations

from zaspot.config import Config
from zaspot.core.bus import EventBus
from zaspot.core.plugin_loader import AVAILABLE, FAILED, PluginInfo, PluginLoader
from zaspot.core.state import FleetState


async def inspect_plugins(config: Config) -> tuple[str, bool]:
    """The report, and whether every enabled plugin loaded."""
    from zaspot.ocpp.commands import Commands
    from zaspot.ocpp.context import ServerContext
    from zaspot.store import Store

    store = await Store.open(":memory:")
    bus = EventBus()
    ctx = ServerContext(config, store, bus, FleetState())
    loader = PluginLoader(ctx, Commands(ctx))
    try:
        plugins = await loader.load_all()
        text = format_report(config, plugins, loader.problems)
    finally:
        await loader.unload_all()
        await bus.close()
        await store.close()
    return text, all(p.status != FAILED for p in plugins)


def format_report(config: Config, plugins: list[PluginInfo], problems: list[str]) -> str:
    lines = [f"plugins for {config.source} (in load order)", ""]
    width = max([len(p.name) for p in plugins] + [6])
    lines.append(f"  {'plugin':<{width}}  {'source':<11}  {'status':<9}  details")
    for p in plugins:
        lines.append(f"  {p.name:<{width}}  {p.source:<11}  {p.status:<9}  {_details(p)}")
        pad = " " * (width + 26)
        lines.append(f"  {pad}from {p.origin}")
        lines += [f"  {pad}warning: {w}" for w in p.warnings]
    lines += [f"warning: {problem}" for problem in problems]
    return "\n".join(lines)


def _details(p: PluginInfo) -> str:
    if p.status == FAILED:
        return f"error: {p.error}"
    if p.status == AVAILABLE:
        return f"installed, not enabled (add '{p.name}' to plugins.load)"
    return ", ".join(f"{r.kind} {r.name}" for r in p.registered) or "(registered nothing)"
