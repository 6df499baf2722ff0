"""Examples that contradict their own schema: media types, parameters, headers and schemas themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiops_pipelines.findings import Finding
from apiops_pipelines.validation.refs import Chain, containers, deref, escape, pointer_of
from apiops_pipelines.validation.schema_dialect import SchemaValidators
from apiops_pipelines.validation.structural import family

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})  # values, not more of the spec
_NOT_WALKED = _DATA_KEYS | {"schema"}
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")
_SUBSCHEMA_KINDS: dict[str, type] = {**dict.fromkeys(_SUBSCHEMA_MAPS, dict), **dict.fromkeys(_SUBSCHEMA_LISTS, list),
                                     **dict.fromkeys(_SUBSCHEMA_ONE, object)}  # a map, a list or one subschema


def _schema_pointer(document: dict, holder: dict, holder_pointer: str) -> str | None:
    """The pointer of the schema of a media type/parameter/header, following a `$ref`."""
    schema = holder.get("schema")
    if not isinstance(schema, dict):
        return None
    _, ref_pointer = deref(document, schema)
    return ref_pointer if ref_pointer is not None else f"{holder_pointer}/schema"


def _examples_of(document: dict, holder: dict, pointer: str) -> Iterator[tuple[str, Any]]:
    if "example" in holder:
        yield f"{pointer}/example", holder["example"]
    examples = holder.get("examples")
    if isinstance(examples, dict):
        for name, example in examples.items():
            resolved, _ = deref(document, example)
            if isinstance(resolved, dict) and "value" in resolved:
                yield f"{pointer}/examples/{escape(str(name))}/value", resolved["value"]


def _holders(document: dict) -> Iterator[tuple[dict, str]]:
    """Objects with a `schema` and examples: media types, parameters, headers (OpenAPI 3)."""
    for node, chain in containers(document, _NOT_WALKED):
        if type(node) is dict and isinstance(node.get("schema"), dict) and ("example" in node or "examples" in node):
            yield node, pointer_of(chain)


def _schemas(document: dict) -> Iterator[tuple[dict, str]]:
    """Every schema object of the document with an example or default, and its pointer (each once)."""
    roots: list[tuple[Any, str]] = []
    stack: list[tuple[Iterator[tuple[Any, Any]], Chain]] = [(iter(document.items()), None)]
    while stack:
        children, chain = stack[-1]
        for key, value in children:
            kind = type(value)
            if kind is not dict and kind is not list:
                continue
            if key == "schema" and kind is dict:
                roots.append((value, pointer_of((chain, key))))
            elif key in ("schemas", "definitions") and kind is dict and chain in (None, (None, "components")):
                base = pointer_of((chain, key))
                roots.extend((v, f"{base}/{escape(str(k))}") for k, v in value.items())
            elif key not in _DATA_KEYS:
                stack.append((iter(value.items()) if kind is dict else enumerate(value), (chain, key)))
                break
        else:
            stack.pop()
    seen: set[str] = set()
    while roots:
        schema, pointer = roots.pop()
        if not isinstance(schema, dict) or pointer in seen or "$ref" in schema:
            continue
        seen.add(pointer)
        if "example" in schema or "examples" in schema or "default" in schema:
            yield schema, pointer
        for key, value in schema.items():  # a schema has a few keys: cheaper than asking for each keyword
            kind = _SUBSCHEMA_KINDS.get(key)
            if kind is None:
                continue
            if kind is dict and isinstance(value, dict):
                roots.extend((v, f"{pointer}/{key}/{escape(str(k))}") for k, v in value.items())
            elif kind is list and isinstance(value, list):
                roots.extend((v, f"{pointer}/{key}/{i}") for i, v in enumerate(value))
            elif kind is object and isinstance(value, dict):
                roots.append((value, f"{pointer}/{key}"))


def check_examples(document: dict[str, Any]) -> list[Finding]:
    version = family(document)
    if version is None:
        return []
    validators = SchemaValidators(document, version)
    findings = []

    def check(schema_pointer: str, example_pointer: str, value: Any, rule: str) -> None:
        for problem in validators.errors(schema_pointer, value)[:3]:
            findings.append(Finding(rule, "error", example_pointer, f"example does not match its schema: {problem}",
                                    fix="correct the example or the schema so that they agree"))  # fmt: skip

    for holder, pointer in _holders(document):
        schema_pointer = _schema_pointer(document, holder, pointer)
        if schema_pointer is not None:
            for example_pointer, value in _examples_of(document, holder, pointer):
                check(schema_pointer, example_pointer, value, "example-invalid")
    for schema, pointer in _schemas(document):
        if "example" in schema and version != "3.1":
            check(pointer, f"{pointer}/example", schema["example"], "schema-example-invalid")
        if isinstance(schema.get("examples"), list) and version == "3.1":
            for i, value in enumerate(schema["examples"]):
                check(pointer, f"{pointer}/examples/{i}", value, "schema-example-invalid")
        if "default" in schema:
            check(pointer, f"{pointer}/default", schema["default"], "schema-default-invalid")
    return findings
