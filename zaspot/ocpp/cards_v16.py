"""OCPP 1.6 cards: local authorization lists and the authorization cache over the wire.

Translations (SendLocalList, GetLocalListVersion, ClearCache) for zaspot.ocpp.commands,
and `Handlers`, the inbound messages of this feature, mixed into SessionV16.
"""

from __future__ import annotations


class Handlers:
    """Inbound 1.6 messages of this feature (none yet)."""
