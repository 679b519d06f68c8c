"""Events of stations' connections and names (see zaspot.core.events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zaspot.core.events import Event

# Why a station's handshake was refused: the `reason` of ConnectionRefused and the label of
# zaspot_handshakes_refused_total{reason=…} in /metrics.
REFUSAL_REASONS = (
    "no_credentials",        # Basic auth needed, none sent
    "malformed_credentials",  # an Authorization header that is not Basic user:password
    "bad_username",          # Basic auth for another user than the station id
    "no_password",           # Basic auth needed, but no password is set for the station
    "wrong_password",
    "no_certificate",        # security profile 3 without a client certificate
    "bad_certificate",       # a client certificate for another station
    "backoff",               # too many failures lately (from this address for this id, or from this address)
    "bad_station_id",        # a path that names no acceptable station id
    "no_subprotocol",        # neither ocpp2.0.1 nor ocpp1.6 offered
    "too_many_per_address",  # ocpp.max_connections_per_address reached
)


@dataclass(frozen=True, slots=True)
class ConnectionRefused(Event):
    """A station's connection was refused at the handshake. `station_id` is the id it tried
    ("" when its path named none), `remote` its address, `reason` one of REFUSAL_REASONS,
    `detail` what it was told."""

    type: ClassVar[str] = "connection_refused"
    remote: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StationUpdated(Event):
    """An operator changed a station's name, site or notes (`station/update`)."""

    type: ClassVar[str] = "station_updated"
    name: str = ""
    site: str = ""
    notes: str = ""
