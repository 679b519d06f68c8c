"""`zaspot reserve|reservations …` (reservations_cli), `zaspot firmware …` and
`zaspot logs …` (transfers_cli): through a running zaspot's API."""

from __future__ import annotations

from typing import Any

from zaspot.lifecycle import reservations_cli, transfers_cli


def configure(sub: Any) -> None:
    reservations_cli.configure(sub)
    transfers_cli.configure(sub)
