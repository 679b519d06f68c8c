"""What every session shares: config, store, bus, fleet state, metrics, live sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zaspot.config import Config
from zaspot.core.bus import EventBus
from zaspot.core.metrics import Metrics
from zaspot.core.registry import Registry
from zaspot.core.state import FleetState

if TYPE_CHECKING:
    from zaspot.ocpp.framelog import FrameLog
    from zaspot.ocpp.liveness import Liveness
    from zaspot.ocpp.session import Session
    from zaspot.store import Store


@dataclass
class ServerContext:
    config: Config
    store: Store
    bus: EventBus
    fleet: FleetState
    metrics: Metrics = field(default_factory=Metrics)
    sessions: dict[str, Session] = field(default_factory=dict)
    registry: Registry = field(default_factory=Registry)  # what plugins registered, by kind and name
    frame_log: FrameLog | None = None  # raw frames per station, when ocpp.frame_log > 0
    liveness: Liveness | None = None  # last-seen times written in batches, the offline watchdog
    limits: Any = None  # zaspot.limits.LimitOwner: every EVSE's limit, from every source
    log_start: int = 0  # the event log's end when this run began: where a new consumer starts
    # Who may charge and a station's life (#17); each set by its setup() in app.py.
    cards: Any = None  # zaspot.cards: id tokens, the authorization mode, local-list sync
    reservations: Any = None  # zaspot.lifecycle.reservations
    files: Any = None  # zaspot.lifecycle: the HTTP file endpoint (firmware downloads, log uploads)
    firmware: Any = None  # zaspot.lifecycle: firmware updates and rollouts
    logs: Any = None  # zaspot.lifecycle: log retrieval (GetDiagnostics / GetLog)
    # A charging network on spot prices (#18): zaspot.pricing (prices, tariffs, session costs).
    prices: Any = None  # zaspot.pricing.feed: the spot prices, one owner (the EMS reads them here)
    pricing: Any = None  # zaspot.pricing.service: tariffs, each session's cost, what chargers are told
    needs: Any = None  # zaspot.pricing.needs: each session's energy need and departure (the EMS plans on it)
    health: Any = None  # zaspot.health.service (#19): outages, temperature trends, the health snapshot
