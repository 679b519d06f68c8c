"""The file in a multipart/form-data upload, as many OCPP 1.6 chargers POST their diagnostics.

The body is already in a file (zaspot.lifecycle.files): its parts are found by their
boundary in a memory map, so a large log is never read into memory, and each part's
headers (Content-Disposition's filename, RFC 2231 forms included) are read by the
standard library's email parser.
"""

from __future__ import annotations

import email.message
import email.parser
import mmap
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Part:
    filename: str | None  # Content-Disposition's filename, if the part has one
    start: int  # its content's bytes in the body: [start, end)
    end: int


def boundary_of(content_type: str) -> str | None:
    """The boundary of a multipart/form-data Content-Type; None for any other type."""
    message = email.message.Message()
    message["Content-Type"] = content_type or "application/octet-stream"
    if message.get_content_type() != "multipart/form-data":
        return None
    boundary = message.get_boundary()
    if not boundary:
        raise ValueError("multipart/form-data without a boundary")
    return boundary


def file_part(body: Path, boundary: str) -> Part:
    """The part that holds the file: the first with a filename, else the first part.
    ValueError for a body that is not multipart with this boundary."""
    parts = _parts(body, b"--" + boundary.encode("latin-1"))
    if not parts:
        raise ValueError("the multipart body has no part")
    return next((p for p in parts if p.filename), parts[0])


def _parts(body: Path, delimiter: bytes) -> list[Part]:
    if body.stat().st_size == 0:
        raise ValueError("the multipart body is empty")
    parts: list[Part] = []
    with open(body, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        pos = m.find(delimiter)
        if pos < 0:
            raise ValueError("the body has no multipart boundary")
        while True:
            pos += len(delimiter)
            if m[pos:pos + 2] == b"--":  # the closing delimiter
                return parts
            line_end = m.find(b"\r\n", pos)
            head_end = m.find(b"\r\n\r\n", line_end) if line_end >= 0 else -1
            if head_end < 0:
                raise ValueError("a multipart part has no end of its headers")
            headers = email.parser.BytesHeaderParser().parsebytes(m[line_end + 2:head_end + 2])
            start = head_end + 4
            end = _next_delimiter(m, delimiter, start)
            if end < 0:
                raise ValueError("the multipart body ends before its closing boundary")
            parts.append(Part(headers.get_filename(), start, end))
            pos = end + 2


def _next_delimiter(m: mmap.mmap, delimiter: bytes, start: int) -> int:
    """Where the CRLF before the next delimiter line is: the delimiter followed by `--` or
    by blanks and CRLF (a line that only starts like one is content); -1 if none."""
    while (at := m.find(b"\r\n" + delimiter, start)) >= 0:
        after = at + 2 + len(delimiter)
        if m[after:after + 2] == b"--":
            return at
        while m[after:after + 1] in (b" ", b"\t"):
            after += 1
        if m[after:after + 2] == b"\r\n":
            return at
        start = at + 1
    return -1


def copy_part(body: Path, part: Part, target: Path) -> None:
    """The part's bytes into `target` (a new file)."""
    with open(body, "rb") as src, open(target, "wb") as dst:
        src.seek(part.start)
        left = part.end - part.start
        while left > 0:
            chunk = src.read(min(1 << 20, left))
            if not chunk:
                raise ValueError("the body shrank while it was copied")
            dst.write(chunk)
            left -= len(chunk)

