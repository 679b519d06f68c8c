"""The webhook notifier against a real local HTTP server (http.server in a thread)."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zaspot.config import NotifyPolicy
from zaspot.notify import Notification
from zaspot.notify.manager import NotifyManager
from zaspot.notify.webhook import WebhookConfig, WebhookError, WebhookNotifier


class HookServer:
    """Records every POST (path, headers, JSON body) and answers with the next scripted status."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: queue.Queue[dict[str, Any]] = queue.Queue()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = server.statuses.pop(0) if server.statuses else 200
                server.requests.put({"path": self.path, "headers": dict(self.headers),
                                     "body": json.loads(body), "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> HookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next(self, timeout: float = 15) -> dict[str, Any]:
        return self.requests.get(timeout=timeout)

    async def anext(self, timeout: float = 15) -> dict[str, Any]:
        return await asyncio.to_thread(self.requests.get, timeout=timeout)


async def test_a_500_is_retried_and_the_notification_arrives() -> None:
    with HookServer(statuses=[500, 200]) as hook:
        notifier = WebhookNotifier(WebhookConfig(url=f"{hook.url}/hooks/ops?token=s3cret", retries=2, backoff=0.01,
                                                 headers={"Authorization": "Bearer xyz"}))
        await notifier.send(Notification("CP-1 connector at 82 °C", title="Overheat", key="CP-1:overheat"))
        first, second = hook.requests.get_nowait(), hook.requests.get_nowait()
    assert (first["answered"], second["answered"]) == (500, 200)
    assert first["body"] == second["body"]
    assert second["path"] == "/hooks/ops?token=s3cret"
    assert second["headers"]["Authorization"] == "Bearer xyz"
    assert second["headers"]["Content-Type"] == "application/json"
    assert second["body"]["message"] == "CP-1 connector at 82 °C" and second["body"]["title"] == "Overheat"


async def test_a_client_error_is_not_retried() -> None:
    with HookServer(statuses=[400]) as hook:
        notifier = WebhookNotifier(WebhookConfig(url=hook.url, retries=3, backoff=0))
        with pytest.raises(WebhookError, match=r"after 1 attempt.*HTTP 400"):
            await notifier.send(Notification("hello"))
        assert hook.requests.qsize() == 1


async def test_an_unreachable_hook_gives_up_after_its_retries_without_leaking_the_path() -> None:
    with HookServer() as hook:
        url = hook.url
    notifier = WebhookNotifier(WebhookConfig(url=f"{url}/secret-token-path", retries=2, backoff=0))
    with pytest.raises(WebhookError) as err:
        await notifier.send(Notification("hello"))
    assert "after 3 attempt(s)" in str(err.value) and "secret-token-path" not in str(err.value)


async def test_a_failing_webhook_does_not_hold_up_the_next_notification() -> None:
    with HookServer(statuses=[500, 500, 200]) as hook:
        manager = NotifyManager(NotifyPolicy())
        manager.add("ops", WebhookNotifier(WebhookConfig(url=hook.url, retries=1, backoff=0)))
        manager.start()
        manager.submit(Notification("first"))
        manager.submit(Notification("second"))
        await manager.drain()
        stats = manager.stats()["notifiers"]["ops"]
        await manager.close()
    assert (stats["failed"], stats["delivered"]) == (1, 1)
    bodies = [hook.requests.get_nowait()["body"]["message"] for _ in range(3)]
    assert bodies == ["first", "first", "second"]


def test_a_bad_url_is_refused_when_the_notifier_is_built() -> None:
    with pytest.raises(ValueError, match="expected http"):
        WebhookNotifier(WebhookConfig(url="ftp://example.com/x"))
