"""README's "Writing a plugin" example, exactly as printed and as it ships
(plugins/fault_alert.py): real stations on both OCPP versions report a fault to an
in-process zaspot, and the webhook gets the plugin's notification."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import yaml

from tests.helpers import ROOT, OcppClient
from tests.integration.test_notify_webhook import HookServer
from zaspot.app import App
from zaspot.config import load


def readme_blocks() -> tuple[str, str]:
    section = (ROOT / "README.md").read_text().split("## Writing a plugin", 1)[1]
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    config = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return python, config


def test_the_readme_config_is_valid(tmp_path: Path) -> None:
    _, config = readme_blocks()
    (tmp_path / "zaspot.yaml").write_text(config)
    loaded = load(tmp_path / "zaspot.yaml")
    assert loaded.notify_policy.rate_limit == 5 and "fault_alert" in loaded.plugins.config
    assert yaml.safe_load(config)["notify"][1]["platform"] == "webhook"


def test_the_shipped_plugin_is_the_one_the_readme_prints() -> None:
    python, _ = readme_blocks()
    assert (ROOT / "plugins" / "fault_alert.py").read_text() == python


async def test_the_readme_plugin_notifies_on_a_connector_fault(tmp_path: Path) -> None:
    python, _ = readme_blocks()
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "fault_alert.py").write_text(python)  # the plugins/ folder next to zaspot.yaml
    with HookServer() as hook:
        (tmp_path / "zaspot.yaml").write_text(textwrap.dedent(f"""\
            host: 127.0.0.1
            port: 0
            db: {tmp_path / 'zaspot.db'}
            ocpp: {{ping_interval: 0}}
            notify:
              - platform: webhook
                name: ops
                url: {hook.url}/hook
            """))
        app = App(load(tmp_path / "zaspot.yaml"))
        await app.start()
        try:
            station = await OcppClient.connect(f"ws://127.0.0.1:{app.server.port}", "CP-7", "1.6")
            await station.boot()
            await station.call("StatusNotification", {"connectorId": 2, "status": "Faulted",
                                                      "errorCode": "GroundFailure"})
            request = await hook.anext()
            await station.close()
            station = await OcppClient.connect(f"ws://127.0.0.1:{app.server.port}", "CP-8", "2.0.1")
            await station.boot()
            await station.call("StatusNotification", {"timestamp": "2026-11-02T10:00:00Z", "connectorStatus": "Faulted",
                                                      "evseId": 2, "connectorId": 1})
            request_201 = await hook.anext()
            await station.close()
        finally:
            await app.stop()
    assert request["body"]["title"] == "Connector fault"
    assert request["body"]["message"] == "CP-7 connector 2: Faulted (GroundFailure)"
    assert request["body"]["key"] == "CP-7:2:fault"
    assert request_201["body"]["message"] == "CP-8 connector 2/1: Faulted"  # 2.0.1 gives no error code
    assert request_201["body"]["key"] == "CP-8:2/1:fault"


async def test_the_shipped_plugin_runs_from_plugins_load(tmp_path: Path) -> None:
    with HookServer() as hook:
        (tmp_path / "zaspot.yaml").write_text(textwrap.dedent(f"""\
            host: 127.0.0.1
            port: 0
            db: {tmp_path / 'zaspot.db'}
            ocpp: {{ping_interval: 0}}
            plugins:
              load: [{ROOT / 'plugins' / 'fault_alert.py'}]
              config:
                fault_alert: {{statuses: [Faulted, Unavailable]}}
            notify:
              - platform: webhook
                name: ops
                url: {hook.url}/hook
            """))
        app = App(load(tmp_path / "zaspot.yaml"))
        await app.start()
        try:
            station = await OcppClient.connect(f"ws://127.0.0.1:{app.server.port}", "CP-9", "1.6")
            await station.boot()
            await station.call("StatusNotification", {"connectorId": 1, "status": "Unavailable", "errorCode": "NoError"})
            request = await hook.anext()
            await station.close()
        finally:
            await app.stop()
    assert request["body"]["message"] == "CP-9 connector 1: Unavailable"
