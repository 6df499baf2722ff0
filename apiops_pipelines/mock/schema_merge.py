"""Flatten a translated schema for generation: follow `$ref`s and fold `allOf` into one set of keywords.

Keywords that combine simply are merged (types intersect, bounds tighten, properties and `required`
unite, enums intersect). Whatever cannot be merged (two patterns, two formats, a `not`...) is kept in
`_checks`, schemas the generated value is checked against. `additionalProperties: false` in one part
limits the names the other parts may add, in `_allowed`. Results are cached, so the same schema object
always flattens to the same dict (the generator caches compiled validators by object).
"""

from __future__ import annotations

from typing import Any

_LARGEST = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"})
_SMALLEST = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
_SUBSCHEMA = frozenset({"items", "additionalProperties", "contains", "propertyNames", "unevaluatedItems",
                        "unevaluatedProperties"})  # fmt: skip
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "readOnly", "writeOnly", "deprecated",
                          "$comment", "contentMediaType", "contentEncoding"})  # fmt: skip
FALSE = {"_false": True}


class Impossible(Exception):
    """No value satisfies this schema, or none the generator could find."""


def same(a: Any, b: Any) -> bool:
    """JSON equality: `1 == True` in Python, not in JSON."""
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                       and not isinstance(a, bool) and not isinstance(b, bool)):  # fmt: skip
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def _types(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


class Flattener:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self._flat: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._merged: dict[tuple[int, int], tuple[Any, Any, dict[str, Any]]] = {}
        self._active: set[int] = set()

    def target(self, ref: str) -> Any:
        if not ref.startswith("#/$defs/"):
            raise Impossible(f"unresolvable reference {ref}")
        key = ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~")
        if key not in self.defs:
            raise Impossible(f"unresolvable reference {ref}")
        return self.defs[key]

    def flatten(self, schema: Any) -> dict[str, Any]:
        if schema is True or schema is None:
            return {}
        if schema is False:
            return FALSE
        cached = self._flat.get(id(schema))
        if cached is not None:
            return cached[1]
        if id(schema) in self._active:
            raise Impossible("the schema is defined through itself (a $ref or allOf cycle)")
        self._active.add(id(schema))
        try:
            out = self._flatten(schema)
        finally:
            self._active.discard(id(schema))
        self._flat[id(schema)] = (schema, out)
        return out

    def _flatten(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            target = self.flatten(self.target(schema["$ref"]))
            return merge(target, self.flatten(rest)) if rest else target
        if "allOf" in schema:
            out = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                out = merge(_closed(out), _closed(self.flatten(part)))
            return out
        return schema

    def merged(self, a: Any, b: Any) -> dict[str, Any]:
        """flatten(a) and flatten(b) merged, the same object for the same pair."""
        key = (id(a), id(b))
        cached = self._merged.get(key)
        if cached is None:
            cached = self._merged[key] = (a, b, merge(_closed(self.flatten(a)), _closed(self.flatten(b))))
        return cached[2]


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Note which property names a schema closed with `additionalProperties: false` allows."""
    if schema.get("additionalProperties") is False and not schema.get("patternProperties") and "_allowed" not in schema:
        return {**schema, "_allowed": sorted(schema.get("properties") or ())}
    return schema


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if a.get("_false") or b.get("_false"):
        return FALSE
    if not b:
        return a
    if not a:
        return b
    out = dict(a)
    checks = list(a.get("_checks", ()))
    for key, value in b.items():
        if key == "_checks":
            checks.extend(value)
            continue
        if key not in out:
            out[key] = value
            continue
        mine = out[key]
        if same(mine, value) or key in _ANNOTATIONS:
            continue
        if key == "type":
            mine_types, their_types = _types(mine), _types(value)
            both = mine_types & their_types
            if (
                "integer" in mine_types
                and "number" in their_types
                or "number" in mine_types
                and "integer" in their_types
            ):
                both.add("integer")
            if not both:
                raise Impossible(f"no type is both {sorted(mine_types)} and {sorted(their_types)}")
            out[key] = sorted(both)
        elif key in ("properties", "patternProperties"):
            out[key] = {**mine, **{n: ({"allOf": [mine[n], s]} if n in mine else s) for n, s in value.items()}}
        elif key == "required":
            out[key] = list(dict.fromkeys([*mine, *value]))
        elif key == "_allowed":
            out[key] = sorted(set(mine) & set(value))
        elif key in _LARGEST:
            out[key] = max(mine, value)
        elif key in _SMALLEST:
            out[key] = min(mine, value)
        elif key == "enum":
            out[key] = [v for v in mine if any(same(v, w) for w in value)]
            if not out[key]:
                raise Impossible("the enums of allOf have no value in common")
        elif key == "uniqueItems":
            out[key] = bool(mine or value)
        elif key in _SUBSCHEMA:
            out[key] = False if mine is False or value is False else {"allOf": [mine, value]}
        else:
            checks.append({key: value})  # pattern, format, multipleOf, const, not, oneOf, anyOf...
    if checks:
        out["_checks"] = checks
    return out
