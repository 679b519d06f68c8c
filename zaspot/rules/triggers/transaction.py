"""`platform: transaction` — `event: started | ended`, `connector_id`, `id_token`, `reason`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from zaspot.core.events import TransactionEnded, TransactionStarted
from zaspot.rules.triggers.base import event_vars, listen_all, one_or_many

EVENTS = ("transaction_started", "transaction_ended")


@dataclass
class CONFIG:
    event: Literal["started", "ended"] = "started"
    connector_id: int | None = None
    id_token: Any = None
    reason: Any = None


def attach(engine, trigger, config: CONFIG):
    tokens, reasons = one_or_many(config.id_token), one_or_many(config.reason)

    def on_tx(e: TransactionStarted | TransactionEnded) -> None:
        if config.connector_id is not None and e.connector_id != config.connector_id:
            return
        if tokens is not None and getattr(e, "id_token", None) not in tokens:
            return
        if reasons is not None and getattr(e, "reason", None) not in reasons:
            return
        trigger.fire(event_vars(e))

    return listen_all(engine, (f"transaction_{config.event}",), on_tx)
