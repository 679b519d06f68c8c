"""Every operator API type: importing this module registers all their handlers
(zaspot/api/registry.py). The app imports it before it serves the API."""

from zaspot.api import (  # noqa: F401  (they register)
    cards,
    handlers,
    plans,
    prices,
    reports,
    reservations,
    sessions,
    stations,
    transfers,
)
