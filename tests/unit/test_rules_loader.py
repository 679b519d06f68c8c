"""Every way a rule file can be wrong gets one `file:line: message`; the shipped rules load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT
from zaspot.core.registry import ACTION
from zaspot.rules.catalog import offline_registry
from zaspot.rules.loader import Loader, check_paths
from zaspot.rules.triggers import platforms

REGISTRY = offline_registry()
LOADER = Loader(platforms(REGISTRY), lambda name: getattr(REGISTRY.get(ACTION, name), "obj", None))
GOOD_ACTION = "  action:\n    - service: log\n      data: {message: hi}\n"


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return [str(e).replace(str(tmp_path) + "/", "") for e in LOADER.load_file(path).errors]


@pytest.mark.parametrize("text, expected", [
    ("- id: a\n  trigger:\n    - platform: thermometer\n" + GOOD_ACTION,
     ("r.yaml:3: unknown trigger platform 'thermometer' (known: alarm, converter, event, fault, meter, price, "
      "station, status, temperature, time, transaction)")),
    ("- id: a\n  trigger: {platform: temperature, above: 70}\n  condition:\n    - \"celsius >\"\n" + GOOD_ACTION,
     "r.yaml:4: bad expression 'celsius >': invalid syntax"),
    ("- id: a\n  trigger: {platform: temperature, above: 70}\n  action:\n    - service: reboot_everything\n",
     "r.yaml:4: unknown service 'reboot_everything'"),
    ("- id: a\n  trigger:\n    - platform: temperature\n      above: 70\n      for: soon\n" + GOOD_ACTION,
     "r.yaml:5: for: bad duration 'soon' (examples: 30s, 10m, 1h30m, 00:05:00)"),
    ("- id: a\n  trigger: {platform: temperature, above: 70}\n  action:\n    - delay: 5 parsecs\n",
     "r.yaml:4: bad duration '5 parsecs' (examples: 30s, 10m, 1h30m, 00:05:00)"),
    ("- id: a\n  trigger: {platform: temperature, above: 70}\n  cooldown: -1\n" + GOOD_ACTION,
     "r.yaml:3: cooldown: bad duration -1: it cannot be negative"),
    ("- id: a\n  trigger:\n    - platform: temperature\n      abov: 70\n" + GOOD_ACTION,
     "r.yaml:4: unknown key 'trigger[0] (temperature).abov' (known: above, below, connector_id, evse_id, location)"),
    ("- id: a\n  trigger:\n    - platform: temperature\n      above: hot\n" + GOOD_ACTION,
     "r.yaml:4: trigger[0] (temperature).above: expected a number, got 'hot'"),
    ("- id: a\n  trigger:\n    - platform: temperature\n      location: connector\n" + GOOD_ACTION,
     "r.yaml:3: temperature: give 'above' or 'below'"),
    ("- id: a\n  trigger: {platform: time, at: '25:00'}\n" + GOOD_ACTION,
     "r.yaml:2: time: at: expected HH:MM or HH:MM:SS, got '25:00'"),
    ("- id: a\n  trigger: {platform: time, cron: 'every night'}\n" + GOOD_ACTION,
     "r.yaml:2: time: Wrong number of fields; got 2, expected 5"),
    ("- id: a\n  trigger: {platform: station}\n  mode: sometimes\n" + GOOD_ACTION,
     "r.yaml:3: mode: expected one of single, restart, queued, parallel, got 'sometimes'"),
    ("- id: a\n  trigger: {platform: station}\n  actions: []\n",
     "r.yaml:3: unknown key 'actions' (known: action, alias, condition, cooldown, description, id, max, mode, trigger)"),
    ("- id: a\n  trigger: {platform: station}\n", "r.yaml:1: rule a: 'action' is required"),
    ("- trigger: {platform: station}\n" + GOOD_ACTION, "r.yaml:1: rule: 'id' is required"),
    ("- id: a\n  trigger: {platform: station}\n  action:\n    - service: set_power_limit\n      data: {kilowatts: 11}\n",
     ("r.yaml:5: service set_power_limit: unknown data key 'kilowatts' (known: amps, connector_id, duration, "
      "evse_id, kw, scope, station_id)")),
    ("- id: a\n  trigger: {platform: station}\n  action:\n    - service: notify\n      data: {message: \"{station.__class__}\"}\n",
     "r.yaml:5: service notify: field {station.__class__} is not allowed: use names like {station_id} or {station.model}"),
    ("- id: a\n  trigger: {platform: station}\n  action:\n    - service: set_power_limit\n      data: {kw: 11, duration: ages}\n",
     "r.yaml:5: service set_power_limit: bad duration 'ages' (examples: 30s, 10m, 1h30m, 00:05:00)"),
    ("- id: a\n  trigger: {platform: station}\n  action:\n    - wait: 5s\n",
     "r.yaml:4: action: expected one of 'service:', 'delay:', 'if:', 'choose:'"),
    ("- id: a\n  trigger: {platform: station}\n  condition:\n    - condition: sunny\n" + GOOD_ACTION,
     "r.yaml:4: condition: unknown kind 'sunny' (known: expression text, state, time, and, or, not)"),
    ("- id: a\n  trigger: [platform: station\n", "r.yaml:3: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("id: a\ntrigger: {platform: station}\naction: {service: log, data: {message: x}}\nid: b\n",
     "r.yaml:4: rule: 'id' appears twice"),
])
def test_each_mistake_is_reported_with_its_file_and_line(tmp_path, text, expected):
    assert errors_of(tmp_path, text) == [expected]


@pytest.mark.parametrize("expression, refused", [
    ("().__class__.__bases__[0].__subclasses__()", "attribute '__subclasses__' is not allowed"),
    ("station.__class__", "attribute '__class__' is not allowed"),
    ("trigger._data", "attribute '_data' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("__import__('os').system('true')", "unknown function '__import__'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("'{0.__class__}'.format(station)", "attribute 'format' is not allowed"),
    ("(lambda: 1)()", "Lambda is not allowed"),
])
def test_expressions_cannot_reach_python(tmp_path, expression, refused):
    text = f"- id: a\n  trigger: {{platform: station}}\n  condition:\n    - >-\n      {expression}\n" + GOOD_ACTION
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("r.yaml:4: bad expression") and refused in error


def test_a_broken_rule_does_not_stop_the_others_in_its_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("- id: good\n  trigger: {platform: station}\n" + GOOD_ACTION +
                    "- id: broken\n  trigger: {platform: nope}\n" + GOOD_ACTION)
    result = LOADER.load_file(path)
    assert [r.id for r in result.rules] == ["good"] and result.broken == {"broken"}


def test_duplicate_ids_across_files_name_the_first(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("- id: same\n  trigger: {platform: station}\n" + GOOD_ACTION)
    _rules, errors = check_paths([tmp_path], LOADER)
    assert [str(e) for e in errors] == [f"{tmp_path}/b.yaml:1: id 'same' is already used at {tmp_path}/a.yaml:1"]


def test_the_shipped_rules_and_the_design_example_load():
    rules, errors = check_paths([ROOT / "rules"], LOADER)
    assert errors == []
    assert {r.id for r in rules} == {"connector_overheat", "ground_failure_inoperative", "module_trip_reset",
                                     "nightly_reset_faulted", "station_offline_notify", "limit_refused_notify",
                                     "limit_ignored_notify"}
    design = (ROOT.parent / "shared" / "DESIGN.md")
    if design.exists():  # the example in the design document, byte for byte
        example = design.read_text().split("```yaml\n")[1].split("```")[0]
        assert example.strip() in (ROOT / "rules" / "connector_overheat.yaml").read_text()
