"""JSON Pointers (RFC 6901) into plain JSON-like documents: one implementation for every engine."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve(document: Any, pointer: str) -> tuple[bool, Any]:
    """(True, node) at `pointer` (percent-decoded as in a URI fragment), or (False, None)."""
    node = document
    if pointer in ("", "/"):
        return True, node
    for raw in pointer.lstrip("/").split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node
