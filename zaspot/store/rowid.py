"""The id of the row an INSERT made."""

from __future__ import annotations

import sqlite3


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """`cursor.lastrowid` after its INSERT (sqlite3 says int | None: None before any INSERT)."""
    row_id = cursor.lastrowid
    if row_id is None:
        raise sqlite3.InterfaceError("the statement inserted no row")
    return row_id
