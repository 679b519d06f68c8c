"""Outbound HTTP for the webhook notifier, the `http_json` sensor and the price sources,
through httpx: redirects followed (at most 5), proxies from the environment (HTTP_PROXY,
HTTPS_PROXY, ALL_PROXY, NO_PROXY), certificates checked against the system's store (or
SSL_CERT_FILE / SSL_CERT_DIR), one deadline per request.

Each notifier, sensor or source holds one `HttpClient` and closes it at stop; the httpx
client behind it (its connection pool and its one SSL context) is built on first use, in a
worker thread, so the event loop never waits while certificates load. Every failure is an
OSError (TimeoutError for a deadline) with a one-line message that names the host only:
a webhook's path and a price feed's query often hold a secret token.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from zaspot import __version__

MAX_REDIRECTS = 5
MAX_BODY = 16 * 1024 * 1024  # bytes: a meter answer is tiny, two days of ENTSO-E XML ~100 kB
_SNIPPET = 80  # characters of an unexpected body shown in a message


class HttpError(OSError):
    """The request failed: unreachable, refused, an HTTP error status, a body too big."""


class HttpTimeout(TimeoutError):
    """No whole answer within the deadline (TimeoutError is an OSError too)."""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url: expected http://host/… or https://host/…, got {url!r}")


def safe_url(url: str) -> str:
    """scheme://host[:port]: what messages and logs show of a URL (no path, query or password)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def snippet(body: bytes | str) -> str:
    """The start of a body as one quoted line (newlines escaped)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text.strip()
    return repr(text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else ""))


@dataclass(frozen=True, slots=True)
class Answer:
    url: str  # the final URL, after redirects
    status: int
    reason: str
    content_type: str
    body: bytes
    encoding: str | None = None  # the charset the server named

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")

    def problem(self) -> str:
        """`HTTP 500 Internal Server Error: 'the body's start'` (the body only when there is one)."""
        line = f"HTTP {self.status} {self.reason}".rstrip()
        return f"{line}: {snippet(self.body)}" if self.body.strip() else line

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            kind = self.content_type or "no content type"
            raise ValueError(f"{safe_url(self.url)} answered {kind}, not JSON: {snippet(self.body)}") from None


class HttpClient:
    """One owner's connection pool. `await get(...)` / `await post(...)`; `await aclose()` at stop."""

    def __init__(self, timeout: float, *, max_body: int = MAX_BODY) -> None:
        self.timeout, self.max_body = timeout, max_body
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._building: asyncio.Future[httpx.AsyncClient] | None = None

    async def get(self, url: str, *, accept: str = "*/*", headers: Mapping[str, str] | None = None,
                  timeout: float | None = None) -> Answer:
        """GET `url`; an answer other than 2xx raises HttpError with its status and body."""
        answer = await self.request("GET", url, headers={"Accept": accept, **(headers or {})}, timeout=timeout)
        if not answer.ok:
            raise HttpError(f"{safe_url(url)}: {answer.problem()}")
        return answer

    async def post(self, url: str, body: bytes, *, headers: Mapping[str, str] | None = None,
                   timeout: float | None = None) -> Answer:
        """POST a JSON `body`; the answer whatever its status (the caller decides what to retry)."""
        return await self.request("POST", url, content=body, timeout=timeout,
                                  headers={"Content-Type": "application/json", **(headers or {})})

    async def request(self, method: str, url: str, *, headers: Mapping[str, str], content: bytes | None = None,
                      timeout: float | None = None) -> Answer:
        check_url(url)
        deadline = self.timeout if timeout is None else timeout
        client = await self._get_client()
        try:
            async with asyncio.timeout(deadline):  # the whole exchange, redirects included
                async with client.stream(method, url, headers=headers, content=content,
                                         timeout=deadline) as response:
                    body = await self._read(response, url)
        except (TimeoutError, httpx.TimeoutException):
            raise HttpTimeout(f"{safe_url(url)}: no answer within {deadline:g} s") from None
        except httpx.TooManyRedirects:
            raise HttpError(f"{safe_url(url)}: more than {MAX_REDIRECTS} redirects") from None
        except httpx.HTTPError as exc:
            raise HttpError(f"{safe_url(url)}: {_describe(exc, url)}") from None
        return Answer(str(response.url), response.status_code, response.reason_phrase,
                      response.headers.get("content-type", ""), body, response.charset_encoding)

    async def _read(self, response: httpx.Response, url: str) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body:
                raise HttpError(f"{safe_url(url)}: the answer is larger than {self.max_body // 1024} kB")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _get_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is loop:
            return self._client
        if self._building is None or self._loop is not loop:  # a pool is bound to the loop it ran on
            self._loop, self._client = loop, None
            self._building = loop.create_future()
            try:
                client = await asyncio.to_thread(_new_client, self.timeout)
            except BaseException as exc:
                self._building.set_exception(exc)
                self._building.exception()  # retrieved: the waiters (if any) get it, no warning
                self._building = None
                raise
            self._client = client
            self._building.set_result(client)
            return client
        return await asyncio.shield(self._building)

    async def aclose(self) -> None:
        client, self._client, self._building = self._client, None, None
        if client is not None:
            await client.aclose()


def _new_client(timeout: float) -> httpx.AsyncClient:
    # The system's store, as the ssl module and curl use it (SSL_CERT_FILE / SSL_CERT_DIR honoured).
    verify = ssl.create_default_context()
    return httpx.AsyncClient(verify=verify, trust_env=True, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                             timeout=timeout, headers={"User-Agent": f"zaspot/{__version__}"})


def _describe(exc: httpx.HTTPError, url: str) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(exc) or (str(cause) if cause else "") or type(exc).__name__
    if isinstance(exc, httpx.ProxyError):
        text = f"proxy: {text}"
    return " ".join(text.replace(url, safe_url(url)).split())  # one line, no path or query
