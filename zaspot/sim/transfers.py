"""The simulated station's firmware updates and log uploads (both versions), registered in
zaspot.sim.features. It really downloads and uploads over HTTP, as a charger does.

UpdateFirmware: download the URL (its size checked against Content-Length), then
Downloading, Downloaded, Installing (2.0.1 and the signed 1.6 update: InstallRebooting),
a reboot that boots with the new version, and Installed. GetDiagnostics (1.6) POSTs a
generated log as multipart/form-data, GetLog (2.0.1, and 1.6's security extension) PUTs
it, with Uploading and Uploaded around it.

Knobs (`features=`):
- "firmware": "fail_download" (DownloadFailed), "fail_install" (InstallationFailed), or
  "reject" (2.0.1 Rejected; 1.6 has no refusal in its answer: a CALLERROR);
- "firmware_version": the version it boots with (default: from the file name, e.g.
  fw-2.1.0.bin -> 2.1.0);
- "logs": "fail" (UploadFailed / UploadFailure, nothing sent) or "reject" (2.0.1 Rejected,
  1.6 no fileName: nothing to upload).
`feature_state["firmware"]` and `feature_state["logs"]` keep what was downloaded and uploaded.
"""
from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from urllib.parse import quote, unquote, urlsplit

from .features import handles
from .rpc import NotImplementedAction

STEP = 0.05  # s between firmware and upload steps (a real station takes minutes)
_VERSION = re.compile(r"(\d+(?:\.\d+)+)")


# --- firmware ------------------------------------------------------------------------------


@handles("1.6", "UpdateFirmware")
async def on_update_firmware_16(proto, p):
    st = proto.st
    if st.features.get("firmware") == "reject":
        raise NotImplementedAction("UpdateFirmware")
    return {}, lambda: st.spawn(_install(st, p["location"], None, "FirmwareStatusNotification"))


@handles("1.6", "SignedUpdateFirmware")
async def on_signed_update_firmware_16(proto, p):
    st = proto.st
    if st.features.get("firmware") == "reject":
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: st.spawn(
        _install(st, p["firmware"]["location"], p["requestId"], "SignedFirmwareStatusNotification"))


@handles("2.0.1", "UpdateFirmware")
async def on_update_firmware_201(proto, p):
    st = proto.st
    if st.features.get("firmware") == "reject":
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: st.spawn(
        _install(st, p["firmware"]["location"], p["requestId"], "FirmwareStatusNotification"))


async def _install(st, location: str, request_id: int | None, action: str) -> None:
    async def say(status: str) -> None:
        await st.call(action, {"status": status} | ({"requestId": request_id} if request_id is not None else {}))

    knob = st.features.get("firmware")
    await say("Downloading")
    await asyncio.sleep(STEP)
    try:
        if knob == "fail_download":
            raise OSError("download failed (knob)")
        data = await asyncio.to_thread(_download, location)
    except (OSError, ValueError) as exc:
        st.errors.append(f"firmware download: {exc!r}")
        await say("DownloadFailed")
        return
    st.feature_state["firmware"] = {"location": location, "size": len(data)}
    await say("Downloaded")
    await asyncio.sleep(STEP)
    await say("Installing")
    await asyncio.sleep(STEP)
    if knob == "fail_install":
        await say("InstallationFailed")
        return
    if request_id is not None:
        await say("InstallRebooting")
    st.firmware = st.features.get("firmware_version") or version_of(location)
    boots = st.boot_count
    await st.reboot("Reboot", "FirmwareUpdate")
    while st.boot_count == boots:  # noqa: ASYNC110  (back, booted with the new version: no signal for it)
        await asyncio.sleep(STEP)
    await say("Installed")


def version_of(location: str) -> str:
    name = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
    match = _VERSION.search(name)
    return match.group(1) if match else (name.rsplit(".", 1)[0] or "unknown")[:50]


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        data = response.read()
        length = response.headers.get("Content-Length")
    if length is not None and int(length) != len(data):
        raise ValueError(f"got {len(data)} of {length} bytes")
    return data


# --- logs --------------------------------------------------------------------------------


@handles("1.6", "GetDiagnostics")
async def on_get_diagnostics(proto, p):
    st = proto.st
    if st.features.get("logs") == "reject":
        return {}, None  # no fileName: nothing to upload
    name = f"diagnostics-{st.station_id}-{_stamp()}.log"
    return {"fileName": name}, lambda: st.spawn(
        _upload(st, p["location"], name, None, "DiagnosticsStatusNotification"))


@handles("1.6", "GetLog")
@handles("2.0.1", "GetLog")
async def on_get_log(proto, p):
    st = proto.st
    if st.features.get("logs") == "reject":
        return {"status": "Rejected"}, None
    kind = "security" if p["logType"] == "SecurityLog" else "diagnostics"
    name = f"{kind}-{st.station_id}-{_stamp()}.log"
    return {"status": "Accepted", "filename": name}, lambda: st.spawn(
        _upload(st, p["log"]["remoteLocation"], name, p["requestId"], "LogStatusNotification"))


async def _upload(st, location: str, name: str, request_id: int | None, action: str) -> None:
    async def say(status: str) -> None:
        await st.call(action, {"status": status} | ({"requestId": request_id} if request_id is not None else {}))

    failed = "UploadFailed" if action == "DiagnosticsStatusNotification" else "UploadFailure"
    await say("Uploading")
    await asyncio.sleep(STEP)
    body = log_text(st).encode()
    try:
        if st.features.get("logs") == "fail":
            raise OSError("upload failed (knob)")
        if st.protocol == "1.6":
            await asyncio.to_thread(_post_multipart, location, name, body)  # as 1.6 chargers do
        else:
            await asyncio.to_thread(_put, location.rstrip("/") + "/" + quote(name), body)
    except (OSError, ValueError) as exc:
        st.errors.append(f"log upload: {exc!r}")
        await say(failed)
        return
    st.feature_state.setdefault("logs", []).append({"name": name, "size": len(body)})
    await say("Uploaded")


def log_text(st) -> str:
    lines = [f"{_stamp()} {st.station_id} {st.vendor} {st.model} firmware {st.firmware}",
             f"boots {st.boot_count}, availability {st.availability}"]
    lines += [f"connector {c.connector_id}: {c.status} {c.error_code or 'NoError'}" for c in st.connectors.values()]
    return "\n".join(lines) + "\n"


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _post_multipart(url: str, name: str, body: bytes) -> None:
    boundary = "----zaspot-sim-" + str(time.monotonic_ns())
    data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    _send(url, "POST", data, f"multipart/form-data; boundary={boundary}")


def _put(url: str, body: bytes) -> None:
    _send(url, "PUT", body, "text/plain")


def _send(url: str, method: str, data: bytes, content_type: str) -> None:
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
