"""The README's TUI screenshots are the shipped demo's (docs/screenshots.py takes them): each
one the README shows exists, comes from the demo's fleet, and every alarm and rule it shows
is one zaspot has (an alarm code its diagnostics, limit owner or drift test raises, by the
name the TUI gives it; a rule of the shipped rules/, by id or alias)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import yaml
from ocpp.v16 import enums as v16
from ocpp.v201 import enums as v201

from tests.helpers import ROOT
from zaspot.diagnostics.alarms import GENERIC_FAULT, OVER_TEMPERATURE
from zaspot.diagnostics.faults import FAULT_VARIABLES, SEVERITY
from zaspot.health.drift import CODE as DRIFT
from zaspot.tui.alarms import ALARM_NAMES

SCRIPT = ROOT / "docs" / "screenshots.py"
TEXT = re.compile(r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#[\w-]*-line-(\d+)\)"[^>]*>([^<]*)</text>')
CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+\b")  # GroundFailure, ModuleTripped (not SimDC201)
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")  # module_trip_reset


def raised_codes() -> set[str]:
    """Every alarm code zaspot raises: diagnostics (1.6 error codes, 2.0.1 Problem/Tripped,
    temperatures, a reasonless Faulted), the limit owner and the drift test."""
    owner = (ROOT / "zaspot" / "limits" / "owner.py").read_text()
    limits = set(re.findall(r'_problem\(limit, "(\w+)"', owner))
    assert limits == {"LimitRefused", "LimitIgnored"}
    error_codes = {c.value for c in v16.ChargePointErrorCode} - {"NoError"}
    return set(SEVERITY) | error_codes | set(FAULT_VARIABLES) | {OVER_TEMPERATURE, GENERIC_FAULT, DRIFT} | limits


def shipped_rules() -> dict[str, str]:
    """rules/*.yaml: id -> alias."""
    return {r["id"]: r.get("alias") or r["id"] for f in sorted((ROOT / "rules").glob("*.yaml"))
            for r in yaml.safe_load(f.read_text())}


def ocpp_words() -> set[str]:
    """Statuses, reasons and the like, as OCPP names them (both versions)."""
    words: set[str] = set()
    for module in (v16, v201):
        for enum in vars(module).values():
            if isinstance(enum, type) and hasattr(enum, "__members__"):
                words |= {str(m.value) for m in enum.__members__.values()}
    return words


def screen_lines(svg: Path) -> list[str]:
    """The terminal's text, line by line, as the SVG draws it (Rich: one cell is 12.2 px)."""
    lines: dict[int, list[str]] = {}
    for x, line, text in TEXT.findall(svg.read_text()):
        row = lines.setdefault(int(line), [" "] * 400)
        for i, ch in enumerate(html.unescape(text).replace("\xa0", " ")):
            row[round(float(x) / 12.2) + i] = ch
    return ["".join(lines[i]).rstrip() if i in lines else "" for i in range(max(lines) + 1)]


def column(lines: list[str], header: str, name: str, after: str | None) -> list[str]:
    """The cells under `name` (up to the column `after`) in the table whose header line has
    `header` in it, down to its bottom border."""
    top = next(i for i, line in enumerate(lines) if header in line)
    head = lines[top]
    start = head.index(name, head.index(header.split()[0]))
    end = head.index(after, start) if after else None
    left = head.rfind("│", 0, start)  # the table's own left border: its rows go on while it does
    cells = []
    for line in lines[top + 1:]:
        if len(line) <= left or line[left] != "│":
            break
        cells.append(line[start:end].strip(" │"))
    return [c for c in cells if c]


def readme_images() -> list[Path]:
    section = (ROOT / "README.md").read_text().split("## The terminal UI", 1)[1].split("\n## ", 1)[0]
    return [ROOT / p for p in re.findall(r"!\[[^\]]*\]\((docs/[\w.-]+\.svg)\)", section)]


def known_alarm(text: str) -> bool:
    """An alarm as the TUI names it ('Ground failure · connector 1', or a code with no name),
    perhaps cut short by its column."""
    name = text.split(" · ")[0].rstrip("…")
    names = set(ALARM_NAMES.values()) | raised_codes()
    return any(n == name or (n.startswith(name) and len(name) >= 6) for n in names)


def test_every_named_alarm_is_a_code_zaspot_raises():
    assert set(ALARM_NAMES) <= raised_codes(), set(ALARM_NAMES) - raised_codes()


def test_the_readme_shows_the_screenshots_the_script_takes():
    images = readme_images()
    assert images, "the terminal UI section shows no screenshot"
    taken = set(re.findall(r"docs/(tui-[\w-]+\.svg)", SCRIPT.read_text()))
    for image in images:
        assert image.exists(), image
        assert image.name in taken, f"{image.name} is not taken by docs/screenshots.py"


def test_the_screenshots_show_the_demo_and_only_alarms_and_rules_that_exist():
    rules = shipped_rules()
    allowed_camel = raised_codes() | ocpp_words()
    for image in readme_images():
        lines = screen_lines(image)
        text = "\n".join(lines)
        flat = " ".join(" ".join(lines).split())
        assert re.search(r"\bDEMO0\d\d\b", text), f"{image.name}: not the demo's fleet"
        strange = set(CAMEL.findall(text)) - allowed_camel
        assert not strange, f"{image.name}: codes zaspot does not have: {strange}"
        unknown = set(SNAKE.findall(text)) - set(rules)
        assert not unknown, f"{image.name}: rule ids that are not in rules/: {unknown}"
        for alias in re.findall(r"“([^”]+)”", flat):
            assert alias in rules.values(), f"{image.name}: no shipped rule is called {alias!r}"


def test_the_fleet_screenshot_names_real_alarms_and_rules():
    lines = screen_lines(ROOT / "docs" / "tui-fleet.svg")
    rules = shipped_rules()
    alarms = column(lines, "Raised    Station", "Alarm", "State")
    assert len(alarms) >= 2 and all(known_alarm(a) for a in alarms), alarms
    in_fleet = column(lines, "Name · site", "Alarms", "Seen")
    shown = [a.split(" ", 1)[1] for a in in_fleet if a != "–"]
    assert shown and all(known_alarm(name.strip()) for a in shown for name in a.split(", ")), in_fleet
    runs = column(lines, "Time      Rule", "Rule", "Station")
    assert runs and all(any(r.startswith(run) for r in [*rules, *rules.values()]) for run in runs), runs
