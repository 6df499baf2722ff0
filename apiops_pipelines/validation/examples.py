"""Examples that contradict their own schema: the walk behind the `oas2-`/`oas3-valid-media-example` and
`-valid-schema-example` lint rules (lint/example_functions.py).

One dedicated walk per kind instead of a JSONPath over every node, and one set of validators shared by
both kinds (validators are shared by schema content too): on GitHub's 13 MB spec this is most of lint's time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiops_pipelines.validation.refs import Chain, containers, deref, escape, pointer_of
from apiops_pipelines.validation.schema_dialect import SchemaValidators
from apiops_pipelines.validation.structural import family

Problem = tuple[str, str]  # (pointer of the example value, what is wrong with it)

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const", "x-example"})  # values, not spec
_NOT_WALKED = _DATA_KEYS | {"schema"}
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")
_SUBSCHEMA_KINDS: dict[str, type] = {**dict.fromkeys(_SUBSCHEMA_MAPS, dict), **dict.fromkeys(_SUBSCHEMA_LISTS, list),
                                     **dict.fromkeys(_SUBSCHEMA_ONE, object)}  # a map, a list or one subschema
# Where a media type's example is a request (its readOnly properties may be absent) or a response (writeOnly).
_REQUEST = re.compile(r"/components/requestBodies/|/paths/[^/]*/[^/]*/requestBody/")
_RESPONSE = re.compile(r"/components/responses/|/responses/|/paths/[^/]*/[^/]*/responses/")
_SHOWN_PROBLEMS = 3


class ExampleCheck:
    """The example problems of one document, by kind; the validators are built on first use."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.version = family(document) if isinstance(document, dict) else None
        self._validators: SchemaValidators | None = None

    @property
    def validators(self) -> SchemaValidators:
        if self._validators is None:
            self._validators = SchemaValidators(self.document, self.version or "3.0")
        return self._validators

    def media(self) -> list[Problem]:
        """Examples of media types, parameters and headers (Swagger 2.0: of responses) against their schema."""
        if self.version is None:
            return []
        problems = []
        for holder, pointer in _holders(self.document, self.version):
            schema_pointer = _schema_pointer(self.document, holder, pointer)
            relax = "readOnly" if _REQUEST.match(pointer) else "writeOnly" if _RESPONSE.match(pointer) else None
            for example_pointer, value in _examples_of(self.document, holder, pointer, self.version):
                problems += _problem(example_pointer, self.validators.errors(schema_pointer, value, relax))
        return problems

    def schemas(self) -> list[Problem]:
        """`example`, `default` (Swagger 2.0: `x-example`; 3.1: `examples`) of every schema against it."""
        if self.version is None:
            return []
        problems = []
        keys = ("example", "x-example", "default") if self.version == "2.0" else ("example", "default")
        for schema, pointer in _schemas(self.document):
            for key in keys:
                if key in schema:
                    problems += _problem(f"{pointer}/{key}", self.validators.errors(pointer, schema[key]))
            if self.version == "3.1" and isinstance(schema.get("examples"), list):
                for i, value in enumerate(schema["examples"]):
                    problems += _problem(f"{pointer}/examples/{i}", self.validators.errors(pointer, value))
        if self.version == "2.0":
            for simple, pointer in _simple_parameters(self.document):
                # read as a schema, as Spectral does; `required: true` means something else here
                schema = {k: v for k, v in simple.items() if k != "required" or isinstance(v, list)}
                for key in keys:
                    if key in simple:
                        errors = self.validators.errors_inline(schema, simple[key])
                        problems += _problem(f"{pointer}/{key}", errors)
        return problems


def _problem(pointer: str, errors: list[str]) -> list[Problem]:
    """One problem per example, however many ways it is wrong: the first few are named."""
    if not errors:
        return []
    shown = "; ".join(errors[:_SHOWN_PROBLEMS])
    more = f" (and {len(errors) - _SHOWN_PROBLEMS} more)" if len(errors) > _SHOWN_PROBLEMS else ""
    return [(pointer, f"example does not match its schema: {shown}{more}")]


def _schema_pointer(document: dict, holder: dict, holder_pointer: str) -> str:
    """The pointer of the schema of a media type/parameter/header/response, following a `$ref`."""
    _, ref_pointer = deref(document, holder["schema"])
    return ref_pointer if ref_pointer is not None else f"{holder_pointer}/schema"


def _examples_of(document: dict, holder: dict, pointer: str, version: str) -> Iterator[tuple[str, Any]]:
    examples = holder.get("examples")
    if version == "2.0":  # a response's examples: media type -> the example itself
        for media_type, value in examples.items() if isinstance(examples, dict) else ():
            yield f"{pointer}/examples/{escape(str(media_type))}", value
        return
    if "example" in holder:
        yield f"{pointer}/example", holder["example"]
    for name, example in examples.items() if isinstance(examples, dict) else ():
        resolved, ref_pointer = deref(document, example)
        if isinstance(resolved, dict) and "value" in resolved:
            # a referenced example is reported where its value is written (as Spectral does), once
            here = f"{pointer}/examples/{escape(str(name))}"
            yield f"{ref_pointer if ref_pointer is not None else here}/value", resolved["value"]


def _holders(document: dict, version: str) -> Iterator[tuple[dict, str]]:
    """Objects with a `schema` and examples: media types, parameters, headers (Swagger 2.0: responses)."""
    wanted = ("examples",) if version == "2.0" else ("example", "examples")
    for node, chain in containers(document, _NOT_WALKED):
        if type(node) is dict and isinstance(node.get("schema"), dict) and any(k in node for k in wanted):
            yield node, pointer_of(chain)


def _simple_parameters(document: dict) -> Iterator[tuple[dict, str]]:
    """Swagger 2.0 parameters and headers that are not a body (their type is written on them), and their items."""
    for node, chain in containers(document, _NOT_WALKED):
        if type(node) is not dict or chain is None or "$ref" in node or node.get("in") == "body":
            continue
        parent = chain[0][1] if chain[0] is not None else None
        if ("in" in node and parent == "parameters" or "in" not in node and parent == "headers") and "type" in node:
            pointer = pointer_of(chain)
            while isinstance(node, dict):
                yield node, pointer
                node, pointer = node.get("items"), f"{pointer}/items"


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
        if "example" in schema or "examples" in schema or "default" in schema or "x-example" in schema:
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
