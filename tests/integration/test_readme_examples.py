"""The README's shell examples, run as printed against a real `zaspot run`.

Every ```console block right after a `<!-- example -->` line is a session: each `$ `
line runs in bash (a trailing backslash continues it), the lines after it are its
expected output (stdout and stderr, as a terminal shows them). In an expected line `...`
matches any text; a line that is only `...` matches any number of lines; a last line `[exit N]` means the command must exit with N
(else it must exit 0). The blocks run in README order against one server with two
simulated stations, CP-1 on OCPP 1.6 and CP-2 on 2.0.1, connected and booted; the cwd is
the server's directory (its zaspot.yaml there, so commands that read the database find it).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT, ZaspotProcess
from zaspot.sim.station import SimStation

README = ROOT / "README.md"
_EXIT = re.compile(r"^\[exit (\d+)\]$")


@dataclass
class Command:
    line: int  # where it is in the README
    text: str
    expected: list[str] = field(default_factory=list)
    exit_code: int = 0


def examples(text: str) -> list[Command]:
    """Every command of every example block, in README order."""
    lines = text.splitlines()
    commands: list[Command] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "<!-- example -->":
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        assert i < len(lines) and lines[i].strip() == "```console", f"README.md:{i + 1}: an example is a ```console block"
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                start, text = i + 1, line[2:]
                while text.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    text = text[:-1] + "\n" + lines[i]
                commands.append(Command(start, text))
            elif commands:
                match = _EXIT.match(line.strip())
                if match:
                    commands[-1].exit_code = int(match.group(1))
                else:
                    commands[-1].expected.append(line.rstrip())
            i += 1
        i += 1
    return commands


def _pattern(line: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in line.split("...")) + "$")


def matches(expected: list[str], actual: list[str]) -> bool:
    """Expected lines against actual ones; a lone `...` takes any number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and bool(_pattern(head.strip()).match(actual[0].strip())) and matches(rest, actual[1:])


def test_the_matcher_reads_wildcards_and_exit_codes() -> None:
    [cmd] = examples("<!-- example -->\n```console\n$ zaspot x \\\n  --y\nA ... B\n...\nend\n[exit 1]\n```\n")
    assert cmd.text == "zaspot x \n  --y" and cmd.exit_code == 1
    assert matches(cmd.expected, ["A 1 2 B", "x", "y", "end"])
    assert matches(cmd.expected, ["A  B", "end"])
    assert not matches(cmd.expected, ["A 1", "end"])
    assert not matches(cmd.expected, ["A B", "end", "more"])


async def _run(command: Command, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command.text, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,  # what the terminal shows
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, "timed out after 120 s"
    return proc.returncode or 0, out.decode()


async def test_readme_examples_run_as_printed(tmp_path: Path) -> None:
    commands = examples(README.read_text())
    assert commands, "README.md has no <!-- example --> blocks"
    config = tmp_path / "zaspot.yaml"
    config.write_text(f"db: {tmp_path / 'zaspot.db'}\nrules: {tmp_path / 'rules'}\n")
    server = ZaspotProcess(tmp_path / "zaspot.db", config=config).start()
    stations = [SimStation("CP-1", f"{server.url}/ocpp", "1.6", meter_interval=60, seed=1),
                SimStation("CP-2", f"{server.url}/ocpp", "2.0.1", meter_interval=60, seed=2)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZASPOT_URL=f"{server.url}/api/websocket",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("ZASPOT_TOKEN", None)
    try:
        for station in stations:
            await station.start()
        for station in stations:
            await station.wait_booted()
        for command in commands:
            code, out = await _run(command, tmp_path, env)
            actual = out.rstrip("\n").splitlines() if out.strip() else []
            where = f"README.md:{command.line}: $ {command.text}"
            assert code == command.exit_code, f"{where}\nexit {code}, expected {command.exit_code}\n{out}"
            assert matches(command.expected, actual), (
                f"{where}\nexpected:\n" + "\n".join(command.expected) + "\ngot:\n" + out
            )
    finally:
        for station in stations:
            await station.stop()
        server.stop()


@pytest.mark.parametrize("name", ["zaspot cards", "zaspot reserve", "zaspot firmware", "zaspot logs",
                                  "zaspot station"])
def test_every_new_command_has_a_tested_example(name: str) -> None:
    assert any(c.text.startswith(name) for c in examples(README.read_text())), f"no tested example of {name}"
