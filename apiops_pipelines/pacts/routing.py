"""Which operation of the spec a pact request is for: path templates, static segments first, base paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from apiops_pipelines.validation.refs import deref, escape
from apiops_pipelines.validation.semantic import HTTP_METHODS

_TEMPLATE = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class Route:
    template: str  # /books/{bookId}
    segments: tuple[str | tuple[re.Pattern[str], tuple[str, ...]], ...]  # static, or (pattern, parameter names)
    rank: tuple[int, ...]  # 0 per static segment, 1 per templated one: lower sorts first (more specific)
    item: dict[str, Any]
    pointer: str  # /paths/~1books~1{bookId}

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        values: dict[str, str] = {}
        for given, expected in zip(segments, self.segments):
            if isinstance(expected, str):
                if unquote(given) != expected:
                    return None
                continue
            pattern, names = expected
            found = pattern.fullmatch(given)
            if found is None:
                return None
            values.update(zip(names, (unquote(v) for v in found.groups())))
        return values


@dataclass(frozen=True)
class Match:
    route: Route
    method: str
    operation: dict[str, Any]
    path_values: dict[str, str]

    @property
    def pointer(self) -> str:
        return f"{self.route.pointer}/{self.method}"

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.route.template}"


def _segment(text: str) -> str | tuple[re.Pattern[str], tuple[str, ...]]:
    """A static segment as is; `{bookId}` or `{name}.json` as a pattern capturing the parameters."""
    if not _TEMPLATE.search(text):
        return text
    pattern, names, position = [], [], 0
    for found in _TEMPLATE.finditer(text):
        pattern.append(re.escape(text[position:found.start()]))
        names.append(found.group(1))
        pattern.append("([^/]+?)" if found.end() < len(text) else "([^/]+)")
        position = found.end()
    pattern.append(re.escape(text[position:]))
    return re.compile("".join(pattern)), tuple(names)


def _segments(path: str) -> list[str]:
    """Segments after the leading slash: `/pets/` keeps its empty last segment, so it is not `/pets`."""
    return path[1:].split("/") if path.startswith("/") else path.split("/")


def base_path(document: dict[str, Any]) -> str:
    """The path prefix every operation is served under: servers[0].url (OpenAPI 3) or basePath (Swagger)."""
    if "swagger" in document:
        path = document.get("basePath")
    else:
        servers = document.get("servers")
        server = servers[0] if isinstance(servers, list) and servers and isinstance(servers[0], dict) else {}
        url = str(server.get("url") or "")
        variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}
        for name, variable in variables.items():
            if isinstance(variable, dict):
                url = url.replace(f"{{{name}}}", str(variable.get("default", "")))
        path = urlsplit(url).path if "://" in url else url
    path = str(path or "").rstrip("/")
    return path if path.startswith("/") else ""


class Router:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.base = base_path(document)
        self.routes: list[Route] = []
        paths = document.get("paths") if isinstance(document.get("paths"), dict) else {}
        for template, item in paths.items():
            item, _ = deref(document, item)
            if not isinstance(item, dict) or not isinstance(template, str):
                continue
            segments = tuple(_segment(s) for s in _segments(template))
            rank = tuple(0 if isinstance(s, str) else 1 for s in segments)
            self.routes.append(Route(template, segments, rank, item, f"/paths/{escape(template)}"))
        self.routes.sort(key=lambda r: r.rank)

    def candidates(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        """Routes the path matches, most specific first; the path as sent, then without the base path."""
        tries = [path]
        if self.base and (path == self.base or path.startswith(self.base + "/")):
            tries.append(path[len(self.base):] or "/")
        found: list[tuple[Route, dict[str, str]]] = []
        for attempt in tries:
            segments = _segments(attempt)
            found += [(route, values) for route in self.routes if (values := route.match(segments)) is not None]
        return found

    def find(self, method: str, path: str) -> tuple[Match | None, list[Route]]:
        """The operation for the request, or None and the routes whose path matched (for the message)."""
        candidates = self.candidates(path)
        for route, values in candidates:
            operation = route.item.get(method.lower())
            if method.lower() in HTTP_METHODS and isinstance(operation, dict):
                return Match(route, method.lower(), operation, values), []
        return None, [route for route, _ in candidates]
