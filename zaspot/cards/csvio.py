"""Cards as CSV: `id_token,status,expiry,group,driver,note`, one card a line.

An import is read whole before anything is stored: every bad row is reported as
`line N: message` (N counts the header as line 1), and one bad row imports nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from zaspot.cards.model import Card, CardError, build, iso

COLUMNS = ("id_token", "status", "expiry", "group", "driver", "note")


class CsvError(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__("\n".join(f"line {line}: {message}" for line, message in errors))
        self.errors = errors


def export(cards: list[Card]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in cards:
        writer.writerow([c.id_token, c.status, iso(c.expiry) or "", c.group or "", c.driver or "", c.note or ""])
    return out.getvalue()


def parse(text: str) -> list[dict[str, Any]]:
    """The rows as cards/add fields; CsvError with every bad line. A column the header names
    sets its field on every card (an empty cell clears it; an empty status is Accepted for a
    new card and leaves a known one's); a column it leaves out changes nothing."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise CsvError([(1, f"the first line must be the header {','.join(COLUMNS)}")])
    header = [cell.strip().lower() for cell in rows[0]]
    errors: list[tuple[int, str]] = []
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "id_token" not in header or len(set(header)) != len(header):
        raise CsvError([(1, (f"the header must name columns of {','.join(COLUMNS)} (each once, id_token "
                             f"among them), not {','.join(rows[0])}"))])
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) > len(header):
            errors.append((number, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cells = row + [""] * (len(header) - len(row))
        fields: dict[str, Any] = {name: value.strip() or None for name, value in zip(header, cells)}
        if fields.get("status") is None:
            fields.pop("status", None)  # a new card is Accepted, a known one keeps its status
        try:
            build(fields)  # every check a card has
        except CardError as exc:
            errors.append((number, str(exc)))
            continue
        key = str(fields["id_token"]).casefold()
        if key in seen:
            errors.append((number, f"card {fields['id_token']} is on line {seen[key]} already"))
            continue
        seen[key] = number
        out.append(fields)
    if errors:
        raise CsvError(errors)
    return out
