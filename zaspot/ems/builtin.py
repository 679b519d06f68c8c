"""zaspot's own strategies and sensors, registered through the plugin API exactly as a
plugin would (see plugins/peak_shaver.py for a third-party strategy). The price sources
are zaspot.pricing's (zaspot/pricing/sources)."""

from __future__ import annotations

from zaspot.core.plugins import PluginContext
from zaspot.ems.sensors import http_json, simulated
from zaspot.ems.strategies import BUILTIN

SENSOR_KINDS = ("site_meter", "pv", "battery")


def register(api: PluginContext) -> None:
    """Each name a plugin has not taken already (a plugin may replace a built-in)."""
    registry = api.registry
    for name, (cls, config_type) in BUILTIN.items():
        if registry.get("strategy", name) is None:
            api.register_strategy(name, cls, config_type)
    sims = simulated.factories()
    for kind in SENSOR_KINDS:
        if registry.get(f"sensor.{kind}", "http_json") is None:
            api.register_sensor(kind, "http_json", http_json.factory(kind), http_json.HttpJsonConfig)
        if registry.get(f"sensor.{kind}", "simulated") is None:
            api.register_sensor(kind, "simulated", sims[kind], simulated.SimulatedConfig)
