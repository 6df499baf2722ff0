"""RFC 9457 problem details: what was wrong with a request, as `application/problem+json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://apiops.dev/problems/"
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "unauthorized": "Unauthorized",
    "unsupported-media-type": "Unsupported media type",
    "invalid-parameters": "Invalid parameters",
    "malformed-body": "Malformed request body",
    "missing-body": "Missing request body",
    "invalid-body": "Invalid request body",
    "unknown-preference": "Unknown preference",
    "resource-not-found": "Resource not found",
    "generation-failed": "Cannot generate a response",
    "payload-too-large": "Payload too large",
    "mock-error": "The mock failed",
}


@dataclass
class Problem(Exception):
    status: int
    kind: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": PROBLEM_BASE + self.kind, "title": _TITLES.get(self.kind, self.kind),
                               "status": self.status, "detail": self.detail}  # fmt: skip
        if self.errors:
            out["errors"] = self.errors
        return out

    def render(self) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = json.dumps(self.body(), ensure_ascii=False, separators=(",", ":"), default=str).encode()
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
        return self.status, headers + self.headers, body


def error(location: str, path: tuple[Any, ...], message: str, name: str | None = None) -> dict[str, Any]:
    """One entry of `errors`: where (`in`, the parameter `name`, a JSON `pointer`) and what is wrong."""
    pointer = "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)
    entry: dict[str, Any] = {"in": location}
    if name is not None:
        entry["name"] = name
    entry["pointer"] = pointer
    entry["message"] = message
    return entry
