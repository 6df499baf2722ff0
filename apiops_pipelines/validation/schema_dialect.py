"""OpenAPI schemas as JSON Schema: 3.1 is 2020-12 already; 3.0 and 2.0 are draft 4 plus `nullable`."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from apiops_pipelines.validation.refs import containers

SPEC_URI = "urn:apiops:spec"


def as_json_schema(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The document, with its `nullable` schemas rewritten so a JSON Schema validator reads them as OpenAPI
    means them. Only the marked schemas and their ancestors are copied: the rest is shared, unchanged."""
    if version == "3.1":
        return document
    nullable = "nullable" if version == "3.0" else "x-nullable"
    marked = [chain for node, chain in containers(document, frozenset())
              if type(node) is dict and node.get(nullable) is True]  # fmt: skip
    if not marked:
        return document
    root: Any = dict(document)
    copies = {id(root)}  # containers already copied (each place gets its own copy, even of a shared node)
    rewritten = []
    for chain in marked:
        keys = []
        while chain is not None:
            chain, key = chain
            keys.append(key)
        node = root
        for key in reversed(keys):
            child = node[key]
            if id(child) not in copies:
                child = dict(child) if type(child) is dict else list(child)
                node[key] = child
                copies.add(id(child))
            node = child
        rewritten.append(node)
    for schema in rewritten:  # after every copy is linked: rewriting moves a schema's keys under anyOf
        _allow_null(schema)
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
    """Validators for schemas at pointers of one document.

    A schema without references is compiled on its own and shared by every schema with the same content
    (GitHub's spec: 6,400 such checks, 1,900 distinct schemas); compiling through the registry costs five
    times more. The others are compiled through the registry, the most recently used kept: each holds its
    schema's whole `$ref` closure, and keeping all 7,000 cost 130 MB."""

    def __init__(self, document: dict[str, Any], version: str, keep: int = 128) -> None:
        self.translated = as_json_schema(document, version)
        # The registry's draft too: left to its 2020-12 default, a 3.0 `exclusiveMaximum: true` made the schema
        # unusable (its examples went unchecked) and `format` was never asserted.
        draft = jsonschema_rs.Draft202012 if version == "3.1" else jsonschema_rs.Draft4
        self.registry = jsonschema_rs.Registry([(SPEC_URI, self.translated)], draft=draft)
        self.draft = jsonschema_rs.Draft202012Validator if version == "3.1" else jsonschema_rs.Draft4Validator
        self.cache: OrderedDict[str, Any] = OrderedDict()
        self.by_content: dict[str, Any] = {}
        self.keep = keep

    def errors(self, pointer: str, instance: Any) -> list[str]:
        validator = self._validator(pointer)
        if isinstance(validator, str):
            return []  # an unusable schema is the structural check's to report
        return [f"{'/'.join(map(str, e.instance_path)) or 'value'}: {e.message}"
                for e in validator.iter_errors(instance)]

    def _validator(self, pointer: str) -> Any:
        validator = self.cache.get(pointer)
        if validator is not None:
            self.cache.move_to_end(pointer)
            return validator
        schema = _at(self.translated, pointer)
        if isinstance(schema, dict):
            content = json.dumps(schema, sort_keys=True)
            if not _REFERS.search(content):
                validator = self.by_content.get(content)
                if validator is None:
                    try:
                        validator = self.by_content[content] = self.draft(schema)
                    except (ValueError, jsonschema_rs.ReferencingError):
                        validator = None  # as before: let the registry say what is wrong with it
        if validator is None:
            try:
                # A pointer such as /paths/~1books~1{id} is no valid URI fragment until percent-encoded.
                fragment = quote(pointer, safe="/~!$&()*+,;=:@")
                validator = self.draft({"$ref": f"{SPEC_URI}#{fragment}"}, registry=self.registry)
            except (ValueError, jsonschema_rs.ReferencingError) as exc:
                validator = str(exc)
        self.cache[pointer] = validator
        if len(self.cache) > self.keep:
            self.cache.popitem(last=False)
        return validator


_REFERS = re.compile(r'"\$(?:ref|dynamicRef|recursiveRef)"')


def _at(document: Any, pointer: str) -> Any:
    """The node at a (not percent-encoded) JSON pointer, or None."""
    node = document
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node
