"""The TUI's one link to zaspot: connect, load a snapshot, follow events, reconnect.

Plain asyncio around `ZaspotClient`; the app runs `Feed.run()` as a Textual worker
and gets callbacks. A lost connection is reported, then retried with backoff, and
the snapshot is loaded again so nothing missed while away stays missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.exceptions import WebSocketException

from zaspot.api.client import ApiError

BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
COMMAND_TIMEOUT = 45.0  # a station command may wait for the station's own answer (30 s)


class Client(Protocol):
    async def connect(self) -> Any: ...
    async def close(self) -> None: ...

    async def command(self, message_type: str, /, *, timeout: float | None = 60, **data: Any) -> Any: ...
    async def subscribe(self, event_type: str | None = None, station_id: str | None = None) -> Any: ...


@dataclass(slots=True)
class Snapshot:
    stations: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    alarms: list[dict[str, Any]] | None  # every open alarm and the recent ones; None: this server has none
    rule_traces: list[dict[str, Any]] | None  # None: this server has no rules engine
    auth_mode: str | None = None  # cards/mode: "open" | "list"; None: an older server
    reservations: list[dict[str, Any]] = field(default_factory=list)  # the active ones
    sessions: list[dict[str, Any]] = field(default_factory=list)  # running sessions with their cost so far
    warnings: list[str] = field(default_factory=list)  # what the top line must say (every rule off)
    rule_names: dict[str, str] = field(default_factory=dict)  # rule id -> its alias
    temperature_limits: dict[str, Any] | None = None  # diagnostics/limits; None: the built-in ones


@dataclass(slots=True)
class LinkState:
    connected: bool
    message: str
    attempt: int = 0


class Feed:
    def __init__(self, make_client: Callable[[], Client], on_state: Callable[[LinkState], None],
                 on_snapshot: Callable[[Snapshot], None], on_event: Callable[[dict[str, Any]], None],
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        self.make_client = make_client
        self.on_state, self.on_snapshot, self.on_event = on_state, on_snapshot, on_event
        self.backoff = backoff
        self.client: Client | None = None

    async def run(self) -> None:
        """Forever (until cancelled): one connection at a time, backoff between."""
        attempt = 0
        while True:
            client = self.make_client()
            try:
                await client.connect()
                self.client = client
                attempt = 0
                await self._follow(client)
                self.on_state(LinkState(False, "connection to zaspot lost"))
            except ApiError as exc:
                self.on_state(LinkState(False, f"{exc.code}: {exc.message}", attempt + 1))
            except (TimeoutError, OSError, WebSocketException) as exc:
                self.on_state(LinkState(False, f"cannot reach zaspot: {exc}", attempt + 1))
            finally:
                self.client = None
                await asyncio.shield(client.close())  # a cancelled worker still says goodbye
            delay = self.backoff[min(attempt, len(self.backoff) - 1)]
            attempt += 1
            self.on_state(LinkState(False, f"reconnecting in {delay:g}s", attempt))
            await asyncio.sleep(delay)

    async def _follow(self, client: Client) -> None:
        # Subscribe first, then read the snapshot: an event arriving in between is
        # applied after the snapshot instead of being lost before it.
        events = await client.subscribe()
        self.on_snapshot(await load_snapshot(client))
        self.on_state(LinkState(True, "connected"))
        async for event in events:
            self.on_event(event)

    async def close(self) -> None:
        """Close the live connection now (the app calls this on exit, so nothing lingers)."""
        client, self.client = self.client, None
        if client is not None:
            await client.close()

    async def command(self, message_type: str, **data: Any) -> Any:
        if self.client is None:
            raise ApiError("disconnected", "not connected to zaspot")
        try:
            return await uncancelled(self.client.command(message_type, timeout=COMMAND_TIMEOUT, **data))
        except WebSocketException:
            raise ApiError("disconnected", "the connection to zaspot closed") from None
        except TimeoutError:
            raise ApiError("timeout", f"no answer from zaspot in {COMMAND_TIMEOUT:g}s") from None


MISSING = ("unknown_command", "not_found", "not_available", "not_configured")
_IN_FLIGHT: set[asyncio.Task[Any]] = set()


def uncancelled(coro: Any) -> Any:
    """Await a command that runs to its answer even when its caller is cancelled (a screen
    closing, a newer read replacing an older one): ZaspotClient loses its connection when
    the answer to a command cancelled a moment before arrives (seen in tests)."""
    task = asyncio.ensure_future(coro)
    _IN_FLIGHT.add(task)
    task.add_done_callback(_settled)
    return asyncio.shield(task)


def _settled(task: asyncio.Task[Any]) -> None:
    _IN_FLIGHT.discard(task)
    if not task.cancelled():
        task.exception()  # read: an answer nobody waits for any more is not an error to log


async def optional(client: Client, message_type: str, **data: Any) -> Any:
    """A read that older servers (or servers without that part) don't have: None then."""
    try:
        return await uncancelled(client.command(message_type, timeout=20, **data))
    except ApiError as exc:
        if exc.code in MISSING:
            return None
        raise


async def load_snapshot(client: Client) -> Snapshot:
    stations = await client.command("fleet/list", timeout=20)
    transactions = await client.command("history/transactions", timeout=20, limit=10_000)
    alarms = await load_alarms(client)
    traces = await optional(client, "history/rule_traces", limit=100)
    mode = await optional(client, "cards/mode")
    reservations = await optional(client, "reservations/list", active_only=True)
    sessions = await running_sessions(client, transactions)
    rules = await optional(client, "rules/list")
    warnings = [rules["warning"]] if isinstance(rules, dict) and rules.get("warning") else []
    names = {r["id"]: r.get("alias") or r["id"] for r in rules.get("rules", [])} if isinstance(rules, dict) else {}
    limits = await optional(client, "diagnostics/limits")
    return Snapshot(stations, transactions, alarms, traces, mode.get("mode") if isinstance(mode, dict) else None,
                    reservations or [], sessions, warnings, names, limits if isinstance(limits, dict) else None)


async def load_alarms(client: Client) -> list[dict[str, Any]] | None:
    """Every open alarm (however old), then the 200 most recent: the pane and the top line
    count the same open alarms, and none is missing behind a run of cleared ones."""
    open_ = await optional(client, "history/alarms", open_only=True, limit=10_000)
    recent = await optional(client, "history/alarms", limit=200)
    if open_ is None or recent is None:
        return None
    return [*recent, *open_]


async def running_sessions(client: Client, transactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The running sessions with their cost so far: the sessions that started since the oldest
    running transaction did (not the whole history); none on a server without session costs."""
    starts = [t.get("started_at") for t in transactions if t.get("state") == "active"]
    if not starts:
        return []
    numbers = [s for s in starts if isinstance(s, (int, float))]
    since = min(numbers) if len(numbers) == len(starts) else None
    rows = await optional(client, "history/sessions", **({"since": since} if since is not None else {}), limit=10_000)
    return [r for r in rows or [] if r.get("state") == "active"]
