"""Rule files as YAML nodes, so every error can name its file and line.

The loader never turns a whole file into plain Python first: it walks the composed
node tree and converts only leaves, keeping `file:line` for each message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


class RuleError(Exception):
    """One problem in a rule file, phrased for the user as `file:line: message`."""

    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


@dataclass(frozen=True, slots=True)
class Src:
    """A YAML node and the file it came from."""

    file: str
    node: yaml.Node

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def error(self, message: str) -> RuleError:
        return RuleError(self.file, self.line, message)

    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    def is_list(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    def items(self, what: str) -> dict[str, Src]:
        """A mapping's values by key; a duplicate key is an error (PyYAML keeps the last)."""
        if not self.is_mapping():
            raise self.error(f"{what}: expected a mapping")
        out: dict[str, Src] = {}
        for key, value in self.node.value:
            name = str(key.value)
            if name in out:
                raise RuleError(self.file, key.start_mark.line + 1, f"{what}: '{name}' appears twice")
            out[name] = Src(self.file, value)
        return out

    def as_list(self) -> list[Src]:
        """A sequence's items; a single item stands for a list of one (as in HA)."""
        if self.is_list():
            return [Src(self.file, n) for n in self.node.value]
        return [self]

    def plain(self) -> Any:
        """The node as plain Python (str, int, float, bool, None, list, dict)."""
        return yaml.safe_load(yaml.serialize(self.node))


def compose_file(path: str, text: str) -> Src | None:
    """The file's root node (None for an empty file); RuleError on bad YAML."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(path, mark.line + 1 if mark else 1, f"not valid YAML: {problem}") from None
    return None if node is None else Src(path, node)
