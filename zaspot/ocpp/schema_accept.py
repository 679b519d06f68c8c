"""A schema as a quick yes: Python that answers True only for a payload fastjsonschema accepts.

Almost every message a station sends is valid, and fastjsonschema's code pays for the
errors it could report while it checks (a set of keys copied and emptied per object, a
branch per keyword, the error's path built for each array item). `accept_source` writes
a second function for the same schema that does only the checks, in the cheapest form
Python has: `type(v) is str`, a frozenset for an enum, `keys <= allowed` for
additionalProperties. It returns False at the first doubt, and the caller then runs
fastjsonschema's validator, which gives the verdict and the error the station reads:

    def check(data):                 # what schemas.py compiles for each schema
        if accept(data): return data
        return validate(data)        # fastjsonschema's, for its verdict and its error

So `accept` must never say True where fastjsonschema says no; it may say False where
fastjsonschema says yes (where it is stricter: a tuple for an array or a Decimal for a
number, never made by the JSON parser; 3.0 for an integer, which 2.0.1's draft-06
allows and stations hardly send), which costs only time. A schema with a
keyword it does not know gets no `accept` at all (None). Defaults are filled as
fastjsonschema fills them (a missing property that names one gets it), so the payload a
handler sees is the same either way. tests/unit/test_schema_accept.py holds it to this
on every schema of both versions, with valid payloads and broken ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastjsonschema.draft04 import CodeGeneratorDraft04

DATE_TIME = CodeGeneratorDraft04.FORMAT_REGEXS["date-time"]  # the very pattern fastjsonschema checks
# Keywords that say nothing about validity, and those `_emit` reads itself.
_NOTES = frozenset({"description", "javaType", "comment", "title", "$schema", "$id", "definitions",
                    "additionalItems"})  # additionalItems: ignored beside an `items` schema, as fastjsonschema does
_CHECKED = frozenset({"type", "properties", "required", "additionalProperties", "enum", "maxLength",
                      "minLength", "items", "minItems", "maxItems", "format", "minimum", "maximum", "default"})


class Unsupported(Exception):
    """The schema uses something `accept` does not check: it gets no quick yes."""


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: list[str] = []
        self._names = 0

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def name(self) -> str:
        self._names += 1
        return f"v{self._names}"

    def constant(self, keys: Any) -> str:
        """A frozenset made once, at the module's top, named for the tests to use."""
        self.constants.append(f"_K{len(self.constants)} = frozenset({sorted(keys)!r})")
        return f"_K{len(self.constants) - 1}"


def accept_source(schema: dict[str, Any]) -> str | None:
    """Source of `accept(data) -> bool` for this (prepared, refs inlined) schema, or None."""
    out = _Writer()
    try:
        _emit(out, schema, "data", 1)
    except Unsupported:
        return None
    head = [f"_DATE_TIME = __import__('re').compile({DATE_TIME!r}).match", *out.constants, "",
            "def accept(data):"]
    return "\n".join([*head, *out.lines, "    return True", ""])


def _emit(out: _Writer, node: Any, v: str, depth: int, bind: str | None = None) -> None:
    """Lines that `return False` unless the value passes `node`; the value is `v`, or, with
    `bind`, the expression `bind` whose value the first test names `v` (a walrus)."""
    tests = _tests(out, node, v)
    if not tests:
        return
    kind = node.get("type")
    if bind is not None:
        if len(tests) == 1 and kind not in ("object", "array"):  # named once: no name needed
            tests[0] = tests[0].replace(v, bind, 1)
        else:
            tests[0] = tests[0].replace(v, f"({v} := {bind})", 1)
    out.line(depth, f"if {' or '.join(tests)}: return False")
    if kind == "object":
        _properties(out, node, v, depth)
    elif kind == "array" and node.get("items") is not None:
        item = out.name()
        before = len(out.lines)
        out.line(depth, f"for {item} in {v}:")
        _emit(out, node["items"], item, depth + 1)
        if len(out.lines) == before + 1:  # nothing to check in an item
            del out.lines[before:]


def _tests(out: _Writer, node: Any, v: str) -> list[str]:
    """The value's own tests, each True when it fails (its items' and properties' are not here)."""
    if node is True or node == {}:
        return []
    if not isinstance(node, dict):
        raise Unsupported(f"schema {node!r}")
    unknown = node.keys() - _NOTES - _CHECKED
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    kind = node.get("type")
    if kind is None:
        if node.keys() & (_CHECKED - {"default"}):  # keywords that would apply to some types only
            raise Unsupported("checks without a type")
        return []
    if kind not in _OWNED:
        raise Unsupported(f"type {kind!r}")
    stray = node.keys() & (_CHECKED - {"type", "default"} - _OWNED[kind])
    if stray:  # fastjsonschema would ignore them; a schema that has them is not what this was written for
        raise Unsupported(f"{', '.join(sorted(stray))} on a {kind}")
    return _TESTS[kind](out, node, v)


def _object_tests(out: _Writer, node: dict[str, Any], v: str) -> list[str]:
    properties = node.get("properties", {})
    required = node.get("required", [])
    extra = node.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(required, list) or extra not in (True, False):
        raise Unsupported("object keywords")
    if not all(isinstance(k, str) and "\\" not in k and "'" not in k for k in [*properties, *required]):
        raise Unsupported("property names")
    tests = [f"type({v}) is not dict"]
    if extra is False and set(required) == set(properties):
        tests.append(f"{v}.keys() != {out.constant(required)}")
    else:
        if required:
            tests.append(f"not {out.constant(required)} <= {v}.keys()")
        if extra is False:
            tests.append(f"not {v}.keys() <= {out.constant(properties)}")
    return tests


def _properties(out: _Writer, node: dict[str, Any], v: str, depth: int) -> None:
    required = node.get("required", [])
    for key, prop in node.get("properties", {}).items():
        item = out.name()
        if key in required:  # there: the keys were checked
            _emit(out, prop, item, depth, bind=f"{v}['{key}']")
            continue
        if isinstance(prop, dict) and "default" in prop:  # as fastjsonschema does: a missing one gets it
            out.line(depth, f"if '{key}' in {v}:")
            _emit(out, prop, item, depth + 1, bind=f"{v}['{key}']")
            if out.lines[-1].endswith(":"):
                out.line(depth + 1, "pass")
            out.line(depth, "else:")
            out.line(depth + 1, f"{v}['{key}'] = {prop['default']!r}")
            continue
        stand_in = _passing(prop)
        if stand_in is not _NONE:  # a missing property reads as a value that passes: one test, no branch
            _emit(out, prop, item, depth, bind=f"{v}.get('{key}', {stand_in!r})")
            continue
        before = len(out.lines)
        out.line(depth, f"if '{key}' in {v}:")
        _emit(out, prop, item, depth + 1, bind=f"{v}['{key}']")
        if len(out.lines) == before + 1:  # nothing to check in it
            del out.lines[before:]


_NONE = object()


def _passing(node: Any) -> Any:
    """A value this scalar schema accepts (a stand-in for a missing property), or _NONE.
    The stand-in goes through the same tests: a wrong one costs a fallback, never a yes."""
    if not isinstance(node, dict) or "default" in node:
        return _NONE
    kind = node.get("type")
    if kind == "string" and "format" not in node:
        low, high = node.get("minLength", 0), node.get("maxLength")
        fits = [x for x in node.get("enum", [""])
                if isinstance(x, str) and low <= len(x) and (high is None or len(x) <= high)]
        return fits[0] if fits else _NONE
    if kind in ("integer", "number"):
        low, high = node.get("minimum"), node.get("maximum")
        return 0 if (low is None or low <= 0) and (high is None or high >= 0) else _NONE
    if kind == "boolean":
        return False
    return _NONE


def _array_tests(out: _Writer, node: dict[str, Any], v: str) -> list[str]:
    tests = [f"type({v}) is not list", *_bounds(node, f"len({v})", ("minItems", "<"), ("maxItems", ">"))]
    if node.get("items") is not None and not isinstance(node["items"], dict):
        raise Unsupported("items as a list")
    return tests


def _string_tests(out: _Writer, node: dict[str, Any], v: str) -> list[str]:
    if "enum" in node:
        values = node["enum"]
        if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
            raise Unsupported("an enum of other than strings")
        # Only a str equals one of these strings: no type test (an unhashable value raises
        # TypeError, which `check` takes for a no).
        tests = [f"{v} not in {out.constant(values)}"]
    else:
        tests = [f"type({v}) is not str"]
    tests += _bounds(node, f"len({v})", ("maxLength", ">"), ("minLength", "<"))
    if "format" in node:
        if node["format"] != "date-time":
            raise Unsupported(f"format {node['format']!r}")
        tests.append(f"not _DATE_TIME({v})")
    return tests


def _number_tests(out: _Writer, node: dict[str, Any], v: str) -> list[str]:
    # bool is a type of its own: excluded from both, as the schema wants
    tests = [f"type({v}) is not int" if node["type"] == "integer" else f"type({v}) not in (float, int)"]
    return tests + _bounds(node, v, ("minimum", "<"), ("maximum", ">"), numbers=(int, float))


def _bounds(node: dict[str, Any], measured: str, *limits: tuple[str, str], numbers: tuple[type, ...] = (int,)
            ) -> list[str]:
    """A test per limit the node sets (keyword, the comparison that fails), on `measured`."""
    tests = []
    for keyword, fails in limits:
        if keyword in node:
            if type(node[keyword]) not in numbers:
                raise Unsupported(keyword)
            tests.append(f"{measured} {fails} {node[keyword]!r}")
    return tests


def _boolean_tests(out: _Writer, node: dict[str, Any], v: str) -> list[str]:
    return [f"type({v}) is not bool"]


_TESTS: dict[str, Callable[[_Writer, dict[str, Any], str], list[str]]] = {
    "object": _object_tests, "array": _array_tests, "string": _string_tests,
    "integer": _number_tests, "number": _number_tests, "boolean": _boolean_tests}
_OWNED = {"object": {"properties", "required", "additionalProperties"},
          "array": {"items", "minItems", "maxItems"},
          "string": {"enum", "maxLength", "minLength", "format"},
          "integer": {"minimum", "maximum"}, "number": {"minimum", "maximum"}, "boolean": set()}


def quick_check(source: str) -> str:
    """The module's `check`: the quick yes, else fastjsonschema's `validate` (in the same module).
    A TypeError is a no: an unhashable value tested against an enum's set."""
    return source + """
def check(data, custom_formats={}, name_prefix=None):
    try:
        if accept(data):
            return data
    except TypeError:
        pass
    return validate(data, custom_formats, name_prefix)
"""

