"""The file endpoint's small parts: finding the file in a multipart body, byte ranges,
names from stations made harmless, the firmware version a file name carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from zaspot.lifecycle import multipart
from zaspot.lifecycle.files import _byte_range
from zaspot.lifecycle.links import Tickets, safe_name
from zaspot.sim.transfers import version_of


def _body(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "body"
    path.write_bytes(data)
    return path


def test_the_part_with_a_filename_is_the_file(tmp_path: Path) -> None:
    body = _body(tmp_path, b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n42\r\n"
                           b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''diag%20%C3%A9.log\r\n"
                           b"\r\nline 1\r\n--b not the end\r\nline 2\r\n--b--\r\n")
    boundary = multipart.boundary_of('multipart/form-data; boundary="b"')
    part = multipart.file_part(body, boundary)
    assert part.filename == "diag é.log"
    multipart.copy_part(body, part, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"line 1\r\n--b not the end\r\nline 2"


def test_without_a_filename_the_first_part_is_taken(tmp_path: Path) -> None:
    body = _body(tmp_path, b"--x\r\n\r\nonly\r\n--x--")
    part = multipart.file_part(body, "x")
    assert (part.filename, body.read_bytes()[part.start:part.end]) == (None, b"only")


@pytest.mark.parametrize("data", [b"", b"no boundary here", b"--x\r\nContent-Type: a\r\n\r\ncut short"])
def test_a_broken_multipart_body_is_an_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ValueError):
        multipart.file_part(_body(tmp_path, data), "x")


def test_only_multipart_form_data_is_unpacked() -> None:
    assert multipart.boundary_of("application/octet-stream") is None
    assert multipart.boundary_of("") is None
    with pytest.raises(ValueError):
        multipart.boundary_of("multipart/form-data")


@pytest.mark.parametrize(("header", "expected"), [
    ("", (0, 100)), ("bytes=0-", (0, 100)), ("bytes=10-19", (10, 20)), ("bytes=90-500", (90, 100)),
    ("bytes=-30", (70, 100)), ("bytes=100-", None), ("bytes=0-1,5-6", (0, 100)), ("items=1-2", (0, 100)),
])
def test_byte_ranges(header: str, expected: tuple[int, int] | None) -> None:
    assert _byte_range(header, 100) == expected


def test_names_from_stations_are_made_harmless() -> None:
    assert safe_name("../../etc/passwd", "d") == "passwd"
    assert safe_name("C:\\logs\\diag 1.log", "d") == "diag_1.log"
    assert safe_name(".hidden", "d") == "hidden"
    assert safe_name(None, "default.log") == "default.log"


def test_tickets_are_of_one_kind_and_spent_once() -> None:
    tickets = Tickets()
    token, _ = tickets.issue("upload", {"name": "a"})
    assert tickets.get("download", token) is None
    assert tickets.get("upload", token, use=True) == {"name": "a"}
    assert tickets.get("upload", token) is None


def test_the_simulator_boots_with_the_version_in_the_file_name() -> None:
    assert version_of("http://h:1/firmware/tok/fw-2.1.0.bin") == "2.1.0"
    assert version_of("http://h:1/firmware/tok/image.bin") == "image"
