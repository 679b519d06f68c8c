"""A schema as fastjsonschema's Python source, shaped to validate faster, same verdicts.

Validation runs on the event loop for every message, and two habits of the generated
code cost most of it on the hot messages:

- each `$ref` becomes its own function, and every call builds the error path it would
  report (a `str.format(**locals())` per array item) even when the value is valid: half
  of 2.0.1's MeterValues. `inline_refs` puts the referenced definition in its place, so
  the code is generated inline, as 1.6's (which has no refs) always was. The error's
  path, message and rule are the same either way: the function did what the inline code
  does, under the same name. A cyclic ref stays a ref.
- a string enum is checked value by value (`isinstance(v, str) and v == 'A' or ...`, up
  to 40 of them for a measurand). `set_lookups` turns that one expression into a lookup in
  a frozenset, and builds each object's set of required keys once instead of per call
  (`set(['a', 'b']) - data.keys()`); the errors raised are left as generated.
"""

from __future__ import annotations

import ast
import re
from typing import Any

_LOCAL = "#/definitions/"


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local `#/definitions/...` ref replaced by what it names
    (fastjsonschema ignores a ref's sibling keywords, and so does this)."""
    definitions = schema.get("definitions")
    if not isinstance(definitions, dict):
        return schema

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref[len(_LOCAL):] if ref.startswith(_LOCAL) else None
                if name is None or name not in definitions or name in seen or "/" in name or "~" in name:
                    return node  # remote, unknown, cyclic or escaped: fastjsonschema resolves it
                target = resolve(definitions[name], seen | {name})
                # A property that is a ref never got the default its target names: fastjsonschema
                # fills a property's default from the property's own keywords. Inlined, it would
                # (GetVariables' attributeType "Actual" appeared in every request we sent).
                return {k: v for k, v in target.items() if k != "default"} if isinstance(target, dict) else target
            return {k: resolve(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, seen) for v in node]
        return node

    # The definitions stay: a ref left as it was still finds its target.
    return {k: v if k == "definitions" else resolve(v, frozenset()) for k, v in schema.items()}


_STR = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
# One value of a string enum, as fastjsonschema's generate_enum writes it.
_ITEM = re.compile(rf"isinstance\((\w+), str\) and \1 == ({_STR})")
_TEST = re.compile(r"^( *)if not \((isinstance\(.+)\):$", re.M)
_REQUIRED = re.compile(r"set\((\[[^\]]*\])\) - ")
_AFTER_HEADER = "NoneType = type(None)\n"


def set_lookups(source: str) -> str:
    """The generated source with each all-string enum test as one frozenset lookup."""
    sets: list[frozenset[str]] = []

    def lookup(m: re.Match[str]) -> str:
        items = list(_ITEM.finditer(m.group(2)))
        if not items or " or ".join(i.group(0) for i in items) != m.group(2):
            return m.group(0)  # not (only) a string enum: left as generated
        var = items[0].group(1)
        if any(i.group(1) != var for i in items):
            return m.group(0)
        sets.append(frozenset(ast.literal_eval(i.group(2)) for i in items))
        return f"{m.group(1)}if not (isinstance({var}, str) and {var} in _ENUM_{len(sets) - 1}):"

    required: list[frozenset[str]] = []

    def constant(m: re.Match[str]) -> str:
        try:
            keys = ast.literal_eval(m.group(1))
        except (ValueError, SyntaxError):
            return m.group(0)
        if not all(isinstance(k, str) for k in keys):
            return m.group(0)
        required.append(frozenset(keys))
        return f"_REQUIRED_{len(required) - 1} - "  # a frozenset minus dict keys: the same set of missing keys

    if _AFTER_HEADER not in source:
        return source
    out = _REQUIRED.sub(constant, _TEST.sub(lookup, source))
    constants = "".join(f"_ENUM_{i} = frozenset({sorted(s)!r})\n" for i, s in enumerate(sets))
    constants += "".join(f"_REQUIRED_{i} = frozenset({sorted(s)!r})\n" for i, s in enumerate(required))
    return out.replace(_AFTER_HEADER, _AFTER_HEADER + constants, 1)
