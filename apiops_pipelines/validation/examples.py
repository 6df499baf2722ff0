"""Examples that contradict their own schema: media types, parameters, headers and schemas themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiops_pipelines.findings import Finding
from apiops_pipelines.validation.refs import deref, escape
from apiops_pipelines.validation.schema_dialect import SchemaValidators
from apiops_pipelines.validation.structural import family

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")


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
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("schema"), dict) and ("example" in node or "examples" in node):
                yield node, pointer
            for key, value in node.items():
                if key not in ("example", "examples", "schema", "default", "enum", "const"):
                    stack.append((value, f"{pointer}/{escape(str(key))}"))
        elif isinstance(node, list):
            stack.extend((v, f"{pointer}/{i}") for i, v in enumerate(node))


def _schemas(document: dict) -> Iterator[tuple[dict, str]]:
    """Every schema object of the document, with its pointer (each once)."""
    roots: list[tuple[Any, str]] = []
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{pointer}/{escape(str(key))}"
                if key == "schema" and isinstance(value, dict):
                    roots.append((value, child))
                elif key in ("schemas", "definitions") and pointer in ("/components", "") and isinstance(value, dict):
                    roots.extend((v, f"{child}/{escape(str(k))}") for k, v in value.items())
                elif key not in ("example", "examples", "default", "enum", "const"):
                    stack.append((value, child))
        elif isinstance(node, list):
            stack.extend((v, f"{pointer}/{i}") for i, v in enumerate(node))
    seen: set[str] = set()
    while roots:
        schema, pointer = roots.pop()
        if not isinstance(schema, dict) or pointer in seen or "$ref" in schema:
            continue
        seen.add(pointer)
        yield schema, pointer
        for key in _SUBSCHEMA_MAPS:
            if isinstance(schema.get(key), dict):
                roots.extend((v, f"{pointer}/{key}/{escape(str(k))}") for k, v in schema[key].items())
        for key in _SUBSCHEMA_LISTS:
            if isinstance(schema.get(key), list):
                roots.extend((v, f"{pointer}/{key}/{i}") for i, v in enumerate(schema[key]))
        for key in _SUBSCHEMA_ONE:
            if isinstance(schema.get(key), dict):
                roots.append((schema[key], f"{pointer}/{key}"))


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
