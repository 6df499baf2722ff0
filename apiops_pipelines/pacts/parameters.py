"""The parameters an operation declares, and reading a pact's text values as the typed values they stand for.

A pact carries every path, query and header value as text; the spec types them. `42` is checked as the
integer 42, `a,b` as the array ["a", "b"] where the parameter's style says arrays are comma-separated,
and a repeated query key as an array where the style says arrays explode into repeated keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.pacts.schema_walk import child, expand, listed, types_of
from apiops_pipelines.validation.refs import deref, escape

_INTEGER = re.compile(r"-?[0-9]{1,300}")  # longer digit runs stay text: int() refuses them
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_DELIMITERS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|", "multi": None}
_STYLE_DELIMITERS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}
_NOT_SCHEMA = frozenset({"name", "in", "description", "required", "collectionFormat", "allowEmptyValue"})
# OpenAPI 3 ignores header parameters with these names: the media type and security settings own them.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header, cookie, formData, body
    required: bool
    schema: str | dict[str, Any] | None  # a pointer into the spec, an inline schema (Swagger 2), or None
    resolved: Any  # the schema itself, to read the text by its types
    delimiter: str | None  # how an array is written in one value; None: one value per repeated key
    style: str
    pointer: str


def declared_parameters(document: dict[str, Any], item: dict, item_pointer: str, operation: dict,
                        operation_pointer: str) -> list[Parameter]:  # fmt: skip
    """The operation's effective parameters: its own override the path item's of the same name and place."""
    effective: dict[tuple[str, str], Parameter] = {}
    swagger = "swagger" in document
    for owner, pointer in ((item, item_pointer), (operation, operation_pointer)):
        for index, raw in enumerate(listed(owner.get("parameters"))):
            parameter, ref_pointer = deref(document, raw)
            if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
                continue
            at = ref_pointer or f"{pointer}/parameters/{index}"
            built = _swagger(parameter, at) if swagger else _openapi(document, parameter, at)
            effective[(built.name, built.location)] = built
    return list(effective.values())


def _openapi(document: dict[str, Any], parameter: dict[str, Any], at: str) -> Parameter:
    location = str(parameter.get("in"))
    style = parameter.get("style")
    style = style if isinstance(style, str) else {"query": "form", "cookie": "form"}.get(location, "simple")
    explode = parameter.get("explode", style == "form")
    schema_pointer, resolved = f"{at}/schema", parameter.get("schema")
    if resolved is None and isinstance(parameter.get("content"), dict) and parameter["content"]:
        media = next(iter(parameter["content"]))  # a parameter serialized as a media type (JSON in a query)
        schema_pointer, style = f"{at}/content/{escape(media)}/schema", "content"
        media_type = parameter["content"][media]
        resolved = media_type.get("schema") if isinstance(media_type, dict) else None
    delimiter = None if explode and location in ("query", "cookie") else _STYLE_DELIMITERS.get(style, ",")
    schema = schema_pointer if isinstance(resolved, dict) else None
    return Parameter(parameter["name"], location, parameter.get("required") is True, schema, resolved, delimiter,
                     style, at)  # fmt: skip


def _swagger(parameter: dict[str, Any], at: str) -> Parameter:
    location = str(parameter.get("in"))
    if location == "body":
        return Parameter(parameter["name"], "body", parameter.get("required") is True, f"{at}/schema",
                         parameter.get("schema"), None, "", at)  # fmt: skip
    inline = {k: v for k, v in parameter.items() if k not in _NOT_SCHEMA}
    schema = None if parameter.get("type") == "file" else inline
    delimiter = _DELIMITERS.get(str(parameter.get("collectionFormat", "csv")), ",")
    style = "form" if delimiter is None else "simple"
    return Parameter(parameter["name"], location, parameter.get("required") is True, schema, inline, delimiter,
                     style, at)  # fmt: skip


def typed_value(document: dict[str, Any], parameter: Parameter, texts: list[str]) -> tuple[Any, str | None]:
    """The value the texts stand for under the parameter's schema, or why they cannot stand for one."""
    types = types_of(document, parameter.resolved)
    if parameter.style == "content":
        try:
            return json.loads(texts[-1]) if texts else None, None
        except (ValueError, RecursionError):
            return texts[-1], None  # text, not JSON: the schema says whether that will do
    if "array" in types:
        if len(texts) == 1 and parameter.delimiter is not None:
            texts = texts[0].split(parameter.delimiter) if texts[0] != "" else []
        items = child(document, expand(document, parameter.resolved), 0)
        item_types = set().union(*(types_of(document, s) for s in items)) if items else set()
        return [read_text(t, item_types) for t in texts], None
    if len(texts) > 1:
        return None, f"is sent {len(texts)} times but its schema is not an array"
    return read_text(texts[0] if texts else "", types), None


def read_text(text: str, types: set[str]) -> Any:
    """A text as the typed value it stands for, when the types allow one; otherwise the text itself."""
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types and _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and _INTEGER.fullmatch(text) else number
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text in ("", "null") and "string" not in types:
        return None
    return text
