"""Find the operation a request path names.

Paths compile to a tree of segments: static segments are dict look-ups, templated segments match by
position, and a static segment wins over a templated one (`/books/new` before `/books/{id}`), backtracking
when the static branch leads nowhere. The base path of `servers[0].url` is optional: `/v1/books` and
`/books` both reach `/books`. Matches are cached per raw path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_CACHE_SIZE = 8192


@dataclass
class Route:
    template: str
    operations: dict[str, Any] = field(default_factory=dict)  # method -> operation
    allow: str = ""  # the Allow header of a 405

    def operation(self, method: str) -> Any:
        found = self.operations.get(method)
        if found is None and method == "HEAD":
            return self.operations.get("GET")
        return found


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]  # path parameters, percent-decoded, not yet coerced; shared: do not modify
    prefix: str  # the base path the request used ("" without it)


class _Node:
    __slots__ = ("route", "static", "templated")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.templated: list[tuple[re.Pattern[str] | None, tuple[str, ...], _Node]] = []
        self.route: Route | None = None


def segments(path: str) -> list[str]:
    path = path.strip("/")
    return path.split("/") if path else []


class Router:
    def __init__(self, operations: list[Any], base_path: str = "") -> None:
        self.base_path = base_path.rstrip("/")
        self.routes: dict[str, Route] = {}
        self._root = _Node()
        self._cache: dict[str, Match | None] = {}
        for op in operations:
            route = self.routes.get(op.path)
            if route is None:
                route = self.routes[op.path] = Route(op.path)
                self._insert(route)
            route.operations[op.method] = op
        for route in self.routes.values():
            methods = set(route.operations) | ({"HEAD"} if "GET" in route.operations else set())
            route.allow = ", ".join(sorted(methods))

    def _insert(self, route: Route) -> None:
        node = self._root
        for segment in segments(route.template):
            names = tuple(_TEMPLATE.findall(segment))
            if not names:
                node = node.static.setdefault(segment, _Node())
                continue
            pattern = None if segment == "{" + names[0] + "}" else _segment_pattern(segment)
            for existing_pattern, existing_names, child in node.templated:
                if existing_pattern == pattern and (pattern is not None or existing_names == names):
                    node = child
                    break
            else:
                child = _Node()
                node.templated.append((pattern, names, child))
                node.templated.sort(key=lambda entry: entry[0] is None)  # partial templates before bare ones
                node = child
        node.route = route

    def match(self, raw_path: str) -> Match | None:
        try:
            return self._cache[raw_path]
        except KeyError:
            pass
        found = None
        base = self.base_path
        if base and (raw_path == base or raw_path.startswith(base + "/")):
            found = self._match(raw_path[len(base) :], base)
        if found is None:
            found = self._match(raw_path, "")
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[raw_path] = found
        return found

    def _match(self, path: str, prefix: str) -> Match | None:
        parts = [unquote(s) if "%" in s else s for s in segments(path)]
        params: dict[str, str] = {}
        route = _walk(self._root, parts, 0, params)
        return Match(route, params, prefix) if route is not None else None


def _walk(node: _Node, parts: list[str], index: int, params: dict[str, str]) -> Route | None:
    if index == len(parts):
        return node.route
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        found = _walk(child, parts, index + 1, params)
        if found is not None:
            return found
    for pattern, names, child in node.templated:
        if pattern is None:
            if not part:
                continue
            values = {names[0]: part}
        else:
            matched = pattern.fullmatch(part)
            if matched is None:
                continue
            values = dict(zip(names, matched.groups()))
        found = _walk(child, parts, index + 1, params)
        if found is not None:
            params.update(values)
            return found
    return None


def _segment_pattern(segment: str) -> re.Pattern[str]:
    """`{name}.{format}` or `v{version}`: literal text around lazily matched, non-empty parameters."""
    pieces, last = [], 0
    for m in _TEMPLATE.finditer(segment):
        pieces.append(re.escape(segment[last : m.start()]))
        pieces.append("(.+?)")
        last = m.end()
    pieces.append(re.escape(segment[last:]))
    return re.compile("".join(pieces))
