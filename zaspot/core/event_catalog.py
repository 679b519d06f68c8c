"""Every event type zaspot knows, by name: the station events (events.py) and each
feature's own modules (energy, cards, a station's life, connections, prices, health). What reads events
back by name (the event log, the API's subscriptions, rule replays) asks here, so every
type is known however little of zaspot was imported before.
"""

from zaspot.core import (  # noqa: F401  (they register)
    card_events,
    connection_events,
    energy_events,
    health_events,
    lifecycle_events,
    pricing_events,
)
from zaspot.core.events import event_types, rebuild

__all__ = ["event_types", "rebuild"]
