"""The HTTP file endpoint: stations download firmware from it and upload their logs to it.

A listener of its own (websockets' HTTP parser takes GET only), HTTP/1.1 through h11, a
sans-IO parser that gets right what chargers send: chunked uploads, `Expect:
100-continue`, keep-alive, HEAD. Every path is `/<kind>/<token>[/<name>]`; the feature
that registered the kind says what a token means:

    GET|HEAD /firmware/<token>/<name>    a firmware file (Content-Length, single Range)
    PUT|POST /logs/<token>[/<filename>]  a station's log: raw body or multipart/form-data

An unknown or finished token gets 404 and a wrong method 405, each with a one-line body.
An upload is written to a temporary file beside its final place, up to the size limit
(413 past it), and handed over whole; the feature renames it into place.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import h11

_LOGGER = logging.getLogger(__name__)

CHUNK = 64 * 1024
READ_TIMEOUT = 60.0  # s a peer may stay silent mid-request (or idle between requests)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    who: str = ""  # for the log line: the station


@dataclass(frozen=True, slots=True)
class Received:
    """An upload's body, whole, in a temporary file (the feature moves or deletes it)."""

    path: Path
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Upload:
    directory: Path  # the temporary file goes here: the final rename stays on one file system
    finish: Callable[[Received], Awaitable[str]]  # stores it; returns the one-line answer
    who: str = ""


class Refused(Exception):
    """An upload the feature will not keep (a bad multipart body, a wrong checksum)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


Resolver = Callable[[str, str, str | None], Awaitable[Download | Upload | None]]  # (method, token, name)


@dataclass(frozen=True, slots=True)
class _Route:
    methods: tuple[str, ...]
    resolve: Resolver


class FileEndpoint:
    def __init__(self, max_upload: int, tls: ssl.SSLContext | None = None, public_url: str = "") -> None:
        self.max_upload = max_upload
        self.tls = tls
        self.public_url = public_url.rstrip("/")
        self._routes: dict[str, _Route] = {}
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def url(self, local_address: Any, path: str) -> str:
        """The URL of `path` for a peer that reached us at `local_address` (its socket's own
        end: an address the peer can reach), or under files.public_url when that is set."""
        if self.public_url:
            return self.public_url + path
        host = local_address[0] if local_address else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, kind: str, methods: tuple[str, ...], resolve: Resolver) -> None:
        self._routes[kind] = _Route(methods, resolve)

    async def start(self, host: str, port: int) -> None:
        try:
            self._server = await asyncio.start_server(self._client, host, port, ssl=self.tls)
        except OSError as exc:
            raise OSError(exc.errno, f"file endpoint {host}:{port}: {exc.strerror or exc}") from None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()

    # --- one connection ---------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        peer = writer.get_extra_info("peername")
        http = _Http(h11.Connection(h11.SERVER), reader, writer, peer[0] if peer else "")
        try:
            while True:
                event = await http.next_event()
                if not isinstance(event, h11.Request):
                    break
                http.method = event.method.decode("ascii", "replace")
                await self._request(http, event)
                if http.conn.our_state is not h11.DONE or not http.body_done():
                    break  # keep-alive only when both sides are through
                http.conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            await http.try_text(exc.error_status_hint, f"bad request: {exc}")
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except Exception:  # our bug or a store failure: this request fails, the endpoint goes on
            _LOGGER.exception("files: a request from %s failed", http.peer)
            await http.try_text(500, "the request could not be handled")
        finally:
            self._clients.discard(task)
            writer.close()

    async def _request(self, http: _Http, request: h11.Request) -> None:
        method = http.method
        segments = [unquote(s) for s in urlsplit(request.target.decode("ascii", "replace")).path.split("/") if s]
        route = self._routes.get(segments[0]) if segments else None
        shown = "/".join(segments[:1] + ["…"] * bool(segments[1:]))  # never log a token
        if route is None:
            await http.text(404, f"no such path: /{segments[0] if segments else ''} "
                                 f"(firmware is under /firmware/, logs go to /logs/)")
            return
        if method not in route.methods:
            await http.text(405, f"{method} is not allowed here; use {' or '.join(route.methods)}",
                            [("Allow", ", ".join(route.methods))])
            return
        target = await route.resolve(method, segments[1], segments[-1] if len(segments) > 2 else None) \
            if len(segments) > 1 else None
        if target is None:
            _LOGGER.info("files: %s /%s from %s: unknown or finished token", method, shown, http.peer)
            await http.text(404, "unknown or finished token")
        elif isinstance(target, Download):
            await self._download(http, method, request, target)
        else:
            await self._upload(http, request, target)

    async def _download(self, http: _Http, method: str, request: h11.Request, target: Download) -> None:
        try:
            file = open(target.path, "rb")  # noqa: ASYNC230, SIM115  (closed by `with` below; as short as a chunk read)
        except OSError:
            await http.text(404, f"{target.path.name} is gone from the server")
            return
        with file:
            size = os.fstat(file.fileno()).st_size
            span = _byte_range(_header(request, b"range"), size)
            if span is None:
                await http.text(416, f"the file has {size} bytes", [("Content-Range", f"bytes */{size}")])
                return
            start, end = span
            headers = [("Content-Type", "application/octet-stream"), ("Content-Length", str(end - start)),
                       ("Accept-Ranges", "bytes")]
            status = 200
            if (start, end) != (0, size):
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
            await http.send(h11.Response(status_code=status, headers=headers))
            if method == "GET":
                file.seek(start)
                left = end - start
                while left > 0:  # page-cache reads of a chunk: short enough for the loop
                    data = file.read(min(CHUNK, left))
                    if not data:
                        raise ConnectionError("the file shrank while it was sent")
                    left -= len(data)
                    await http.send(h11.Data(data=data))
            await http.send(h11.EndOfMessage())
        _LOGGER.info("files: %s %s %s (%d bytes) from %s", target.who, method, target.path.name, end - start,
                     http.peer)

    async def _upload(self, http: _Http, request: h11.Request, target: Upload) -> None:
        declared = _header(request, b"content-length")
        if declared.isdigit() and int(declared) > self.max_upload:
            await http.text(413, f"too large: at most {self.max_upload} bytes")
            return
        target.directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.directory, prefix=".upload-")
        tmp = Path(name)
        try:
            size, digest = await self._receive(http, fd)
            if size is None:
                await http.text(413, f"too large: at most {self.max_upload} bytes")
                return
            received = Received(tmp, size, digest, _header(request, b"content-type"))
            try:
                answer = await target.finish(received)
                status = 200
            except Refused as exc:
                status, answer = exc.status, exc.text
            await http.text(status, answer)
            _LOGGER.info("files: %s uploaded %d bytes from %s: %d %s", target.who, size, http.peer, status, answer)
        finally:
            tmp.unlink(missing_ok=True)  # noqa: ASYNC240  (one local unlink, as short as a chunk write)

    async def _receive(self, http: _Http, fd: int) -> tuple[int | None, str]:
        """The body into `fd` (disk writes of a chunk: short enough for the loop);
        (None, "") when it passes the size limit."""
        if http.conn.they_are_waiting_for_100_continue:
            await http.send(h11.InformationalResponse(status_code=100, headers=[]))
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while True:
                event = await http.next_event()
                if isinstance(event, h11.EndOfMessage):
                    return size, digest.hexdigest()
                if not isinstance(event, h11.Data):
                    raise ConnectionError("the upload ended before its body did")
                size += len(event.data)
                if size > self.max_upload:
                    return None, ""
                digest.update(event.data)
                out.write(event.data)


class _Http:
    """One connection's h11 state and its stream."""

    def __init__(self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 peer: str) -> None:
        self.conn, self.reader, self.writer, self.peer = conn, reader, writer, peer
        self.method = ""  # of the request being answered

    async def next_event(self) -> Any:
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await asyncio.wait_for(self.reader.read(CHUNK), READ_TIMEOUT)
            self.conn.receive_data(data)  # b"": the peer closed its side

    async def send(self, event: Any) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()

    def body_done(self) -> bool:
        """Whether the request's body is all read, reading what is already here (a GET's
        end of message, the rest of a refused upload); False: some is still on its way."""
        while self.conn.their_state is h11.SEND_BODY:
            event = self.conn.next_event()
            if event is h11.NEED_DATA or not isinstance(event, (h11.Data, h11.EndOfMessage)):
                return False
        return self.conn.their_state is h11.DONE

    async def text(self, status: int, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        """A one-line answer; the connection closes after it when a request body is left unread."""
        body = (text + "\n").encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        if not self.body_done():
            headers.append(("Connection", "close"))
        await self.send(h11.Response(status_code=status, headers=headers + (extra or [])))
        if self.method != "HEAD":  # a HEAD answer has the headers only
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def try_text(self, status: int, text: str) -> None:
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                await self.text(status, text)
            except (h11.LocalProtocolError, ConnectionError):
                pass


def _header(request: h11.Request, name: bytes) -> str:
    for key, value in request.headers:
        if key == name:
            return value.decode("latin-1").strip()
    return ""


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) to send: the whole file, or one `Range: bytes=a-b` (stations resume
    downloads this way); None when the range lies past the end."""
    match = _RANGE.match(header.replace(" ", ""))
    if not header or match is None or not (match[1] or match[2]):
        return 0, size  # no range, or one we do not serve (several): the whole file
    if not match[1]:  # the last N bytes
        return max(size - int(match[2]), 0), size
    start = int(match[1])
    end = min(int(match[2]) + 1, size) if match[2] else size
    return (start, end) if start < size and start < end else None
