"""Following local `#/...` references inside one (bundled) document, safely."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

MAX_HOPS = 64


def pointer_get(document: Any, pointer: str) -> tuple[bool, Any]:
    node = document
    for raw in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


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


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
