"""What a fuzz run found: how many cases ran, and the failures grouped by check and operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FailureExample:
    case_id: str
    phase: str  # examples, coverage, fuzzing, stateful
    message: str  # what the check said, e.g. "Received: 500\nDocumented: 200, 400"
    curl: str  # sends the failing request again
    status: int | None = None  # the response's status code
    # the request as schemathesis recorded it (secrets as ${VAR}) and the path parameters it filled in: what
    # the fuzz memory keeps, without reading the event stream again (None: not read with the events)
    request: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    path_parameters: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FailureGroup:
    check: str  # schemathesis' check name: not_a_server_error, response_schema_conformance, ...
    code: str  # its failure code, ST101...
    title: str  # "Server error"
    operation: str  # "GET /books"
    severity: str  # schemathesis' own rating: critical, high, medium, low
    blocking: bool
    cases: int  # failing cases in this group
    examples: tuple[FailureExample, ...]  # the shortest few, with distinct messages first


@dataclass(frozen=True)
class FuzzError:
    """A case that could not be tested at all (the service refused connections, timed out, ...)."""

    operation: str
    kind: str  # ConnectionError, InvalidSchema, NothingTested, ...
    message: str  # the first occurrence's
    occurrences: int


@dataclass(frozen=True)
class FuzzReport:
    seed: int
    cases: int  # test cases generated and sent
    operations_selected: int
    operations_tested: int
    phases: dict[str, str]  # phase -> success, failure, errored, skipped
    failures: tuple[FailureGroup, ...] = ()
    errors: tuple[FuzzError, ...] = ()
    notes: tuple[str, ...] = ()
    replay: str = ""  # the st command line that replays this run (secrets as ${VAR})
    files: dict[str, Path] = field(default_factory=dict)  # junit, har, ndjson, json, log

    @property
    def blocking(self) -> bool:
        return bool(self.errors) or any(group.blocking for group in self.failures)

    def headline(self) -> str:
        if not self.failures and not self.errors:
            return f"{self.cases} case(s) on {self.operations_tested} operation(s), no failures (seed {self.seed})"
        blocking = [g for g in self.failures if g.blocking]
        parts = [f"{self.cases} case(s) on {self.operations_tested} operation(s)"]
        if blocking:
            parts.append("blocking: " + ", ".join(f"{g.title} on {g.operation}" for g in blocking))
        others = len(self.failures) - len(blocking)
        if others:
            parts.append(f"{others} non-blocking failure group(s)")
        if self.errors:
            parts.append("could not test: " + ", ".join(f"{e.kind} on {e.operation}" for e in self.errors))
        return "; ".join(parts) + f" (seed {self.seed})"
