"""Media types: which documented media type a pact's Content-Type is, and reading form bodies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from apiops_pipelines.pacts.parameters import read_text
from apiops_pipelines.pacts.schema_walk import child, expand, types_of

FORM = "application/x-www-form-urlencoded"


def essence(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";")[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    media = essence(content_type or "")
    return media == "application/json" or media.endswith("+json")


def documented(content_type: str, keys: Iterable[str]) -> str | None:
    """The spec's media type key that covers the content type (exact first, then `type/*`, then `*/*`)."""
    wanted = essence(content_type)
    keys = list(keys)
    for key in keys:
        if essence(key) == wanted:
            return key
    family = wanted.split("/")[0] + "/*"
    for key in keys:
        if essence(key) == family:
            return key
    for key in keys:
        if essence(key) == "*/*":
            return key
    return None


def assumed(keys: Iterable[str], body: Any) -> str | None:
    """The media type a body without Content-Type is taken as: a JSON one for JSON values, else the first."""
    keys = list(keys)
    if isinstance(body, (dict, list, int, float, bool)) or body is None:
        for key in keys:
            if is_json(key):
                return key
    return keys[0] if keys else None


def form_value(document: dict[str, Any], schema: Any, body: str) -> dict[str, Any]:
    """A url-encoded form as the object its schema describes, values typed by their property's schema."""
    schemas = expand(document, schema)
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    value: dict[str, Any] = {}
    for name, texts in fields.items():
        field_schemas = child(document, schemas, name)
        types = _types(document, field_schemas)
        if "array" in types:
            item_types = _types(document, child(document, field_schemas, 0))
            value[name] = [read_text(t, item_types) for t in texts]
        else:
            typed = [read_text(t, types) for t in texts]
            value[name] = typed if len(typed) > 1 else typed[0]
    return value


def _types(document: dict[str, Any], schemas: list[dict[str, Any]]) -> set[str]:
    return set().union(*(types_of(document, s) for s in schemas))
