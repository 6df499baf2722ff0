"""Turn a schema of the document into a self-contained JSON Schema 2020-12 document.

Every `#/...` reference becomes `#/$defs/<pointer>@<mode>`, and the referenced schemas (translated once,
shared by every operation) travel in `$defs`, so cyclic schemas stay finite. The OpenAPI 3.0 and
Swagger 2.0 dialect is translated on the way: `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`,
`example` (kept as the `examples` annotation), siblings of `$ref` ignored. The mode drops `readOnly`
properties from what a request must send, and (3.0) `writeOnly` ones from what a response must hold.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.specs.json_pointer import escape
from apiops_pipelines.mock.discriminator import discriminated
from apiops_pipelines.mock.spec import SpecError, resolve_pointer

_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_ONE = frozenset({
    "additionalProperties", "items", "not", "contains", "propertyNames", "if", "then", "else",
    "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema",
})  # fmt: skip
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
# Identifiers would move the base of the rewritten references; the rest is documentation.
_DROPPED = frozenset({"$schema", "$id", "$anchor", "$dynamicAnchor", "$comment", "discriminator", "xml",
                      "externalDocs", "nullable"})  # fmt: skip


class SchemaTranslator:
    def __init__(self, document: Any, dialect: str) -> None:
        self.document = document
        self.legacy = dialect != "openapi-3.1"  # OpenAPI 3.0 and Swagger 2.0 share the older schema dialect
        self.defs: dict[str, Any] = {}
        self.deps: dict[str, set[str]] = {}  # key -> keys its schema refers to
        self._pending: list[tuple[str, str, str]] = []

    def translate(self, schema: Any, mode: str, where: str = "") -> Any:
        """The JSON Schema 2020-12 equivalent of `schema` (found at `where`, for messages), with every
        schema it refers to in `$defs`."""
        refs: set[str] = set()
        root = self._node(schema, mode, refs, where)
        while self._pending:  # referenced schemas, translated iteratively: long chains need no deep recursion
            key, ref, ref_mode = self._pending.pop()
            sub: set[str] = set()
            try:
                target = resolve_pointer(self.document, ref)
            except SpecError:
                del self.defs[key]
                raise
            self.defs[key] = self._node(target, ref_mode, sub, ref)
            self.deps[key] = sub
        if not refs:
            return root
        closure, queue = set(refs), list(refs)
        while queue:
            for dep in self.deps[queue.pop()]:
                if dep not in closure:
                    closure.add(dep)
                    queue.append(dep)
        if isinstance(root, bool):
            root = {} if root else {"not": {}}
        return {**root, "$defs": {**root.get("$defs", {}), **{k: self.defs[k] for k in sorted(closure)}}}

    def _ref(self, ref: Any, mode: str, where: str) -> str:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SpecError(f"{where or 'a schema'}: reference {ref!r} is not local to the document; bundle the spec")
        key = f"{ref[1:].lstrip('/')}@{mode}"
        if key not in self.defs:
            self.defs[key] = {}
            self.deps[key] = set()
            self._pending.append((key, ref, mode))
        return key

    def _node(self, schema: Any, mode: str, refs: set[str], where: str) -> Any:
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            raise SpecError(f"{where or 'a schema'}: a schema must be an object, not {type(schema).__name__}")
        if "$ref" in schema:
            key = self._ref(schema["$ref"], mode, where)
            refs.add(key)
            ref = {"$ref": "#/$defs/" + escape(key)}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            if self.legacy or not rest:
                return ref
            return {**self._keywords(rest, mode, refs, where), **ref}
        return self._keywords(schema, mode, refs, where)

    def _keywords(self, schema: dict[str, Any], mode: str, refs: set[str], where: str) -> Any:
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {n: self._node(s, mode, refs, f"{where}/{key}/{escape(n)}") for n, s in value.items()}
            elif key in _SCHEMA_ONE and isinstance(value, (dict, bool)):
                out[key] = self._node(value, mode, refs, f"{where}/{key}")
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._node(s, mode, refs, f"{where}/{key}/{i}") for i, s in enumerate(value)]
            elif key == "items" and isinstance(value, list):  # the pre-2020 tuple form
                out["prefixItems"] = [self._node(s, mode, refs, f"{where}/items/{i}") for i, s in enumerate(value)]
            elif key == "example":
                out.setdefault("examples", [value])
            elif key == "examples" and isinstance(value, list):
                out["examples"] = value
            elif key not in _DROPPED and not key.startswith("x-"):
                out[key] = value
        if isinstance(out.get("required"), list) and isinstance(schema.get("properties"), dict):
            # Requests need not send read-only properties; responses omit required write-only ones only
            # in OpenAPI 3.0 (3.1 is plain JSON Schema, where `required` is absolute).
            hidden = "readOnly" if mode == "request" else "writeOnly" if mode == "response" and self.legacy else None
            props = schema["properties"]
            out["required"] = [n for n in out["required"] if not (hidden and self._flag(props.get(n), hidden))]
        if "discriminator" in schema:
            out = discriminated(schema, out)
        if self.legacy:
            return self._legacy(out, schema, mode)
        return out

    def _flag(self, schema: Any, flag: str) -> bool:
        for _ in range(16):  # follow a short chain of references to where the flag would be
            if not isinstance(schema, dict):
                return False
            if schema.get(flag) is True:
                return True
            if "$ref" not in schema:
                return False
            try:
                schema = resolve_pointer(self.document, schema["$ref"])
            except SpecError:
                return False
        return False

    @staticmethod
    def _legacy(out: dict[str, Any], original: dict[str, Any], mode: str) -> Any:
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if out.get(exclusive) is True and bound in out:
                out[exclusive] = out.pop(bound)
            elif isinstance(out.get(exclusive), bool):
                del out[exclusive]
        if out.get("type") == "file":  # Swagger 2.0 uploads
            del out["type"]
        if original.get("nullable") is True or original.get("x-nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list):
                out["type"] = [*kind, "null"] if "null" not in kind else kind
            elif mode == "request":
                # OpenAPI 3.0.3 ignores `nullable` without a `type` beside it, yet `{nullable: true, allOf:
                # [$ref]}` is the common way to write a nullable reference: accept null in requests, but
                # never send it in responses, where strict validators would reject it.
                annotations = {k: out.pop(k) for k in ("examples", "default", "readOnly", "writeOnly") if k in out}
                return {"anyOf": [out, {"type": "null"}], **annotations}
        return out


def split_defs(schema: Any) -> tuple[Any, dict[str, Any]]:
    """A translated schema without its `$defs`, and those `$defs` (to combine several schemas in one)."""
    if isinstance(schema, dict) and "$defs" in schema:
        return {k: v for k, v in schema.items() if k != "$defs"}, schema["$defs"]
    return schema, {}
