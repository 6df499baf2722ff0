"""What a consumer pact says, whatever its spec version (V2, V3, V4): one model for every check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apiops_pipelines.specs.documents import DocumentError
from apiops_pipelines.findings import Finding

Matcher = dict[str, Any]  # {"match": "type", "min": 1}, {"match": "regex", "regex": "^ord_[0-9]+$"}
# category (body, header, query, path, status) -> JSONPath of a body value, or a header/query name -> matchers
Rules = dict[str, dict[str, tuple[Matcher, ...]]]


class Headers(dict[str, str]):
    """HTTP headers as the pact wrote them; lookups ignore case, as HTTP does."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        super().__init__(items or {})
        self._lower = {key.lower(): key for key in self}

    def _key(self, name: object) -> object:
        return self._lower.get(name.lower(), name) if isinstance(name, str) else name

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._key(name))  # type: ignore[arg-type]

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(self._key(name), default)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k.lower(): v for k, v in self.items()} == {str(k).lower(): v for k, v in other.items()}

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)  # url-decoded, values in order
    headers: Headers = field(default_factory=Headers)
    body: Any = None  # JSON value, text, or bytes (a base64 body of another type); None when absent
    content_type: str | None = None


@dataclass(frozen=True)
class Response:
    status: int
    headers: Headers = field(default_factory=Headers)
    body: Any = None
    content_type: str | None = None


@dataclass(frozen=True)
class Interaction:
    index: int  # position in the pact's `interactions`
    description: str
    provider_states: tuple[str, ...]
    request: Request
    response: Response
    request_rules: Rules
    response_rules: Rules
    line: int | None  # where the interaction starts in the pact file
    pending: bool = False  # V4: a pending interaction never blocks


@dataclass(frozen=True)
class Skipped:
    """An interaction no spec check applies to (a message), kept so reports can say it was left out."""

    index: int  # -1 for a whole message pact
    description: str
    reason: str
    line: int | None


@dataclass(frozen=True)
class Pact:
    consumer: str
    provider: str
    version: int  # major pact specification version: 2, 3 or 4 (1.x files read as 2)
    file: str
    interactions: tuple[Interaction, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def notes(self) -> tuple[Finding, ...]:
        """The skipped interactions as info findings."""
        return tuple(Finding("pact-interaction-skipped", "info", "", f"{self.consumer}, '{s.description}': {s.reason}",
                             file=self.file, line=s.line) for s in self.skipped)  # fmt: skip


class PactError(DocumentError):
    """A pact file that cannot be read, with its place and how to fix it."""

    def __init__(self, file: str, line: int | None, message: str, fix: str | None = None,
                 column: int | None = None) -> None:  # fmt: skip
        super().__init__(file, message, line=line, column=column, fix=fix)

    @property
    def file(self) -> str:
        return self.source

    def as_finding(self) -> Finding:
        return Finding("pact-unreadable", "error", "", self.message, fix=self.fix, file=self.source, line=self.line,
                       column=self.column)  # fmt: skip
