"""Where plugins come from, in load order:

1. built-ins (zaspot's own features, through the same contract);
2. the `plugins/` folder next to the config file (`plugins.folder`): every `*.py` and
   package in it, alphabetically, except names starting with `_` or `test_`;
3. `plugins.load`, in the order listed: an installed package's entry point name
   (group `zaspot.plugins`), a module name, or a path to a `.py` file.

Installed entry points are listed but only loaded when named in `plugins.load`, so
whatever happens to be installed on a machine (or a test runner) never loads by itself.
With no config file there is no folder to look in.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from zaspot.config import Config

ENTRY_POINT_GROUP = "zaspot.plugins"
BUILTINS = ("zaspot.notify.builtin",)

BUILTIN, FOLDER, CONFIG, ENTRY_POINT = "builtin", "folder", "config", "entry point"


@dataclass
class Candidate:
    name: str  # until the module says otherwise with NAME
    source: str  # builtin | folder | config | entry point
    origin: str  # the module, file or entry point, for people to find it
    load: Callable[[], ModuleType] | None  # None: found, not enabled


def discover(config: Config) -> list[Candidate]:
    found = [Candidate(m.rsplit(".", 1)[-1], BUILTIN, m, _importer(m)) for m in BUILTINS]
    base = _config_dir(config)
    if base is not None:
        found += _folder(base / config.plugins.folder)
    entry_points = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for item in config.plugins.load:
        found.append(_from_config(item, entry_points, base or Path.cwd()))
    for name, ep in sorted(entry_points.items()):
        if name not in config.plugins.load:
            found.append(Candidate(name, ENTRY_POINT, _ep_origin(ep), None))
    return found


def _config_dir(config: Config) -> Path | None:
    if config.source == "<defaults>":
        return None
    return Path(config.source).resolve().parent


def _folder(folder: Path) -> list[Candidate]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".", "test_")):
            continue
        if path.suffix == ".py" or (path / "__init__.py").is_file():
            found.append(Candidate(path.stem, FOLDER, str(path), _file_loader(path)))
    return found


def _from_config(item: str, entry_points: dict[str, importlib.metadata.EntryPoint], base: Path) -> Candidate:
    if item in entry_points:
        ep = entry_points[item]
        return Candidate(item, ENTRY_POINT, _ep_origin(ep), ep.load)
    if item.endswith(".py") or "/" in item:
        path = (base / item).resolve()
        return Candidate(path.stem, CONFIG, str(path), _file_loader(path))
    return Candidate(item.rsplit(".", 1)[-1], CONFIG, item, _importer(item))


def _ep_origin(ep: importlib.metadata.EntryPoint) -> str:
    dist = f" ({ep.dist.name} {ep.dist.version})" if ep.dist else ""
    return f"{ep.value}{dist}"


def _importer(module: str) -> Callable[[], ModuleType]:
    return lambda: importlib.import_module(module)


def _file_loader(path: Path) -> Callable[[], ModuleType]:
    def load() -> ModuleType:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")
        package = path.is_dir()
        location = path / "__init__.py" if package else path
        name = f"zaspot_plugin_{path.stem}"
        spec = importlib.util.spec_from_file_location(
            name, location, submodule_search_locations=[str(path)] if package else None
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve string annotations through it
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    return load
