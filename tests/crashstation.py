"""A station that writes transactions flat out and survives its central system dying.

Used by tests/integration/test_crash_kill.py. Each station keeps one CALL outstanding
(the OCPP rule). A message counts as acknowledged only once its CALLRESULT arrived; a
message whose connection dropped before the answer is resent, unchanged, on the next
connection (with a new message id, as real stations do). The station boots once, on its
very first connection, and never again: after a drop it just carries on.

Every sampled value is unique (station, message and sample index are encoded in the
number) and every timestamp is explicit, so a test can find each one in SQLite.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake

# One meterValue entry: (measurand, phase, unit); 8 sampled values each.
SAMPLES: list[tuple[str, str | None, str]] = [
    ("Energy.Active.Import.Register", None, "Wh"),
    ("Power.Active.Import", None, "W"),
    ("Current.Import", "L1", "A"),
    ("Current.Import", "L2", "A"),
    ("Current.Import", "L3", "A"),
    ("Voltage", "L1-N", "V"),
    ("Voltage", "L2-N", "V"),
    ("Voltage", "L3-N", "V"),
]

Step = tuple[str, dict[str, Any]]  # (action, payload)


@dataclass
class Acked:
    """A message whose CALLRESULT arrived: its content is owed to the database."""

    action: str
    payload: dict[str, Any]
    answer: dict[str, Any]
    sends: int  # 1: answered the first time; more: resent after a drop or a CALLERROR


@dataclass
class CrashStation:
    url: str
    index: int  # unique across the fleet: goes into every value
    version: str  # "1.6" | "2.0.1"
    meter_updates: int = 3  # MeterValues (1.6) / Updated events (2.0.1) per transaction
    entries: int = 2  # meterValue entries per message (3 in a StopTransaction's transactionData)
    answer_timeout: float = 15.0  # no answer this long on a live connection: drop it and resend

    acked: list[Acked] = field(default_factory=list)
    call_errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, code)
    error_log: list[str] = field(default_factory=list)
    connects: int = 0
    resends: int = 0  # messages sent again after a drop or a CALLERROR
    stalls: int = 0  # answers that never came on a live connection
    stopping: bool = False

    def __post_init__(self) -> None:
        self.id = f"CRASH{self.version.replace('.', '')}-{self.index:02d}"
        self._message = 0  # per built message: goes into its values
        self._frame = 0  # per frame sent: the message id
        # The station's clock: starts an hour ago and moves 101 ms per stamp, so that
        # every timestamp is distinct and recent (retention keeps raw samples for days).
        self._clock_ms = (int(time.time()) - 3600) * 1000
        self._script = self._script_v16() if self.version == "1.6" else self._script_v201()
        self._rng = random.Random(self.index)
        self.outstanding: Step | None = None  # sent (maybe more than once), not yet acknowledged
        self._sends = 0  # how many times the outstanding message went out

    # --- what the station says --------------------------------------------------

    def _stamp(self) -> str:
        self._clock_ms += 101
        moment = datetime.fromtimestamp(self._clock_ms / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _value(self, sample: int) -> int:
        """Unique in the whole run: station, message counter and sample index."""
        return (self.index + 1) * 10**9 + self._message * 100 + sample

    def _meter_values(self, entries: int, context: str) -> list[dict[str, Any]]:
        out, n = [], 0
        for _ in range(entries):
            sampled = []
            for measurand, phase, unit in SAMPLES:
                value = self._value(n)
                n += 1
                if self.version == "1.6":
                    sv: dict[str, Any] = {"value": str(value), "measurand": measurand, "unit": unit, "context": context}
                else:
                    sv = {"value": value, "measurand": measurand, "unitOfMeasure": {"unit": unit}, "context": context}
                if phase:
                    sv["phase"] = phase
                sampled.append(sv)
            out.append({"timestamp": self._stamp(), "sampledValue": sampled})
        return out

    def _next_message(self) -> None:
        self._message += 1

    def _script_v16(self) -> Generator[Step, dict[str, Any], None]:
        """Boot once, then StartTransaction -> MeterValues x n -> StopTransaction, forever.
        Each `yield` hands out a message and gets back its answer (only once acknowledged)."""
        yield "BootNotification", {"chargePointVendor": "Crash", "chargePointModel": "Kill-16"}
        while True:
            self._next_message()
            tag = f"T{self.index:02d}-{self._message}"[:20]
            start = yield "StartTransaction", {
                "connectorId": 1, "idTag": tag, "meterStart": self._value(0), "timestamp": self._stamp(),
            }
            tx = start["transactionId"]  # known only once the start is acknowledged
            for _ in range(self.meter_updates):
                self._next_message()
                yield "MeterValues", {
                    "connectorId": 1, "transactionId": tx,
                    "meterValue": self._meter_values(self.entries, "Sample.Periodic"),
                }
            self._next_message()
            yield "StopTransaction", {
                "transactionId": tx, "idTag": tag, "meterStop": self._value(99), "timestamp": self._stamp(),
                "reason": "EVDisconnected",
                "transactionData": self._meter_values(self.entries + 1, "Transaction.End"),
            }

    def _script_v201(self) -> Generator[Step, dict[str, Any], None]:
        """Boot once, then TransactionEvent Started -> Updated x n -> Ended, forever."""
        yield "BootNotification", {"chargingStation": {"vendorName": "Crash", "model": "Kill-201"}, "reason": "PowerUp"}
        transaction = 0
        while True:
            transaction += 1
            tx = f"{self.id}-{transaction}"
            for seq in range(self.meter_updates + 2):
                self._next_message()
                kind = "Started" if seq == 0 else "Ended" if seq == self.meter_updates + 1 else "Updated"
                payload: dict[str, Any] = {
                    "eventType": kind, "timestamp": self._stamp(), "seqNo": seq,
                    "triggerReason": {"Started": "CablePluggedIn", "Updated": "MeterValuePeriodic"}.get(kind, "EVDeparted"),
                    "transactionInfo": {"transactionId": tx},
                    "meterValue": self._meter_values(
                        self.entries + (kind == "Ended"),
                        {"Started": "Transaction.Begin", "Updated": "Sample.Periodic"}.get(kind, "Transaction.End"),
                    ),
                }
                if kind == "Started":
                    payload["evse"] = {"id": 1, "connectorId": 1}
                    payload["idToken"] = {"idToken": tx[:36], "type": "Central"}
                    payload["transactionInfo"]["chargingState"] = "Charging"
                if kind == "Ended":
                    payload["transactionInfo"]["stoppedReason"] = "EVDisconnected"
                yield "TransactionEvent", payload

    # --- the connection -----------------------------------------------------------

    async def run(self) -> None:
        """Write until `stopping` is set, then finish the outstanding message and return."""
        self.outstanding = self._script.send(None)  # type: ignore[arg-type]
        failures = 0
        while self.outstanding is not None:
            try:
                ws = await websockets.connect(
                    f"{self.url}/ocpp/{self.id}", subprotocols=[f"ocpp{self.version}"],
                    open_timeout=5, close_timeout=1, ping_interval=None, max_size=None,
                )
            except (TimeoutError, OSError, InvalidHandshake):
                failures += 1  # the server is down (being restarted): back off and retry
                await asyncio.sleep(min(0.5, 0.02 * 2**failures) * self._rng.uniform(0.5, 1.0))
                continue
            failures = 0
            self.connects += 1
            try:
                await self._drive(ws)
            except TimeoutError:  # (an OSError too: caught first)
                self.stalls += 1
                self.error_log.append(f"{self.id}: no answer to {self.outstanding[0]} in {self.answer_timeout}s")
            except (ConnectionClosed, OSError):
                pass  # killed under us: the outstanding message was not answered
            finally:
                await ws.close()
            if self.outstanding is not None:
                self.resends += 1  # on the next connection, unchanged

    async def _drive(self, ws: Any) -> None:
        """Send messages one at a time on this connection until stopped (or it dies)."""
        while self.outstanding is not None:
            action, payload = self.outstanding
            self._sends += 1
            reply = await self._call(ws, action, payload)
            if reply[0] == 3:
                self.acked.append(Acked(action, payload, reply[2], self._sends))
                self._sends = 0
                self.outstanding = None if self.stopping else self._script.send(reply[2])
            else:
                code, description = reply[2], reply[3]
                self.call_errors[(action, code)] += 1
                self.error_log.append(f"{self.id}: {action} got CALLERROR {code}: {description}")
                self.resends += 1
                await asyncio.sleep(0.1)  # and send the same content again

    async def _call(self, ws: Any, action: str, payload: dict[str, Any]) -> list[Any]:
        """One attempt: the CALLRESULT / CALLERROR to this frame (server CALLs are refused)."""
        self._frame += 1
        message_id = f"{self._frame}"
        await ws.send(orjson.dumps([2, message_id, action, payload]).decode())
        deadline = asyncio.get_running_loop().time() + self.answer_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            frame = orjson.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.001)))
            if frame[0] == 2:  # the central system asks something: not what this station is for
                await ws.send(orjson.dumps([4, frame[1], "NotSupported", "crash-test station", {}]).decode())
            elif frame[1] == message_id:
                return frame
