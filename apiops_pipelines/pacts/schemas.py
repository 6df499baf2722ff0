"""Validate pact values against the schemas of a bundled spec, strictly or as a consumer's partial view.

A consumer's pact lists only the response fields it reads, so response bodies are validated against a
relaxed copy of the spec where no property is required (and `oneOf` reads as `anyOf`: without `required`
the branches can no longer be told apart). Both copies live in one registry, built once per spec, with
formats checked: a pact value of the wrong format is a mismatch.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import quote

import jsonschema_rs

from apiops_pipelines.validation.schema_dialect import SPEC_URI, as_json_schema

RELAXED_URI = "urn:apiops:spec-relaxed"
_MAX_MESSAGE = 240
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})


class SchemaError(NamedTuple):
    path: tuple[str | int, ...]  # where in the value
    keyword: str  # the schema keyword that failed: type, enum, additionalProperties, ...
    message: str


def json_path(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _relaxed(document: dict[str, Any]) -> dict[str, Any]:
    """A copy without `required` lists and with `oneOf` as `anyOf` (data under example/enum/... untouched)."""
    root: dict[str, Any] = {}
    stack: list[tuple[Any, Any]] = [(document, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(source, dict):
                if key == "required" and isinstance(value, list):
                    continue
                if key == "oneOf" and isinstance(value, list) and "anyOf" not in source:
                    key = "anyOf"
            if isinstance(value, (dict, list)) and not (isinstance(source, dict) and key in _DATA_KEYS):
                copy: Any = {} if isinstance(value, dict) else []
                stack.append((value, copy))
                value = copy
            if isinstance(target, dict):
                target[key] = value
            else:
                target.append(value)
    return root


class SpecSchemas:
    """Validators for the schemas of one bundled spec, each compiled once."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        strict = as_json_schema(document, version)
        # The registry's draft must match the validator's: left to its 2020-12 default, a 3.0 boolean
        # `exclusiveMaximum` made a referenced schema unusable (found by the validation engine's same bug).
        draft = jsonschema_rs.Draft202012 if version == "3.1" else jsonschema_rs.Draft4
        self.registry = jsonschema_rs.Registry([(SPEC_URI, strict), (RELAXED_URI, _relaxed(strict))], draft=draft)
        self.draft = jsonschema_rs.Draft202012Validator if version == "3.1" else jsonschema_rs.Draft4Validator
        self.version = version
        self._cache: dict[Any, Any] = {}

    def errors(self, schema: str | dict[str, Any], instance: Any, relaxed: bool = False) -> list[SchemaError]:
        """What is wrong with `instance` against the schema at a pointer of the spec (or an inline schema)."""
        validator = self._validator(schema, relaxed)
        if validator is None:
            return []  # an unusable schema is the spec validation's to report, not the pact check's
        found = []
        try:
            for error in validator.iter_errors(instance):
                keyword = str(error.schema_path[-1]) if error.schema_path else ""
                found.append(SchemaError(tuple(error.instance_path), keyword, _readable(error.message, error.instance)))
        except (ValueError, OverflowError) as exc:  # a value JSON Schema cannot represent
            found.append(SchemaError((), "", f"cannot be validated ({exc})"))
        return found

    def _validator(self, schema: str | dict[str, Any], relaxed: bool) -> Any:
        # An inline schema (a Swagger 2 parameter) is rebuilt per interaction: key it by its content.
        key = (schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True, default=str), relaxed)
        if key not in self._cache:
            try:
                if isinstance(schema, str):
                    # The pointer goes into a URI fragment: `{` of a path template must be percent-encoded.
                    uri = f"{RELAXED_URI if relaxed else SPEC_URI}#{quote(schema, safe='/~!$&()*+,;=:@')}"
                    self._cache[key] = self.draft({"$ref": uri}, registry=self.registry, validate_formats=True)
                else:
                    inline = as_json_schema({"schema": schema}, self.version)["schema"]
                    self._cache[key] = self.draft(inline, validate_formats=True)
            except (ValueError, jsonschema_rs.ReferencingError):
                self._cache[key] = None
        return self._cache[key]


def _readable(message: str, instance: Any) -> str:
    """The validator's message with a long quoted value (a whole object, say) cut short."""
    if isinstance(instance, (dict, list, str)):
        quoted = json.dumps(instance, ensure_ascii=False, separators=(",", ":"))
        if len(quoted) > 60 and message.startswith(quoted):
            message = quoted[:50] + "…" + message[len(quoted):]
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "…"


_PATTERNS: dict[str, Any] = {}


def full_match(regex: str, value: Any) -> bool | None:
    """Does the pact regex match all of the value? None if the regex cannot be read.

    Matched by jsonschema_rs's engine, whose backtracking is bounded: a pact's regex cannot hang the run.
    """
    if regex not in _PATTERNS:
        if len(_PATTERNS) > 2048:
            _PATTERNS.clear()
        try:
            _PATTERNS[regex] = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": f"^(?:{regex})$"})
        except ValueError:
            _PATTERNS[regex] = None
    validator = _PATTERNS[regex]
    if validator is None:
        return None
    # Pact applies a regex to the text of a number or boolean too.
    return bool(validator.is_valid(value if isinstance(value, str) else json.dumps(value)))


_SEARCHES: dict[str, Any] = {}


def searches(regex: str, text: str) -> bool | None:
    """Does a JSON Schema pattern (unanchored, as `patternProperties` reads it) find the text? None: unreadable."""
    if regex not in _SEARCHES:
        if len(_SEARCHES) > 2048:
            _SEARCHES.clear()
        try:
            _SEARCHES[regex] = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": regex})
        except ValueError:
            _SEARCHES[regex] = None
    validator = _SEARCHES[regex]
    return None if validator is None else bool(validator.is_valid(text))
