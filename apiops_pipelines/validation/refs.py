"""Following local `#/...` references inside one (bundled) document, safely."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.json_pointer import escape, resolve as pointer_get

__all__ = ["deref", "escape", "pointer_get"]

MAX_HOPS = 64


def deref(document: Any, node: Any) -> tuple[Any, str | None]:
    """The node a chain of `$ref`s leads to, and the pointer of the last hop (None if no ref)."""
    pointer = None
    for _ in range(MAX_HOPS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
            return node, pointer
        pointer = node["$ref"][1:]
        found, node = pointer_get(document, pointer)
        if not found:
            return None, pointer
    return None, pointer  # a cycle of references to references
