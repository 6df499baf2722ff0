"""Local `$ref` resolution for the diff: lazy, cached, and finite on cyclic or broken references.

A bundled spec may still hold `#/...` references, some of them cyclic. Nothing is copied or inlined:
a reference is followed only when the diff reaches it, and every place is named by its JSON pointer,
which is also how the diff tells two uses of one component apart from two different schemas.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

Ref = tuple[str, Any]  # (JSON pointer into the document, the node found there)

# Keys that may sit beside a `$ref` without changing what it means (OpenAPI 3.1 allows siblings).
_ANNOTATIONS = frozenset({
    "$ref", "description", "summary", "title", "example", "examples", "$comment", "externalDocs", "xml",
})  # fmt: skip
_BROKEN: Ref = ("", {})
EMPTY: dict[str, Any] = {}  # what a broken reference resolves to; shared, never written to


def escape(token: str) -> str:
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def is_pure_ref(node: Any) -> bool:
    """A node that only points elsewhere (annotations and `x-` extensions beside the `$ref` change nothing)."""
    if not isinstance(node, dict) or "$ref" not in node or not isinstance(node["$ref"], str):
        return False
    return len(node) == 1 or all(key in _ANNOTATIONS or key.startswith("x-") for key in node)


class SpecDocument:
    """One side of a diff: the raw document, its resolved references, and caches keyed by pointer."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.views: dict[str, Any] = {}  # pointer -> SchemaView, filled by schema_view.view_of
        self._targets: dict[str, Ref] = {}

    @property
    def is_swagger(self) -> bool:
        return "swagger" in self.root and "openapi" not in self.root

    def resolve(self, ref: Ref) -> Ref:
        """Follow `$ref` chains from `ref`. A broken or purely cyclic chain ends in an empty node placed at
        the reference itself, so both sides of a diff can still be compared and nothing loops."""
        pointer, node = ref
        if not isinstance(node, dict) or "$ref" not in node or not is_pure_ref(node):
            return ref
        target = node["$ref"]
        found = self._targets.get(target)
        if found is None:
            found = self._targets[target] = self._follow(target)
        return (pointer, EMPTY) if found is _BROKEN else found

    def target(self, ref: str) -> Any:
        """What a `$ref` string points at, one step, without following further references (None: nothing)."""
        found = self._lookup(ref)
        return None if found is None else found[1]

    def _follow(self, target: str) -> Ref:
        seen: set[str] = set()
        while target not in seen:
            seen.add(target)
            found = self._lookup(target)
            if found is None:
                return _BROKEN
            if not is_pure_ref(found[1]):
                return found
            target = found[1]["$ref"]
        return _BROKEN

    def _lookup(self, target: str) -> Ref | None:
        if not target.startswith("#"):
            return None  # bundled specs only keep local references; anything else is not followed
        pointer = unquote(target[1:])
        node: Any = self.root
        if pointer in ("", "/"):
            return "", node
        for raw in pointer.lstrip("/").split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return "/" + pointer.lstrip("/"), node
