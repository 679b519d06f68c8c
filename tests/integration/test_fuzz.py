"""Property-based fuzzing of the OCPP endpoint: random and mutated frames of both versions.

Every frame gets the spec's answer (a CALLERROR with a known code and the right
message id, or a CALLRESULT when the mutation happened to be valid) or a clean
close (1007 invalid UTF-8, 1009 too big). The server never dies, a bystander
station never notices, and memory stays bounded.

CI runs a bounded number of examples; `ZASPOT_FUZZ_EXAMPLES=20000 pytest tests/integration/test_fuzz.py`
runs a long session on demand.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from zaspot.app import App
from zaspot.config import Config

# The sync client's connections live across examples, outside a with-block.
pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used as a context manager")

EXAMPLES = int(os.environ.get("ZASPOT_FUZZ_EXAMPLES", "150"))
ERROR_CODES = {
    "1.6": {"NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError", "FormationViolation",
            "PropertyConstraintViolation", "OccurenceConstraintViolation", "TypeConstraintViolation", "GenericError"},
    "2.0.1": {"FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported", "NotImplemented",
              "NotSupported", "OccurrenceConstraintViolation", "PropertyConstraintViolation", "ProtocolError",
              "RpcFrameworkError", "SecurityError", "TypeConstraintViolation"},
}
CLEAN_CLOSES = {1007, 1009}
MAX_FRAME = 64 * 1024

VALID_CALLS = {
    "1.6": [
        ["Heartbeat", {}],
        ["StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}],
        ["MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z",
                                                            "sampledValue": [{"value": "10", "measurand": "Temperature", "unit": "Celsius"}]}]}],
        ["StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-03-01T10:00:00Z"}],
        ["StopTransaction", {"transactionId": 1, "meterStop": 5, "timestamp": "2026-03-01T10:00:00Z"}],
        ["DataTransfer", {"vendorId": "v", "data": "d"}],
    ],
    "2.0.1": [
        ["Heartbeat", {}],
        ["StatusNotification", {"timestamp": "2026-03-01T10:00:00Z", "connectorStatus": "Faulted", "evseId": 1, "connectorId": 1}],
        ["TransactionEvent", {"eventType": "Updated", "timestamp": "2026-03-01T10:00:00Z", "triggerReason": "MeterValuePeriodic",
                              "seqNo": 3, "transactionInfo": {"transactionId": "fz"}, "evse": {"id": 1, "connectorId": 1}}],
        ["NotifyEvent", {"generatedAt": "2026-03-01T10:00:00Z", "seqNo": 0, "eventData": [{
            "eventId": 1, "timestamp": "2026-03-01T10:00:00Z", "trigger": "Alerting", "actualValue": "81",
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}, "variable": {"name": "Temperature"},
            "eventNotificationType": "HardWiredNotification"}]}],
        ["MeterValues", {"evseId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": 1.5}]}]}],
    ],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


def _mutate(frame: list[Any], data: st.DataObject) -> list[Any]:
    payload = frame[3]
    kind = data.draw(st.sampled_from(["drop", "retype", "extra", "action", "typeid", "id", "huge", "deep", "shape"]))
    if kind == "drop" and payload:
        payload.pop(data.draw(st.sampled_from(sorted(payload))))
    elif kind == "retype" and payload:
        payload[data.draw(st.sampled_from(sorted(payload)))] = data.draw(json_values)
    elif kind == "extra":
        payload[data.draw(st.text(min_size=1, max_size=8))] = data.draw(json_values)
    elif kind == "action":
        frame[2] = data.draw(st.text(max_size=40) | st.sampled_from(["Reset", "BootNotification", "GetVariables"]))
    elif kind == "typeid":
        frame[0] = data.draw(st.integers(-5, 10) | st.text(max_size=3))
    elif kind == "id":
        frame[1] = data.draw(st.text(max_size=60) | st.integers(-(2**63), 2**63 - 1) | st.none())
    elif kind == "huge":
        frame[3] = {"data": "x" * data.draw(st.integers(1000, 200_000))}
    elif kind == "deep":
        depth = data.draw(st.integers(50, 3000))
        frame[3] = {"a": orjson.Fragment(b"[" * depth + b"]" * depth)}
    elif kind == "shape":
        return frame[: data.draw(st.integers(0, 3))]
    return frame


frames = st.one_of(
    st.text(max_size=200).map(lambda t: ("text", t)),
    st.binary(max_size=200).map(lambda b: ("binary", b)),
    st.binary(min_size=1, max_size=50).map(lambda b: ("bad-utf8", b"\xff\xfe" + b)),
    json_values.map(lambda v: ("text", orjson.dumps(v).decode())),
)


class Server:
    """zaspot in a background thread, so hypothesis can drive it with sync clients."""

    def __init__(self, tmp_path) -> None:
        self.loop = asyncio.new_event_loop()
        config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "fuzz.db"), rules=str(tmp_path / "rules"))
        config.ocpp.ping_interval = 0
        config.ocpp.max_frame_bytes = MAX_FRAME
        self.app = App(config)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.app.start(), self.loop).result(20)
        self.url = f"ws://127.0.0.1:{self.app.server.port}/ocpp"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.app.stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Station:
    def __init__(self, url: str, station_id: str, version: str) -> None:
        self.url, self.station_id, self.version = url, station_id, version
        self.ws: Any = None

    def ensure(self) -> Any:
        if self.ws is None or self.ws.close_code is not None:
            self.ws = connect(f"{self.url}/{self.station_id}", subprotocols=[f"ocpp{self.version}"], max_size=None)
            boot = (["BootNotification", {"chargePointVendor": "F", "chargePointModel": "Z"}] if self.version == "1.6"
                    else ["BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "F", "model": "Z"}}])
            self.ws.send(orjson.dumps([2, "boot", *boot]).decode())
            assert orjson.loads(self.ws.recv(10))[0] == 3
        return self.ws

    def exchange(self, kind: str, data: str | bytes) -> tuple[str, Any]:
        """Send one frame, then a Heartbeat probe: what arrives before the probe's answer
        is the answer to the frame (none for a CALLRESULT / CALLERROR we sent)."""
        ws = self.ensure()
        try:
            ws.send(data, text=kind != "binary")
            ws.send('[2,"probe","Heartbeat",{}]')
            replies = []
            while True:
                msg = orjson.loads(ws.recv(10))
                if msg[0] == 3 and msg[1] == "probe":
                    return "replies", replies
                if msg[0] == 2:  # the server asking us something (e.g. inventory): decline
                    ws.send(orjson.dumps([4, msg[1], "NotSupported", "fuzzer", {}]).decode())
                    continue
                replies.append(msg)
        except ConnectionClosed:
            return "closed", ws.close_code


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("fuzz"))
    stations = {v: Station(server.url, f"FUZZ-{v}", v) for v in ("1.6", "2.0.1")}
    bystander = Station(server.url, "BYSTANDER", "2.0.1")
    yield server, stations, bystander
    server.stop()


def _check(version: str, sent: Any, outcome: tuple[str, Any]) -> None:
    kind, value = outcome
    if kind == "closed":
        assert value in CLEAN_CLOSES, f"unclean close {value}"
        return
    assert len(value) <= 1, value  # one answer per frame at most
    if not value:
        # Silence is right only for a CALLRESULT / CALLERROR (nothing answers those).
        assert isinstance(sent, list) and sent and sent[0] in (3, 4), sent
        return
    (reply,) = value
    assert isinstance(reply, list) and reply[0] in (3, 4), reply
    if reply[0] == 4:
        assert reply[2] in ERROR_CODES[version], reply
        sent_id = sent[1] if isinstance(sent, list) and len(sent) > 1 else None
        expected = sent_id if isinstance(sent_id, str) and 0 < len(sent_id) <= 36 else "-1"
        assert reply[1] in (expected, "-1"), (reply, sent_id)


def _parsed(kind: str, data: str | bytes) -> Any:
    if kind != "text":
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(version=st.sampled_from(["1.6", "2.0.1"]), raw=frames)
def test_random_frames_get_a_spec_answer_or_a_clean_close(fuzz_target, version, raw):
    _server, stations, bystander = fuzz_target
    kind, data = raw
    outcome = stations[version].exchange(kind, data)
    _check(version, _parsed(kind, data), outcome)
    assert bystander.exchange("text", '[2,"hb","Heartbeat",{}]')[1][0][0] == 3


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(version=st.sampled_from(["1.6", "2.0.1"]), data=st.data())
def test_mutated_valid_frames_get_a_spec_answer_or_a_clean_close(fuzz_target, version, data):
    _server, stations, bystander = fuzz_target
    action, payload = data.draw(st.sampled_from(VALID_CALLS[version]))
    frame = _mutate([2, "m-1", action, orjson.loads(orjson.dumps(payload))], data)
    text = orjson.dumps(frame).decode()
    outcome = stations[version].exchange("text", text)
    _check(version, frame, outcome)
    assert bystander.exchange("text", '[2,"hb","Heartbeat",{}]')[1][0][0] == 3


def test_memory_stays_bounded_under_a_burst_of_bad_frames(fuzz_target):
    server, stations, _ = fuzz_target
    station = stations["2.0.1"]
    garbage = ['{"not": "ocpp"', '[2, "x", "Nope", {}]', '[2, "y", "Heartbeat", {"z": ' + '1' * 5000 + '}]', "]" * 1000]
    for _ in range(50):  # warm up caches, validators, allocator pools
        for g in garbage:
            station.exchange("text", g)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(1000):
        for g in garbage:
            station.exchange("text", g)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"peak memory grew {grown_mb:.0f} MB over 4000 bad frames"
    assert server.app.ctx.metrics.frame_errors >= 2000
