"""Schema validation with the JSON schemas shipped in the `ocpp` package.

Every schema (each action of both versions, both directions) is compiled to Python by
fastjsonschema at start (`compile_all`, called by OcppServer.start before it listens),
so validation runs inline on the event loop and no first message of a kind stalls it
(a first RequestStartTransaction took 65 ms to compile). Compiling all 206 takes about
0.6 s, so the compiled code is kept in the user's cache folder ($XDG_CACHE_HOME/zaspot
or ~/.cache/zaspot), keyed by the schemas' text and the versions of ocpp, fastjsonschema
and Python; a start loads it in a few tens of ms. A cache that cannot be read or written
costs that time and nothing else. Code that validates without a start (the simulator, a
unit test) compiles a schema the first time it is used, as before.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import marshal
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import fastjsonschema
import ocpp

from zaspot.ocpp.schema_accept import accept_source, quick_check
from zaspot.ocpp.schema_codegen import inline_refs, set_lookups

_LOGGER = logging.getLogger(__name__)
_SCHEMA_ROOT = Path(ocpp.__file__).parent
_DIRS = {"1.6": "v16", "2.0.1": "v201"}

Validator = Callable[[Any], Any]

# fastjsonschema rule -> version-neutral OCPP error name (rpc.error_code spells it).
_RULE_TO_ERROR = {
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",  # CiString20Type etc. are data types
    "minLength": "TypeConstraintViolation",
    "additionalProperties": "FormatViolation",
}


class SchemaError(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _schema_name(version: str, action: str, response: bool) -> str:
    if response:
        return f"{action}Response"
    return action if version == "1.6" else f"{action}Request"


@functools.cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version defines, in either direction."""
    folder = _SCHEMA_ROOT / _DIRS[version] / "schemas"
    names = set()
    for path in folder.glob("*.json"):
        stem = path.stem
        if stem.endswith("Response"):
            names.add(stem[: -len("Response")])
        elif stem.endswith("Request"):
            names.add(stem[: -len("Request")])
        else:
            names.add(stem)
    return frozenset(names)


def _strip_multiple_of(node: Any) -> Any:
    # 1.6 charging-schedule numbers carry multipleOf 0.1, which binary floats
    # fail (21.4 / 0.1 = 213.99999999999997). We round those values ourselves.
    if isinstance(node, dict):
        return {k: _strip_multiple_of(v) for k, v in node.items() if k != "multipleOf"}
    if isinstance(node, list):
        return [_strip_multiple_of(v) for v in node]
    return node


def _strip_string_object_rules(node: Any) -> Any:
    # 1.6's enums say "type": "string" and "additionalProperties": false. The second is
    # an object's rule: a string never meets it (a non-string already failed the type),
    # yet the compiled check tested every enum value for being a dict (about a third of
    # a 1.6 MeterValues' validation). Same verdicts and errors without it.
    if isinstance(node, dict):
        drop = "additionalProperties" if node.get("type") == "string" else None
        return {k: _strip_string_object_rules(v) for k, v in node.items() if k != drop}
    if isinstance(node, list):
        return [_strip_string_object_rules(v) for v in node]
    return node


Key = tuple[str, str, bool]  # (version, action, response)
_validators: dict[Key, Validator | None] = {}  # None: the version has no such schema
_TRANSFORM = 6  # bump when _prepare or _generate change what is compiled: the cache is keyed on it


@dataclass(frozen=True, slots=True)
class Compiled:
    validators: int
    source: str  # "memory" (compiled before), "cache" or "compiled"
    seconds: float
    cache: Path | None  # the cache file read or written (None: none could be)


def _path(key: Key) -> Path:
    version, action, response = key
    return _SCHEMA_ROOT / _DIRS[version] / "schemas" / f"{_schema_name(version, action, response)}.json"


def _prepare(text: bytes) -> dict[str, Any]:
    schema: dict[str, Any] = _strip_string_object_rules(_strip_multiple_of(json.loads(text.decode("utf-8-sig"))))
    schema.pop("$id", None)  # fastjsonschema would resolve it as a remote base URI
    return schema


def _generate(key: Key, text: bytes) -> CodeType:
    # Shaped to validate faster with the same verdicts and errors (ocpp/schema_codegen.py),
    # and led by a quick yes for the valid payloads that almost all are (ocpp/schema_accept.py).
    schema = inline_refs(_prepare(text))
    source = set_lookups(fastjsonschema.compile_to_code(schema))
    accept = accept_source(schema)
    if accept is not None:
        source = quick_check(f"{source}\n{accept}")
    return compile(source, f"<ocpp {key[0]} {_path(key).stem}>", "exec")


def _load(code: CodeType) -> Validator:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    check: Validator = namespace.get("check") or namespace["validate"]
    return check


def validator(version: str, action: str, response: bool) -> Validator | None:
    key = (version, action, response)
    try:
        return _validators[key]
    except KeyError:
        pass
    if action not in known_actions(version):  # nothing to compile; not kept (a station may invent names)
        return None
    path = _path(key)  # not loaded at start (no start: the simulator, a unit test): compiled now
    check = _load(_generate(key, path.read_bytes())) if path.exists() else None
    _validators[key] = check
    return check


@functools.cache
def _schema_keys() -> tuple[Key, ...]:
    """Every schema there is: each action of both versions, request and response."""
    keys = ((v, a, r) for v in _DIRS for a in sorted(known_actions(v)) for r in (False, True))
    return tuple(key for key in keys if _path(key).exists())


def compile_all(cache_dir: Path | None = None) -> Compiled:
    """Every validator of both versions in memory: from the cache when it matches, else
    compiled (and the cache written). `cache_dir` None: the user's cache folder."""
    started = time.perf_counter()
    keys = _schema_keys()
    if all(_validators.get(key) is not None for key in keys):
        return Compiled(len(keys), "memory", time.perf_counter() - started, None)
    texts = {key: _path(key).read_bytes() for key in keys}
    folder = cache_dir if cache_dir is not None else _cache_folder()
    cache = folder / f"ocpp-schemas-{_digest(texts)}.marshal" if folder is not None else None
    codes, source = _read_cache(cache, set(texts)), "cache"
    if codes is None:
        codes, source = {key: _generate(key, text) for key, text in texts.items()}, "compiled"
        cache = _write_cache(cache, codes)
    for key, code in codes.items():
        _validators[key] = _load(code)
    done = Compiled(len(codes), source, time.perf_counter() - started, cache)
    _LOGGER.log(logging.INFO if source == "compiled" else logging.DEBUG,
                "OCPP schemas: %d validators %s in %.2f s%s", done.validators,
                "compiled" if source == "compiled" else "loaded from the cache", done.seconds,
                f" (kept in {cache} for the next start)" if source == "compiled" and cache else "")
    return done


def _cache_folder() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        return Path(base) / "zaspot" if base else Path.home() / ".cache" / "zaspot"
    except RuntimeError:  # no home folder (a service user without one)
        return None


def _digest(texts: dict[Key, bytes]) -> str:
    digest = hashlib.sha256()
    for part in (_TRANSFORM, importlib.metadata.version("ocpp"), fastjsonschema.VERSION, sys.version,
                 importlib.util.MAGIC_NUMBER.hex()):
        digest.update(f"{part}\0".encode())
    for key in sorted(texts):
        digest.update(f"{key}\0".encode() + texts[key] + b"\0")
    return digest.hexdigest()[:20]


def _read_cache(cache: Path | None, keys: set[Key]) -> dict[Key, CodeType] | None:
    if cache is None:
        return None
    try:
        codes = marshal.loads(cache.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError) as exc:  # unreadable or damaged: compiled again
        _LOGGER.info("OCPP schemas: the cache %s is not usable (%s); compiling", cache, exc)
        return None
    if not isinstance(codes, dict) or set(codes) != keys or not all(isinstance(c, CodeType) for c in codes.values()):
        _LOGGER.info("OCPP schemas: the cache %s does not match the schemas; compiling", cache)
        return None
    return codes


def _write_cache(cache: Path | None, codes: dict[Key, CodeType]) -> Path | None:
    if cache is None:
        return None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in cache.parent.glob("ocpp-schemas-*.marshal"):  # other versions' caches
            if old != cache:
                old.unlink(missing_ok=True)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(codes))
        os.replace(partial, cache)  # whole or not at all, even with two starts at once
    except OSError as exc:
        _LOGGER.info("OCPP schemas: cannot keep the compiled schemas in %s (%s); the next start compiles again",
                     cache.parent, exc)
        return None
    return cache


def validate(version: str, action: str, payload: Any, *, response: bool = False) -> None:
    """Raise SchemaError (with a version-neutral error name) if payload is invalid."""
    check = validator(version, action, response)
    if check is None:
        raise SchemaError("NotImplemented", f"No schema for {action}")
    try:
        check(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        code = _RULE_TO_ERROR.get(exc.rule or "", "PropertyConstraintViolation")
        where = (exc.name or "").removeprefix("data").lstrip(".") or "payload"
        raise SchemaError(code, f"{where}: {exc.message.removeprefix(exc.name or '').strip()}") from None
