"""Turn the strings of a request's path, query, headers and cookies into the values a parameter schema
describes: arrays (`a=1&a=2`, `a=1,2`, space- and pipe-delimited), deepObject and exploded objects,
and integer, number and boolean scalars. A string that does not convert stays a string, so the schema
validator reports the wrong type with the value the client sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

from apiops_pipelines.mock.spec import Parameter

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}
_MISSING = object()


def parse_query(query_string: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not query_string:
        return out
    for part in query_string.decode("utf-8", "replace").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        values = out.get(name)
        if values is None:
            out[name] = [value]
        else:
            values.append(value)
    return out


def parse_cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            out[name] = unquote(value.strip().strip('"'))
    return out


def schema_types(schema: Any, defs: dict[str, Any], depth: int = 0) -> set[str]:
    """The JSON types a (translated) schema admits, as far as a quick look can tell; empty: any."""
    if not isinstance(schema, dict) or depth > 16:
        return set()
    if "$ref" in schema and schema["$ref"].startswith("#/$defs/"):
        key = schema["$ref"][len("#/$defs/") :].replace("~1", "/").replace("~0", "~")
        return schema_types(defs.get(key), defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    for keyword in ("allOf", "anyOf", "oneOf"):
        found: set[str] = set()
        for sub in schema.get(keyword) or ():
            found |= schema_types(sub, defs, depth + 1)
        if found:
            return found
    if "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    if "const" in schema:
        return {_json_type(schema["const"])}
    return set()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", type(None): "null", list: "array", dict: "object"}.get(
        type(value), "string"
    )


def scalar_coercer(types: set[str]) -> Callable[[str], Any]:
    integer, number, boolean, null = "integer" in types, "number" in types, "boolean" in types, "null" in types

    def coerce(text: str) -> Any:
        if integer and _INTEGER.match(text):
            return int(text)
        if number and _NUMBER.match(text):
            value = float(text)
            return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
        if boolean and text in ("true", "false"):
            return text == "true"
        if null and text in ("", "null"):
            return None
        return text

    return coerce


class ParameterReader:
    """Reads one parameter from its location and converts it as its schema asks; `_MISSING` when absent."""

    def __init__(self, param: Parameter, schema: Any, defs: dict[str, Any]) -> None:
        self.name, self.location = param.name, param.location
        self.key = param.name.lower() if param.location == "header" else param.name
        self.json = param.content_type is not None and "json" in param.content_type
        types = schema_types(schema, defs)
        self.kind = "array" if types == {"array"} else "object" if types == {"object"} else "scalar"
        self.style, self.explode = param.style, param.explode
        item_types: set[str] = set()
        if self.kind == "array":
            item_types = schema_types(_resolved(schema, defs).get("items"), defs)
        self.coerce = scalar_coercer(types)
        self.coerce_item = scalar_coercer(item_types)
        self.property_types: dict[str, Callable[[str], Any]] = {}
        if self.kind == "object":
            for name, sub in (_resolved(schema, defs).get("properties") or {}).items():
                self.property_types[name] = scalar_coercer(schema_types(sub, defs))

    def read(self, source: dict[str, Any]) -> Any:
        """`source` maps names to a list of strings (query) or to one string (path, header, cookie)."""
        if (
            not self.json
            and self.kind == "object"
            and self.location == "query"
            and (self.style == "deepObject" or self.explode)
        ):
            return self._object_from_query(source)
        raw = source.get(self.key, _MISSING)
        if raw is _MISSING:
            return _MISSING
        if isinstance(raw, list):
            if self.kind == "array" and len(raw) > 1:
                return [self.coerce_item(v) for v in raw]
            raw = raw[-1]
        if self.json:
            try:
                return json.loads(raw)
            except ValueError:
                return raw  # the validator reports a string where the schema wants something else
        if self.kind == "array":
            if raw == "":
                return []
            return [self.coerce_item(v) for v in raw.split(_DELIMITERS.get(self.style, ","))]
        if self.kind == "object":
            pieces = raw.split(",")
            pairs = zip(pieces[::2], pieces[1::2]) if not self.explode else (p.partition("=")[::2] for p in pieces)
            return {k: self.property_types.get(k, _identity)(v) for k, v in pairs}
        return self.coerce(raw)

    def _object_from_query(self, query: dict[str, Any]) -> Any:
        out = {}
        if self.style == "deepObject":
            prefix = self.name + "["
            for key, values in query.items():
                if key.startswith(prefix) and key.endswith("]"):
                    name = key[len(prefix) : -1]
                    out[name] = self.property_types.get(name, _identity)(values[-1])
        else:
            for name, coerce in self.property_types.items():
                if name in query:
                    out[name] = coerce(query[name][-1])
        return out if out else _MISSING


def _identity(value: str) -> str:
    return value


def _resolved(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    for _ in range(16):
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return schema
        schema = defs.get(ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~"))
    return {}


MISSING = _MISSING
