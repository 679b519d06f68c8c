"""`zaspot backup PATH` and `zaspot restore PATH`.

A backup goes through SQLite's online backup API, not a file copy: it reads one consistent
snapshot (the database file plus what the WAL holds) while zaspot keeps writing, since in
WAL mode a reader never blocks the writer. It copies in one step, so writes meanwhile never
make it start over. The copy is written beside its destination, checked, made one
self-contained file (no -wal) and only then renamed into place: a PATH that exists is whole.

A restore replaces a stopped zaspot's database with a backup, after checking the backup is
whole and not from a newer zaspot; the database it replaces is kept beside it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from zaspot.ops import procs
from zaspot.ops.database import (
    SIDE_FILES,
    DatabaseUnusable,
    check_database,
    connect_read_only,
    in_use,
    newer_schema,
    schema_version,
)
from zaspot.store.schema import SCHEMA_VERSION


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def describe(conn: sqlite3.Connection) -> str:
    """What a database holds, in a few words: its schema and how far its event log goes."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    try:
        row = conn.execute("SELECT id, ts FROM events ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # not a zaspot database after all
        row = None
    log = "no events" if row is None else \
        f"events up to #{row[0]} ({time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime(row[1]))})"
    return f"schema version {version}, {log}"


def _quick_check(conn: sqlite3.Connection) -> str | None:
    """None when the database is whole, else SQLite's first complaint."""
    rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """`source` into a new self-contained file `dest` (fsynced), or no `dest` at all."""
    part = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    part.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(part, isolation_level=None)
        try:
            source.backup(target)  # pages=-1: the whole snapshot in one step
            target.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
            problem = _quick_check(target)
            if problem:
                raise DatabaseUnusable(f"the copy is not whole ({problem}); nothing written to {dest}")
        finally:
            target.close()
        with open(part, "rb") as f:
            os.fsync(f.fileno())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def backup(db_path: str, dest_path: str, force: bool = False) -> str:
    """Back `db_path` up into `dest_path` (a file, or a folder to put a dated file in);
    returns the line to print. DatabaseUnusable for anything that stops it."""
    db = Path(db_path).expanduser().absolute()
    if schema_version(db) is None:
        raise DatabaseUnusable(f"database {db}: no such database")
    dest = Path(dest_path).expanduser().absolute()
    if dest.is_dir():
        dest = dest / f"{db.stem}-{_stamp()}.db"
    if dest == db:
        raise DatabaseUnusable(f"{dest}: that is the database itself")
    if dest.exists() and not force:
        raise DatabaseUnusable(f"{dest}: already exists (another name, or --force to replace it)")
    if not dest.parent.is_dir():
        raise DatabaseUnusable(f"{dest}: no such folder {dest.parent}")
    source = connect_read_only(db, timeout=30)
    try:
        _copy(source, dest)
    except sqlite3.Error as exc:
        raise DatabaseUnusable(f"backup of {db} into {dest}: {exc}") from None
    finally:
        source.close()
    with contextlib.closing(connect_read_only(dest)) as copy:
        what = describe(copy)
    size = dest.stat().st_size / 1e6
    return f"backup of {db} in {dest}: {size:.1f} MB, {what}"


def _check_backup(path: Path) -> str:
    """The backup's description when it is whole and this zaspot can run on it."""
    try:
        version = schema_version(path)
    except DatabaseUnusable as exc:
        raise DatabaseUnusable(str(exc).replace("database ", "backup ", 1)) from None
    if version is None:
        raise DatabaseUnusable(f"{path}: no such backup")
    if version > SCHEMA_VERSION:
        raise DatabaseUnusable(newer_schema(path, version).replace("database ", "backup ", 1))
    with contextlib.closing(connect_read_only(path)) as conn:
        problem = _quick_check(conn)
        if problem:
            raise DatabaseUnusable(f"backup {path}: not whole ({problem})")
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            raise DatabaseUnusable(f"backup {path}: not a zaspot database (no event log)")
        return describe(conn)


def _refuse_if_running(db: Path) -> None:
    if not in_use(db):
        return
    holders = procs.holding(db)
    who = f" by {', '.join(map(str, holders))}" if holders else ""
    raise DatabaseUnusable(f"database {db}: in use{who}: stop zaspot first (e.g. systemctl stop zaspot), "
                           "then restore")


def _set_aside(db: Path) -> Path | None:
    """Rename the database (and any side files) out of the way; where it went."""
    if not db.exists():
        return None
    aside = db.with_name(f"{db.name}.replaced-{_stamp()}")
    os.replace(db, aside)
    for side in SIDE_FILES:  # none after in_use() checkpointed it, unless SQLite left empty ones
        extra = db.with_name(db.name + side)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + side))
    return aside


def _same_owner(new: Path, old: Path) -> None:
    """Root restoring the service user's database: the service must still be able to write it."""
    st = old.stat()
    with contextlib.suppress(OSError):
        os.chown(new, st.st_uid, st.st_gid)
    os.chmod(new, st.st_mode & 0o777)


def restore(backup_path: str, db_path: str) -> str:
    """Put the backup in place of the (stopped) database; returns the lines to print."""
    source = Path(backup_path).expanduser().absolute()
    db = Path(db_path).expanduser().absolute()
    if source == db:
        raise DatabaseUnusable(f"{source}: that is the database itself")
    what = _check_backup(source)
    check_database(db)  # a folder we can write, a file zaspot could open
    _refuse_if_running(db)
    part = db.with_name(f"{db.name}.restoring")
    try:
        with contextlib.closing(connect_read_only(source)) as conn:
            _copy(conn, part)  # the same consistent copy as a backup: never half a file in place
        aside = _set_aside(db)
        if aside is not None:
            _same_owner(part, aside)
        os.replace(part, db)
    finally:
        part.unlink(missing_ok=True)
    lines = [f"restored {db} from {source} ({what})"]
    if aside is not None:
        lines.append(f"the database it replaced is at {aside}")
    version = schema_version(db) or 0
    if version < SCHEMA_VERSION:
        lines.append(f"zaspot run migrates it forward from schema version {version} to {SCHEMA_VERSION}")
    return "\n".join(lines)
