"""Response data from a (translated, self-contained) schema, always valid against it, the same for the same seed.

The walk builds a value keyword by keyword: types, formats, enums, bounds, `multipleOf`, patterns, array
and object sizes, `allOf` (merged), `oneOf` (valid for exactly one branch) and `anyOf`. Recursive schemas
stop growing past `max_depth`: optional properties are left out and arrays keep their minimum size.
Where a keyword cannot be honoured by construction (`not`, a lookbehind, two patterns) the value is
checked and drawn again. The whole result is checked with the compiled validator; a seed that fails is
retried with the next derived seed, so the answer stays deterministic.
"""

from __future__ import annotations

import copy
import json
from random import Random
from typing import Any

from apiops_pipelines.mock.dialect import split_defs
from apiops_pipelines.mock.exclusive import set_apart
from apiops_pipelines.mock.formats import format_string, word
from apiops_pipelines.mock.numbers import number_in_bounds
from apiops_pipelines.mock.patterns import generate_matching
from apiops_pipelines.mock.schema_merge import Flattener, Impossible
from apiops_pipelines.mock.validators import Validator, compile_validator

_ATTEMPTS = 12
_HARD_DEPTH = 48  # deeper than this, a schema requires itself forever
_CANDIDATES = ("a", "abc", "A", "ABC", "Abc", "1", "123", "a1", "A1", "abc123", "test", "example", "mock",
               "x-1", "a_b", "a.b", "a-b", "a b", "AB12", "ab12cd", "0", "00", "true", "null")  # fmt: skip
_OBJECT_HINTS = ("properties", "required", "additionalProperties", "patternProperties", "minProperties",
                 "maxProperties", "propertyNames", "dependentRequired")  # fmt: skip
_ARRAY_HINTS = ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")
_STRING_HINTS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_HINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_COMPOSED = ("oneOf", "anyOf", "not", "if", "_checks")


class GenerationError(ValueError):
    pass


class SchemaGenerator:
    def __init__(self, schema: Any, *, max_depth: int = 4) -> None:
        self.schema = schema
        self.root, self.defs = split_defs(schema)
        self.flat = Flattener(self.defs)
        self.max_depth = max_depth
        self.use_examples = True
        self._validator: Validator | None = None
        self._validators: dict[int, tuple[Any, Validator]] = {}
        self._without: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}

    def generate(self, seed_key: str, *, use_examples: bool = True) -> Any:
        """A value valid against the schema; the same `seed_key` gives the same value."""
        problem = "no attempt produced a valid value"
        for attempt in range(_ATTEMPTS):
            # Later attempts alternate: without examples (repeated examples can break uniqueItems), and with
            # them (the spec's own values are the fallback when dynamic generation fails).
            self.use_examples = use_examples if attempt < _ATTEMPTS // 2 else attempt % 2 == 1
            try:
                value = self.value(self.root, Random(f"{seed_key}#{attempt}"), 0)
            except (Impossible, RecursionError) as exc:
                problem = str(exc) or "the schema admits no value"
                continue
            if self.is_valid(value):
                return value
        raise GenerationError(problem)

    def is_valid(self, value: Any) -> bool:
        """Whether `value` validates against the whole schema."""
        if self._validator is None:
            self._validator = compile_validator(self.schema)
        return self._validator.is_valid(value)

    def valid(self, schema: Any, value: Any) -> bool:
        cached = self._validators.get(id(schema))
        if cached is None:
            plain = {k: v for k, v in schema.items() if not k.startswith("_")} if isinstance(schema, dict) else schema
            if isinstance(schema, dict) and schema.get("_checks"):
                plain = {**plain, "allOf": [*plain.get("allOf", ()), *schema["_checks"]]}
            if isinstance(plain, dict) and self.defs and _refers(plain):
                plain = {**plain, "$defs": self.defs}
            cached = self._validators[id(schema)] = (schema, compile_validator(plain))
        return cached[1].is_valid(value)

    def value(self, schema: Any, rng: Random, depth: int) -> Any:
        if depth > _HARD_DEPTH:
            raise Impossible("the schema requires itself at every level (endless recursion)")
        s = self.flat.flatten(schema)
        if s.get("_false"):
            raise Impossible("a `false` schema admits no value")
        if not any(key in s for key in _COMPOSED):
            return self._plain(s, rng, depth)
        for _ in range(8):
            try:
                candidate = self._composed(s, rng, depth)
            except Impossible:
                continue
            if self.valid(s, candidate):
                return candidate
        raise Impossible("no value satisfied every subschema (oneOf/anyOf/not/if)")

    def _without_key(self, s: dict[str, Any], key: str) -> dict[str, Any]:
        cached = self._without.get((id(s), key))
        if cached is None:
            cached = self._without[(id(s), key)] = (s, {k: v for k, v in s.items() if k != key})
        return cached[1]

    def _composed(self, s: dict[str, Any], rng: Random, depth: int) -> Any:
        for keyword in ("oneOf", "anyOf"):
            if keyword in s:
                base, branches = self._without_key(s, keyword), s[keyword]
                for index in rng.sample(range(len(branches)), len(branches)):
                    try:
                        candidate = self.value(self.flat.merged(base, branches[index]), rng, depth)
                    except Impossible:
                        continue
                    if keyword == "anyOf" or sum(self.valid(b, candidate) for b in branches) == 1:
                        return candidate
                    apart = set_apart(self, candidate, self.flat.merged(base, branches[index]), branches, index)
                    if apart is not None:
                        return apart
                raise Impossible(f"no branch of {keyword} could be satisfied alone")
        if "if" in s:
            base = self._without_key(self._without_key(self._without_key(s, "if"), "then"), "else")
            with_then = self.flat.merged(self.flat.merged(base, s["if"]), s.get("then", True))
            options = [with_then, self.flat.merged(base, s.get("else", True))]
            return self.value(options[rng.random() < 0.5], rng, depth)
        return self._plain(s, rng, depth)

    def _plain(self, s: dict[str, Any], rng: Random, depth: int) -> Any:
        if self.use_examples:
            for example in [*(s.get("examples") or ()), *([s["default"]] if "default" in s else [])]:
                if self.valid(s, example):
                    return copy.deepcopy(example)
        if "const" in s:
            return copy.deepcopy(s["const"])
        if "enum" in s:
            options = [v for v in s["enum"] if self.valid(s, v)]
            if not options:
                raise Impossible("no value of the enum fits the other keywords")
            return copy.deepcopy(rng.choice(options))
        kind = self._type(s, rng, depth)
        if kind == "object":
            return self._object(s, rng, depth)
        if kind == "array":
            return self._array(s, rng, depth)
        if kind == "string":
            return self._string(s, rng)
        if kind in ("integer", "number"):
            return number_in_bounds(s, rng, integer=kind == "integer")
        if kind == "boolean":
            return rng.random() < 0.5
        return None

    def _type(self, s: dict[str, Any], rng: Random, depth: int) -> str:
        kinds = s.get("type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or ())
        if not kinds:
            hints = (
                (_OBJECT_HINTS, "object"),
                (_ARRAY_HINTS, "array"),
                (_NUMBER_HINTS, "number"),
                (_STRING_HINTS, "string"),
            )
            kinds = [next((kind for keys, kind in hints if any(k in s for k in keys)), "string")]
        others = [k for k in kinds if k != "null"]
        if not others or ("null" in kinds and (depth >= self.max_depth or rng.random() < 0.15)):
            return "null"
        if "integer" in others and "number" in others:
            others.remove("number")
        return rng.choice(others)

    def _string(self, s: dict[str, Any], rng: Random) -> str:
        low, high = s.get("minLength", 0), s.get("maxLength")
        if high is not None and high < low:
            raise Impossible(f"maxLength {high} is below minLength {low}")
        pattern, fmt = s.get("pattern"), s.get("format")
        if not isinstance(pattern, str) and not isinstance(fmt, str):
            shortest = max(low, 3) if high is None else min(max(low, 3), high)
            longest = shortest + 9 if high is None else min(high, shortest + 9)
            return word(rng, rng.randint(shortest, longest))
        drafts = [format_string(fmt, rng, low, high) if isinstance(fmt, str) else None,
                  generate_matching(pattern, rng, low, high) if isinstance(pattern, str) else None]  # fmt: skip
        both = isinstance(pattern, str) and isinstance(fmt, str)
        for text in drafts:
            fits = text is not None and low <= len(text) and (high is None or len(text) <= high)
            if fits and (not both or self.valid(s, text)):
                return text
        spec_values = [*(s.get("examples") or ()), *([s["default"]] if "default" in s else [])]
        for candidate in (*spec_values, *_CANDIDATES, *(word(rng, n) for n in (low, high or 0) if n)):
            if isinstance(candidate, str) and self.valid(s, candidate):
                return candidate
        raise Impossible(f"no string found for pattern {pattern!r}" if pattern else "no string fits the bounds")

    def _array(self, s: dict[str, Any], rng: Random, depth: int) -> list[Any]:
        low, high = s.get("minItems", 0), s.get("maxItems")
        prefix, items = s.get("prefixItems") or [], s.get("items", True)
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if high is not None and high < low:
            raise Impossible(f"maxItems {high} is below minItems {low}")
        top = low + 2 if high is None else min(high, max(low, 1) + 1)
        count = low if depth >= self.max_depth else rng.randint(min(max(low, 1), top), top)
        contains = s.get("contains")
        needed = s.get("minContains", 1) if contains is not None else 0
        out: list[Any] = []
        seen: set[str] = set()
        for _ in range(count * 8 + 8):
            if len(out) >= count:
                break
            index = len(out)
            sub = prefix[index] if index < len(prefix) else items
            if index < needed:
                sub = self.flat.merged(sub, contains)
            item = self.value(sub, rng, depth + 1)
            if s.get("uniqueItems"):
                key = json.dumps(item, sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        if len(out) < low:
            raise Impossible("too few distinct items for uniqueItems")
        return out

    def property_schema(self, s: dict[str, Any], name: str) -> Any:
        props = s.get("properties") or {}
        if name in props:
            return props[name]
        allowed = s.get("_allowed")
        additional = s.get("additionalProperties", True)
        if additional is False or (allowed is not None and name not in allowed):
            raise Impossible(f"property {name!r} is required but not allowed")
        return additional

    def _object(self, s: dict[str, Any], rng: Random, depth: int) -> dict[str, Any]:
        props = s.get("properties") or {}
        low, high = s.get("minProperties", 0), s.get("maxProperties")
        allowed = s.get("_allowed")
        out: dict[str, Any] = {}
        for name in dict.fromkeys(s.get("required") or ()):
            out[name] = self.value(self.property_schema(s, name), rng, depth + 1)
        deep = depth >= self.max_depth
        for name, sub in props.items():
            if name in out or (allowed is not None and name not in allowed):
                continue
            if (high is not None and len(out) >= high) or (len(out) >= low and (deep or rng.random() < 0.35)):
                continue
            if self.flat.flatten(sub).get("writeOnly") is True and len(out) >= low:
                continue  # responses do not carry write-only properties
            try:
                out[name] = self.value(sub, rng, depth + 1)
            except Impossible:
                continue  # an optional property that cannot be built (e.g. endless recursion) is left out
        additional = s.get("additionalProperties", True)
        for index in range(low + 8):
            if len(out) >= low:
                break
            if additional is False or allowed is not None:
                break
            name = f"{word(rng, 4)}{index}"
            out[name] = self.value(additional, rng, depth + 1)
        for name, dependencies in (s.get("dependentRequired") or {}).items():
            for dependency in dependencies if name in out else ():
                if dependency not in out:
                    out[dependency] = self.value(self.property_schema(s, dependency), rng, depth + 1)
        if len(out) < low:
            raise Impossible(f"cannot reach minProperties {low}")
        return out


def _refers(schema: Any) -> bool:
    """Whether a schema holds a `$ref` (only then does its validator need the `$defs`, costly to compile)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$ref" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False
