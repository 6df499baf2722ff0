"""Make a stored value fit a response schema, keeping as much of it as fits (stateful mode).

A resource is stored as a client sent it, but what the mock answers must validate against the schema of
the response it answers with: a request body may carry properties the response schema closes out, of
other types, or lack what it requires (a search form POSTed to a collection is not the collection's item).
Parts that fit are kept, required properties that are missing are generated, parts that do not fit are
dropped or regenerated; a value that still does not validate is replaced by generated data.
"""

from __future__ import annotations

from random import Random
from typing import Any

from apiops_pipelines.mock.generate import GenerationError, SchemaGenerator
from apiops_pipelines.mock.schema_merge import Impossible

_COMPOSED = ("oneOf", "anyOf", "not", "if")


def conform(generator: SchemaGenerator, value: Any, seed_key: str) -> Any:
    """`value` repaired to validate against the generator's schema (generated data when it cannot be)."""
    generator.use_examples = True
    try:
        repaired = _Repair(generator, Random(seed_key)).fit(generator.root, value, 0)
    except (Impossible, RecursionError):
        repaired = None
    if generator.is_valid(repaired):
        return repaired
    try:
        return generator.generate(seed_key)
    except GenerationError:
        return value  # nothing valid exists to answer with; the caller answers with what it has


class _Repair:
    def __init__(self, generator: SchemaGenerator, rng: Random) -> None:
        self.gen, self.rng = generator, rng

    def fit(self, schema: Any, value: Any, depth: int) -> Any:
        s = self.gen.flat.flatten(schema)
        if self.gen.valid(s, value):
            return value
        if any(key in s for key in _COMPOSED):
            for keyword in ("oneOf", "anyOf"):
                base = self.gen._without_key(s, keyword)  # cached: merged() caches by the identity of its parts
                for branch in s.get(keyword) or ():
                    try:
                        candidate = self.fit(self.gen.flat.merged(base, branch), value, depth + 1)
                    except Impossible:
                        continue
                    if self.gen.valid(s, candidate):
                        return candidate
            return self.gen.value(s, self.rng, depth)
        if isinstance(value, dict) and self._admits(s, "object"):
            return self._object(s, value, depth)
        if isinstance(value, list) and self._admits(s, "array"):
            return self._array(s, value, depth)
        return self.gen.value(s, self.rng, depth)

    def _admits(self, s: dict[str, Any], kind: str) -> bool:
        kinds = s.get("type")
        return kinds is None or kind == kinds or (isinstance(kinds, list) and kind in kinds)

    def _object(self, s: dict[str, Any], value: dict[str, Any], depth: int) -> Any:
        out: dict[str, Any] = {}
        high = s.get("maxProperties")
        for name, item in value.items():
            if high is not None and len(out) >= high:
                break
            try:
                sub = self.gen.property_schema(s, name)
                out[name] = self.fit(sub, item, depth + 1)
            except Impossible:
                continue  # a property the schema does not allow, or one that cannot be made to fit: dropped
        for name in dict.fromkeys(s.get("required") or ()):
            if name not in out:
                out[name] = self.gen.value(self.gen.property_schema(s, name), self.rng, depth + 1)
        return out if self.gen.valid(s, out) else self.gen.value(s, self.rng, depth)

    def _array(self, s: dict[str, Any], value: list[Any], depth: int) -> Any:
        prefix, items = s.get("prefixItems") or [], s.get("items", True)
        high = s.get("maxItems")
        out = []
        for index, item in enumerate(value[:high] if high is not None else value):
            sub = prefix[index] if index < len(prefix) else items
            if sub is False:
                break
            out.append(self.fit(sub, item, depth + 1))
        return out if self.gen.valid(s, out) else self.gen.value(s, self.rng, depth)
