"""`platform: webhook` — each notification as a JSON POST, retried with backoff.

    notify:
      - platform: webhook
        name: ops
        url: https://hooks.example.com/zaspot
        timeout: 5          # seconds per attempt (1 to 300)
        retries: 3          # after the first attempt (0 to 10); on 5xx, 429, timeouts and refused connections
        # redirects are followed (at most 5); HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured
        backoff: 1          # seconds before the first retry, doubling after each (0 to 600)
        headers: {Authorization: Bearer xyz}
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Annotated

import orjson

from zaspot.core.http_client import HttpClient, check_url, safe_url
from zaspot.notify.base import Notification
from zaspot.ranges import Invalid, Range

_LOGGER = logging.getLogger("zaspot.notify.webhook")


@dataclass
class WebhookConfig:
    url: str
    timeout: Annotated[float, Range(1, 300)] = 10.0
    retries: Annotated[int, Range(0, 10)] = 3
    backoff: Annotated[float, Range(0, 600)] = 1.0
    headers: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        try:
            check_url(self.url)
        except ValueError as exc:
            raise Invalid("url", str(exc).removeprefix("url: ")) from None


class WebhookError(Exception):
    pass


class WebhookNotifier:
    def __init__(self, config: WebhookConfig) -> None:
        check_url(config.url)
        if config.retries < 0 or config.timeout <= 0 or config.backoff < 0:
            raise ValueError("retries and backoff must be >= 0 and timeout > 0")
        self.config = config
        self.attempts = 0
        self.http = HttpClient(config.timeout)  # one connection pool, closed at stop

    async def send(self, notification: Notification) -> None:
        cfg = self.config
        body = orjson.dumps(notification.to_dict())
        problem, tried = "", 0
        for attempt in range(cfg.retries + 1):
            if attempt:
                await asyncio.sleep(cfg.backoff * 2 ** (attempt - 1))
            self.attempts += 1
            tried += 1
            try:
                answer = await self.http.post(cfg.url, body, headers=cfg.headers)
            except OSError as exc:  # unreachable, refused, timed out (HttpTimeout is a TimeoutError)
                problem = str(exc).removeprefix(f"{safe_url(cfg.url)}: ") or type(exc).__name__
            else:
                if answer.ok:
                    return
                problem = answer.problem()
                if answer.status < 500 and answer.status != 429:  # our request is wrong; retrying won't help
                    break
            _LOGGER.info("webhook %s attempt %d failed: %s", safe_url(cfg.url), attempt + 1, problem)
        raise WebhookError(f"{safe_url(cfg.url)}: not delivered after {tried} attempt(s): {problem}")

    async def close(self) -> None:
        await self.http.aclose()
