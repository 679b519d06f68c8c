"""Message templates: `"{station_id} connector {connector_id} at {celsius:.0f} °C"`.

Fields are names from the trigger (and `station.*`, `trigger.*` paths into plain
values). Unlike str.format, a field can never reach an attribute of a Python object,
so `{station.__class__}` is refused when the rule loads.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

_FORMATTER = string.Formatter()


class Template:
    __slots__ = ("_parts", "text")

    def __init__(self, text: str) -> None:
        """ValueError names what is wrong (unbalanced braces, a refused field)."""
        self.text = text
        self._parts: list[tuple[str, tuple[str, ...] | None, str, str | None]] = []
        for literal, field, spec, conversion in _FORMATTER.parse(text):
            path = None
            if field is not None:
                path = _path(field)
                if conversion not in (None, "s", "r"):
                    raise ValueError(f"bad conversion '!{conversion}' in {{{field}}}")
            self._parts.append((literal, path, spec or "", conversion))

    def render(self, values: Mapping[str, Any]) -> str:
        out = []
        for literal, path, spec, conversion in self._parts:
            out.append(literal)
            if path is None:
                continue
            value = _lookup(values, path)
            if value is _MISSING:
                out.append("{" + ".".join(path) + "}")  # a missing field stays visible
                continue
            if conversion == "r":
                value = repr(value)
            try:
                out.append(format(value, spec))
            except (ValueError, TypeError):
                out.append(str(value))  # e.g. {celsius:.1f} when celsius is None
        return "".join(out)


_MISSING = object()


def _path(field: str) -> tuple[str, ...]:
    parts = tuple(field.split("."))
    for part in parts:
        if not part.isidentifier() or part.startswith("_"):
            raise ValueError(f"field {{{field}}} is not allowed: use names like {{station_id}} or {{station.model}}")
    return parts


def _lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = values
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def compile_data(value: Any) -> Any:
    """Strings with `{` become Templates, recursively through lists and mappings."""
    if isinstance(value, str) and "{" in value:
        return Template(value)
    if isinstance(value, list):
        return [compile_data(v) for v in value]
    if isinstance(value, dict):
        return {k: compile_data(v) for k, v in value.items()}
    return value


def render_data(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, Template):
        return value.render(values)
    if isinstance(value, list):
        return [render_data(v, values) for v in value]
    if isinstance(value, dict):
        return {k: render_data(v, values) for k, v in value.items()}
    return value
