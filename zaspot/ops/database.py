"""The database file as an operator sees it: can zaspot use it, which schema it has, who
holds it open. Shared by `zaspot run` (checked before the store opens, so a bad `--db`
is one line naming the path and the cause, not a traceback), doctor, backup and restore."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from zaspot import __version__
from zaspot.store.schema import SCHEMA_VERSION

SIDE_FILES = ("-wal", "-shm")  # SQLite keeps these beside a WAL database


class DatabaseUnusable(Exception):
    """The database cannot be used as given; the message names the path and the cause."""


def is_memory(path: str) -> bool:
    return path in ("", ":memory:") or path.startswith("file::memory:")


def check_database(path: str | os.PathLike[str], create_folder: bool = True) -> Path:
    """The database path, made absolute, once zaspot can create or write it and its schema
    is one this zaspot knows; DatabaseUnusable otherwise. Creates a missing folder."""
    db = Path(path).expanduser().absolute()
    if db.is_dir():
        raise DatabaseUnusable(f"database {db}: is a folder, not a database file "
                               f"(give a file, e.g. {db / 'zaspot.db'})")
    _check_folder(db, create_folder)
    for file in [db, *(db.with_name(db.name + side) for side in SIDE_FILES)]:
        if file.exists():
            _check_writable(db, file)
    version = schema_version(db)
    if version is not None and version > SCHEMA_VERSION:
        raise DatabaseUnusable(newer_schema(db, version))
    return db


def newer_schema(db: Path, version: int) -> str:
    return (f"database {db}: written by a newer zaspot (schema version {version}; zaspot {__version__} "
            f"knows up to {SCHEMA_VERSION}): upgrade zaspot, or restore a backup taken before the upgrade")


def _check_folder(db: Path, create: bool) -> None:
    folder = db.parent
    if folder.exists() and not folder.is_dir():
        raise DatabaseUnusable(f"database {db}: {folder} is a file, not a folder")
    if not folder.exists():
        if not create:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnusable(f"database {db}: cannot create its folder {folder}: {exc.strerror}") from None
    # A real write, not os.access: root passes access() where a read-only or immutable folder refuses.
    probe = folder / f".zaspot-write-test-{os.getpid()}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        probe.unlink()
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseUnusable(f"database {db}: its folder {folder} is not writable ({exc.strerror}); "
                               f"SQLite keeps {db.name}-wal and {db.name}-shm beside the database") from None


def _check_writable(db: Path, file: Path) -> None:
    try:
        with open(file, "r+b"):
            pass
    except OSError as exc:
        owner = "" if file == db else "; left by zaspot run as another user?"
        raise DatabaseUnusable(f"database {db}: {file.name} is not writable ({exc.strerror}{owner})") from None


def connect_read_only(db: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A connection that refuses writes (doctor, backup's source, the checks). Not SQLite's
    mode=ro: that leaves the -wal and -shm it opened behind, and left by root they would
    stop the service's user from opening its database. This one, closed last, removes them."""
    conn = sqlite3.connect(db, timeout=timeout, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def schema_version(db: Path) -> int | None:
    """PRAGMA user_version (migrations run), None where there is no database yet."""
    if not db.exists() or db.stat().st_size == 0:
        return None
    try:
        conn = connect_read_only(db)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(f"database {db}: cannot be read as an SQLite database ({exc})") from None


def in_use(db: Path) -> bool:
    """Does another connection hold the database open (a running zaspot always does)?
    Leaving WAL mode needs the database to itself, so it fails while anyone else has it."""
    if not db.exists():
        return False
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("BEGIN EXCLUSIVE")  # a rollback-journal database: any reader blocks this
            conn.execute("ROLLBACK")
            return False
        conn.execute("PRAGMA journal_mode = DELETE")  # checkpoints the WAL into the file first
        conn.execute("PRAGMA journal_mode = WAL")  # as zaspot keeps it
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        conn.close()
