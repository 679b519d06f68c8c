"""zaspot.yaml refuses unsafe values: every number has a range, every choice its values,
with `file:line: message` naming the key, the value and what is allowed."""

import dataclasses
import re
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import pytest
import yaml

from zaspot.config import Config, ConfigError, Invalid, Range, RawSection, decode, load
from zaspot.diagnostics.config import DEFAULT_LIMITS
from zaspot.ems.config import EmsConfig
from zaspot.ems.config import load as load_ems
from zaspot.notify.log import LogConfig
from zaspot.notify.webhook import WebhookConfig

ROOT = Path(__file__).resolve().parents[2]
EMS = "ems:\n  strategy: static\n"
SITE = "  site:\n    main_breaker: 32\n    stations: [{id: CP-1}]\n"


def _error(tmp_path: Path, text: str) -> str:
    """The one-line error for a zaspot.yaml, with the tmp_path prefix taken off. The `ems:`
    section and the `notify:` entries are decoded as zaspot run decodes them."""
    path = tmp_path / "zaspot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        config = load(path)
        if config.ems is not None:
            load_ems(config.ems)
        for raw in config.notify:
            kind = {"webhook": WebhookConfig, "log": LogConfig}[raw.get("platform")]
            decode(kind, raw.without("platform", "name"))
    message = str(err.value)
    assert "\n" not in message
    return message.replace(f"{tmp_path}/", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # top level
        ("port: 99999\n", "zaspot.yaml:1: port: 99999 is out of range (0 to 65535)"),
        ("host: 127.0.0.1\nport: -1\n", "zaspot.yaml:2: port: -1 is out of range (0 to 65535)"),
        ("rules_stale_after: -1\n", "zaspot.yaml:1: rules_stale_after: -1 is out of range (0 to 2592000)"),
        ("port: 9000\nport: 99\n", "zaspot.yaml:2: port: set twice (first on line 1)"),
        ("log_level: verbose\n", "zaspot.yaml:1: log_level: expected one of debug, info, warning, error, got 'verbose'"),
        # ocpp
        ("port: 9000\nocpp:\n  heartbeat_interval: 60\n  security_profile: 7\n",
         "zaspot.yaml:4: ocpp.security_profile: 7 is out of range (0 to 3)"),
        ("ocpp:\n  call_timeout: -5\n", "zaspot.yaml:2: ocpp.call_timeout: -5 is out of range (1 to 3600)"),
        ("ocpp:\n  call_timeout: .nan\n", "zaspot.yaml:2: ocpp.call_timeout: .nan is out of range (1 to 3600)"),
        ("ocpp:\n  heartbeat_interval: 0\n", "zaspot.yaml:2: ocpp.heartbeat_interval: 0 is out of range (1 to 86400)"),
        ("ocpp:\n  offline_after: -1\n", "zaspot.yaml:2: ocpp.offline_after: -1 is out of range (0 to 604800)"),
        ("ocpp:\n  ping_timeout: 0\n", "zaspot.yaml:2: ocpp.ping_timeout: 0 is out of range (1 to 3600)"),
        ("ocpp:\n  max_frame_bytes: 100\n", "zaspot.yaml:2: ocpp.max_frame_bytes: 100 is out of range (4096 to 16777216)"),
        ("ocpp:\n  auth_failures_before_backoff: 0\n",
         "zaspot.yaml:2: ocpp.auth_failures_before_backoff: 0 is out of range (1 to 1000)"),
        ("ocpp:\n  listen_backlog: 0\n", "zaspot.yaml:2: ocpp.listen_backlog: 0 is out of range (1 to 65535)"),
        ("ocpp:\n  unknown_stations: maybe\n",
         "zaspot.yaml:2: ocpp.unknown_stations: expected one of accept, pending, reject, got 'maybe'"),
        # stations
        ("stations:\n  - id: CP-1\n  - id: CP-2\n    security_profile: 4\n",
         "zaspot.yaml:4: stations[1].security_profile: 4 is out of range (0 to 3)"),
        ("stations:\n  - id: CP-1\n    security_profile: 3\n  - id: CP-1\n    security_profile: 0\n",
         "zaspot.yaml:4: stations[1].id: 'CP-1' is already listed as stations[0]"),
        # retention
        ("retention:\n  raw_days: 30\n  bucket_minutes: 0\n",
         "zaspot.yaml:3: retention.bucket_minutes: 0 is out of range (1 to 1440)"),
        ("retention:\n  history_days: -1\n", "zaspot.yaml:2: retention.history_days: -1 is out of range (0 to 3650)"),
        ("retention:\n  every_minutes: 0\n", "zaspot.yaml:2: retention.every_minutes: 0 is out of range (1 to 1440)"),
        # diagnostics
        ("diagnostics:\n  temperature:\n    - location: connector\n      raise_c: 70\n      clear_c: 75\n",
         "zaspot.yaml:5: diagnostics.temperature[0].clear_c: 75 must be below raise_c (70)"),
        ("diagnostics:\n  temperature:\n    - {location: module, raise_c: 80, clear_c: 80}\n",
         "zaspot.yaml:3: diagnostics.temperature[0].clear_c: 80 must be below raise_c (80)"),
        ("diagnostics:\n  temperature:\n    - location: body\n      raise_c: 500\n      clear_c: 60\n",
         "zaspot.yaml:4: diagnostics.temperature[0].raise_c: 500 is out of range (-50 to 200)"),
        ("diagnostics:\n  temperature:\n    - {location: body, raise_c: 60, clear_c: 55, severity: bad}\n",
         "zaspot.yaml:3: diagnostics.temperature[0].severity: expected one of critical, error, warning, info, got 'bad'"),
        ("diagnostics:\n  poll_interval: 0\n", "zaspot.yaml:2: diagnostics.poll_interval: 0 is out of range (1 to 86400)"),
        # ems
        (EMS + "  interval: 0\n" + SITE, "zaspot.yaml:3: ems.interval: 0 is out of range (0.1 to 3600)"),
        (EMS + "  lease: 5\n" + SITE, "zaspot.yaml:3: ems.lease: 5 is out of range (10 to 86400)"),
        (EMS + "  interval: 10\n  lease: 15\n" + SITE, "zaspot.yaml:4: ems.lease: 15 must be at least 2 x interval (20)"),
        (EMS + "  safe_current: -1\n" + SITE, "zaspot.yaml:3: ems.safe_current: -1 is out of range (0 to 1000)"),
        (EMS + "  site:\n    main_breaker: 0\n    stations: [{id: CP-1}]\n",
         "zaspot.yaml:4: ems.site.main_breaker: 0 is out of range (1 to 10000)"),
        (EMS + "  site:\n    main_breaker: 32\n    voltage: 23\n    stations: [{id: CP-1}]\n",
         "zaspot.yaml:5: ems.site.voltage: 23 is out of range (100 to 500)"),
        (EMS + "  site:\n    main_breaker: 63\n    margin: 20\n    circuits:\n      - name: garage\n        fuse: 16\n"
               "        stations: [{id: CP-1}]\n",
         "zaspot.yaml:5: ems.site.margin: 20 must be below every fuse (garage: 16)"),
        (EMS + "  site:\n    main_breaker: 63\n    circuits:\n      - name: garage\n        fuse: 0\n",
         "zaspot.yaml:7: ems.site.circuits[0].fuse: 0 is out of range (1 to 10000)"),
        (EMS + "  site:\n    main_breaker: 63\n    margin: -1\n    stations: [{id: CP-1}]\n",
         "zaspot.yaml:5: ems.site.margin: -1 is out of range (0 to 1000)"),
        (EMS + "  site:\n    main_breaker: 63\n    stations:\n      - {id: CP-1, max_current: 5000}\n",
         "zaspot.yaml:6: ems.site.stations[0].max_current: 5000 is out of range (1 to 1000)"),
        (EMS + "  site:\n    main_breaker: 63\n    circuits:\n      - name: garage\n        fuse: 40\n        stations:\n"
               "          - id: CP-1\n            max_current: 16\n            min_current: 20\n",
         "zaspot.yaml:11: ems.site.circuits[0].stations[0].min_current: 20 must not be above max_current (16)"),
        (EMS + "  site:\n    main_breaker: 63\n    stations:\n      - {id: CP-1, evses: 0}\n",
         "zaspot.yaml:6: ems.site.stations[0].evses: 0 is out of range (1 to 64)"),
        (EMS + "  site:\n    main_breaker: 63\n    phases: true\n    stations: [{id: CP-1}]\n",
         "zaspot.yaml:5: ems.site.phases: expected one of 1, 3, got True"),
        # notify
        ("notify_policy:\n  rate_window: 0\n", "zaspot.yaml:2: notify_policy.rate_window: 0 is out of range (1 to 86400)"),
        ("notify_policy:\n  rate_limit: -1\n", "zaspot.yaml:2: notify_policy.rate_limit: -1 is out of range (0 to 10000)"),
        ("notify:\n  - platform: webhook\n    url: https://hooks.example.com/z\n    retries: 50\n",
         "zaspot.yaml:4: notify[0].retries: 50 is out of range (0 to 10)"),
        ("notify:\n  - platform: webhook\n    url: https://hooks.example.com/z\n    timeout: 0\n",
         "zaspot.yaml:4: notify[0].timeout: 0 is out of range (1 to 300)"),
        ("notify:\n  - platform: webhook\n    url: ftp://hooks.example.com/z\n",
         "zaspot.yaml:3: notify[0].url: expected http://host/… or https://host/…, got 'ftp://hooks.example.com/z'"),
        ("notify:\n  - platform: log\n    level: loud\n",
         "zaspot.yaml:3: notify[0].level: expected one of debug, info, warning, error, got 'loud'"),
    ],
)
def test_an_out_of_range_value_is_one_line_with_its_line(tmp_path, text, message):
    assert _error(tmp_path, text) == message


def test_the_edges_of_a_range_are_allowed(tmp_path):
    path = tmp_path / "zaspot.yaml"
    path.write_text("port: 65535\nocpp:\n  security_profile: 3\n  heartbeat_interval: 1\n  ping_interval: 0\n"
                    "  offline_after: 0\nstations:\n  - {id: CP-1, security_profile: 0}\n  - {id: CP-2, security_profile: ~}\n"
                    "retention: {raw_days: 0, history_days: 0}\n")
    config = load(path)
    assert (config.port, config.ocpp.security_profile, config.ocpp.offline_timeout) == (65535, 3, 2.5)
    assert [s.security_profile for s in config.stations] == [0, None]


def _walk_defaults(obj, where="config"):
    """Every default value in range and every default dataclass valid."""
    hints = typing.get_type_hints(type(obj), include_extras=True)
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        for check in getattr(hints[f.name], "__metadata__", ()):
            assert value in check, f"{where}.{f.name} = {value} is not in {check}"
        if dataclasses.is_dataclass(value):
            _walk_defaults(value, f"{where}.{f.name}")
    if hasattr(obj, "validate"):
        obj.validate()


def test_the_defaults_are_in_range():
    _walk_defaults(Config())
    for limit in DEFAULT_LIMITS.values():
        _walk_defaults(limit)
    _walk_defaults(WebhookConfig(url="https://example.com/hook"))
    hints = typing.get_type_hints(EmsConfig, include_extras=True)
    for f in dataclasses.fields(EmsConfig):
        for check in getattr(hints[f.name], "__metadata__", ()):
            assert f.default in check, f.name


def _readme_configs() -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for m in re.finditer(r"```yaml\n(.*?)```", text, re.S):
        if isinstance(yaml.safe_load(m.group(1)), dict):  # a zaspot.yaml; rule files are lists
            blocks.append((text[:m.start()].count("\n") + 1, m.group(1)))
    return blocks


def test_the_readme_and_example_configs_load(tmp_path):
    files = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    files += [(f"README.md line {line}", block) for line, block in _readme_configs()]
    assert len(files) >= 7, files
    for name, text in files:
        path = tmp_path / "zaspot.yaml"
        path.write_text(text)
        try:
            config = load(path)
            if config.ems is not None:
                load_ems(config.ems)
            for raw in config.notify:
                kind = {"webhook": WebhookConfig, "log": LogConfig}[raw.get("platform")]
                decode(kind, raw.without("platform", "name"))
        except ConfigError as exc:
            pytest.fail(f"{name}: {exc}")


def test_a_plugin_config_gets_the_same_checks(tmp_path):
    @dataclass
    class Blink:
        every: Annotated[float, Range(1, 60)] = 5.0
        low: float = 0.0
        high: float = 1.0

        def validate(self) -> None:
            if self.low >= self.high:
                raise Invalid("low", "must be below high")

    node = yaml.compose("every: 0.5\n")
    with pytest.raises(ConfigError, match=r"^plugins.yaml:1: plugins.config.blink.every: 0.5 is out of range \(1 to 60\)$"):
        decode(Blink, RawSection("plugins.yaml", node, "plugins.config.blink"))
    node = yaml.compose("every: 2\nhigh: 0\n")
    with pytest.raises(ConfigError, match=r"^plugins.yaml:1: plugins.config.blink.low: must be below high$"):
        decode(Blink, RawSection("plugins.yaml", node, "plugins.config.blink"))


def test_zaspot_run_with_a_bad_config_says_one_line_and_exits(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("port: 9000\nocpp:\n  heartbeat_interval: 60\n  security_profile: 7\n")
    done = subprocess.run([sys.executable, "-m", "zaspot", "run", "-c", str(path), "--db", str(tmp_path / "z.db")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0
    assert "Traceback" not in output
    assert output == f"zaspot: {path}:4: ocpp.security_profile: 7 is out of range (0 to 3)"
