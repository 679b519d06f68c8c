"""The rules folder, loaded into the engine and reloaded when a file changes.

Polls file modification times (no extra dependency, works on every filesystem). A
file that no longer parses keeps the rules it had; a broken rule keeps its previous
version; the rules that load are swapped in, and every error is logged as file:line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from zaspot.core.tasks import Every
from zaspot.rules.engine import Engine
from zaspot.rules.loader import Loader, RuleError, rule_files
from zaspot.rules.model import Rule

_LOGGER = logging.getLogger("zaspot.rules")
POLL_S = 2.0


class RuleFolder:
    def __init__(self, folder: str | Path, engine: Engine, poll_s: float = POLL_S) -> None:
        self.folder, self.engine, self.poll_s = Path(folder), engine, poll_s
        self.rules: dict[str, list[Rule]] = {}  # file -> the rules running from it
        self.errors: dict[str, list[RuleError]] = {}
        self._mtimes: dict[str, float] = {}
        # Never lose the watcher to one odd file: a failed reload is logged, the next poll tries again.
        self._watch = Every("rules.reload", lambda: self.poll_s, self._reload, _LOGGER, "rules: reload failed")

    def reload(self, force: bool = False) -> list[RuleError]:
        """Load what changed (everything with force); returns the current errors."""
        files = {str(p): p for p in rule_files([self.folder])} if self.folder.is_dir() else {}
        changed = False
        for gone in set(self.rules) - set(files):
            self.rules.pop(gone)
            self.errors.pop(gone, None)
            self._mtimes.pop(gone, None)
            changed = True
        loader = Loader(self.engine.platforms(), self.engine.service)
        for name, path in files.items():
            mtime = _mtime(path)
            if not force and self._mtimes.get(name) == mtime:
                continue
            self._mtimes[name] = mtime
            self._load(loader, name, path)
            changed = True
        if changed:
            self._apply()
        return self.all_errors()

    def _load(self, loader: Loader, name: str, path: Path) -> None:
        result = loader.load_file(path)
        before = {r.id: r for r in self.rules.get(name, [])}
        if result.unreadable:
            kept = list(before.values())
        else:
            kept = result.rules + [before[i] for i in sorted(result.broken) if i in before]
        self.rules[name] = kept
        self.errors[name] = result.errors
        for error in result.errors:
            _LOGGER.error("%s", error)
        _LOGGER.info("rules: %s: %d loaded, %d errors", name, len(kept), len(result.errors))

    def _apply(self) -> None:
        running: dict[str, Rule] = {}
        for name in sorted(self.rules):
            for rule in self.rules[name]:
                if rule.id in running:
                    used = f"id '{rule.id}' is already used at {running[rule.id].where}"
                    error = RuleError(rule.file, rule.line, used)
                    self.errors.setdefault(name, []).append(error)
                    _LOGGER.error("%s", error)
                    continue
                running[rule.id] = rule
        self.engine.set_rules(list(running.values()))

    def all_errors(self) -> list[RuleError]:
        return [e for name in sorted(self.errors) for e in self.errors[name]]

    @property
    def warning(self) -> str | None:
        """What the operator must know while no rule can run (the folder is polled: it clears
        once the folder is made)."""
        return missing_folder_warning(self.folder)

    def start(self) -> None:
        self.reload(force=True)
        self._watch.start()

    async def _reload(self) -> None:
        self.reload()

    async def stop(self) -> None:
        await self._watch.stop()


def missing_folder_warning(folder: Path) -> str | None:
    """A rules folder that does not exist leaves every rule off, the safety ones included:
    said loudly (start, `zaspot rules check`, doctor, the TUI's top line), never an INFO line."""
    if folder.is_dir():
        return None
    cause = "is not a folder" if folder.exists() else "does not exist"
    return f"rules folder {folder.absolute()} {cause}: every rule is off"


def _mtime(path: Path) -> float:
    try:
        stat = path.stat()
        return stat.st_mtime_ns + stat.st_size / 1e9  # size too: two writes within one mtime tick
    except OSError:
        return -1.0
