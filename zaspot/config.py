"""zaspot.yaml -> typed config. Runs with no file at all on the defaults below.

Errors are one line with the file and the line of the offending value:
`zaspot.yaml:7: ocpp.heartbeat_interval: expected a whole number, got 'often'`,
`zaspot.yaml:4: ocpp.security_profile: 7 is out of range (0 to 3)`.

Every number has a range (`Annotated[int, Range(1, 65535)]`), every choice its values
(`Literal[...]`), and a dataclass with rules between its fields has a `validate()` that
raises `Invalid(key, message)` (see zaspot/ranges.py). A plugin's config dataclass
gets the same checks from `decode()`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml

from zaspot.diagnostics.config import DiagnosticsConfig
from zaspot.health.config import HealthConfig
from zaspot.ranges import Invalid, Range, extra_checks
from zaspot.store.retention import RetentionConfig


class ConfigError(Exception):
    """A bad config, already phrased for the user as `file:line: message`."""


class RawSection:
    """A config section kept as YAML, decoded later by its owner (a plugin, a notifier
    platform) with `decode()`, so its errors still carry the file and line."""

    def __init__(self, file: str, node: yaml.Node | None, where: str) -> None:
        self.file, self.node, self.where = file, node, where

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1 if self.node is not None else 0

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.node is not None else self.file

    def get(self, key: str) -> Any:
        """One plain value of a mapping section, or None."""
        for k, v in self._items():
            if k.value == key:
                return yaml.safe_load(yaml.serialize(v)) if isinstance(v, yaml.ScalarNode) else None
        return None

    def without(self, *keys: str) -> RawSection:
        if not isinstance(self.node, yaml.MappingNode):
            return self
        kept = [(k, v) for k, v in self._items() if k.value not in keys]
        node = yaml.MappingNode(self.node.tag, kept, self.node.start_mark, self.node.end_mark)
        return RawSection(self.file, node, self.where)

    def _items(self) -> list[tuple[yaml.Node, yaml.Node]]:
        return self.node.value if isinstance(self.node, yaml.MappingNode) else []


def decode(cls: type, raw: RawSection) -> Any:
    """Decode a kept section into the dataclass `cls`; ConfigError as `file:line: message`."""
    if raw.node is None or (isinstance(raw.node, yaml.ScalarNode) and raw.node.value in ("", "~", "null")):
        missing = _missing(cls, {})
        if missing:
            raise ConfigError(f"{raw.file}: {raw.where}: missing required key {missing}")
        return cls()
    return _build(cls, raw.node, raw.file, raw.where)


Seconds = Annotated[float, Range(1, 3600)]  # a timeout: at least a second, at most an hour
Profile = Annotated[int, Range(0, 3)]  # OCPP security profile


@dataclass
class OcppConfig:
    heartbeat_interval: Annotated[int, Range(1, 86400)] = 300  # told to stations in BootNotification
    ping_interval: Annotated[float, Range(0, 3600)] = 60.0  # WebSocket keepalive; 0 turns it off
    ping_timeout: Seconds = 30.0
    # Silent this long -> offline; 0 = 2.5 x heartbeat_interval.
    offline_after: Annotated[float, Range(0, 604800)] = 0.0
    call_timeout: Seconds = 30.0  # how long a command waits for the station
    unknown_stations: Literal["accept", "pending", "reject"] = "accept"
    max_frame_bytes: Annotated[int, Range(4096, 16 * 1024 * 1024)] = 1024 * 1024
    compression: bool = False  # ignored with a warning: the picows endpoint has no permessage-deflate
    # OCPP security profile for stations not listed under `stations:`: 0 none,
    # 1 Basic auth, 2 TLS + Basic auth, 3 TLS with client certificates.
    security_profile: Profile = 0
    frame_log: Annotated[int, Range(0, 100_000)] = 200  # raw frames kept per station in the database; 0 = off
    auth_failures_before_backoff: Annotated[int, Range(1, 1000)] = 5
    # Leniency for chargers that break the schemas in small ways (see README).
    lenient: bool = False
    lenient_models: list[str] = field(default_factory=list)
    handshake_timeout: Annotated[float, Range(1, 300)] = 10.0  # a WebSocket handshake not done by then is dropped
    # Pending connections the kernel queues for us (a reconnect storm).
    listen_backlog: Annotated[int, Range(1, 65535)] = 4096
    # 0 = no limit (stations behind one NAT share an address).
    max_connections_per_address: Annotated[int, Range(0, 100_000)] = 0

    @property
    def offline_timeout(self) -> float:
        return self.offline_after or 2.5 * self.heartbeat_interval


@dataclass
class StationConfig:
    id: str
    name: str = ""
    site: str = ""
    notes: str = ""
    security_profile: Profile | None = None  # None: ocpp.security_profile
    lenient: bool | None = None  # None: ocpp.lenient / ocpp.lenient_models


@dataclass
class TlsConfig:
    cert: str  # PEM certificate chain of this server (wss://)
    key: str
    client_ca: str | None = None  # CA that signs station certificates (profile 3)


@dataclass
class PluginsConfig:
    load: list[str] = field(default_factory=list)  # entry point names, modules, or .py paths
    folder: str = "plugins"  # relative to the config file; every plugin in it loads
    config: dict[str, RawSection] = field(default_factory=dict)  # plugin NAME -> its own section


@dataclass
class NotifyPolicy:
    # The same message to the same target: once per window; 0 = no de-duplication.
    dedupe_window: Annotated[float, Range(0, 86400)] = 300.0
    rate_limit: Annotated[int, Range(0, 10_000)] = 5  # at most this many per key per rate_window; 0 = no limit
    rate_window: Annotated[float, Range(1, 86400)] = 600.0


@dataclass
class ModelLimits:
    """How one station model takes its power limits (`limits.models.<model>`): many
    chargers reject a profile shape, or accept one and ignore it."""

    unit: Literal["A", "W"] | None = None  # the unit it takes (None: the site's, else A)
    stack_level: Annotated[int, Range(0, 100)] = 1
    station_wide: bool = False  # it rejects TxDefaultProfile: its EVSE's limit goes as the station's max profile
    read_back: bool = True  # it answers GetCompositeSchedule truthfully


@dataclass
class LimitsConfig:
    # s an EVSE may draw above the limit it accepted before LimitIgnored opens
    ignored_after: Annotated[float, Range(5, 86400)] = 60.0
    models: dict[str, ModelLimits] = field(default_factory=dict)


@dataclass
class AuthorizationConfig:
    """Who may charge (zaspot.cards): `open` accepts every card not blocked (and logs each
    unknown one), `list` only the cards in the database."""

    mode: Literal["open", "list"] = "open"
    local_lists: bool = True  # keep stations' local authorization lists in step with the cards


@dataclass
class FilesConfig:
    """The HTTP file endpoint (zaspot.lifecycle): stations download firmware from it and
    upload their logs to it, each URL with a token of its own."""

    host: str = "0.0.0.0"
    port: Annotated[int, Range(0, 65535)] | None = None  # None: the OCPP port + 1 (any free port when that is 0)
    public_url: str = ""  # what stations are told, e.g. http://csms.example.com:9001 (default: this host)
    dir: str = "./zaspot-files"  # firmware files and uploaded logs
    max_upload_mb: Annotated[int, Range(1, 16384)] = 512  # a bigger upload (a log, a firmware file) gets 413
    # A firmware update or log request with no word from the station this long is timed_out.
    status_timeout: Annotated[float, Range(1, 7 * 86400)] = 3600.0


@dataclass
class TransactionsConfig:
    # A transaction silent this long is closed as stale with its last meter reading; 0 = never.
    stale_after: Annotated[float, Range(0, 365 * 86400)] = 86400.0


@dataclass
class Config:
    host: str = "0.0.0.0"
    port: Annotated[int, Range(0, 65535)] = 9000  # 0 = any free port (tests)
    db: str = "./zaspot.db"
    rules: str = "./rules"
    # A reading the station stamped longer ago than this (a backlog sent after hours
    # offline) is stored but triggers no rule. Generous: station clocks drift. 0 = off.
    rules_stale_after: Annotated[float, Range(0, 30 * 86400)] = 900.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    ocpp: OcppConfig = field(default_factory=OcppConfig)
    stations: list[StationConfig] = field(default_factory=list)
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)
    health: HealthConfig = field(default_factory=HealthConfig)  # uptime, fault analytics, temperature trends
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    tls: TlsConfig | None = None
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    notify: list[RawSection] = field(default_factory=list)  # decoded by each notifier platform
    notify_policy: NotifyPolicy = field(default_factory=NotifyPolicy)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    authorization: AuthorizationConfig = field(default_factory=AuthorizationConfig)
    files: FilesConfig = field(default_factory=FilesConfig)
    transactions: TransactionsConfig = field(default_factory=TransactionsConfig)
    log_format: Literal["text", "json"] = "text"
    # Spot prices, tariffs, session costs, prices on chargers (zaspot.pricing); decoded there at startup.
    pricing: RawSection | None = None
    ems: RawSection | None = None  # energy management; decoded by zaspot.ems.config at startup
    source: str = "<defaults>"

    def validate(self) -> None:
        # The first entry for a station wins (security profile, leniency): a second one
        # would be ignored without a word.
        seen: dict[str, int] = {}
        for index, station in enumerate(self.stations):
            if station.id in seen:
                raise Invalid(f"stations[{index}].id",
                              f"'{station.id}' is already listed as stations[{seen[station.id]}]")
            seen[station.id] = index


def load(path: str | Path | None) -> Config:
    """Load a config file; None -> embedded defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    config = Config() if node is None else _build(Config, node, str(path), "")
    config.source = str(path)
    return config


def _build(cls: type, node: yaml.Node, file: str, where: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{file}:{node.start_mark.line + 1}: {where or 'config'}: expected a mapping")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        name = f"{where}.{key}" if where else key
        line = key_node.start_mark.line + 1
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{file}:{line}: unknown key '{name}' (known: {known})")
        if key in lines:  # YAML keeps the last one: an edit to the first would do nothing
            raise ConfigError(f"{file}:{line}: {name}: set twice (first on line {lines[key]})")
        lines[key] = line
        hint = hints[key]
        checks = extra_checks(cls, key)
        if checks:
            hint = Annotated[(hint, *checks)]
        values[key] = _convert(hint, value_node, file, name)
    missing = _missing(cls, values)
    if missing:
        raise ConfigError(f"{file}:{node.start_mark.line + 1}: {where or 'config'}: missing required key {missing}")
    try:
        obj = cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{file}:{node.start_mark.line + 1}: {where or 'config'}: {exc}") from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:  # Invalid, or a plugin's own ValueError
            key = getattr(exc, "key", None)
            name = ".".join(p for p in (where, key) if p) or "config"
            line = _node_at(node, key).start_mark.line + 1
            raise ConfigError(f"{file}:{line}: {name}: {exc}") from None
    return obj


def _node_at(node: yaml.Node, path: str | None) -> yaml.Node:
    """The node at `a.b[0].c` below `node`, or the deepest one of that path in the file."""
    for part in re.findall(r"[^.\[\]]+", path or ""):
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            found = node.value[int(part)]
        else:
            found = None
        if found is None:
            break
        node = found
    return node


def _missing(cls: type, values: dict[str, Any]) -> str:
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    return ", ".join(f"'{n}'" for n in required if n not in values)


def _convert(hint: Any, node: yaml.Node, file: str, name: str) -> Any:
    line = node.start_mark.line + 1
    origin = typing.get_origin(hint)
    if origin is Annotated:  # a type with its checks: Annotated[int, Range(0, 3)]
        inner, *checks = typing.get_args(hint)
        value = _convert(inner, node, file, name)
        for check in checks:
            if isinstance(check, Range) and value is not None and value not in check:
                raise ConfigError(f"{file}:{line}: {name}: {node.value} is out of range ({check})")
        return value
    if origin in (typing.Union, types.UnionType):  # Optional[X]: null or an X
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return None
        return _convert(next(a for a in typing.get_args(hint) if a is not type(None)), node, file, name)
    if hint is RawSection:
        return RawSection(file, node, name)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, node, file, name)
    if origin is list:
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(f"{file}:{line}: {name}: expected a list")
        (item,) = typing.get_args(hint)
        return [_convert(item, n, file, f"{name}[{i}]") for i, n in enumerate(node.value)]
    if origin is dict:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{file}:{line}: {name}: expected a mapping")
        _, item = typing.get_args(hint)
        return {str(k.value): _convert(item, v, file, f"{name}.{k.value}") for k, v in node.value}
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{file}:{line}: {name}: expected a single value")
    value = yaml.safe_load(yaml.serialize(node))
    if origin is Literal:
        choices = typing.get_args(hint)
        if not any(value == c and type(value) is type(c) for c in choices):  # true is not 1
            raise ConfigError(f"{file}:{line}: {name}: expected one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (type(value) is not hint):
        kind = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}[hint]
        raise ConfigError(f"{file}:{line}: {name}: expected {kind}, got {value!r}")
    return value
