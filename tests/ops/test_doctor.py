"""`zaspot doctor`: one line per check (config, database, port, tls, rules, clock), exit 1
when one fails; beside a running zaspot, on a fresh folder, and on a box with every problem."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from tests.certs import make_ca, make_cert
from tests.helpers import ROOT, ZaspotProcess, free_port
from tests.ops.shell import zaspot
from zaspot.store.schema import SCHEMA_VERSION

CHECKS = ["config", "database", "port", "tls", "rules", "clock"]


def doctor(cwd: Path, *args: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """Exit code and {check: (status, text)}; every line is one of the checks, in order."""
    result = zaspot("doctor", *args, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    found = {}
    for line in lines:
        status, name, text = line.split(None, 2)
        found[name] = (status, text)
    assert list(found) == CHECKS, result.stdout
    return result.returncode, found


def write_config(folder: Path, port: int, extra: str = "") -> Path:
    config = folder / "zaspot.yaml"
    config.write_text(f"host: 127.0.0.1\nport: {port}\ndb: zaspot.db\nfiles:\n  port: {free_port()}\n{extra}")
    (folder / "rules").mkdir(exist_ok=True)
    shutil.copy(ROOT / "rules" / "offline.yaml", folder / "rules")
    return config


def test_a_fresh_folder_then_beside_a_running_zaspot(tmp_path: Path) -> None:
    port = free_port()
    write_config(tmp_path, port)
    code, found = doctor(tmp_path)
    assert code == 0 and {status for status, _ in found.values()} <= {"ok", "warn"}, found  # warn: NTP not synced
    assert found["database"][1].startswith(f"{tmp_path / 'zaspot.db'} does not exist yet: zaspot run creates it")
    assert found["port"][1].startswith(f"{port} free")
    assert found["rules"] == ("ok", f"1 rule OK in 1 file ({tmp_path / 'rules'})")
    assert found["tls"] == ("ok", "not configured: stations connect with ws:// (no wss://)")

    server = ZaspotProcess(tmp_path / "zaspot.db", config=tmp_path / "zaspot.yaml", port=port).start()
    try:
        code, found = doctor(tmp_path)
    finally:
        server.stop()
    assert code == 0, found
    pid = server.proc.pid
    assert found["database"][0] == "ok"
    assert found["database"][1].startswith(f"{tmp_path / 'zaspot.db'}: schema version {SCHEMA_VERSION} (current), "
                                           "quick_check ok, writable, ")
    assert f"open in pid {pid} (" in found["database"][1]
    assert found["port"][0] == "ok" and found["port"][1].startswith(f"{port}: a zaspot is running on it (pid {pid} (")
    assert "the newest time in the database is before it" in found["clock"][1]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the test certificate is made with openssl")
def test_every_problem_at_once(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    ca = make_ca(tmp_path, "ca")
    cert, key = make_cert(tmp_path, "server", "127.0.0.1", ca, server=True)  # valid for 2 days
    write_config(tmp_path, port, f"tls:\n  cert: {cert}\n  key: {key}\n")
    (tmp_path / "rules" / "broken.yaml").write_text("- id: broken\n  trigger:\n    - platform: nonsense\n  action: []\n")
    db = tmp_path / "zaspot.db"  # from a newer zaspot, and written 3 h ahead of this clock
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE stations (id TEXT PRIMARY KEY, last_seen REAL)")
    conn.execute("CREATE TABLE commands (sent_at REAL)")
    conn.execute("CREATE TABLE consumer_positions (updated_at REAL)")
    conn.execute("INSERT INTO stations VALUES ('CP-1', ?)", (time.time() + 3 * 3600,))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    try:
        code, found = doctor(tmp_path)
    finally:
        busy.close()
    assert code == 1
    assert found["config"][0] == "ok"
    assert found["database"][0] == "FAIL" and "written by a newer zaspot" in found["database"][1]
    assert found["port"][0] == "FAIL"
    assert found["port"][1].startswith(f"{port}: in use by pid {os.getpid()} (") and "cannot listen on it" in found["port"][1]
    assert found["tls"][0] == "warn" and found["tls"][1].startswith(f"{cert} expires on ")
    assert found["tls"][1].endswith(": renew it")
    assert found["rules"][0] == "FAIL" and f"{tmp_path / 'rules' / 'broken.yaml'}:3: " in found["rules"][1]
    assert found["clock"][0] == "FAIL" and ", 3 h ahead of this clock: it was set back" in found["clock"][1]


def test_a_config_that_does_not_load_and_a_missing_rules_folder(tmp_path: Path) -> None:
    (tmp_path / "zaspot.yaml").write_text("port: 9000\nocpp:\n  heartbeat_interval: often\n")
    code, found = doctor(tmp_path)
    assert code == 1
    assert found["config"][0] == "FAIL" and found["config"][1].startswith("zaspot.yaml:3: ocpp.heartbeat_interval: ")
    assert all(found[name] == ("skip", "the config does not load") for name in CHECKS[1:])

    (tmp_path / "zaspot.yaml").write_text(f"port: {free_port()}\nfiles:\n  port: {free_port()}\n")
    code, found = doctor(tmp_path)
    assert code == 0  # a warning is not a failure
    assert found["rules"] == ("warn", f"rules folder {tmp_path / 'rules'} does not exist: every rule is off")


def test_doctor_takes_the_config_and_database_given(tmp_path: Path) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    config = write_config(elsewhere, free_port())
    (tmp_path / "data").mkdir()
    code, found = doctor(tmp_path, "-c", str(config), "--db", "data")
    assert code == 1 and found["database"][1].startswith(f"database {tmp_path / 'data'}: is a folder")
    assert found["rules"] == ("ok", f"1 rule OK in 1 file ({elsewhere / 'rules'})")  # beside the config
