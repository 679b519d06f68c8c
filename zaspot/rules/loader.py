"""Rule files -> validated Rule objects, with every problem as `file:line: message`.

A file holds a list of rules (or one rule). Each rule is checked whole: its
triggers against their platform's CONFIG, its conditions compiled, its services
looked up. A broken rule is reported and left out; the other rules of the file load.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zaspot.config import ConfigError, RawSection, decode
from zaspot.rules.actions import compile_actions
from zaspot.rules.conditions import compile_condition
from zaspot.rules.durations import parse_duration
from zaspot.rules.model import MODES, Rule, TriggerSpec
from zaspot.rules.source import RuleError, Src, compose_file

RULE_KEYS = {"id", "alias", "description", "trigger", "condition", "action", "mode", "max", "cooldown"}
_RENAMED = {"from": "from_"}  # YAML keys that are Python keywords
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


@dataclass
class FileResult:
    path: str
    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # ids of rules that did not load
    unreadable: bool = False  # the whole file failed (bad YAML, not a list): keep what ran before


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus `*.yaml` / `*.yml` in folders named (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and not f.name.startswith("."))
        else:
            out.append(p)
    return out


class Loader:
    def __init__(self, platforms: dict[str, Any], service: Callable[[str], Any]) -> None:
        self.platforms, self.service = platforms, service

    def load_file(self, path: str | Path) -> FileResult:
        result = FileResult(str(path))
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            result.unreadable = True
            result.errors.append(RuleError(str(path), 0, f"cannot read: {exc.strerror or exc}"))
            return result
        try:
            root = compose_file(str(path), text)
        except RuleError as exc:
            result.unreadable = True
            result.errors.append(exc)
            return result
        if root is None:
            return result
        if root.is_mapping():
            root = Src(root.file, yaml.SequenceNode("tag:yaml.org,2002:seq", [root.node]))
        if not root.is_list():
            result.unreadable = True
            result.errors.append(root.error("expected a list of rules (each starting with '- id: …')"))
            return result
        for item in root.as_list():
            try:
                result.rules.append(self.load_rule(item))
            except RuleError as exc:
                result.errors.append(exc)
                rule_id = _id_of(item)
                if rule_id:
                    result.broken.add(rule_id)
        return result

    def load_rule(self, src: Src) -> Rule:
        items = src.items("rule")
        for key, value in items.items():
            if key not in RULE_KEYS:
                raise value.error(f"unknown key '{key}' (known: {', '.join(sorted(RULE_KEYS))})")
        for key in ("id", "trigger", "action"):
            if key not in items:
                raise src.error(f"rule {_id_of(src) or ''}: '{key}' is required".replace("rule : ", "rule: "))
        rule_id = items["id"].plain()
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise items["id"].error("id: letters, digits and _ . : - only (1-100 characters)")
        mode = items["mode"].plain() if "mode" in items else "single"
        if mode not in MODES:
            raise items["mode"].error(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
        rule = Rule(
            id=rule_id, file=src.file, line=src.line,
            triggers=[self.load_trigger(t, i) for i, t in enumerate(items["trigger"].as_list())],
            conditions=[compile_condition(c) for c in items["condition"].as_list()] if "condition" in items else [],
            actions=compile_actions(items["action"], self.service),
            alias=str(items["alias"].plain() or "") if "alias" in items else "",
            description=str(items["description"].plain() or "") if "description" in items else "",
            mode=mode, source=src.plain(),
        )
        if "cooldown" in items:
            rule.cooldown_s = _duration(items["cooldown"], "cooldown")
        if "max" in items:
            rule.max_runs = _positive_int(items["max"], "max")
        return rule

    def load_trigger(self, src: Src, index: int) -> TriggerSpec:
        items = src.items(f"trigger[{index}]")
        platform_src = items.get("platform")
        if platform_src is None:
            raise src.error(f"trigger[{index}]: 'platform' is required (one of {', '.join(sorted(self.platforms))})")
        name = platform_src.plain()
        platform = self.platforms.get(name) if isinstance(name, str) else None
        if platform is None:
            raise platform_src.error(f"unknown trigger platform {name!r} (known: {', '.join(sorted(self.platforms))})")
        for_s = _duration(items["for"], "for") if "for" in items else None
        trigger_id = items["id"].plain() if "id" in items else None
        config = self._decode(src, platform, name, index)
        check = getattr(platform, "check", None)
        problem = check(config) if check is not None else None
        if problem:
            raise src.error(problem)
        return TriggerSpec(name, config, for_s, index, src.line, trigger_id)

    def _decode(self, src: Src, platform: Any, name: str, index: int) -> Any:
        config_type = getattr(platform, "CONFIG", None)
        kept = [(yaml.ScalarNode(k.tag, _RENAMED.get(k.value, k.value), k.start_mark, k.end_mark), v)
                for k, v in src.node.value if k.value not in ("platform", "for", "id")]
        node = yaml.MappingNode(src.node.tag, kept, src.node.start_mark, src.node.end_mark)
        if config_type is None:
            return Src(src.file, node).plain()
        try:
            return decode(config_type, RawSection(src.file, node, f"trigger[{index}] ({name})"))
        except ConfigError as exc:
            raise _as_rule_error(str(exc), src) from None


def _as_rule_error(text: str, src: Src) -> RuleError:
    """ConfigError text is already `file:line: message`; keep our spelling of keys."""
    text = text.replace("from_", "from")
    file, sep, rest = text.partition(":")
    line, sep2, message = rest.partition(": ")
    if sep and sep2 and line.isdigit():
        return RuleError(file, int(line), message)
    return src.error(text)


def _duration(src: Src, what: str) -> float:
    try:
        return parse_duration(src.plain())
    except ValueError as exc:
        raise src.error(f"{what}: {exc}") from None


def _positive_int(src: Src, what: str) -> int:
    value = src.plain()
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise src.error(f"{what}: expected a whole number of at least 1, got {value!r}")
    return value


def _id_of(src: Src) -> str | None:
    if not src.is_mapping():
        return None
    for key, value in src.node.value:
        if key.value == "id" and isinstance(value, yaml.ScalarNode):
            return str(value.value)
    return None


def check_paths(paths: Iterable[str | Path], loader: Loader) -> tuple[list[Rule], list[RuleError]]:
    """Every rule file under `paths`: the rules that load and every error (ids must be unique)."""
    rules: list[Rule] = []
    errors: list[RuleError] = []
    seen: dict[str, Rule] = {}
    for path in rule_files(paths):
        result = loader.load_file(path)
        errors += result.errors
        for rule in result.rules:
            if rule.id in seen:
                used = f"id '{rule.id}' is already used at {seen[rule.id].where}"
                errors.append(RuleError(rule.file, rule.line, used))
                continue
            seen[rule.id] = rule
            rules.append(rule)
    return rules, errors
