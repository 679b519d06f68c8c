"""The HTTP file endpoint, over real sockets: a firmware file added through its one-time
link and served to a station's URL (GET, HEAD, Range), log uploads raw and multipart
(chunked too), and the refusals: a bad or finished token, a wrong method, a body too large,
a file that is not the one announced; the port it takes, and HTTPS with a `tls:` section."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.certs import make_ca, make_cert
from tests.helpers import OcppClient
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import Config, TlsConfig


async def start_with_files(tmp_path: Path, ocpp_port: int = 0, **files: Any) -> Any:
    """A real in-process zaspot whose files live under tmp_path; `app.url`, `app.files_url`."""
    config = Config(host="127.0.0.1", port=ocpp_port, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.files.host = "127.0.0.1"
    config.files.dir = str(tmp_path / "files")
    for key, value in files.items():
        setattr(config.files, key, value)
    app = App(config)
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    app.files_url = f"http://127.0.0.1:{app.ctx.files.port}"
    return app


def request(url: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (http.client: exact methods and headers, no redirects)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, parts.path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


async def fetch(*args: Any, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    return await asyncio.to_thread(request, *args, **kwargs)


async def add_firmware(app: Any, name: str, data: bytes) -> None:
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        link = await client.command("firmware/add", name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    status, _, body = await fetch(link["upload_url"], "PUT", data)
    assert status == 200, body


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    app = await start_with_files(tmp_path, max_upload_mb=1)
    yield app
    await app.stop()


async def test_unknown_paths_tokens_and_methods_are_refused_in_one_line(app: Any) -> None:
    status, _, body = await fetch(f"{app.files_url}/firmware/no-such-token/fw.bin")
    assert (status, body) == (404, b"unknown or finished token\n")
    status, _, body = await fetch(f"{app.files_url}/logs/no-such-token", "PUT", b"log")
    assert (status, body) == (404, b"unknown or finished token\n")
    status, headers, body = await fetch(f"{app.files_url}/firmware/x/fw.bin", "POST", b"x")
    assert status == 405 and headers["allow"] == "GET, HEAD" and body.count(b"\n") == 1
    status, headers, _ = await fetch(f"{app.files_url}/logs/x", "GET")
    assert status == 405 and headers["allow"] == "PUT, POST"
    status, _, body = await fetch(f"{app.files_url}/etc/passwd")
    assert status == 404 and body.startswith(b"no such path")


async def test_a_firmware_file_is_checked_on_upload_and_served_to_its_update_only(app: Any, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    async with ZaspotClient(f"{app.url}/api/websocket") as client:
        link = await client.command("firmware/add", name="fw-1.2.bin", size=len(data), sha256="0" * 64)
        status, _, body = await fetch(link["upload_url"], "PUT", data)
        assert status == 409 and b"expected" in body  # not the file that was announced
        assert await client.command("firmware/list") == []
        status, _, _ = await fetch(link["upload_url"], "PUT", data)
        assert status == 404  # a link is good for one upload
        await add_firmware(app, "fw-1.2.bin", data)
        [listed] = await client.command("firmware/list")
        assert (listed["size"], listed["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        assert (tmp_path / "files" / "firmware" / "fw-1.2.bin").read_bytes() == data

        station = await OcppClient.connect(app.url, "FILES-1", "1.6")
        await station.boot()
        await client.command("firmware/update", station_ids=["FILES-1"], firmware="fw-1.2.bin")
        call = await _next_call(station, "UpdateFirmware")
        location = call[3]["location"]
        assert location.startswith(f"{app.files_url}/firmware/") and location.endswith("/fw-1.2.bin")
        status, headers, body = await fetch(location)
        assert (status, headers["content-length"], body) == (200, str(len(data)), data)
        status, headers, body = await fetch(location, "HEAD")
        assert (status, headers["content-length"], body) == (200, str(len(data)), b"")
        status, headers, body = await fetch(location, headers={"Range": "bytes=100-"})  # a resumed download
        assert (status, headers["content-range"], body) == (206, f"bytes 100-{len(data) - 1}/{len(data)}", data[100:])
        await station.close()


async def test_logs_arrive_raw_multipart_and_chunked_within_the_size_limit(app: Any, tmp_path: Path) -> None:
    tokens = [await _log_request(app, f"LOGS-{i}") for i in range(4)]
    status, _, body = await fetch(f"{app.files_url}/logs/{tokens[0]}/raw.log", "PUT", b"raw log\n")
    assert (status, body) == (200, b"stored raw.log (8 bytes)\n")
    multipart = (b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nnot the file\r\n"
                 b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"diag.tar.gz\"\r\n"
                 b"Content-Type: application/gzip\r\n\r\n\x1f\x8b binary\r\n\r\n--XyZ--\r\n")
    status, _, body = await fetch(f"{app.files_url}/logs/{tokens[1]}", "POST", multipart,
                                  {"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert (status, body) == (200, b"stored diag.tar.gz (11 bytes)\n")
    status, _, _ = await asyncio.to_thread(_chunked_put, f"{app.files_url}/logs/{tokens[2]}/big.log", [b"a" * 5000] * 3)
    assert status == 200
    status, _, body = await fetch(f"{app.files_url}/logs/{tokens[3]}", "PUT", b"x" * (1024 * 1024 + 1))
    assert status == 413 and b"too large" in body
    status, _, _ = await fetch(f"{app.files_url}/logs/{tokens[0]}/again.log", "PUT", b"again")
    assert status == 404  # its file is here: the token is finished

    stored = {u["station_id"]: u for u in await app.ctx.logs.list()}
    assert (stored["LOGS-0"]["status"], stored["LOGS-0"]["filename"], stored["LOGS-0"]["size"]) == ("Uploaded", "raw.log", 8)
    assert (stored["LOGS-1"]["filename"], stored["LOGS-1"]["size"]) == ("diag.tar.gz", 11)
    assert stored["LOGS-2"]["size"] == 15000 and stored["LOGS-3"]["status"] != "Uploaded"
    one = stored["LOGS-1"]
    assert (tmp_path / "files" / "logs" / "LOGS-1" / f"{one['id']}-diag.tar.gz").read_bytes() == b"\x1f\x8b binary\r\n"
    assert not list((tmp_path / "files" / "logs").rglob(".upload-*"))  # no temporary file left behind


async def _next_call(station: OcppClient, action: str) -> list[Any]:
    """The server's next `action` CALL, answered; other CALLs get NotSupported."""
    import orjson

    while True:
        frame = orjson.loads(await asyncio.wait_for(station.ws.recv(), 10))
        if frame[0] == 2 and frame[2] == action:
            answer = {} if station.ws.subprotocol == "ocpp1.6" and action != "GetLog" else {"status": "Accepted"}
            await station.ws.send(orjson.dumps([3, frame[1], answer]).decode())
            return frame
        if frame[0] == 2:
            await station.ws.send(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())


async def _log_request(app: Any, station_id: str) -> str:
    """A log request of a (raw, 2.0.1) station; returns its upload token."""
    station = await OcppClient.connect(app.url, station_id, "2.0.1")
    await station.boot()
    task = asyncio.create_task(app.ctx.logs.fetch(station_id))
    call = await _next_call(station, "GetLog")
    await task
    await station.close()
    return call[3]["log"]["remoteLocation"].rsplit("/", 1)[-1]


def _chunked_put(url: str, chunks: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = f"PUT {parts.path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n")
        reply = b""
        while data := sock.recv(65536):
            reply += data
    status = int(reply.split(b" ", 2)[1])
    return status, {}, reply.split(b"\r\n\r\n", 1)[1]


async def test_the_port_is_the_ocpp_port_plus_one_or_any_free_one_and_a_taken_one_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the OCPP port + 1 is someone else's
        taken.bind(("127.0.0.1", 0))
        ocpp_port = taken.getsockname()[1] - 1
        try:
            app = await start_with_files(tmp_path, ocpp_port=ocpp_port, port=None)
        except OSError:
            pytest.skip("the port below a free one is taken too")
        try:
            assert app.ctx.files.port not in (ocpp_port, ocpp_port + 1)
            status, _, _ = await fetch(f"{app.files_url}/firmware/x/y")
            assert status == 404
        finally:
            await app.stop()
        with pytest.raises(OSError) as refused:
            await start_with_files(tmp_path / "second", port=taken.getsockname()[1])
        assert f"file endpoint 127.0.0.1:{taken.getsockname()[1]}" in str(refused.value)


async def test_with_tls_stations_are_told_https_and_it_serves_it(tmp_path: Path) -> None:
    ca = make_ca(tmp_path, "ca")
    cert, key = make_cert(tmp_path, "server", "127.0.0.1", ca, server=True)
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"),
                    tls=TlsConfig(str(cert), str(key)))
    config.ocpp.ping_interval = 0
    config.files.host, config.files.dir = "127.0.0.1", str(tmp_path / "files")
    app = App(config)
    await app.start()
    try:
        files = app.ctx.files
        assert files.url(("127.0.0.1", 1), "/x") == f"https://127.0.0.1:{files.port}/x"
        context = ssl.create_default_context(cafile=str(ca[0]))

        def get() -> int:
            try:
                urllib.request.urlopen(f"https://127.0.0.1:{files.port}/logs/none", context=context, timeout=10)
            except urllib.error.HTTPError as exc:
                return exc.code
            return 200

        assert await asyncio.to_thread(get) == 405  # a real answer, over TLS with the server's certificate
    finally:
        await app.stop()
