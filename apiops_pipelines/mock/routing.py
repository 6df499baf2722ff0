"""Find the operation a request path names.

Paths compile to a tree of segments: static segments are dict look-ups, templated segments match by
position, and a static segment wins over a templated one (`/books/new` before `/books/{id}`), backtracking
when the static branch leads nowhere. The base path of `servers[0].url` is optional: `/v1/books` and
`/books` both reach `/books`. Templates that differ only in their parameters' names (`/m/{name}` for GET,
`/m/{id}` for POST: real specs have them) all match, and the method picks among them. Matches are cached
per raw path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_CACHE_SIZE = 8192
_MAX_MATCHES = 16  # a path reaching more templates than this is not a spec anyone wrote


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
    route: Route  # the best match
    params: dict[str, str]  # path parameters, percent-decoded, not yet coerced; shared: do not modify
    prefix: str  # the base path the request used ("" without it)
    others: tuple[tuple[Route, dict[str, str]], ...] = ()  # other templates the path matches, in priority order

    def operation(self, method: str) -> tuple[Any, dict[str, str]] | None:
        """The operation for `method` of the first matching template that documents it, and its parameters."""
        found = self.route.operation(method)
        if found is not None:
            return found, self.params
        for route, params in self.others:
            found = route.operation(method)
            if found is not None:
                return found, params
        return None

    @property
    def allow(self) -> str:
        if not self.others:
            return self.route.allow
        methods = {m for route in (self.route, *(r for r, _ in self.others)) for m in route.allow.split(", ")}
        return ", ".join(sorted(methods))


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
        found: list[tuple[Route, dict[str, str]]] = []
        _walk(self._root, parts, 0, {}, found)
        if not found:
            return None
        (route, params), *others = found
        return Match(route, params, prefix, tuple(others))


def _walk(node: _Node, parts: list[str], index: int, params: dict[str, str],
          found: list[tuple[Route, dict[str, str]]]) -> None:  # fmt: skip
    """Every route the path reaches, best first: static segments before templated ones, position by position."""
    if len(found) >= _MAX_MATCHES:
        return
    if index == len(parts):
        if node.route is not None:
            found.append((node.route, params))
        return
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        _walk(child, parts, index + 1, params, found)
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
        _walk(child, parts, index + 1, {**params, **values}, found)


def _segment_pattern(segment: str) -> re.Pattern[str]:
    """`{name}.{format}` or `v{version}`: literal text around lazily matched, non-empty parameters. A value
    may hold any character once percent-decoded, a newline too (DOTALL: `.` alone stops at `%0A`)."""
    pieces, last = [], 0
    for m in _TEMPLATE.finditer(segment):
        pieces.append(re.escape(segment[last : m.start()]))
        pieces.append("(.+?)")
        last = m.end()
    pieces.append(re.escape(segment[last:]))
    return re.compile("".join(pieces), re.DOTALL)
