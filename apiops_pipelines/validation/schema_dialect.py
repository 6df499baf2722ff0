"""OpenAPI schemas as JSON Schema: 3.1 is 2020-12 already; 3.0 and 2.0 are draft 4 plus `nullable`."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from apiops_pipelines.validation.refs import containers, pointer_of

SPEC_URI = "urn:apiops:spec"


def as_json_schema(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The document, with its `nullable` schemas rewritten so a JSON Schema validator reads them as OpenAPI
    means them. Only the marked schemas and their ancestors are copied: the rest is shared, unchanged."""
    return translate(document, version)[0]


def translate(document: dict[str, Any], version: str) -> tuple[dict[str, Any], frozenset[str]]:
    """`as_json_schema`, and the pointers of the schemas whose keys had to move under `anyOf/0` (see
    `moved_pointer`): every other schema keeps its pointer."""
    if version == "3.1":
        return document, frozenset()
    nullable = "nullable" if version == "3.0" else "x-nullable"
    marked = [chain for node, chain in containers(document, frozenset())
              if type(node) is dict and node.get(nullable) is True]  # fmt: skip
    if not marked:
        return document, frozenset()
    root: Any = dict(document)
    copies = {id(root)}  # containers already copied (each place gets its own copy, even of a shared node)
    rewritten = []
    for chain in marked:
        keys = []
        link = chain
        while link is not None:
            link, key = link
            keys.append(key)
        node = root
        for key in reversed(keys):
            child = node[key]
            if id(child) not in copies:
                child = dict(child) if type(child) is dict else list(child)
                node[key] = child
                copies.add(id(child))
            node = child
        rewritten.append((node, chain))
    # after every copy is linked: moving a schema's keys under anyOf keeps its children the same objects
    moved = frozenset(pointer_of(chain) for schema, chain in rewritten if _allow_null(schema))
    return root, moved


# Keywords that may reject null whatever `type` says (`anyOf`/`oneOf` get a null branch of their own instead);
# every other keyword without a `type` ignores null already.
_REJECTS_NULL = ("allOf", "not", "$ref")


def _allow_null(schema: dict[str, Any]) -> bool:
    """Let the schema accept null; True when its keys had to move (under `anyOf: [<them>, {type: null}]`)."""
    if any(key in schema for key in _REJECTS_NULL):
        rest = {k: schema.pop(k) for k in list(schema)}
        schema["anyOf"] = [rest, {"type": "null"}]
        return True
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    for key in ("anyOf", "oneOf"):
        # appended, not wrapped: the branches keep their pointers (GitHub's spec validated a number example
        # of `anyOf/1` against `{type: null}` when the keys moved and `anyOf/1` became the null branch)
        if isinstance(schema.get(key), list):
            schema[key] = [*schema[key], {"type": "null"}]
    return False


def moved_pointer(pointer: str, moved: frozenset[str]) -> str:
    """Where the schema at `pointer` of the original document is in the translated one."""
    if not moved:
        return pointer
    translated = original = ""
    for token in pointer.split("/")[1:]:
        if original in moved:
            translated += "/anyOf/0"
        original += "/" + token
        translated += "/" + token
    return translated


class SchemaValidators:
    """Validators for schemas at pointers of one document.

    A schema without references is compiled on its own and shared by every schema with the same content
    (GitHub's spec: 6,400 such checks, 1,900 distinct schemas); compiling through the registry costs five
    times more. The others are compiled through the registry, the most recently used kept: each holds its
    schema's whole `$ref` closure, and keeping all 7,000 cost 130 MB."""

    def __init__(self, document: dict[str, Any], version: str, keep: int = 128) -> None:
        self.translated, self.moved = translate(document, version)
        self.version = version
        # The registry's draft too: left to its 2020-12 default, a 3.0 `exclusiveMaximum: true` made the schema
        # unusable (its examples went unchecked) and `format` was never asserted.
        draft = jsonschema_rs.Draft202012 if version == "3.1" else jsonschema_rs.Draft4
        self.registry = jsonschema_rs.Registry([(SPEC_URI, self.translated)], draft=draft)
        self.draft = jsonschema_rs.Draft202012Validator if version == "3.1" else jsonschema_rs.Draft4Validator
        self.cache: OrderedDict[str, tuple[Any, str]] = OrderedDict()
        self.by_content: dict[str, Any] = {}
        self.keep = keep

    def errors(self, pointer: str, instance: Any, relax: str | None = None) -> list[str]:
        """What is wrong with `instance` against the schema at `pointer`. `relax` ("readOnly" in requests,
        "writeOnly" in responses): a required property marked so may be absent, as OpenAPI says."""
        validator, base = self._validator(moved_pointer(pointer, self.moved))
        if isinstance(validator, str):
            return []  # an unusable schema is the structural check's to report
        return [_shown(e) for e in validator.iter_errors(instance)
                if relax is None or not self._relaxed(e, base, relax)]  # fmt: skip

    def errors_inline(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Against a schema that is no node of the document (a Swagger 2.0 parameter read as a schema)."""
        inline = translate({"schema": schema}, self.version)[0]["schema"]
        validator = self._compiled(json.dumps(inline, sort_keys=True, default=str), inline)
        return [] if validator is None else [_shown(e) for e in validator.iter_errors(instance)]

    def _relaxed(self, error: Any, base: str, relax: str) -> bool:
        if type(error.kind).__name__ != "Required":
            return False
        holder = _at(self.translated, base + "".join(f"/{p}" for p in error.schema_path[:-1]))
        properties = holder.get("properties") if isinstance(holder, dict) else None
        member = properties.get(error.kind.property) if isinstance(properties, dict) else None
        for _ in range(16):  # a property given by `$ref`: its target says whether it is readOnly
            if not (isinstance(member, dict) and isinstance(member.get("$ref"), str)):
                break
            member = _at(self.translated, member["$ref"].partition("#")[2])
        return isinstance(member, dict) and member.get(relax) is True

    def _compiled(self, content: str, schema: Any) -> Any:
        validator = self.by_content.get(content)
        if validator is None and content not in self.by_content:
            try:
                validator = self.draft(schema)
            except (ValueError, jsonschema_rs.ReferencingError):
                validator = None  # let the registry (or the structural check) say what is wrong with it
            self.by_content[content] = validator
        return validator

    def _validator(self, pointer: str) -> tuple[Any, str]:
        """The validator of the schema at a pointer of the translated document, and the pointer its errors'
        schema paths start from ("" for the registry's: they name the document's own locations)."""
        found = self.cache.get(pointer)
        if found is not None:
            self.cache.move_to_end(pointer)
            return found
        validator, schema = None, _at(self.translated, pointer)
        if isinstance(schema, dict):
            content = json.dumps(schema, sort_keys=True)
            if not _REFERS.search(content):
                validator = self._compiled(content, schema)
        if validator is not None:
            found = (validator, pointer)
        else:
            try:
                # A pointer such as /paths/~1books~1{id} is no valid URI fragment until percent-encoded.
                fragment = quote(pointer, safe="/~!$&()*+,;=:@")
                found = (self.draft({"$ref": f"{SPEC_URI}#{fragment}"}, registry=self.registry), "")
            except (ValueError, jsonschema_rs.ReferencingError) as exc:
                found = (str(exc), "")
        self.cache[pointer] = found
        if len(self.cache) > self.keep:
            self.cache.popitem(last=False)
        return found


def _shown(error: Any) -> str:
    return f"{'/'.join(map(str, error.instance_path)) or 'value'}: {error.message}"


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
