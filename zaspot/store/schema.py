"""Opening zaspot's database: per-connection settings, and the migrations it has not
seen yet (store/migrations.py holds them), each in its own transaction."""

from __future__ import annotations

import sqlite3

from zaspot.store.migrations import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)


def pragmas(busy_timeout_ms: int) -> list[str]:
    """Per-connection settings (both the writer and the reader run them)."""
    return [
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        "PRAGMA journal_mode = WAL",
        # WAL + NORMAL: a committed transaction survives a killed process (not
        # necessarily a power cut), and a commit needs no fsync.
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = OFF",
        "PRAGMA temp_store = MEMORY",
        "PRAGMA cache_size = -16000",
    ]


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (executescript would COMMIT first)."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out


def migrate(conn: sqlite3.Connection) -> int:
    """Run the migrations this database has not seen, each in its own transaction.

    Idempotent: a database at SCHEMA_VERSION is left as it is. `conn` must be in
    autocommit mode (isolation_level=None). Returns the resulting version.
    """
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {version} is newer than this zaspot knows "
            f"({SCHEMA_VERSION}); upgrade zaspot"
        )
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                for stmt in _statements(MIGRATIONS[version]):
                    conn.execute(stmt)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return version
