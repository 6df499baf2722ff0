"""OpenAPI schemas as JSON Schema: 3.1 is 2020-12 already; 3.0 and 2.0 are draft 4 plus `nullable`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import jsonschema_rs

SPEC_URI = "urn:apiops:spec"


def as_json_schema(document: dict[str, Any], version: str) -> dict[str, Any]:
    """A copy of the document whose schemas a JSON Schema validator reads as OpenAPI means them."""
    if version == "3.1":
        return document
    nullable = "nullable" if version == "3.0" else "x-nullable"
    root: dict[str, Any] = {}
    stack: list[tuple[Any, Any, Any]] = [(document, root, None)]
    while stack:
        source, target, _ = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, (dict, list)):
                copy: Any = {} if isinstance(value, dict) else []
                stack.append((value, copy, None))
                value = copy
            if isinstance(target, dict):
                target[key] = value
            else:
                target.append(value)
        if isinstance(source, dict) and source.get(nullable) is True and isinstance(target, dict):
            _allow_null(target)
    return root


def _allow_null(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if "type" not in schema and "enum" not in schema:
        rest = {k: schema.pop(k) for k in list(schema)}
        schema["anyOf"] = [rest, {"type": "null"}]


class SchemaValidators:
    """Validators for schemas at pointers of one document, compiled once each."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        self.registry = jsonschema_rs.Registry([(SPEC_URI, as_json_schema(document, version))])
        self.draft = jsonschema_rs.Draft202012Validator if version == "3.1" else jsonschema_rs.Draft4Validator
        self.cache: dict[str, Any] = {}

    def errors(self, pointer: str, instance: Any) -> list[str]:
        if pointer not in self.cache:
            try:
                # A pointer such as /paths/~1books~1{id} is no valid URI fragment until percent-encoded.
                fragment = quote(pointer, safe="/~!$&()*+,;=:@")
                self.cache[pointer] = self.draft({"$ref": f"{SPEC_URI}#{fragment}"}, registry=self.registry)
            except (ValueError, jsonschema_rs.ReferencingError) as exc:
                self.cache[pointer] = str(exc)
        validator = self.cache[pointer]
        if isinstance(validator, str):
            return []  # an unusable schema is the structural check's to report
        return [f"{'/'.join(map(str, e.instance_path)) or 'value'}: {e.message}" for e in validator.iter_errors(instance)]
