"""A real `zaspot run` loading a plugin from each route (an installed package's entry
point, the plugins/ folder, plugins.load) next to a broken one, and `zaspot plugins`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import ROOT, ZaspotProcess
from tests.integration.test_notify_webhook import HookServer

READY = '''
NAME = "{name}"

async def setup(api, config):
    await api.notify("{name} ready", key="{name}")
'''


def make_site(tmp: Path, hook_url: str) -> Path:
    """A config folder with a folder plugin, a broken one, a module for plugins.load and
    a tiny installed distribution (dist-info on sys.path) declaring a zaspot.plugins entry point."""
    (tmp / "plugins").mkdir()
    (tmp / "plugins" / "folder_plugin.py").write_text(READY.format(name="folder_plugin"))
    (tmp / "plugins" / "broken.py").write_text("async def setup(api, config):\n    raise RuntimeError('no such device')\n")
    (tmp / "config_plugin.py").write_text(READY.format(name="config_plugin"))
    (tmp / "tiny_zaspot_plugin.py").write_text(READY.format(name="entry_point_plugin"))
    dist = tmp / "tiny_zaspot_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-zaspot-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[zaspot.plugins]\ntiny = tiny_zaspot_plugin\nunused = tiny_zaspot_plugin\n")
    config = tmp / "zaspot.yaml"
    config.write_text(textwrap.dedent(f"""\
        plugins:
          load: [tiny, config_plugin]
        notify:
          - platform: webhook
            name: ops
            url: {hook_url}/hook
            backoff: 0
        """))
    return config


def test_every_route_loads_and_a_broken_plugin_does_not_stop_the_server(tmp_path: Path) -> None:
    with HookServer() as hook:
        config = make_site(tmp_path, hook.url)
        # cwd is tmp_path, and `python -m` puts it on sys.path: the dist-info is "installed".
        server = ZaspotProcess(tmp_path / "zaspot.db", config=config).start()
        try:
            messages = {hook.next()["body"]["message"] for _ in range(3)}
            assert server.get("/healthz")[0] == 200
        finally:
            server.stop()
    assert messages == {"folder_plugin ready", "config_plugin ready", "entry_point_plugin ready"}
    log = server.log.read_text()
    assert "plugin broken (folder" in log and "RuntimeError: no such device" in log


def test_zaspot_plugins_lists_where_each_came_from_and_why_one_failed(tmp_path: Path) -> None:
    config = make_site(tmp_path, "http://127.0.0.1:9")
    out = subprocess.run([sys.executable, "-m", "zaspot", "plugins", "-c", str(config)], cwd=tmp_path,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    rows = {line.split()[0]: line.split(None, 3)[1:] for line in out.stdout.splitlines()[3:] if line[:3].strip()}
    assert out.returncode == 1  # something failed: scripts can tell
    assert rows["notify"][:2] == ["builtin", "loaded"]
    assert rows["folder_plugin"][:2] == ["folder", "loaded"]
    assert rows["broken"][:2] == ["folder", "failed"] and "RuntimeError: no such device" in rows["broken"][2]
    assert rows["config_plugin"][:2] == ["config", "loaded"]
    assert rows["entry_point_plugin"][0] == "entry"  # "entry point"
    assert "unused" in out.stdout and "not enabled (add 'unused' to plugins.load)" in out.stdout
