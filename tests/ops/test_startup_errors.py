"""What `zaspot run` says when it cannot start: one line naming the path and the cause, exit 1,
never a traceback; a rules folder that is not there is a warning at start and in
`zaspot rules check`; `zaspot` alone lists its commands."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ZaspotProcess, free_port
from tests.ops.shell import zaspot
from zaspot.store.schema import SCHEMA_VERSION


def run(db: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return zaspot("run", "--host", "127.0.0.1", "--port", str(free_port()), "--db", db, cwd=cwd, timeout=30)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


def test_db_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    line = one_line(run("data", tmp_path))
    assert line == (f"zaspot: database {tmp_path / 'data'}: is a folder, not a database file "
                    f"(give a file, e.g. {tmp_path / 'data' / 'zaspot.db'})")


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Not writable for this process: chmod for a user, the immutable flag for root (root writes past modes)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
        pytest.skip("running as root where chattr +i does not work: nothing here is unwritable for root")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_db_folder_not_writable(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder):
        line = one_line(run("locked/zaspot.db", tmp_path))
    assert line.startswith(f"zaspot: database {folder / 'zaspot.db'}: its folder {folder} is not writable (")
    assert line.endswith("SQLite keeps zaspot.db-wal and zaspot.db-shm beside the database")


def test_db_file_not_writable(tmp_path: Path) -> None:
    db = tmp_path / "zaspot.db"
    sqlite3.connect(db).close()
    with read_only(db):
        line = one_line(run("zaspot.db", tmp_path))
    assert line.startswith(f"zaspot: database {db}: zaspot.db is not writable (")


def test_db_from_a_newer_zaspot(tmp_path: Path) -> None:
    db = tmp_path / "zaspot.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    line = one_line(run(str(db), tmp_path))
    assert line.startswith(f"zaspot: database {db}: written by a newer zaspot (schema version {SCHEMA_VERSION + 1}; ")
    assert line.endswith(f"knows up to {SCHEMA_VERSION}): upgrade zaspot, or restore a backup taken before the upgrade")
    with sqlite3.connect(db) as conn:  # refused, not touched
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)


def test_missing_rules_folder_is_a_warning_at_start_and_in_rules_check(tmp_path: Path) -> None:
    server = ZaspotProcess(tmp_path / "zaspot.db").start()  # in tmp_path, where there is no rules/
    server.stop()
    lines = [line for line in server.log.read_text().splitlines() if "rules" in line]
    expected = f"WARNING zaspot.rules: rules folder {tmp_path / 'rules'} does not exist: every rule is off"
    assert any(expected in line for line in lines), lines

    check = zaspot("rules", "check", cwd=tmp_path)
    assert check.returncode == 0
    assert check.stderr.splitlines()[0] == (f"warning: rules folder {tmp_path / 'rules'} does not exist: every rule is off "
                                            "(create it, or set rules: in zaspot.yaml)")

    (tmp_path / "zaspot.yaml").write_text("rules: my-rules\n")  # the folder the config names, as zaspot run reads it
    named = zaspot("rules", "check", cwd=tmp_path)
    assert f"rules folder {tmp_path / 'my-rules'} does not exist" in named.stderr


def test_zaspot_alone_lists_its_commands(tmp_path: Path) -> None:
    alone = zaspot(cwd=tmp_path)
    assert alone.returncode == 2 and alone.stdout == ""
    assert alone.stderr.startswith("usage: zaspot ")
    for command in ("run", "demo", "tui", "api", "backup", "restore", "doctor", "rules"):
        assert f"\n    {command} " in alone.stderr, command
