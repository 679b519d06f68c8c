"""Handlers of the simulated station's feature modules (cards, reservations, firmware,
logs), by (version, action): V16.handle and V201.handle look here after their own.

A feature module registers with `@handles("1.6", "ReserveNow")`; the handler gets the
version object (`proto`, with `proto.st` the SimStation) and the payload and returns
(response, after) like every sim handler. Per-station behaviour knobs (refusals,
failures) come from `SimStation.features`, per-station feature state lives in
`SimStation.feature_state`.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

FEATURE_MODULES = ("zaspot.sim.cards", "zaspot.sim.reservations", "zaspot.sim.transfers", "zaspot.sim.pricing")
_HANDLERS: dict[tuple[str, str], Callable[..., Any]] = {}
_loaded = False


def handles(version: str, action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _HANDLERS[(version, action)] = fn
        return fn

    return register


def find(version: str, action: str) -> Callable[..., Any] | None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in FEATURE_MODULES:
            importlib.import_module(name)
    return _HANDLERS.get((version, action))
