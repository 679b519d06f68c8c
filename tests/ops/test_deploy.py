"""The deployment files that ship: deploy/zaspot.service passes systemd's own checks, and the
Dockerfile installs the way the README does, from this checkout (no Docker engine runs here,
so the Dockerfile is read, not built)."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from tests.helpers import ROOT
from zaspot.config import load

UNIT = ROOT / "deploy" / "zaspot.service"
SECTION = "## Running it for real"


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    parser.read(UNIT)
    return parser


def test_the_unit_runs_zaspot_as_its_own_user_from_its_state_folder() -> None:
    service = unit()["Service"]
    assert service["User"] == "zaspot" and service["Group"] == "zaspot"
    assert service["StateDirectory"] == "zaspot" and service["WorkingDirectory"] == "/var/lib/zaspot"
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    argv = shlex.split(service["ExecStart"])
    assert argv[1:] == ["run", "-c", "/etc/zaspot/zaspot.yaml"] and argv[0].endswith("/bin/zaspot")
    config = load(ROOT / "deploy" / "zaspot.yaml")  # the config it names ships, loads, and keeps state there
    assert config.db.startswith("/var/lib/zaspot/") and config.files.dir.startswith("/var/lib/zaspot/")
    assert service["ExecStart"] in readme_section() or "deploy/zaspot.service" in readme_section()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_verifies_the_unit_and_rates_it_hardened(tmp_path: Path) -> None:
    # verify also checks ExecStart exists: point it at this venv's zaspot, the rest as shipped.
    here = Path(sys.executable).parent / "zaspot"
    if not here.exists():
        pytest.skip(f"no zaspot script beside {sys.executable} (pip install -e . makes one)")
    argv0 = shlex.split(unit()["Service"]["ExecStart"])[0]
    copy = tmp_path / "zaspot.service"
    copy.write_text(UNIT.read_text().replace(f"ExecStart={argv0} ", f"ExecStart={here} "))
    verify = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert verify.returncode == 0 and "zaspot.service" not in verify.stderr, verify.stderr
    # systemd's exposure score: 10 is unprotected, below 2 is what it calls OK; fail above 2.0
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(copy)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert security.returncode == 0, security.stdout[-600:] + security.stderr
    assert re.search(r"Overall exposure level for zaspot\.service: [01]\.\d OK", security.stdout)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buf += line.rstrip()
        if buf.endswith("\\"):
            buf = buf[:-1] + " "
            continue
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
        buf = ""
    return out


def ignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    parts = PurePosixPath(path).parts
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[0], p) for p in patterns)


def readme_install() -> str:
    """The install command the README's deployment section gives (one `pip install` line)."""
    commands = [line.strip().removeprefix("$ ") for line in readme_section().splitlines()
                if "pip install" in line and "venv" in line]
    assert commands, "the section gives its install command"
    return commands[0]


def test_the_dockerfile_installs_as_the_readme_does_from_this_checkout() -> None:
    steps = dockerfile()
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.(1[1-9])(-slim)?", steps[0][1])
    workdir, copied, installed = "/", {}, None
    for word, args in steps:
        if word == "WORKDIR":
            workdir = str(PurePosixPath(workdir) / args)
        elif word == "COPY":
            *sources, dest = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists() and not ignored(source), f"COPY {source}: not in the build context"
                target = PurePosixPath(workdir) / dest
                copied[source] = str(target / source if dest.endswith("/") or len(sources) > 1 else target)
        elif word == "RUN" and "pip install" in args:
            installed = (args, workdir)
    assert installed is not None, "the Dockerfile installs zaspot"
    command, where = installed
    assert command == readme_install()  # the README's command, word for word
    assert copied["pyproject.toml"] == f"{where}/pyproject.toml" and copied["zaspot"] == f"{where}/zaspot"
    assert copied["README.md"] == f"{where}/README.md"  # pyproject's readme: the build needs it
    assert not re.search(r"pip install\s+zaspot\b", command)  # from these files, not from an index

    config_path = copied["deploy/zaspot.yaml"]
    config = load(ROOT / "deploy" / "zaspot.yaml")
    by_word = {}
    for word, args in steps:
        by_word.setdefault(word, []).append(args)
    assert str(config.port) in by_word["EXPOSE"][0].split()
    assert any(config.db.startswith(volume.strip('[]"') + "/") for volume in by_word["VOLUME"])
    user = by_word["USER"][-1]
    assert user not in ("root", "0") and f"useradd --system --home-dir /var/lib/zaspot --shell /usr/sbin/nologin {user}" \
        in " ".join(by_word["RUN"])
    assert [w for w, _ in steps].index("USER") < [w for w, _ in steps].index("CMD")  # runs as that user
    run = shlex.split(by_word["ENTRYPOINT"][0].replace('"', "").strip("[]").replace(",", " "))
    run += shlex.split(by_word["CMD"][0].replace('"', "").strip("[]").replace(",", " "))
    assert run == ["zaspot", "run", "-c", config_path]
    assert ignored(".venv") and ignored("zaspot.db") and ignored("zaspot/__pycache__")
