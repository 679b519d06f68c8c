"""Every operator API type: importing this module registers all their handlers
(zaspot/api/registry.py). The app imports it before it serves the API."""

from zaspot.api import cards, handlers, plans, prices, reservations, sessions, stations, transfers  # noqa: F401  (they register)
