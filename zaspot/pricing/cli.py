"""`zaspot prices`, `zaspot sessions …`, `zaspot session plan …`: through a running zaspot's API."""

from __future__ import annotations

from typing import Any

from zaspot.pricing import plan_cli, prices_cli, sessions_cli


def configure(sub: Any) -> None:
    prices_cli.configure(sub)
    sessions_cli.configure(sub)
    plan_cli.configure(sub)
