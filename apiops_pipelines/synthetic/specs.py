"""Synthetic OpenAPI 3.0 specs of any size with a known share of findings (tests, benchmarks).

Deterministic: operation `k` of a spec is the same in every run. Its mistakes follow `k`: every 3rd
operation has no description, every 5th a response example that breaks its schema, every 7th an undeclared
tag, every 11th an operationId with a space; no operation documents 403 or 429, every other one 401 (the
OWASP rules report those). Large specs are split: the root file `$ref`s each path item in a part file
holding at most `per_file` operations, as the loader refuses single files over 25 MB.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._-]*\Z")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def operation(k: int, schemas: str = "#/components/schemas") -> tuple[str, str, dict]:
    """Operation `k`: its path, method and object (two operations, a get and a put, share a path)."""
    item, method = divmod(k, 2)
    path = f"/things-{item:06d}/{{thingId}}"
    verb = ("get", "put")[method]
    op: dict[str, Any] = {"operationId": f"{verb}Thing{k:06d}" if k % 11 else f"{verb} thing {k}",
                          "summary": f"{verb.title()} thing {item}"}  # fmt: skip
    if k % 3:
        op["description"] = f"{'Returns' if verb == 'get' else 'Replaces'} thing {item} by its identifier."
    op["tags"] = ["legacy" if k % 7 == 0 else "things"]
    example = {"id": f"t{item}", "size": "big" if k % 5 == 0 else item % 100}
    media = {"schema": {"$ref": f"{schemas}/Thing"}, "example": example}
    responses: dict[str, Any] = {"200" if verb == "get" else "204": {"description": "OK"} if verb == "put" else
                                 {"description": "OK", "content": {"application/json": media}}}  # fmt: skip
    if verb == "put":
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    responses["404"] = {"description": "Not found"}
    if k % 2 == 0:
        responses["401"] = {"description": "Unauthorized"}
    op["responses"] = responses
    return path, verb, op


def path_items(start: int, stop: int, schemas: str = "#/components/schemas") -> dict[str, dict]:
    items: dict[str, dict] = {}
    parameter = {"name": "thingId", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 36}}
    for k in range(start, stop):
        path, verb, op = operation(k, schemas)
        items.setdefault(path, {"parameters": [parameter]})[verb] = op
    return items


def root_document(paths: dict) -> dict:
    thing = {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string", "maxLength": 36},
        "size": {"type": "integer", "minimum": 0, "maximum": 1000},
    }}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "Synthetic things", "version": "1.0.0", "description": "Generated for benchmarks.",
                 "contact": {"name": "Platform", "email": "platform@example.org", "url": "https://example.org"}},
        "servers": [{"url": "https://api.example.org/v1"}],
        "security": [{"bearer": []}],
        "tags": [{"name": "things", "description": "Things"}],
        "paths": paths,
        "components": {"schemas": {"Thing": thing},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }  # fmt: skip


def write_spec(folder: Path, operations: int, fmt: str = "yaml", per_file: int = 10_000) -> list[Path]:
    """The spec's files in `folder` (the root first), YAML (block style) or JSON (indented)."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix, dump = (".json", _json) if fmt == "json" else (".yaml", _yaml)
    root = folder / f"openapi{suffix}"
    if operations <= per_file:
        root.write_text(dump(root_document(path_items(0, operations))), encoding="utf-8")
        return [root]
    files, refs = [root], {}
    for number, start in enumerate(range(0, operations, per_file)):
        part = folder / f"paths-{number:03d}{suffix}"
        items = path_items(start, min(start + per_file, operations), f"{root.name}#/components/schemas")
        part.write_text(dump(items), encoding="utf-8")
        refs.update({path: {"$ref": f"{part.name}#/{path.replace('~', '~0').replace('/', '~1')}"} for path in items})
        files.append(part)
    root.write_text(dump(root_document(refs)), encoding="utf-8")
    return files


def _json(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


def _yaml(document: Any) -> str:
    lines: list[str] = []
    _block(document, 0, lines)
    return "\n".join(lines) + "\n"


def _block(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if type(value) is dict:
        for key, item in value.items():
            if type(item) in (dict, list) and item:
                lines.append(f"{pad}{_scalar(key)}:")
                _block(item, indent + 2, lines)
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}")
        return
    for item in value:
        if type(item) in (dict, list) and item:
            first = len(lines)
            _block(item, indent + 2, lines)
            lines[first] = f"{pad}- {lines[first][indent + 2 :]}"
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def _scalar(value: Any) -> str:
    if type(value) is str:
        return value if _PLAIN.match(value) and value.lower() not in _RESERVED else json.dumps(value)
    if type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return json.dumps(value)
