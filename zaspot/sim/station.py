"""SimStation: one simulated charging station (OCPP 1.6J or 2.0.1, AC or DC).

Lifecycle: connect -> BootNotification (retry on Pending/Rejected) -> StatusNotification
per connector -> heartbeat and meter loops; reconnects after drops, boots again after
a Reset. All intervals are in simulated seconds; real sleeps are divided by `speed`.

How it takes a SetChargingProfile (`profile_answer`, settable at any time), as real
stations do:
- "accept": applies it; the car follows the first period's limit (the default);
- "refuse": answers Rejected, always;
- "refuse_decrease": Rejected when the new limit is below the one in force (a station
  that will not give up room), applied otherwise;
- "silent": never answers (the central system's CALL times out);
- "ignore": answers Accepted and keeps drawing as before; its GetCompositeSchedule
  says what it really does.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from . import schemas
from .meter import Connector
from .rpc import RpcLink
from .v16 import V16
from .v201 import V201

log = logging.getLogger(__name__)

PROFILE_ANSWERS = ("accept", "refuse", "refuse_decrease", "silent", "ignore")

# True inside the session task while it boots and reports status: those calls must
# not wait for "ready" (they are what makes the station ready).
_in_setup: contextvars.ContextVar[bool] = contextvars.ContextVar("sim_in_setup", default=False)


class SimStation:
    def __init__(self, station_id: str, url: str, protocol: str = "1.6", kind: str = "ac",
                 connectors: int = 2, modules: int = 0, heartbeat_interval: float | None = None,
                 meter_interval: float = 10.0, speed: float = 1.0, vendor: str = "Zaspot",
                 model: str | None = None, serial: str | None = None, firmware: str = "1.0.0",
                 id_tag: str = "SIMTAG01", max_power_w: float | None = None,
                 call_timeout: float = 10.0, reconnect_delay: float = 5.0,
                 validate: bool = False, seed: int | None = None, accept_monitors: bool = True,
                 profile_answer: str = "accept", features: dict | None = None):
        if protocol not in ("1.6", "2.0.1") or kind not in ("ac", "dc"):
            raise ValueError(f"bad protocol/kind: {protocol!r}/{kind!r}")
        if profile_answer not in PROFILE_ANSWERS:
            raise ValueError(f"profile_answer must be one of {', '.join(PROFILE_ANSWERS)}, not {profile_answer!r}")
        self.station_id, self.protocol, self.kind = station_id, protocol, kind
        self.url = url.rstrip("/") + "/" + station_id
        self.vendor, self.firmware, self.id_tag = vendor, firmware, id_tag
        self.model = model or f"Sim{kind.upper()}{'16' if protocol == '1.6' else '201'}"
        self.serial = serial or f"SN-{station_id}"
        self.heartbeat_interval = heartbeat_interval   # None: use the server's interval
        self._hb_override = heartbeat_interval is not None
        self.meter_interval, self.speed = meter_interval, speed
        self.call_timeout, self.reconnect_delay, self.validate = call_timeout, reconnect_delay, validate
        self.accept_monitors = accept_monitors   # False: a 2.0.1 station without monitoring support
        self.profile_answer = profile_answer     # see the module's docstring
        # Knobs of the feature modules (zaspot.sim.features): refusals and failures to play.
        self.features: dict = dict(features or {})
        self.feature_state: dict = {}             # what those modules keep per station
        self.rng = random.Random(seed)
        power = max_power_w or (22_000.0 if kind == "ac" else 150_000.0)
        self.connectors = {i: Connector(i, kind, power, energy_wh=self.rng.uniform(0, 5e5),
                                        rng=self.rng) for i in range(1, connectors + 1)}
        self.modules = [{"enabled": True, "problem": False, "tripped": False, "heat": 0.0}
                        for _ in range(modules if kind == "dc" else 0)]
        self.transactions: dict[int, dict] = {}
        self.profiles: dict[tuple, dict] = {}
        self.station_limit_w: float | None = None
        self.availability = "Available"
        self.boot_reason = "PowerUp"
        self.proto = V16(self) if protocol == "1.6" else V201(self)
        # What tests read: calls received from the CSMS, our own calls, our answers.
        self.received: list[tuple[str, dict]] = []
        self.sent: list[tuple[str, dict]] = []
        self.answered: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        self.boot_count = 0
        self.booted = asyncio.Event()
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._link: RpcLink | None = None
        self._need_boot = True
        self._stopping = False
        self._offline_until = 0.0
        self._come_back = asyncio.Event()  # ends a go_offline early (come_back)
        self._main: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._received_cond = asyncio.Condition()

    # ---- public API ----------------------------------------------------------------
    async def start(self) -> None:
        self._main = asyncio.create_task(self._run(), name=f"sim-{self.station_id}")

    async def stop(self) -> None:
        self._stopping = True
        every = tasks = {*self._tasks, *([self._main] if self._main else [])}
        while tasks:
            for t in tasks:
                t.cancel()
            # On Python 3.11 asyncio.wait_for can swallow a cancellation that comes as its
            # future completes (fixed in 3.12): a task that went on after it is cancelled again.
            _, tasks = await asyncio.wait(tasks, timeout=1.0)
        for t in every:  # what they raised is theirs; read, so nothing is logged as never retrieved
            if not t.cancelled():
                t.exception()

    async def wait_booted(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def wait_for_call(self, action: str, timeout: float = 10.0, count: int = 1) -> dict:
        """Wait until `count` calls of `action` were received; returns the last one."""
        def hits():
            return [p for a, p in self.received if a == action]
        async with self._received_cond:
            await asyncio.wait_for(self._received_cond.wait_for(lambda: len(hits()) >= count), timeout)
        return hits()[-1]

    def spawn(self, coro) -> None:
        """Run a station action in its own task, cancelled by stop()."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(repr(task.exception()))
            log.warning("%s: task failed: %r", self.station_id, task.exception())

    async def call(self, action: str, payload: dict) -> dict:
        """One CALL from the station; waits for boot unless it is boot itself."""
        if not self._ready.is_set() and not _in_setup.get():
            await asyncio.wait_for(self._ready.wait(), self.call_timeout * 3)
        if self.validate:
            schemas.validate_request(self.protocol, action, payload)
        async with self._lock:
            link = self._link
            if link is None:
                raise ConnectionError(f"{self.station_id} is offline")
            self.sent.append((action, payload))
            return await link.call(action, payload)

    async def start_transaction(self, connector_id: int = 1, id_tag: str | None = None,
                                authorize: bool = True, remote_start_id: int | None = None):
        """Authorize (optional) and start; returns the transaction id or None if refused."""
        tag = id_tag or self.id_tag
        if connector_id in self.transactions:
            raise RuntimeError(f"connector {connector_id} already in a transaction")
        if authorize and not await self.proto.authorize(tag):
            return None
        return await self.proto.start_tx(connector_id, tag, remote_start_id)

    async def stop_transaction(self, connector_id: int = 1, reason: str = "Local") -> None:
        await self.proto.stop_tx(connector_id, reason)

    async def send_meter_values(self, connector_id: int = 1) -> None:
        await self.proto.meter(connector_id)

    async def reboot(self, reason: str = "SoftReset", boot_reason: str = "RemoteReset") -> None:
        """What a Reset does: end transactions, drop the link, reconnect and boot again
        (a firmware install boots with boot_reason "FirmwareUpdate")."""
        for cid in list(self.transactions):
            await self.stop_transaction(cid, reason)
        self._need_boot, self.boot_reason = True, boot_reason
        if self._link is not None:
            await self._link.ws.close()

    async def go_offline(self, seconds: float) -> None:
        """Drop the TCP connection without a close frame, stay away `seconds` (sim)."""
        self._offline_until = time.monotonic() + seconds / self.speed
        self._come_back.clear()
        link = self._link
        if link is not None:
            link.ws.transport.abort()

    def come_back(self) -> None:
        """End a go_offline now: reconnect at once (a test on a virtual clock says when)."""
        self._offline_until = 0.0
        self._come_back.set()

    def free_connector(self) -> int | None:
        return next((c for c, k in self.connectors.items()
                     if c not in self.transactions and k.status == "Available"), None)

    def limit_for(self, cid: int) -> float:
        if cid == 0:
            return self.station_limit_w or sum(c.max_power_w for c in self.connectors.values())
        return self.connectors[cid].effective_limit(self.station_limit_w)

    def limit_a(self, cid: int) -> float:
        """What `cid` may draw now, in A per phase (3 phases at 230 V): what it has in force."""
        return self.limit_for(cid) / (3 * 230.0)

    def profile_verdict(self, cid: int, limit_w: float | None) -> str:
        """How a SetChargingProfile for `cid` whose first period is `limit_w` is taken:
        "apply", "reject", "silent" or "ignore" (from `profile_answer`)."""
        answer = self.profile_answer
        if answer == "refuse_decrease":
            lower = limit_w is not None and limit_w < self.limit_for(cid) - 1e-6
            return "reject" if lower else "apply"
        return {"accept": "apply", "refuse": "reject"}.get(answer, answer)

    async def take_profile(self, cid: int, profile_id: int, profile: dict, limit_w: float | None) -> dict:
        """SetChargingProfile for a known `cid` (0: the station), as `profile_answer` says."""
        verdict = self.profile_verdict(cid, limit_w)
        if verdict == "silent":
            await asyncio.Event().wait()  # never answered; cancelled when the link drops
        if verdict == "reject":
            return {"status": "Rejected"}
        if verdict == "apply":
            if cid == 0:
                self.station_limit_w = limit_w
            else:
                self.connectors[cid].limit_w = limit_w
        self.profiles[(cid, profile_id)] = profile  # "ignore": accepted, and nothing changes
        return {"status": "Accepted"}

    def clear_limits(self) -> None:
        self.profiles.clear()
        self.station_limit_w = None
        for c in self.connectors.values():
            c.limit_w = None

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(sim_seconds / self.speed)

    async def run_scenario(self, name: str, **kw) -> None:
        from .faults import run_scenario
        await run_scenario(self, name, **kw)

    def start_scenario(self, name: str, **kw) -> None:
        self.spawn(self.run_scenario(name, **kw))

    # ---- connection lifecycle ------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            try:
                ws = await connect(self.url, subprotocols=[Subprotocol(self.proto.subprotocol)],
                                   compression=None, open_timeout=self.call_timeout,
                                   close_timeout=2)
            except Exception as exc:  # noqa: BLE001  (logged; the station tries again as a real one does)
                log.info("%s: connect failed: %r", self.station_id, exc)
                await asyncio.sleep(self.reconnect_delay / self.speed)
                continue
            await self._serve(ws)
            wait = max(self._offline_until - time.monotonic(), 0.0)
            try:
                await asyncio.wait_for(self._come_back.wait(), wait or min(0.5, self.reconnect_delay / self.speed))
            except TimeoutError:
                pass
            self._come_back.clear()

    async def _serve(self, ws) -> None:
        link = RpcLink(ws, self._on_call, self.call_timeout)
        self._link = link
        reader = asyncio.create_task(link.run())
        session = asyncio.create_task(self._session())
        try:
            await asyncio.wait({reader, session}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._ready.clear()
            self._link = None
            session.cancel()
            await ws.close()
            await asyncio.gather(reader, session, return_exceptions=True)
            if session.done() and not session.cancelled() and session.exception():
                self.errors.append(repr(session.exception()))

    async def _session(self) -> None:
        _in_setup.set(True)
        if self._need_boot:
            await self._boot()
        await self.proto.send_all_status()
        _in_setup.set(False)
        self._ready.set()
        await asyncio.gather(self._heartbeat_loop(), self._meter_loop())

    async def _boot(self) -> None:
        while True:
            resp = await self.call("BootNotification", self.proto.boot_payload())
            interval = float(resp.get("interval") or 0) or 30.0
            if resp["status"] == "Accepted":
                break
            await self.sleep(interval)   # Pending/Rejected: retry after interval
        if not self._hb_override:
            self.heartbeat_interval = interval
        self._need_boot, self.boot_reason = False, "PowerUp"
        self.boot_count += 1
        self.booted.set()

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.sleep(self.heartbeat_interval or 60.0)
            await self._try(self.call("Heartbeat", {}))

    async def _meter_loop(self) -> None:
        last = time.monotonic()
        while True:
            await self.sleep(self.meter_interval)
            now = time.monotonic()
            for c in self.connectors.values():
                c.step((now - last) * self.speed, self.station_limit_w)
            last = now
            for cid in list(self.transactions):
                await self._try(self.proto.meter(cid))
            hot = [cid for cid, c in self.connectors.items() if c.charging or c.temperature_c > 45]
            if hot or self.modules:
                await self._try(self.proto.report_temperatures(hot))

    async def _try(self, coro) -> None:
        """Periodic traffic must survive a CALLERROR or a timeout."""
        try:
            await coro
        except (TimeoutError, ConnectionError) as exc:
            self.errors.append(repr(exc))
        except Exception as exc:  # noqa: BLE001  (kept in errors and logged: a script never stops the station)
            self.errors.append(repr(exc))
            log.info("%s: %r", self.station_id, exc)

    async def _on_call(self, action: str, payload: dict):
        self.received.append((action, payload))
        async with self._received_cond:
            self._received_cond.notify_all()
        result, after = await self.proto.handle(action, payload)
        self.answered.append((action, result))
        return result, after
