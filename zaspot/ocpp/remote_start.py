"""2.0.1 remote starts: the remoteStartId a RequestStartTransaction carries.

It is the id of the command's own row in the `commands` table: unique across starts
and across restarts (AUTOINCREMENT hands no id out twice, not even after retention
has deleted old rows), an integer as OCPP asks, and the key from the transaction the
station then reports (`transactionInfo.remoteStartId`, kept as
`transactions.remote_start_id`) back to the command and the id token it sent. The
row's stored payload is the rest of the call: `commands.id` is its remoteStartId.
"""

from __future__ import annotations

from typing import Any

ACTION = "RequestStartTransaction"


def with_remote_start_id(action: str, payload: dict[str, Any], command_id: int) -> dict[str, Any]:
    """The payload to send: a RequestStartTransaction gets its command's row id as its
    remoteStartId (one that names its own, a raw call, keeps it)."""
    if action != ACTION or "remoteStartId" in payload:
        return payload
    return {**payload, "remoteStartId": command_id}
