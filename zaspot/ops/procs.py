"""Which process holds a file open or listens on a port, from /proc (Linux; elsewhere, and
for other users' processes without root, nothing is found and the caller says less)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    command: str  # its command line, shortened

    @property
    def is_zaspot(self) -> bool:
        return "zaspot" in self.command

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


def command_line(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    if words:
        words[0] = os.path.basename(words[0])
    text = " ".join(words)
    return text if len(text) <= 80 else text[:77] + "..."


def _fds(pid: str) -> list[str]:
    folder = PROC / pid / "fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    out = []
    for name in names:
        try:
            out.append(os.readlink(folder / name))
        except OSError:
            continue
    return out


def _others() -> list[str]:
    try:
        return [p for p in os.listdir(PROC) if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return []


def holding(file: Path) -> list[Proc]:
    """Processes (other than this one) with `file` open."""
    target = str(file.resolve())
    return [Proc(int(pid), command_line(int(pid))) for pid in _others() if target in _fds(pid)]


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listening(port: int) -> list[Proc]:
    """Processes (other than this one) listening on TCP `port`."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        return []
    return [Proc(int(pid), command_line(int(pid))) for pid in _others() if sockets & set(_fds(pid))]
