"""`zaspot report …` and `zaspot maintenance …`: through a running zaspot's API. SKELETON, #19 part 2."""

from __future__ import annotations

from typing import Any


def configure(sub: Any) -> None:
    pass
