"""Following local `#/...` references inside one (bundled) document, safely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiops_pipelines.specs.json_pointer import escape, resolve as pointer_get

__all__ = ["Chain", "containers", "deref", "escape", "pointer_get", "pointer_of"]

MAX_HOPS = 64
Chain = tuple[Any, Any] | None  # (parent chain, key): where a node is, spelled out only if a finding needs it


def containers(document: Any, skip: frozenset[str]) -> Iterator[tuple[Any, Chain]]:
    """Every mapping and list of the document, parents first, except below the mapping keys in `skip`.

    One iterator per open container (no recursion, no pointer strings): the checks walking a 13 MB spec
    this way take a third of the time they took with a stack of (node, pointer) pairs.
    """
    if type(document) is not dict and type(document) is not list:
        return
    yield document, None
    stack: list[tuple[Any, Chain]] = [(_children(document), None)]
    while stack:
        children, chain = stack[-1]
        for key, child in children:
            kind = type(child)
            if (kind is dict or kind is list) and key not in skip:
                below = (chain, key)
                yield child, below
                stack.append((_children(child), below))
                break
        else:
            stack.pop()


def _children(container: Any) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if type(container) is dict else enumerate(container)


def pointer_of(chain: Chain) -> str:
    tokens = []
    while chain is not None:
        chain, key = chain
        tokens.append(escape(str(key)))
    return "".join(f"/{token}" for token in reversed(tokens))


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
