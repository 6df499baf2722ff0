"""Reading a spec schema alongside a pact value: the types it allows, and what it does not document.

A JSON Schema validator answers "is this valid"; the pact check also asks "does the spec promise this
field at all" (a consumer relying on an undocumented field breaks when the provider drops it) and
"what type is this query parameter" (to read `42` as a number). Both walk the schema through `$ref`
and `allOf`/`anyOf`/`oneOf`, lenient by design: a field any branch declares counts as documented.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.pacts.schemas import searches
from apiops_pipelines.validation.refs import deref

Path = tuple[str | int, ...]
_COMPOSITIONS = ("allOf", "anyOf", "oneOf")


def listed(value: Any) -> list[Any]:
    """A spec node that should be a list, or [] (a malformed spec is the spec validation's to report)."""
    return value if isinstance(value, list) else []


def expand(document: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    """The schema and every schema it composes or refers to, each once."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node.get("$ref"), str):
            target, _ = deref(document, {"$ref": node["$ref"]})
            stack.append(target)
            if len(node) == 1:
                continue
        found.append(node)
        for key in _COMPOSITIONS:
            if isinstance(node.get(key), list):
                stack.extend(reversed(node[key]))
    return found


def types_of(document: dict[str, Any], schema: Any) -> set[str]:
    """The JSON types a schema allows, as far as its `type`s and `enum`s say (empty: not stated)."""
    types: set[str] = set()
    for node in expand(document, schema):
        kind = node.get("type")
        if isinstance(kind, str):
            types.add(kind)
        elif isinstance(kind, list):
            types.update(k for k in kind if isinstance(k, str))
        for value in listed(node.get("enum")):
            types.add(_json_type(value))
    return types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def child(document: dict[str, Any], schemas: list[dict[str, Any]], step: str | int) -> list[dict[str, Any]]:
    """The schemas that govern one step down: a property, or an array element."""
    found: list[Any] = []
    for node in schemas:
        if isinstance(step, int):
            prefix = node.get("prefixItems")
            items = node.get("items")
            if isinstance(prefix, list) and step < len(prefix):
                found.append(prefix[step])
            elif isinstance(items, list) and step < len(items):
                found.append(items[step])
            elif isinstance(items, dict):
                found.append(items)
        else:
            properties = node.get("properties")
            if isinstance(properties, dict) and step in properties:
                found.append(properties[step])
            elif isinstance(node.get("additionalProperties"), dict):
                found.append(node["additionalProperties"])
    result: dict[int, dict[str, Any]] = {}
    for schema in found:
        result.update((id(s), s) for s in expand(document, schema))
    return list(result.values())


def schemas_at(document: dict[str, Any], schema: Any, path: Path) -> list[dict[str, Any]]:
    schemas = expand(document, schema)
    for step in path:
        schemas = child(document, schemas, step)
    return schemas


def _is_open(schemas: list[dict[str, Any]]) -> bool:
    """Does the object schema take properties it does not name (a map, or no property list at all)?"""
    if not any(isinstance(s.get("properties"), dict) for s in schemas):
        return True
    return any(s.get("additionalProperties") not in (None, False) or s.get("patternProperties") for s in schemas)


def _is_closed(schemas: list[dict[str, Any]]) -> bool:
    return any(s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False for s in schemas)


# What a provider promises about the properties of a response object, judged as PactFlow judges it.
# PactFlow's comparators (openapi-pact-comparator's transform/responseSchema.ts, and swagger-mock-validator's
# response-body transform before it) close every response schema that says `type: object` and has no
# composition of its own: `additionalProperties` absent or `true` becomes `false`, so a property the schema
# does not name fails the comparison. A schema-valued `additionalProperties` is left alone: a map
# (`additionalProperties: {type: integer}`, and `{}` too) promises its keys, whatever they are. A schema that
# says nothing about objects (no `type: object`, no `properties`) is not closed either. `allOf` reads as the
# union of its branches (the comparator merges them before closing the result).
def _promises_any_key(schemas: list[dict[str, Any]]) -> bool:
    if any(isinstance(s.get("additionalProperties"), dict) for s in schemas):
        return True
    return not any(isinstance(s.get("properties"), dict) or _says_object(s.get("type")) for s in schemas)


def _says_object(kind: Any) -> bool:
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def _named_by_pattern(schemas: list[dict[str, Any]], key: str) -> bool:
    """Does a `patternProperties` regex take the key? An unreadable regex takes it: no accusation on a doubt."""
    patterns = [p for s in schemas if isinstance(s.get("patternProperties"), dict) for p in s["patternProperties"]]
    return any(searches(str(p), key) is not False for p in patterns)


def undocumented(document: dict[str, Any], schema: Any, value: Any, declared_only: bool = False) -> list[Path]:
    """Properties of `value` the schema neither names nor allows as extras, where it does not forbid them.

    Forbidden properties (`additionalProperties: false`) are left to the validator, which reports them.
    `declared_only` reads a response as the consumer's reliance on the provider's promise: an object schema
    promises the properties it names, its `patternProperties` and its map's keys, nothing else, even where
    JSON Schema would let more through (`additionalProperties: true` or absent).
    """
    found: list[Path] = []
    stack: list[tuple[list[dict[str, Any]], Any, Path]] = [(expand(document, schema), value, ())]
    while stack:
        schemas, node, path = stack.pop()
        if not schemas:
            continue
        if isinstance(node, dict):
            known = set().union(*(s.get("properties") or {} for s in schemas if isinstance(s.get("properties"), dict)))
            open_ = _promises_any_key(schemas) if declared_only else _is_open(schemas)
            tolerant = open_ or _is_closed(schemas)
            for key, item in node.items():
                if key in known or tolerant or (declared_only and _named_by_pattern(schemas, key)):
                    stack.append((child(document, schemas, key), item, (*path, key)))
                else:
                    found.append((*path, key))
        elif isinstance(node, list):
            stack.extend((child(document, schemas, i), item, (*path, i)) for i, item in enumerate(node))
    return sorted(found, key=lambda p: [str(s) for s in p])
