"""OCPP 2.0.1 cards: local authorization lists and the authorization cache over the wire.

Translations (SendLocalList, GetLocalListVersion, ClearCache) for zaspot.ocpp.commands,
and `Handlers`, the inbound messages of this feature, mixed into SessionV201.
"""

from __future__ import annotations


class Handlers:
    """Inbound 2.0.1 messages of this feature (none yet)."""
